-- Joins feeding aggregations, and a three-way join with a foreign-key step.
SET 'auto.offset.reset'='earliest';
CREATE TABLE categories (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='categories', value_format='JSON', partitions=1);
CREATE STREAM sales (id INT KEY, category_id INT, amount DOUBLE) WITH (kafka_topic='sales', value_format='JSON', partitions=1);
INSERT INTO categories (rowtime, id, name) VALUES (1, 1, 'books');
INSERT INTO categories (rowtime, id, name) VALUES (1, 2, 'games');
INSERT INTO sales (rowtime, id, category_id, amount) VALUES (1000, 1, 1, 10.0);
INSERT INTO sales (rowtime, id, category_id, amount) VALUES (2000, 2, 2, 5.0);
INSERT INTO sales (rowtime, id, category_id, amount) VALUES (3000, 3, 1, 2.5);
CREATE TABLE by_category AS SELECT c.name, COUNT(*) AS n, SUM(s.amount) AS total
  FROM sales s JOIN categories c ON s.category_id = c.id GROUP BY c.name;
SELECT * FROM by_category EMIT CHANGES LIMIT 3;
SELECT * FROM by_category;
CREATE TABLE per_window AS SELECT c.name, COUNT(*) AS n FROM sales s JOIN categories c ON s.category_id = c.id
  WINDOW TUMBLING (SIZE 2 SECONDS) GROUP BY c.name HAVING COUNT(*) >= 1;
SELECT * FROM per_window EMIT CHANGES LIMIT 3;

CREATE TABLE customers (id INT PRIMARY KEY, name STRING, region_id INT) WITH (kafka_topic='customers', value_format='JSON', partitions=1);
CREATE TABLE regions (id INT PRIMARY KEY, region STRING) WITH (kafka_topic='regions', value_format='JSON', partitions=1);
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, amount DOUBLE) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE TABLE shipments (id INT PRIMARY KEY, carrier STRING) WITH (kafka_topic='shipments', value_format='JSON', partitions=1);
INSERT INTO regions (rowtime, id, region) VALUES (1, 1, 'north');
INSERT INTO regions (rowtime, id, region) VALUES (1, 2, 'south');
INSERT INTO customers (rowtime, id, name, region_id) VALUES (1, 10, 'ann', 1);
INSERT INTO customers (rowtime, id, name, region_id) VALUES (1, 11, 'bob', 2);
INSERT INTO orders (rowtime, id, customer_id, amount) VALUES (1000, 100, 10, 9.5);
INSERT INTO orders (rowtime, id, customer_id, amount) VALUES (2000, 101, 11, 20.0);
INSERT INTO orders (rowtime, id, customer_id, amount) VALUES (3000, 102, 10, 3.25);
INSERT INTO shipments (rowtime, id, carrier) VALUES (4000, 100, 'post');
INSERT INTO shipments (rowtime, id, carrier) VALUES (5000, 101, 'courier');
-- orders -> customers by foreign key, then shipments by the order's key
CREATE TABLE order_view AS
  SELECT o.id AS order_id, c.name, o.amount, s.carrier
  FROM orders o
  JOIN customers c ON o.customer_id = c.id
  LEFT JOIN shipments s ON o.id = s.id;
SELECT * FROM order_view EMIT CHANGES LIMIT 3;
SELECT * FROM order_view ORDER BY order_id;
