-- from how-to-guides/query-structured-data.md
-- The guide's structs, maps, arrays and deeply nested data, with the rows and column names it shows.

--@test: structs: -> for one field, ->* for all, columns named after the last field
CREATE STREAM s2 (a VARCHAR KEY, b STRUCT<c VARCHAR, d INT>) WITH (kafka_topic='s2', partitions=1, value_format='avro');
CREATE STREAM out AS SELECT a, b, b->c, b->d FROM s2 EMIT CHANGES;
CREATE STREAM star AS SELECT a, b, b->* FROM s2 EMIT CHANGES;
INSERT INTO s2 (a, b) VALUES ('k1', STRUCT(c := 'v1', d := 5));
INSERT INTO s2 (a, b) VALUES ('k2', STRUCT(c := 'v2', d := 6));
ASSERT STREAM out (a STRING KEY, b STRUCT<c STRING, d INT>, c STRING, d INT) WITH (kafka_topic='OUT', value_format='AVRO');
ASSERT VALUES out (a, b, c, d) VALUES ('k1', STRUCT(c := 'v1', d := 5), 'v1', 5);
ASSERT VALUES out (a, b, c, d) VALUES ('k2', STRUCT(c := 'v2', d := 6), 'v2', 6);
ASSERT VALUES star (a, b, c, d) VALUES ('k1', STRUCT(c := 'v1', d := 5), 'v1', 5);

--@test: maps: [] by key, a generated name unless aliased
CREATE STREAM s3 (a VARCHAR KEY, b MAP<VARCHAR, INT>) WITH (kafka_topic='s3', partitions=1, value_format='avro');
CREATE STREAM out AS SELECT a, b, b['c'] AS c, b['d'] AS d FROM s3 EMIT CHANGES;
CREATE STREAM unnamed AS SELECT a, b['c'] FROM s3 EMIT CHANGES;
INSERT INTO s3 (a, b) VALUES ('k1', MAP('c' := 2, 'd' := 4));
INSERT INTO s3 (a, b) VALUES ('k3', MAP('c' := 8, 'd' := 16));
ASSERT VALUES out (a, b, c, d) VALUES ('k1', MAP('c' := 2, 'd' := 4), 2, 4);
ASSERT VALUES out (a, b, c, d) VALUES ('k3', MAP('c' := 8, 'd' := 16), 8, 16);
ASSERT STREAM unnamed (a STRING KEY, KSQL_COL_0 INT) WITH (kafka_topic='UNNAMED', value_format='AVRO');

--@test: arrays: 1-based indexes, -1 the last, NULL past the end
CREATE STREAM s4 (a VARCHAR KEY, b ARRAY<INT>) WITH (kafka_topic='s4', partitions=1, value_format='avro');
CREATE STREAM out AS SELECT a, b, b[1] AS b_1, b[2] AS b_2, b[3] AS b_3, b[-1] AS b_minus_1 FROM s4 EMIT CHANGES;
INSERT INTO s4 (a, b) VALUES ('k1', ARRAY[1]);
INSERT INTO s4 (a, b) VALUES ('k2', ARRAY[2, 3]);
INSERT INTO s4 (a, b) VALUES ('k3', ARRAY[4, 5, 6]);
ASSERT VALUES out (a, b, b_1, b_2, b_3, b_minus_1) VALUES ('k1', ARRAY[1], 1, NULL, NULL, 1);
ASSERT VALUES out (a, b, b_1, b_2, b_3, b_minus_1) VALUES ('k2', ARRAY[2, 3], 2, 3, NULL, 3);
ASSERT VALUES out (a, b, b_1, b_2, b_3, b_minus_1) VALUES ('k3', ARRAY[4, 5, 6], 4, 5, 6, 6);

--@test: deeply nested data: destructuring chains, named after the tail of each expression
CREATE STREAM s4 (a VARCHAR KEY, b STRUCT<c ARRAY<INT>, d MAP<VARCHAR, STRUCT<e VARCHAR, f BOOLEAN>>>)
  WITH (kafka_topic='s4', partitions=1, value_format='avro');
CREATE STREAM out AS SELECT a, b->c[2] AS c_2, b->d['x']->f, b->d['y']->e FROM s4 EMIT CHANGES;
INSERT INTO s4 (a, b) VALUES ('k1', STRUCT(c := ARRAY[5, 10, 15],
  d := MAP('x' := STRUCT(e := 'v1', f := true), 'y' := STRUCT(e := 'v2', f := false))));
INSERT INTO s4 (a, b) VALUES ('k2', STRUCT(c := ARRAY[3, 6, 9],
  d := MAP('x' := STRUCT(e := 'v3', f := false), 'y' := STRUCT(e := 'v4', f := false))));
ASSERT STREAM out (a STRING KEY, c_2 INT, f BOOLEAN, e STRING) WITH (kafka_topic='OUT', value_format='AVRO');
ASSERT VALUES out (a, c_2, f, e) VALUES ('k1', 10, true, 'v2');
ASSERT VALUES out (a, c_2, f, e) VALUES ('k2', 6, false, 'v4');
