-- Stream-table, table-table, foreign-key and windowed stream-stream joins.
SET 'auto.offset.reset'='earliest';
CREATE STREAM orders (id INT KEY, customer_id INT, amount INT)
  WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE TABLE customers (id INT PRIMARY KEY, name STRING)
  WITH (kafka_topic='customers', value_format='JSON', partitions=1);
CREATE STREAM payments (id INT KEY, paid INT) WITH (kafka_topic='payments', value_format='JSON', partitions=1);
INSERT INTO customers (rowtime, id, name) VALUES (1, 7, 'ann');
INSERT INTO orders (rowtime, id, customer_id, amount) VALUES (2, 100, 7, 30);
INSERT INTO orders (rowtime, id, customer_id, amount) VALUES (3, 101, 8, 40);
INSERT INTO payments (rowtime, id, paid) VALUES (4, 100, 30);
INSERT INTO payments (rowtime, id, paid) VALUES (60000, 101, 40);
CREATE TABLE orders_by_id AS SELECT id, LATEST_BY_OFFSET(customer_id) AS customer_id FROM orders GROUP BY id;
CREATE TABLE named_orders AS
  SELECT o.id, c.name FROM orders_by_id o JOIN customers c ON o.customer_id = c.id;
CREATE STREAM paid AS
  SELECT o.id, o.amount, p.paid FROM orders o JOIN payments p WITHIN 10 SECONDS ON o.id = p.id;
SELECT * FROM orders o LEFT JOIN customers c ON o.customer_id = c.id EMIT CHANGES LIMIT 2;
SELECT * FROM paid EMIT CHANGES LIMIT 1;
-- Wait until the chain of queries has produced the join's row, then look it up.
SELECT * FROM named_orders EMIT CHANGES LIMIT 1;
SELECT * FROM named_orders;
SELECT * FROM customers c JOIN orders o ON c.id = o.customer_id EMIT CHANGES;
