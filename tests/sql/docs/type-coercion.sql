-- from developer-guide/ksqldb-reference/type-coercion.md
-- Implicit coercion: numbers widen, and in expression lists (ARRAY, MAP, IN) the first
-- element's type decides, literals coercing more freely than other expressions.

--@test: an INT compared with a BIGINT is widened
CREATE STREAM foo (id INT KEY, a INT, b BIGINT) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM foo WHERE a > b;
INSERT INTO foo (id, a, b) VALUES (1, 1, 2);
INSERT INTO foo (id, a, b) VALUES (2, 3, 2);
ASSERT VALUES out (id, a, b) VALUES (2, 3, 2);

--@test: the page's IN example: a column, a number and numeric strings share one type
CREATE STREAM foo (id INT KEY, a INT, b BIGINT) WITH (kafka_topic='foo', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id FROM foo WHERE a IN (b, 10, '100', '3e2');
INSERT INTO foo (id, a, b) VALUES (1, 5, 5);
INSERT INTO foo (id, a, b) VALUES (2, 100, 0);
INSERT INTO foo (id, a, b) VALUES (3, 300, 0);
INSERT INTO foo (id, a, b) VALUES (4, 7, 0);
ASSERT VALUES out (id) VALUES (1);
ASSERT VALUES out (id) VALUES (2);
ASSERT VALUES out (id) VALUES (3);

--@test: numeric lists widen to the widest type, numeric strings included
CREATE STREAM s (id INT KEY, i INT, l BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[i, l] AS a1, ARRAY[1, 2.5] AS a2, ARRAY[1, 2.5, 1e0] AS a3, ARRAY[i, '7'] AS a4 FROM s;
INSERT INTO s (id, i, l) VALUES (1, 1, 2);
ASSERT STREAM out (id INT KEY, a1 ARRAY<BIGINT>, a2 ARRAY<DECIMAL(11, 1)>, a3 ARRAY<DOUBLE>, a4 ARRAY<INT>)
  WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (id, a1, a2, a3, a4) VALUES (1, ARRAY[1, 2], ARRAY[1.0, 2.5], ARRAY[1.0, 2.5, 1.0], ARRAY[1, 7]);

--@test: any literal joins a list that starts with a STRING
CREATE STREAM s (id INT KEY, name STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[name, 1, true, 2.50] AS a FROM s;
INSERT INTO s (id, name) VALUES (1, 'x');
ASSERT VALUES out (id, a) VALUES (1, ARRAY['x', '1', 'true', '2.50']);

--@test: boolean strings: true, false, yes, no or a prefix of one, in any case
CREATE STREAM s (id INT KEY, b BOOLEAN) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[b, 'yes', 'N', 'fal', 'TR'] AS a FROM s;
INSERT INTO s (id, b) VALUES (1, false);
ASSERT VALUES out (id, a) VALUES (1, ARRAY[false, true, false, false, true]);

--@test: a string that is not a boolean does not join a BOOLEAN list
--@expected.message: invalid input syntax for type BOOLEAN: "maybe".
CREATE STREAM s (id INT KEY, b BOOLEAN) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[b, 'maybe'] AS a FROM s;

--@test: a string that is not a number does not join a numeric list
--@expected.message: invalid input syntax for type INTEGER: "a".
CREATE STREAM s (id INT KEY, i INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[i, 'a'] AS a FROM s;

--@test: expressions (not literals) of unrelated types have no common type
--@expected.message: operator does not exist: INTEGER = STRING (NAME)
CREATE STREAM s (id INT KEY, i INT, name STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[i, name] AS a FROM s;

--@test: ISO-8601 strings join TIMESTAMP, DATE and TIME lists, a zone converted to UTC
CREATE STREAM s (id INT KEY, t TIMESTAMP, d DATE, tm TIME) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[t, '2020-01-01T00:00:00+01:00'] AS ts, ARRAY[d, '2020-01-02'] AS ds,
  ARRAY[tm, '11:00:00'] AS tms FROM s;
INSERT INTO s (id, t, d, tm) VALUES (1, '1970-01-01T00:00:00.000', '2020-01-01', '10:00:00');
ASSERT VALUES out (id, ts, ds, tms) VALUES (1, ARRAY[CAST('1970-01-01T00:00:00.000' AS TIMESTAMP), '2019-12-31T23:00:00.000'],
  ARRAY[CAST('2020-01-01' AS DATE), '2020-01-02'], ARRAY[CAST('10:00:00' AS TIME), '11:00:00']);

--@test: STRUCTs in a list take the fields of all of them
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[STRUCT(a := x), STRUCT(b := 'y')] AS a FROM s;
INSERT INTO s (id, x) VALUES (1, 7);
ASSERT STREAM out (id INT KEY, a ARRAY<STRUCT<B STRING, A INT>>) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (id, a) VALUES (1, ARRAY[STRUCT(B := CAST(NULL AS STRING), A := 7), STRUCT(B := 'y', A := CAST(NULL AS INT))]);

--@test: nested ARRAYs and MAPs widen their elements
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ARRAY[ARRAY[x], ARRAY[2.5]] AS a, ARRAY[MAP('k' := x), MAP('j' := 1.5)] AS m FROM s;
INSERT INTO s (id, x) VALUES (1, 7);
ASSERT STREAM out (id INT KEY, a ARRAY<ARRAY<DECIMAL(11, 1)>>, m ARRAY<MAP<STRING, DECIMAL(11, 1)>>)
  WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (id, a, m) VALUES (1, ARRAY[ARRAY[7.0], ARRAY[2.5]], ARRAY[MAP('k' := 7.0), MAP('j' := 1.5)]);

--@test: a MAP's keys and values each find their common type
CREATE STREAM s (id INT KEY, k1 STRING, v1 BOOLEAN) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, MAP(k1 := v1, 'b' := 'true', 10 := 'no') AS m FROM s;
INSERT INTO s (id, k1, v1) VALUES (1, 'a', true);
ASSERT VALUES out (id, m) VALUES (1, MAP('a' := true, 'b' := true, '10' := false));

--@test: CAST converts more than coercion does: numbers to text and back
CREATE STREAM s (id INT KEY, i INT, name STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, CAST(i AS STRING) + name AS t, CAST(name AS INT) + 1 AS n FROM s;
INSERT INTO s (id, i, name) VALUES (1, 4, '41');
ASSERT VALUES out (id, t, n) VALUES (1, '441', 42);

--@test: a string CAST cannot read makes the whole expression NULL
-- The page is silent. ksqlDB's generated code parses the string with Java's parsers, which
-- throw on text that is not a number: the whole SELECT expression is then NULL (and the error
-- goes to the processing log), so a COALESCE around the CAST does not see a NULL value.
CREATE STREAM s (id INT KEY, t STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, CAST(t AS INT) AS i, COALESCE(CAST(t AS INT), 0) AS c,
  COALESCE(CAST(t AS DOUBLE), -1.5) AS d, COALESCE(t, 'none') AS n FROM s;
INSERT INTO s (id, t) VALUES (1, 'x');
INSERT INTO s (id, t) VALUES (2, ' 12 ');
INSERT INTO s (id, t) VALUES (3, NULL);
ASSERT VALUES out (id, i, c, d, n) VALUES (1, NULL, NULL, NULL, 'x');
ASSERT VALUES out (id, i, c, d, n) VALUES (2, 12, 12, 12.0, ' 12 ');
ASSERT VALUES out (id, i, c, d, n) VALUES (3, NULL, 0, -1.5, 'none');

--@test: INSERT INTO widens a query's numbers to the stream's types (type-coercion.md: general rules)
CREATE STREAM target (id INT KEY, big BIGINT, amount DECIMAL(6,2), ratio DOUBLE) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM src (id INT KEY, n INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
INSERT INTO target SELECT id, n AS big, 3 AS amount, n AS ratio FROM src;
INSERT INTO src (id, n) VALUES (1, 7);
ASSERT VALUES target (id, big, amount, ratio) VALUES (1, 7, 3.00, 7.0);

--@test: INSERT INTO does not narrow a column to the stream's type
--@expected.message: Incompatible schema between results and sink.
CREATE STREAM target (id INT KEY, n INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM src (id INT KEY, n BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
INSERT INTO target SELECT * FROM src;
