-- from developer-guide/joins/partition-data.md
-- Joins need co-partitioned inputs: the same key type, the same number of partitions. A stream
-- joined on another column than its key is repartitioned first; a table never is.

--@test: a stream without a key joins a table on one of its columns, repartitioned first
CREATE STREAM clicks (userId BIGINT, url STRING) WITH (kafka_topic='clickstream', value_format='json', partitions=1);
CREATE TABLE users (id BIGINT PRIMARY KEY, fullName STRING) WITH (kafka_topic='users', value_format='json', partitions=1);
CREATE STREAM enriched AS SELECT c.userId, c.url, u.fullName FROM clicks c JOIN users u ON c.userId = u.id;
INSERT INTO users (id, fullName) VALUES (1, 'Ann Lee');
INSERT INTO clicks (userId, url) VALUES (1, '/home');
INSERT INTO clicks (userId, url) VALUES (2, '/away');
ASSERT VALUES enriched (userId, url, fullName) VALUES (1, '/home', 'Ann Lee');
ASSERT STREAM enriched (userId BIGINT KEY, url STRING, fullName STRING) WITH (kafka_topic='ENRICHED', value_format='JSON');

--@test: an INT key joins a BIGINT primary key once cast to it
-- (a persistent query must project its key: the join's, the table's column)
CREATE STREAM clicks (userId INT KEY, url STRING) WITH (kafka_topic='clickstream', value_format='json', partitions=1);
CREATE TABLE users (id BIGINT PRIMARY KEY, fullName STRING) WITH (kafka_topic='users', value_format='json', partitions=1);
CREATE STREAM enriched AS SELECT users.id, clicks.url, users.fullName FROM clicks JOIN users ON CAST(clicks.userId AS BIGINT) = users.id;
INSERT INTO users (id, fullName) VALUES (7, 'Bo Ek');
INSERT INTO clicks (userId, url) VALUES (7, '/cart');
ASSERT VALUES enriched (id, url, fullName) VALUES (7, '/cart', 'Bo Ek');

--@test: a stream-table join on a table column that is not its primary key is refused
--@expected.message: Invalid join condition: stream-table joins require to join on the table's primary key.
CREATE STREAM clicks (userId BIGINT, url STRING) WITH (kafka_topic='clickstream', value_format='json', partitions=1);
CREATE TABLE users (id BIGINT PRIMARY KEY, fullName STRING) WITH (kafka_topic='users', value_format='json', partitions=1);
CREATE STREAM enriched AS SELECT c.userId, c.url, u.fullName FROM clicks c JOIN users u ON c.url = u.fullName;

--@test: PARTITION BY moves the column into the key, with the partitions asked for
CREATE STREAM products (id INT KEY, product_id STRING, price INT) WITH (kafka_topic='products', value_format='json', partitions=1);
CREATE STREAM products_rekeyed WITH (PARTITIONS=6) AS SELECT * FROM products PARTITION BY product_id;
INSERT INTO products (id, product_id, price) VALUES (1, 'p-9', 30);
ASSERT VALUES products_rekeyed (product_id, id, price) VALUES ('p-9', 1, 30);
-- (the old key column joins the value, after the others)
ASSERT STREAM products_rekeyed (product_id STRING KEY, price INT, id INT) WITH (kafka_topic='PRODUCTS_REKEYED', value_format='JSON', partitions=6);

--@test: AS_VALUE keeps a copy of the new key column in the value
CREATE STREAM products (id INT KEY, product_id STRING, price INT) WITH (kafka_topic='products', value_format='json', partitions=1);
CREATE STREAM products_rekeyed AS SELECT product_id, AS_VALUE(product_id) AS pid, price FROM products PARTITION BY product_id;
INSERT INTO products (id, product_id, price) VALUES (1, 'p-9', 30);
ASSERT VALUES products_rekeyed (product_id, pid, price) VALUES ('p-9', 'p-9', 30);

--@test: a copy with more partitions keeps the key
CREATE STREAM products (id INT KEY, product_id STRING) WITH (kafka_topic='products', value_format='json', partitions=2);
CREATE STREAM products_rekeyed WITH (PARTITIONS=6) AS SELECT * FROM products;
INSERT INTO products (id, product_id) VALUES (3, 'p-3');
ASSERT VALUES products_rekeyed (id, product_id) VALUES (3, 'p-3');
ASSERT STREAM products_rekeyed (id INT KEY, product_id STRING) WITH (kafka_topic='PRODUCTS_REKEYED', value_format='JSON', partitions=6);

--@test: a join of inputs with different partition counts is refused
--@expected.message: Can't join `CLICKS` with `USERS` since the number of partitions don't match.
CREATE STREAM clicks (userId BIGINT KEY, url STRING) WITH (kafka_topic='clickstream', value_format='json', partitions=2);
CREATE TABLE users (id BIGINT PRIMARY KEY, fullName STRING) WITH (kafka_topic='users', value_format='json', partitions=3);
CREATE STREAM enriched AS SELECT c.userId, c.url, u.fullName FROM clicks c JOIN users u ON c.userId = u.id;

--@test: a foreign-key table-table join needs no co-partitioning
CREATE TABLE orders (id INT PRIMARY KEY, user_id BIGINT, total INT) WITH (kafka_topic='orders', value_format='json', partitions=2);
CREATE TABLE users (id BIGINT PRIMARY KEY, fullName STRING) WITH (kafka_topic='users', value_format='json', partitions=3);
CREATE TABLE order_users AS SELECT o.id, o.total, u.fullName FROM orders o JOIN users u ON o.user_id = u.id;
INSERT INTO users (id, fullName) VALUES (5, 'Cy Ng');
INSERT INTO orders (id, user_id, total) VALUES (1, 5, 12);
ASSERT VALUES order_users (o_id, total, fullName) VALUES (1, 12, 'Cy Ng');
