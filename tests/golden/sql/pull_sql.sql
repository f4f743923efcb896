-- Pull queries past ksqlDB's: ORDER BY, joins and GROUP BY across tables, over one snapshot.
SET 'auto.offset.reset'='earliest';
CREATE TABLE users (id INT PRIMARY KEY, name STRING, city STRING) WITH (kafka_topic='users', value_format='JSON', partitions=1);
CREATE TABLE orders (oid INT PRIMARY KEY, user_id INT, amount DOUBLE) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
INSERT INTO users (id, name, city) VALUES (1, 'alice', 'paris');
INSERT INTO users (id, name, city) VALUES (2, 'bob', 'lima');
INSERT INTO users (id, name, city) VALUES (3, 'carol', 'paris');
INSERT INTO orders (oid, user_id, amount) VALUES (10, 1, 5.5);
INSERT INTO orders (oid, user_id, amount) VALUES (11, 1, 7.0);
INSERT INTO orders (oid, user_id, amount) VALUES (12, 2, 1.25);
INSERT INTO orders (oid, user_id, amount) VALUES (13, 9, 2.0);
CREATE TABLE q_users AS SELECT * FROM users;
CREATE TABLE q_orders AS SELECT * FROM orders;
-- wait until both tables have every row (the queries run in the background)
SELECT * FROM q_users EMIT CHANGES LIMIT 3;
SELECT * FROM q_orders EMIT CHANGES LIMIT 4;
SELECT * FROM q_users ORDER BY name DESC;
SELECT name FROM q_users WHERE id > 1 ORDER BY id LIMIT 1;
SELECT u.name, o.amount, UCASE(u.city) AS city, o.amount * 2 AS doubled FROM q_users u JOIN q_orders o ON u.id = o.user_id ORDER BY o.amount DESC;
SELECT u.city, COUNT(*) AS n, SUM(o.amount) AS total, ROUND(AVG(o.amount), 1) AS mean FROM q_users u LEFT JOIN q_orders o ON u.id = o.user_id GROUP BY u.city ORDER BY total DESC;
SELECT o.oid, u.name FROM q_orders o LEFT JOIN q_users u ON o.user_id = u.id ORDER BY o.oid;
SELECT city, COLLECT_LIST(name) AS names FROM q_users GROUP BY city HAVING COUNT(*) > 1;
SELECT id / 2 AS half, LEN(name) AS letters FROM q_users ORDER BY half, letters DESC;
