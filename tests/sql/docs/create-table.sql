-- from developer-guide/ksqldb-reference/create-table.md
-- A table's rows by PRIMARY KEY: later records replace earlier ones, NULL values delete,
-- NULL keys are dropped. Raw records are written through a KAFKA-format stream.

--@test: a later record with the same key replaces the row
CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE TABLE out AS SELECT * FROM t;
INSERT INTO t (id, v) VALUES (1, 'a');
INSERT INTO t (id, v) VALUES (1, 'b');
ASSERT VALUES out (id, v) VALUES (1, 'a');
ASSERT VALUES out (id, v) VALUES (1, 'b');

--@test: a record with a NULL value deletes the row (a tombstone)
CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', key_format='KAFKA', value_format='JSON', partitions=1);
CREATE STREAM raw (id INT KEY, v STRING) WITH (kafka_topic='t', format='KAFKA');
CREATE TABLE out AS SELECT * FROM t WHERE v IS NOT NULL;
INSERT INTO t (id, v) VALUES (1, 'a');
INSERT INTO raw (id, v) VALUES (1, NULL);
ASSERT VALUES out (id, v) VALUES (1, 'a');
ASSERT NULL VALUES out (id) KEY (1);

--@test: a record with a NULL key is dropped
CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', key_format='KAFKA', value_format='JSON', partitions=1);
CREATE STREAM raw (id INT KEY, v STRING) WITH (kafka_topic='t', key_format='KAFKA', value_format='KAFKA');
CREATE TABLE out AS SELECT * FROM t;
INSERT INTO raw (id, v) VALUES (NULL, '{"V": "x"}');
INSERT INTO t (id, v) VALUES (2, 'b');
ASSERT VALUES out (id, v) VALUES (2, 'b');

--@test: a table needs a PRIMARY KEY
--@expected.message: Tables require a PRIMARY KEY. Please define the PRIMARY KEY.
CREATE TABLE t (id INT, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);

--@test: a table's key is PRIMARY KEY, not KEY
--@expected.message: Column `ID` is a 'KEY' column: please use 'PRIMARY KEY' for tables.
CREATE TABLE t (id INT KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);

--@test: a stream's key is KEY, not PRIMARY KEY
--@expected.message: Column `ID` is a 'PRIMARY KEY' column: please use 'KEY' for streams.
CREATE STREAM s (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);

--@test: a table with several primary key columns keeps a row whose key has a NULL column
-- (the key is then a record with a NULL field, not a NULL key; INSERT VALUES refuses it, a
-- producer can write it)
CREATE TABLE t (a INT PRIMARY KEY, b STRING PRIMARY KEY, v INT) WITH (kafka_topic='t', format='JSON', partitions=1);
CREATE STREAM raw (k STRING KEY, v STRING) WITH (kafka_topic='t', format='KAFKA');
CREATE TABLE out AS SELECT * FROM t;
INSERT INTO t (a, b, v) VALUES (1, 'x', 1);
INSERT INTO raw (k, v) VALUES ('{"A": 1, "B": null}', '{"V": 2}');
INSERT INTO t (a, b, v) VALUES (1, 'x', 3);
ASSERT VALUES out (a, b, v) VALUES (1, 'x', 1);
ASSERT VALUES out (a, b, v) VALUES (1, NULL, 2);
ASSERT VALUES out (a, b, v) VALUES (1, 'x', 3);

--@test: INSERT VALUES needs every primary key column of a table
--@expected.message: Failed to insert values into 'T'. Value for primary key column(s) B is required for tables
CREATE TABLE t (a INT PRIMARY KEY, b STRING PRIMARY KEY, v INT) WITH (kafka_topic='t', format='JSON', partitions=1);
INSERT INTO t (a, b, v) VALUES (1, NULL, 2);

--@test: IF NOT EXISTS keeps the first table
CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, w INT) WITH (kafka_topic='t', value_format='JSON');
ASSERT TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON');

--@test: creating a table that exists fails
--@expected.message: Cannot add table 'T': A table with the same name already exists
CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON');

--@test: a table over a stream's name, or a stream over a table's, fails
--@expected.message: Cannot add table 'S': A stream with the same name already exists
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE s (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='s', value_format='JSON');

--@test: a table's rows join a stream by key
CREATE TABLE users (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='u', value_format='JSON', partitions=1);
CREATE STREAM clicks (id INT KEY, page STRING) WITH (kafka_topic='c', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT c.id, page, name FROM clicks c LEFT JOIN users u ON c.id = u.id;
INSERT INTO clicks (id, page) VALUES (1, 'a');
INSERT INTO users (id, name) VALUES (1, 'ann');
INSERT INTO clicks (id, page) VALUES (1, 'b');
INSERT INTO users (id, name) VALUES (1, 'bob');
INSERT INTO clicks (id, page) VALUES (1, 'c');
ASSERT VALUES out (c_id, page, name) VALUES (1, 'a', NULL);
ASSERT VALUES out (c_id, page, name) VALUES (1, 'b', 'ann');
ASSERT VALUES out (c_id, page, name) VALUES (1, 'c', 'bob');

--@test: a SOURCE table is read-only
--@expected.message: Cannot insert values into read-only table: T
CREATE SOURCE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
INSERT INTO t (id, v) VALUES (1, 'a');

--@test: a table's TIMESTAMP column sets ROWTIME
CREATE TABLE t (id INT PRIMARY KEY, ts BIGINT) WITH (kafka_topic='t', value_format='JSON', timestamp='ts', partitions=1);
CREATE TABLE out AS SELECT id, ROWTIME AS rt FROM t;
INSERT INTO t (ROWTIME, id, ts) VALUES (1, 1, 5000);
ASSERT VALUES out (ROWTIME, id, rt) VALUES (5000, 1, 5000);
