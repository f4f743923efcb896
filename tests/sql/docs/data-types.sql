-- from reference/sql/data-types.md
-- Each type through a persistent query: its range, its arithmetic and its upcasts.

--@test: every scalar type round-trips through a query
CREATE STREAM s (id INT KEY, b BOOLEAN, v VARCHAR, st STRING, bs BYTES, i INT, l BIGINT, d DOUBLE, dec DECIMAL(5, 2),
  t TIME, dt DATE, ts TIMESTAMP) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO s (id, b, v, st, bs, i, l, d, dec, t, dt, ts) VALUES (1, true, 'v', 's', TO_BYTES('abc', 'utf8'),
  2147483647, 9223372036854775807, 1.5, 123.45, '10:11:12.013', '2021-02-03', '2021-02-03T04:05:06.007');
ASSERT STREAM out (id INT KEY, b BOOLEAN, v STRING, st STRING, bs BYTES, i INT, l BIGINT, d DOUBLE, dec DECIMAL(5, 2),
  t TIME, dt DATE, ts TIMESTAMP) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (id, b, v, st, bs, i, l, d, dec, t, dt, ts) VALUES (1, true, 'v', 's', TO_BYTES('abc', 'utf8'),
  2147483647, 9223372036854775807, 1.5, 123.45, '10:11:12.013', '2021-02-03', '2021-02-03T04:05:06.007');

--@test: an INT column read from a number outside its range is an error: the record is skipped
CREATE STREAM raw (v STRING) WITH (kafka_topic='s', format='KAFKA', partitions=1);
CREATE STREAM s (i INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO raw (v) VALUES ('{"I": 2147483648}');
INSERT INTO raw (v) VALUES ('{"I": 7}');
ASSERT VALUES out (i) VALUES (7);

--@test: DECIMAL arithmetic is exact; with a DOUBLE it becomes a DOUBLE
CREATE STREAM s (id INT KEY, a DECIMAL(4, 2), b DECIMAL(4, 2), d DOUBLE) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, a + b AS total, a * b AS product, a + d AS mixed FROM s;
INSERT INTO s (id, a, b, d) VALUES (1, 0.10, 0.20, 0.5);
ASSERT STREAM out (id INT KEY, total DECIMAL(5, 2), product DECIMAL(9, 4), mixed DOUBLE) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (id, total, product, mixed) VALUES (1, 0.30, 0.0200, 0.6);

--@test: an INT upcast to a DECIMAL is DECIMAL(10, 0), a BIGINT DECIMAL(19, 0)
CREATE STREAM s (id INT KEY, i INT, l BIGINT, dec DECIMAL(2, 1)) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, i + dec AS a, l + dec AS b FROM s;
INSERT INTO s (id, i, l, dec) VALUES (1, 1, 2, 0.5);
ASSERT STREAM out (id INT KEY, a DECIMAL(12, 1), b DECIMAL(21, 1)) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (id, a, b) VALUES (1, 1.5, 2.5);

--@test: a DECIMAL's scale can't exceed its precision
--@expected.message: DECIMAL scale must be
CREATE STREAM s (id INT KEY, dec DECIMAL(2, 3)) WITH (kafka_topic='s', value_format='JSON', partitions=1);

--@test: a DECIMAL needs a precision of at least 1
--@expected.message: DECIMAL precision must be
CREATE STREAM s (id INT KEY, dec DECIMAL(0, 0)) WITH (kafka_topic='s', value_format='JSON', partitions=1);

--@test: arrays are one-indexed, structs dereferenced with ->, maps by key with []
CREATE STREAM s (id INT KEY, a ARRAY<INT>, st STRUCT<id BIGINT, name STRING, age INT>, m MAP<STRING, INT>)
  WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, a[1] AS first, st->name AS name, m['cost'] AS cost, m['nope'] AS nope FROM s;
INSERT INTO s (id, a, st, m) VALUES (1, ARRAY[7, 8], STRUCT(id := 1, name := 'ann', age := 3), MAP('cost' := 5));
ASSERT VALUES out (id, first, name, cost, nope) VALUES (1, 7, 'ann', 5, NULL);

--@test: ARRAY, STRUCT and MAP built in a query, as in the page's examples
CREATE STREAM s1 (id INT KEY, k1 STRING, k2 STRING, v1 INT, v2 STRING) WITH (kafka_topic='s1', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[1, 2] AS a, STRUCT(f1 := v1, f2 := v2) AS st, MAP(k1 := v1, k2 := v1 * 2) AS m FROM s1;
INSERT INTO s1 (id, k1, k2, v1, v2) VALUES (1, 'x', 'y', 3, 'z');
ASSERT STREAM out (id INT KEY, a ARRAY<INT>, st STRUCT<F1 INT, F2 STRING>, m MAP<STRING, INT>) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (id, a, st, m) VALUES (1, ARRAY[1, 2], STRUCT(F1 := 3, F2 := 'z'), MAP('x' := 3, 'y' := 6));

--@test: CUBE_EXPLODE over the ARRAY constructor, as in the page's example
CREATE STREAM test (id INT KEY, col1 INT, col2 INT, col3 INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM output AS SELECT id, CUBE_EXPLODE(ARRAY[col1, col2]) val1, ABS(col3) val2 FROM test;
INSERT INTO test (id, col1, col2, col3) VALUES (1, 1, 2, -3);
ASSERT VALUES output (id, val1, val2) VALUES (1, ARRAY[CAST(NULL AS INT), NULL], 3);

--@test: the old AS_ARRAY function is gone
--@expected.message: Can't find any functions with the name 'AS_ARRAY'
CREATE STREAM test (id INT KEY, col1 INT, col2 INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM output AS SELECT id, CUBE_EXPLODE(AS_ARRAY(col1, col2)) val1 FROM test;

--@test: a custom type from CREATE TYPE can be used in a column
CREATE TYPE address AS STRUCT<street STRING, number INT>;
CREATE STREAM s (id INT KEY, home ADDRESS) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, home->street AS street FROM s;
INSERT INTO s (id, home) VALUES (1, STRUCT(street := 'Main', number := 3));
ASSERT VALUES out (id, street) VALUES (1, 'Main');

--@test: string comparisons don't account for locale
CREATE STREAM s (id INT KEY, a STRING, b STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, a < b AS lt FROM s;
INSERT INTO s (id, a, b) VALUES (1, 'Z', 'a');
INSERT INTO s (id, a, b) VALUES (2, 'é', 'f');
ASSERT VALUES out (id, lt) VALUES (1, true);
ASSERT VALUES out (id, lt) VALUES (2, false);
