-- from developer-guide/ksqldb-reference/table-functions.md
-- The page's own examples, then EXPLODE and CUBE_EXPLODE over more element types.

--@test: EXPLODE emits one row per element, the scalar columns copied
CREATE STREAM batched_readings (sensor_id INT KEY, readings ARRAY<INT>) WITH (kafka_topic='r', value_format='JSON', partitions=1);
CREATE STREAM exploded_stream AS SELECT sensor_id, EXPLODE(readings) AS reading FROM batched_readings;
INSERT INTO batched_readings (sensor_id, readings) VALUES (12345, ARRAY[23, 56, 3, 76, 75]);
INSERT INTO batched_readings (sensor_id, readings) VALUES (54321, ARRAY[12, 65, 38]);
ASSERT VALUES exploded_stream (sensor_id, reading) VALUES (12345, 23);
ASSERT VALUES exploded_stream (sensor_id, reading) VALUES (12345, 56);
ASSERT VALUES exploded_stream (sensor_id, reading) VALUES (12345, 3);
ASSERT VALUES exploded_stream (sensor_id, reading) VALUES (12345, 76);
ASSERT VALUES exploded_stream (sensor_id, reading) VALUES (12345, 75);
ASSERT VALUES exploded_stream (sensor_id, reading) VALUES (54321, 12);
ASSERT VALUES exploded_stream (sensor_id, reading) VALUES (54321, 65);
ASSERT VALUES exploded_stream (sensor_id, reading) VALUES (54321, 38);

--@test: several table functions are zipped, the shorter padded with NULL
CREATE STREAM country_batches (country STRING KEY, customer_names ARRAY<STRING>, customer_ages ARRAY<INT>)
  WITH (kafka_topic='c', value_format='JSON', partitions=1);
CREATE STREAM country_customers AS SELECT country, EXPLODE(customer_names) AS name, EXPLODE(customer_ages) AS age
  FROM country_batches;
INSERT INTO country_batches (country, customer_names, customer_ages) VALUES ('UK', ARRAY['john', 'paul', 'george', 'ringo'], ARRAY[23, 56, 3]);
INSERT INTO country_batches (country, customer_names, customer_ages) VALUES ('USA', ARRAY['chad', 'chip', 'brad'], ARRAY[56, 34, 76, 84, 56]);
ASSERT VALUES country_customers (country, name, age) VALUES ('UK', 'john', 23);
ASSERT VALUES country_customers (country, name, age) VALUES ('UK', 'paul', 56);
ASSERT VALUES country_customers (country, name, age) VALUES ('UK', 'george', 3);
ASSERT VALUES country_customers (country, name, age) VALUES ('UK', 'ringo', NULL);
ASSERT VALUES country_customers (country, name, age) VALUES ('USA', 'chad', 56);
ASSERT VALUES country_customers (country, name, age) VALUES ('USA', 'chip', 34);
ASSERT VALUES country_customers (country, name, age) VALUES ('USA', 'brad', 76);
ASSERT VALUES country_customers (country, name, age) VALUES ('USA', NULL, 84);
ASSERT VALUES country_customers (country, name, age) VALUES ('USA', NULL, 56);

--@test: CUBE_EXPLODE outputs every combination, skipping duplicates from NULL columns
CREATE STREAM test (k STRING KEY, col1 INT, col2 INT) WITH (kafka_topic='test_topic', value_format='JSON', partitions=1);
CREATE STREAM output AS SELECT k, CUBE_EXPLODE(ARRAY[col1, col2]) val FROM test;
INSERT INTO test (k, col1, col2) VALUES ('0', 1, 2);
INSERT INTO test (k, col1, col2) VALUES ('1', 1, NULL);
ASSERT VALUES output (k, val) VALUES ('0', ARRAY[CAST(NULL AS INT), NULL]);
ASSERT VALUES output (k, val) VALUES ('0', ARRAY[NULL, 2]);
ASSERT VALUES output (k, val) VALUES ('0', ARRAY[1, NULL]);
ASSERT VALUES output (k, val) VALUES ('0', ARRAY[1, 2]);
ASSERT VALUES output (k, val) VALUES ('1', ARRAY[CAST(NULL AS INT), NULL]);
ASSERT VALUES output (k, val) VALUES ('1', ARRAY[1, NULL]);

--@test: CUBE_EXPLODE over three string columns gives 2^3 rows
CREATE STREAM test (k STRING KEY, a STRING, b STRING, c STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM cubes AS SELECT k, CUBE_EXPLODE(ARRAY[a, b, c]) AS v FROM test;
CREATE TABLE counts AS SELECT k, COUNT(*) AS n FROM cubes GROUP BY k;
INSERT INTO test (k, a, b, c) VALUES ('x', 'a', 'b', 'c');
ASSERT VALUES cubes (k, v) VALUES ('x', ARRAY[CAST(NULL AS STRING), NULL, NULL]);
ASSERT VALUES cubes (k, v) VALUES ('x', ARRAY[NULL, NULL, 'c']);
ASSERT VALUES cubes (k, v) VALUES ('x', ARRAY[NULL, 'b', NULL]);
ASSERT VALUES cubes (k, v) VALUES ('x', ARRAY[NULL, 'b', 'c']);
ASSERT VALUES cubes (k, v) VALUES ('x', ARRAY['a', NULL, NULL]);
ASSERT VALUES cubes (k, v) VALUES ('x', ARRAY['a', NULL, 'c']);
ASSERT VALUES cubes (k, v) VALUES ('x', ARRAY['a', 'b', NULL]);
ASSERT VALUES cubes (k, v) VALUES ('x', ARRAY['a', 'b', 'c']);

--@test: EXPLODE over an array of structs, maps and strings, and over a NULL or empty array
CREATE STREAM raw (id INT KEY, v STRING) WITH (kafka_topic='s', format='KAFKA', partitions=1);
CREATE STREAM s (id INT KEY, structs ARRAY<STRUCT<f INT>>, maps ARRAY<MAP<STRING, INT>>, words ARRAY<STRING>)
  WITH (kafka_topic='s', key_format='KAFKA', value_format='JSON');
CREATE STREAM out AS SELECT id, EXPLODE(structs)->f AS f, EXPLODE(maps)['a'] AS a, EXPLODE(words) AS w FROM s;
INSERT INTO raw (id, v) VALUES (1, '{"STRUCTS": [{"F": 1}, {"F": 2}], "MAPS": [{"a": 10}], "WORDS": ["x"]}');
INSERT INTO raw (id, v) VALUES (2, '{"STRUCTS": null, "MAPS": [], "WORDS": []}');
INSERT INTO raw (id, v) VALUES (3, '{"STRUCTS": [{"F": 3}]}');
ASSERT VALUES out (id, f, a, w) VALUES (1, 1, 10, 'x');
ASSERT VALUES out (id, f, a, w) VALUES (1, 2, NULL, NULL);
ASSERT VALUES out (id, f, a, w) VALUES (3, 3, NULL, NULL);

--@test: EXPLODE over DECIMAL, BOOLEAN, DOUBLE, BIGINT, TIMESTAMP, DATE, TIME and BYTES elements
CREATE STREAM s (id INT KEY, ds ARRAY<DECIMAL(4,2)>, bs ARRAY<BOOLEAN>, fs ARRAY<DOUBLE>, ls ARRAY<BIGINT>,
  ts ARRAY<TIMESTAMP>, dts ARRAY<DATE>, tms ARRAY<TIME>, bys ARRAY<BYTES>)
  WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, EXPLODE(ds) AS d, EXPLODE(bs) AS b, EXPLODE(fs) AS f, EXPLODE(ls) AS l,
  EXPLODE(ts) AS t, EXPLODE(dts) AS dt, EXPLODE(tms) AS tm, EXPLODE(bys) AS by_ FROM s;
INSERT INTO s (id, ds, bs, fs, ls, ts, dts, tms, bys) VALUES (1, ARRAY[1.50], ARRAY[true], ARRAY[0.5], ARRAY[9000000000],
  ARRAY[CAST('2020-01-01T00:00:00.000' AS TIMESTAMP)], ARRAY[CAST('2020-01-02' AS DATE)], ARRAY[CAST('00:00:01' AS TIME)],
  ARRAY[TO_BYTES('abc', 'utf8')]);
ASSERT STREAM out (id INT KEY, d DECIMAL(4,2), b BOOLEAN, f DOUBLE, l BIGINT, t TIMESTAMP, dt DATE, tm TIME, by_ BYTES)
  WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (id, d, b, f, l, t, dt, tm, by_) VALUES (1, 1.50, true, 0.5, 9000000000, '2020-01-01T00:00:00.000',
  '2020-01-02', '00:00:01', TO_BYTES('abc', 'utf8'));

--@test: table functions are supported only on stream sources
--@expected.message: Table source is not supported with table functions
CREATE TABLE t (id INT PRIMARY KEY, xs ARRAY<INT>) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE TABLE out AS SELECT id, EXPLODE(xs) AS x FROM t;

--@test: a table function inside a scalar function's argument works on each element
CREATE STREAM s (id INT KEY, xs ARRAY<INT>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ABS(EXPLODE(xs)) AS x FROM s;
INSERT INTO s (id, xs) VALUES (1, ARRAY[-1, 2]);
ASSERT VALUES out (id, x) VALUES (1, 1);
ASSERT VALUES out (id, x) VALUES (1, 2);

--@test: EXPLODE with a GROUP BY over its output
CREATE STREAM s (id INT KEY, xs ARRAY<STRING>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM words AS SELECT id, EXPLODE(xs) AS w FROM s;
CREATE TABLE counts AS SELECT w, COUNT(*) AS n FROM words GROUP BY w;
INSERT INTO s (id, xs) VALUES (1, ARRAY['a', 'b', 'a']);
ASSERT VALUES counts (w, n) VALUES ('a', 1);
ASSERT VALUES counts (w, n) VALUES ('b', 1);
ASSERT VALUES counts (w, n) VALUES ('a', 2);
