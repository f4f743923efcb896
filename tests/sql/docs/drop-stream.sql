-- from developer-guide/ksqldb-reference/drop-stream.md
-- Dropping streams: IF EXISTS, and the queries that stop a drop.

--@test: a dropped stream can be created again
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
DROP STREAM s;
CREATE STREAM s (id INT KEY, w STRING) WITH (kafka_topic='s', value_format='JSON');
ASSERT STREAM s (id INT KEY, w STRING) WITH (kafka_topic='s', value_format='JSON');

--@test: IF EXISTS does not fail for a missing stream
DROP STREAM IF EXISTS nope;
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
ASSERT STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON');

--@test: dropping a missing stream fails
--@expected.message: Stream NOPE does not exist.
DROP STREAM nope;

--@test: a stream that a query reads from can't be dropped
--@expected.message: Cannot drop S.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
DROP STREAM s;

--@test: dropping a CSAS stream terminates its query, and the name can be used again
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
DROP STREAM out;
CREATE STREAM out AS SELECT id, v * 2 AS w FROM s;
INSERT INTO s (id, v) VALUES (1, 4);
ASSERT VALUES out (id, w) VALUES (1, 8);

--@test: DROP STREAM on a table fails
--@expected.message: Incompatible data source type is TABLE, but statement was DROP STREAM
CREATE TABLE t (id INT PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
DROP STREAM t;
