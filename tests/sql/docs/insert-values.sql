-- from developer-guide/ksqldb-reference/insert-values.md
-- The page's examples over `KEY_COL VARCHAR KEY, COL_A VARCHAR`, and what it disallows.

--@test: named columns in any order, ROWTIME among them
CREATE STREAM foo (key_col VARCHAR KEY, col_a VARCHAR) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM foo;
INSERT INTO foo (ROWTIME, KEY_COL, COL_A) VALUES (1510923225000, 'key', 'A');
INSERT INTO foo (COL_A, ROWTIME, KEY_COL) VALUES ('A', 1510923225000, 'key');
ASSERT VALUES out (ROWTIME, key_col, col_a) VALUES (1510923225000, 'key', 'A');
ASSERT VALUES out (ROWTIME, key_col, col_a) VALUES (1510923225000, 'key', 'A');

--@test: without column names the values are every column in schema order, key first
CREATE STREAM foo (key_col VARCHAR KEY, col_a VARCHAR) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM foo;
INSERT INTO foo VALUES ('key', 'A');
INSERT INTO foo (KEY_COL) VALUES ('key');
ASSERT VALUES out (key_col, col_a) VALUES ('key', 'A');
ASSERT VALUES out (key_col, col_a) VALUES ('key', NULL);

--@test: a column set to NULL, or left out, is not a tombstone
CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE TABLE out AS SELECT * FROM t;
INSERT INTO t (id, v) VALUES (1, 'a');
INSERT INTO t (id, v) VALUES (1, NULL);
INSERT INTO t (id) VALUES (1);
ASSERT VALUES out (id, v) VALUES (1, 'a');
ASSERT VALUES out (id, v) VALUES (1, NULL);
ASSERT VALUES out (id, v) VALUES (1, NULL);

--@test: the values are written in the source's formats
CREATE STREAM foo (key_col VARCHAR KEY, col_a VARCHAR, n INT) WITH (kafka_topic='foo', key_format='KAFKA', value_format='DELIMITED', partitions=1);
CREATE STREAM raw (k STRING KEY, v STRING) WITH (kafka_topic='foo', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
INSERT INTO foo (key_col, col_a, n) VALUES ('key', 'A', 3);
ASSERT VALUES out (k, v) VALUES ('key', 'A,3');

--@test: ROWPARTITION cannot be given a value
--@expected.message: Inserting into column `ROWPARTITION` is not allowed.
CREATE STREAM foo (key_col VARCHAR KEY, col_a VARCHAR) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
INSERT INTO foo (ROWPARTITION, key_col, col_a) VALUES (0, 'key', 'A');

--@test: ROWOFFSET cannot be given a value
--@expected.message: Inserting into column `ROWOFFSET` is not allowed.
CREATE STREAM foo (key_col VARCHAR KEY, col_a VARCHAR) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
INSERT INTO foo (ROWOFFSET, key_col, col_a) VALUES (0, 'key', 'A');

--@test: a column that does not exist is refused
--@expected.message: NOPE does not exist.
CREATE STREAM foo (key_col VARCHAR KEY, col_a VARCHAR) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
INSERT INTO foo (key_col, nope) VALUES ('key', 'A');

--@test: more values than columns are refused
--@expected.message: Expected number columns and values to match: 2, 3
CREATE STREAM foo (key_col VARCHAR KEY, col_a VARCHAR) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
INSERT INTO foo VALUES ('key', 'A', 'B');

--@test: a value of the wrong type is refused
--@expected.message: Expected type INTEGER for field N but got
CREATE STREAM foo (key_col VARCHAR KEY, n INT) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
INSERT INTO foo (key_col, n) VALUES ('key', 'abc');

--@test: values are coerced to the column's type, and may be expressions
CREATE STREAM foo (key_col VARCHAR KEY, n BIGINT, d DOUBLE, s STRUCT<a INT>, ts TIMESTAMP)
  WITH (kafka_topic='foo', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM foo;
INSERT INTO foo (key_col, n, d, s, ts) VALUES ('key', 1 + 2, 5, STRUCT(a := 1), '2020-01-01T00:00:00');
ASSERT VALUES out (key_col, n, d, s, ts) VALUES ('key', 3, 5.0, STRUCT(a := 1), '2020-01-01T00:00:00.000');
