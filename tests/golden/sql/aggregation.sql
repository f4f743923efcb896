-- GROUP BY, windows, HAVING and pull queries on the materialized tables.
SET 'auto.offset.reset'='earliest';
CREATE STREAM orders (id INT KEY, customer STRING, amount INT)
  WITH (kafka_topic='orders', value_format='JSON', partitions=1);
INSERT INTO orders (rowtime, id, customer, amount) VALUES (1000, 1, 'ann', 10);
INSERT INTO orders (rowtime, id, customer, amount) VALUES (2000, 2, 'bob', 20);
INSERT INTO orders (rowtime, id, customer, amount) VALUES (3000, 3, 'ann', 30);
INSERT INTO orders (rowtime, id, customer, amount) VALUES (61000, 4, 'ann', 5);
CREATE TABLE totals AS
  SELECT customer, COUNT(*) AS orders, SUM(amount) AS total, AVG(amount) AS average,
         COLLECT_LIST(id) AS ids, LATEST_BY_OFFSET(amount) AS last
  FROM orders GROUP BY customer;
SELECT * FROM totals EMIT CHANGES LIMIT 4;
SELECT * FROM totals;
SELECT customer, total FROM totals WHERE customer = 'ann';
SELECT customer, total FROM totals WHERE total < 30;
CREATE TABLE per_minute AS
  SELECT customer, WINDOWSTART AS ws, WINDOWEND AS we, COUNT(*) AS n
  FROM orders WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY customer HAVING COUNT(*) > 0;
SELECT * FROM per_minute EMIT CHANGES LIMIT 4;
SELECT customer, ws, n FROM per_minute WHERE customer = 'ann';
SELECT customer, COUNT(*) FROM orders GROUP BY customer EMIT CHANGES LIMIT 4;
CREATE TABLE nope AS SELECT customer, amount FROM orders GROUP BY customer;
