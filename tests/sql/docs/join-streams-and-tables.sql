-- from developer-guide/joins/join-streams-and-tables.md
-- Joins whose criteria are not a side's key re-key that side first (partition-data.md); where
-- the page is silent, ksqlDB's source decides the refusals.

--@test: a side re-keyed by a MAP column is refused, naming the column as the re-keyed side calls it
--@expected.message: Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: `L_M`. Column type: MAP<STRING, INTEGER>.
CREATE STREAM l (id STRING KEY, m MAP<STRING, INT>) WITH (kafka_topic='l', value_format='JSON', partitions=1);
CREATE STREAM r (id STRING KEY, n MAP<STRING, INT>) WITH (kafka_topic='r', value_format='JSON', partitions=1);
CREATE STREAM o AS SELECT l.m, l.id, r.id FROM l JOIN r WITHIN 1 MINUTE ON l.m = r.n;

--@test: a stream joined to a table by a value column meets the table's row of that key
CREATE STREAM orders (id INT KEY, customer STRING, amount INT) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE TABLE customers (name STRING PRIMARY KEY, city STRING) WITH (kafka_topic='c', value_format='JSON', partitions=1);
CREATE STREAM enriched AS SELECT o.customer, o.id, o.amount, c.city FROM orders o JOIN customers c ON o.customer = c.name;
INSERT INTO customers (name, city) VALUES ('ann', 'Oslo');
INSERT INTO orders (id, customer, amount) VALUES (1, 'ann', 5);
INSERT INTO orders (id, customer, amount) VALUES (2, 'bob', 7);
ASSERT VALUES enriched (customer, id, amount, city) VALUES ('ann', 1, 5, 'Oslo');
