-- from developer-guide/ksqldb-reference/pause.md
-- A paused persistent query reads nothing until it is resumed (resume.md), then catches up.

--@test: records written while a query is paused come out once it is resumed, in order
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO s (id, v) VALUES (1, 1);
PAUSE CSAS_OUT_1;
INSERT INTO s (id, v) VALUES (2, 2);
RESUME CSAS_OUT_1;
INSERT INTO s (id, v) VALUES (3, 3);
ASSERT VALUES out (id, v) VALUES (1, 1);
ASSERT VALUES out (id, v) VALUES (2, 2);
ASSERT VALUES out (id, v) VALUES (3, 3);

--@test: PAUSE ALL and RESUME ALL
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM a AS SELECT * FROM s;
CREATE STREAM b AS SELECT id, v * 10 AS w FROM s;
PAUSE ALL;
INSERT INTO s (id, v) VALUES (1, 1);
RESUME ALL;
ASSERT VALUES a (id, v) VALUES (1, 1);
ASSERT VALUES b (id, w) VALUES (1, 10);

--@test: pausing a query that does not exist fails
--@expected.message: Unknown queryId: CSAS_NOPE_9
PAUSE CSAS_NOPE_9;
