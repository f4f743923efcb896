-- EXPLAIN shows the plan, with what each stateful step keeps.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t (id INT PRIMARY KEY, w INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
EXPLAIN SELECT s.id, v, w FROM s JOIN t ON s.id = t.id WHERE v > 0 EMIT CHANGES;
EXPLAIN SELECT id, COUNT(*) FROM s WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY id HAVING COUNT(*) > 1 EMIT CHANGES;
EXPLAIN SELECT id, EXPLODE(ARRAY[v, v]) AS x FROM s PARTITION BY v EMIT CHANGES;
CREATE TABLE c AS SELECT id, COUNT(*) AS n FROM s GROUP BY id;
EXPLAIN CTAS_C_2;
