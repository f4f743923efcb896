-- from developer-guide/ksqldb-reference/aggregate-functions.md
-- Every update is asserted (record caching off, as ksqlDB's tests run).

--@test: COUNT(*) counts rows, COUNT(col) the rows where col is not NULL
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, COUNT(*) AS rows_, COUNT(v) AS values_ FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', 1);
INSERT INTO s (k, v) VALUES ('a', NULL);
ASSERT VALUES t (k, rows_, values_) VALUES ('a', 1, 1);
ASSERT VALUES t (k, rows_, values_) VALUES ('a', 2, 1);

--@test: AVG(*) and COUNT() take ROWTIME
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, AVG(*) AS a, COUNT() AS c FROM s GROUP BY k;
INSERT INTO s (ROWTIME, k, v) VALUES (10, 'a', 1);
INSERT INTO s (ROWTIME, k, v) VALUES (20, 'a', 1);
ASSERT VALUES t (k, a, c) VALUES ('a', 10.0, 1);
ASSERT VALUES t (k, a, c) VALUES ('a', 15.0, 2);

--@test: AVG of integers is a DOUBLE and ignores NULLs
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, AVG(v) AS a FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', 1);
INSERT INTO s (k, v) VALUES ('a', 2);
INSERT INTO s (k, v) VALUES ('a', NULL);
ASSERT TABLE t (k STRING PRIMARY KEY, a DOUBLE) WITH (kafka_topic='T', value_format='JSON');
ASSERT VALUES t (k, a) VALUES ('a', 1.0);
ASSERT VALUES t (k, a) VALUES ('a', 1.5);
ASSERT VALUES t (k, a) VALUES ('a', 1.5);

--@test: SUM, MIN and MAX ignore NULLs
CREATE STREAM s (k STRING KEY, v BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, SUM(v) AS total, MIN(v) AS low, MAX(v) AS high FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', 5);
INSERT INTO s (k, v) VALUES ('a', NULL);
INSERT INTO s (k, v) VALUES ('a', -2);
ASSERT VALUES t (k, total, low, high) VALUES ('a', 5, 5, 5);
ASSERT VALUES t (k, total, low, high) VALUES ('a', 5, 5, 5);
ASSERT VALUES t (k, total, low, high) VALUES ('a', 3, -2, 5);

--@test: SUM over a table undoes a row's old value when it changes or goes
CREATE TABLE u (id INT PRIMARY KEY, g STRING, v INT) WITH (kafka_topic='u', key_format='KAFKA', value_format='JSON', partitions=1);
CREATE STREAM raw (id INT KEY, v STRING) WITH (kafka_topic='u', format='KAFKA');
CREATE TABLE t AS SELECT g, SUM(v) AS total, COUNT(*) AS n FROM u GROUP BY g;
INSERT INTO u (id, g, v) VALUES (1, 'a', 5);
INSERT INTO u (id, g, v) VALUES (2, 'a', 3);
INSERT INTO u (id, g, v) VALUES (1, 'a', 10);
INSERT INTO raw (id, v) VALUES (2, NULL);
-- an update that stays in its group is one change (Kafka Streams forwards the old and the new
-- value of the row together): no intermediate row without it
ASSERT VALUES t (g, total, n) VALUES ('a', 5, 1);
ASSERT VALUES t (g, total, n) VALUES ('a', 8, 2);
ASSERT VALUES t (g, total, n) VALUES ('a', 13, 2);
ASSERT VALUES t (g, total, n) VALUES ('a', 10, 1);

--@test: COLLECT_LIST keeps every value, COLLECT_SET the distinct ones
CREATE STREAM s (k STRING KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, COLLECT_LIST(v) AS l, COLLECT_SET(v) AS st FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', 'x');
INSERT INTO s (k, v) VALUES ('a', 'x');
INSERT INTO s (k, v) VALUES ('a', 'y');
ASSERT VALUES t (k, l, st) VALUES ('a', ARRAY['x'], ARRAY['x']);
ASSERT VALUES t (k, l, st) VALUES ('a', ARRAY['x', 'x'], ARRAY['x']);
ASSERT VALUES t (k, l, st) VALUES ('a', ARRAY['x', 'x', 'y'], ARRAY['x', 'y']);

--@test: COLLECT_LIST over a table removes a row's value when the row changes
CREATE TABLE u (id INT PRIMARY KEY, g STRING, v STRING) WITH (kafka_topic='u', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT g, COLLECT_LIST(v) AS l FROM u GROUP BY g;
INSERT INTO u (id, g, v) VALUES (1, 'a', 'x');
INSERT INTO u (id, g, v) VALUES (2, 'a', 'y');
INSERT INTO u (id, g, v) VALUES (1, 'a', 'z');
ASSERT VALUES t (g, l) VALUES ('a', ARRAY['x']);
ASSERT VALUES t (g, l) VALUES ('a', ARRAY['x', 'y']);
ASSERT VALUES t (g, l) VALUES ('a', ARRAY['y', 'z']);

--@test: CORRELATION ignores rows with a NULL, and is NaN for a single row and for a constant column
CREATE STREAM s (k STRING KEY, x DOUBLE, y DOUBLE) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, CORRELATION(x, y) AS c FROM s GROUP BY k;
INSERT INTO s (k, x, y) VALUES ('a', 1.0, 2.0);
INSERT INTO s (k, x, y) VALUES ('a', NULL, 5.0);
INSERT INTO s (k, x, y) VALUES ('a', 2.0, 1.0);
INSERT INTO s (k, x, y) VALUES ('a', 3.0, 0.0);
ASSERT VALUES t (k, c) VALUES ('a', CAST('NaN' AS DOUBLE));
ASSERT VALUES t (k, c) VALUES ('a', CAST('NaN' AS DOUBLE));
ASSERT VALUES t (k, c) VALUES ('a', -1.0);
ASSERT VALUES t (k, c) VALUES ('a', -1.0);

--@test: COUNT_DISTINCT counts distinct values
CREATE STREAM s (k STRING KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, COUNT_DISTINCT(v) AS n FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', 'x');
INSERT INTO s (k, v) VALUES ('a', 'x');
INSERT INTO s (k, v) VALUES ('a', 'y');
ASSERT VALUES t (k, n) VALUES ('a', 1);
ASSERT VALUES t (k, n) VALUES ('a', 1);
ASSERT VALUES t (k, n) VALUES ('a', 2);

--@test: EARLIEST_BY_OFFSET and LATEST_BY_OFFSET ignore NULLs by default
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, EARLIEST_BY_OFFSET(v) AS e, LATEST_BY_OFFSET(v) AS l,
  EARLIEST_BY_OFFSET(v, false) AS en, LATEST_BY_OFFSET(v, false) AS ln FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', NULL);
INSERT INTO s (k, v) VALUES ('a', 1);
INSERT INTO s (k, v) VALUES ('a', 2);
INSERT INTO s (k, v) VALUES ('a', NULL);
ASSERT VALUES t (k, e, l, en, ln) VALUES ('a', NULL, NULL, NULL, NULL);
ASSERT VALUES t (k, e, l, en, ln) VALUES ('a', 1, 1, NULL, 1);
ASSERT VALUES t (k, e, l, en, ln) VALUES ('a', 1, 2, NULL, 2);
ASSERT VALUES t (k, e, l, en, ln) VALUES ('a', 1, 2, NULL, NULL);

--@test: EARLIEST_BY_OFFSET and LATEST_BY_OFFSET with N return arrays
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, EARLIEST_BY_OFFSET(v, 2) AS e, LATEST_BY_OFFSET(v, 2) AS l,
  LATEST_BY_OFFSET(v, 2, false) AS ln FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', 1);
INSERT INTO s (k, v) VALUES ('a', NULL);
INSERT INTO s (k, v) VALUES ('a', 3);
ASSERT VALUES t (k, e, l, ln) VALUES ('a', ARRAY[1], ARRAY[1], ARRAY[1]);
ASSERT VALUES t (k, e, l, ln) VALUES ('a', ARRAY[1], ARRAY[1], ARRAY[1, NULL]);
ASSERT VALUES t (k, e, l, ln) VALUES ('a', ARRAY[1, 3], ARRAY[1, 3], ARRAY[NULL, 3]);

--@test: HISTOGRAM counts each distinct string
CREATE STREAM s (k STRING KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, HISTOGRAM(v) AS h FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', 'x');
INSERT INTO s (k, v) VALUES ('a', 'y');
INSERT INTO s (k, v) VALUES ('a', 'x');
ASSERT VALUES t (k, h) VALUES ('a', MAP('x' := 1));
ASSERT VALUES t (k, h) VALUES ('a', MAP('x' := 1, 'y' := 1));
ASSERT VALUES t (k, h) VALUES ('a', MAP('x' := 2, 'y' := 1));

--@test: HISTOGRAM counts at most 1000 distinct values, ignoring later new ones
-- (the page: it "limits the number of distinct values which can be counted to 1000, beyond
-- which any additional entries are ignored"; a value counted already goes on being counted)
CREATE STREAM s (k STRING KEY, n INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM e AS SELECT k, CAST(EXPLODE(GENERATE_SERIES(1, n)) AS STRING) AS v FROM s;
CREATE TABLE t AS SELECT k, ARRAY_LENGTH(MAP_KEYS(HISTOGRAM(v))) AS distinct_values,
  HISTOGRAM(v)['1'] AS first_count, HISTOGRAM(v)['1001'] AS last_count FROM e GROUP BY k;
CREATE STREAM changes (k STRING KEY, distinct_values INT, first_count BIGINT, last_count BIGINT)
  WITH (kafka_topic='T', value_format='JSON');
CREATE STREAM late_changes AS SELECT * FROM changes WHERE distinct_values >= 999;
INSERT INTO s (k, n) VALUES ('a', 1001);
INSERT INTO s (k, n) VALUES ('a', 1);
ASSERT VALUES late_changes (k, distinct_values, first_count, last_count) VALUES ('a', 999, 1, NULL);
ASSERT VALUES late_changes (k, distinct_values, first_count, last_count) VALUES ('a', 1000, 1, NULL);
ASSERT VALUES late_changes (k, distinct_values, first_count, last_count) VALUES ('a', 1000, 1, NULL);
ASSERT VALUES late_changes (k, distinct_values, first_count, last_count) VALUES ('a', 1000, 2, NULL);

--@test: STDDEV_SAMP is the sample variance, STDDEV_SAMPLE the sample standard deviation
CREATE STREAM s (k STRING KEY, v DOUBLE) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, STDDEV_SAMP(v) AS var_, STDDEV_SAMPLE(v) AS sd FROM s GROUP BY k;
INSERT INTO s (k, v) VALUES ('a', 1.0);
INSERT INTO s (k, v) VALUES ('a', 3.0);
INSERT INTO s (k, v) VALUES ('a', 5.0);
ASSERT VALUES t (k, var_, sd) VALUES ('a', 0.0, 0.0);
ASSERT VALUES t (k, var_, sd) VALUES ('a', 2.0, 1.4142135623730951);
ASSERT VALUES t (k, var_, sd) VALUES ('a', 4.0, 2.0);

--@test: TOPK of one column is an array, highest first
CREATE STREAM orders (order_zipcode STRING KEY, order_total INT) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT order_zipcode, TOPK(order_total, 2) AS top FROM orders
  WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY order_zipcode EMIT CHANGES;
INSERT INTO orders (order_zipcode, order_total) VALUES ('z', 5);
INSERT INTO orders (order_zipcode, order_total) VALUES ('z', NULL);
INSERT INTO orders (order_zipcode, order_total) VALUES ('z', 9);
INSERT INTO orders (order_zipcode, order_total) VALUES ('z', 7);
ASSERT VALUES t (order_zipcode, top) VALUES ('z', ARRAY[5]);
ASSERT VALUES t (order_zipcode, top) VALUES ('z', ARRAY[5]);
ASSERT VALUES t (order_zipcode, top) VALUES ('z', ARRAY[9, 5]);
ASSERT VALUES t (order_zipcode, top) VALUES ('z', ARRAY[9, 7]);

--@test: TOPK with other columns is an array of structs with sort_col, col0, col1
CREATE STREAM orders (zip STRING KEY, total INT, item STRING, qty BIGINT) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT zip, TOPK(total, item, qty, 2) AS top FROM orders GROUP BY zip;
INSERT INTO orders (zip, total, item, qty) VALUES ('z', 5, 'a', 1);
INSERT INTO orders (zip, total, item, qty) VALUES ('z', 9, 'b', 2);
ASSERT VALUES t (zip, top) VALUES ('z', ARRAY[STRUCT(`sort_col` := 5, `col0` := 'a', `col1` := CAST(1 AS BIGINT))]);
ASSERT VALUES t (zip, top) VALUES ('z', ARRAY[STRUCT(`sort_col` := 9, `col0` := 'b', `col1` := CAST(2 AS BIGINT)),
  STRUCT(`sort_col` := 5, `col0` := 'a', `col1` := CAST(1 AS BIGINT))]);

--@test: TOPK takes k last: a column in its place is refused, not read as k
-- The page's form is TOPK(col1, otherCols..., k); ksqlDB takes k as the aggregation's literal
-- initial argument and refuses an expression there.
--@expected.message: Parameter 3 passed to function TOPK must be a literal constant, but was expression: 'ITEM'
CREATE STREAM orders (zip STRING KEY, total INT, item STRING) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT zip, TOPK(total, 2, item) AS top FROM orders GROUP BY zip;

--@test: TOPKDISTINCT keeps distinct values
CREATE STREAM pageviews_users (pageid STRING KEY, viewtime BIGINT) WITH (kafka_topic='p', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT pageid, TOPKDISTINCT(viewtime, 2) AS top FROM pageviews_users GROUP BY pageid EMIT CHANGES;
INSERT INTO pageviews_users (pageid, viewtime) VALUES ('p', 5);
INSERT INTO pageviews_users (pageid, viewtime) VALUES ('p', 5);
INSERT INTO pageviews_users (pageid, viewtime) VALUES ('p', 3);
ASSERT VALUES t (pageid, top) VALUES ('p', ARRAY[CAST(5 AS BIGINT)]);
ASSERT VALUES t (pageid, top) VALUES ('p', ARRAY[CAST(5 AS BIGINT)]);
ASSERT VALUES t (pageid, top) VALUES ('p', ARRAY[CAST(5 AS BIGINT), CAST(3 AS BIGINT)]);

--@test: an aggregate over a table that only streams support is refused
--@expected.message: The aggregation functions LATEST_BY_OFFSET cannot be applied to a table source, only to a stream source.
CREATE TABLE u (id INT PRIMARY KEY, g STRING, v INT) WITH (kafka_topic='u', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT g, LATEST_BY_OFFSET(v) AS l FROM u GROUP BY g;

--@test: COLLECT_SET is refused over a table, COLLECT_LIST and HISTOGRAM taken
-- (the page: COLLECT_SET applies to streams; COLLECT_LIST and HISTOGRAM to streams and tables)
--@expected.message: The aggregation functions COLLECT_SET cannot be applied to a table source, only to a stream source.
CREATE TABLE u (id INT PRIMARY KEY, g STRING, v STRING) WITH (kafka_topic='u', value_format='JSON', partitions=1);
CREATE TABLE ok AS SELECT g, COLLECT_LIST(v) AS l, HISTOGRAM(v) AS h FROM u GROUP BY g;
CREATE TABLE t AS SELECT g, COLLECT_SET(v) AS st FROM u GROUP BY g;

--@test: ATTR of arrays, maps and structs: the value while every row holds an equal one, else NULL
-- (ATTR is not on the page; ksqlDB's source defines it: values compare as they are equal)
CREATE STREAM s (k STRING KEY, li ARRAY<INT>, m MAP<STRING, INT>, st STRUCT<a STRING, b INT>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT k, ATTR(li) AS li, ATTR(m) AS m, ATTR(st) AS st FROM s GROUP BY k;
INSERT INTO s (k, li, m, st) VALUES ('a', ARRAY[1, 2], MAP('x' := 1, 'y' := 2), STRUCT(a := 'p', b := 1));
INSERT INTO s (k, li, m, st) VALUES ('a', ARRAY[1, 2], MAP('y' := 2, 'x' := 1), STRUCT(a := 'p', b := 1));
INSERT INTO s (k, li, m, st) VALUES ('a', ARRAY[2, 1], MAP('x' := 1, 'y' := 2), STRUCT(a := 'p', b := 2));
ASSERT VALUES t (k, li, m, st) VALUES ('a', ARRAY[1, 2], MAP('x' := 1, 'y' := 2), STRUCT(a := 'p', b := 1));
ASSERT VALUES t (k, li, m, st) VALUES ('a', ARRAY[1, 2], MAP('x' := 1, 'y' := 2), STRUCT(a := 'p', b := 1));
ASSERT VALUES t (k, li, m, st) VALUES ('a', NULL, MAP('x' := 1, 'y' := 2), NULL);
