-- from developer-guide/ksqldb-reference/drop-table.md
-- Dropping tables: IF EXISTS, DELETE TOPIC, and the queries that stop a drop.

--@test: IF EXISTS does not fail for a missing table
DROP TABLE IF EXISTS nope;
CREATE TABLE t (id INT PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
ASSERT TABLE t (id INT PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON');

--@test: dropping a missing table fails
--@expected.message: Table NOPE does not exist.
DROP TABLE nope;

--@test: a table that a query reads from can't be dropped
--@expected.message: Cannot drop T.
CREATE TABLE t (id INT PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE TABLE out AS SELECT * FROM t;
DROP TABLE t;

--@test: DROP TABLE on a stream fails
--@expected.message: Incompatible data source type is STREAM, but statement was DROP TABLE
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
DROP TABLE s;

--@test: DELETE TOPIC drops the table and its topic: the table can be created again with new partitions
CREATE TABLE t (id INT PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
DROP TABLE t DELETE TOPIC;
CREATE TABLE t (id INT PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=2);
ASSERT TABLE t (id INT PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=2);
