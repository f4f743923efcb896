-- A pull query right after the table is created sees the rows already in its source.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
INSERT INTO s (id, v) VALUES (1, 10);
INSERT INTO s (id, v) VALUES (1, 5);
SET 'auto.offset.reset'='earliest';
CREATE TABLE t AS SELECT id, SUM(v) AS total FROM s GROUP BY id;
SELECT * FROM t WHERE id = 1;
