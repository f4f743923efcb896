-- from how-to-guides/use-lambda-functions.md
-- TRANSFORM, FILTER and REDUCE with lambdas, the guide's examples with their expected rows.
-- (The guide's last example declares DECIMAL(2,3), which ksqlDB refuses: DECIMAL(3,2) here.)

--@test: TRANSFORM of a map's keys and values
CREATE STREAM stream1 (id INT, lambda_map MAP<STRING, INTEGER>) WITH (kafka_topic='stream1', partitions=1, value_format='avro');
CREATE STREAM output AS SELECT id, TRANSFORM(lambda_map, (k, v) => UCASE(k), (k, v) => v + 5) AS final_output
  FROM stream1 EMIT CHANGES;
INSERT INTO stream1 (id, lambda_map) VALUES (3, MAP('hello' := 15));
INSERT INTO stream1 (id, lambda_map) VALUES (4, MAP('goodbye' := -5));
ASSERT VALUES output (id, final_output) VALUES (3, MAP('HELLO' := 20));
ASSERT VALUES output (id, final_output) VALUES (4, MAP('GOODBYE' := 0));

--@test: REDUCE over an array with an initial state
CREATE STREAM stream2 (id INT, lambda_arr ARRAY<INTEGER>) WITH (kafka_topic='stream2', partitions=1, value_format='avro');
CREATE STREAM output2 AS SELECT id, REDUCE(lambda_arr, 0, (s, x) => s + x * 2) AS final_output FROM stream2 EMIT CHANGES;
INSERT INTO stream2 (id, lambda_arr) VALUES (1, ARRAY[2, 3, 4, 5]);
ASSERT VALUES output2 (id, final_output) VALUES (1, 28);

--@test: FILTER of a map's entries
CREATE STREAM stream3 (id INT, lambda_map MAP<STRING, INTEGER>) WITH (kafka_topic='stream3', partitions=1, value_format='avro');
CREATE STREAM output3 AS SELECT id, FILTER(lambda_map, (k, v) => INSTR(k, 'name') > 0 AND v != 0) AS final_output
  FROM stream3 EMIT CHANGES;
INSERT INTO stream3 (id, lambda_map) VALUES (1, MAP('first name' := 15, 'middle' := 25, 'last name' := 0, 'alt name' := 33));
ASSERT VALUES output3 (id, final_output) VALUES (1, MAP('first name' := 15, 'alt name' := 33));

--@test: a TRANSFORM nested in a TRANSFORM
CREATE STREAM stream4 (id INT, lambda_map MAP<STRING, ARRAY<DECIMAL(3,2)>>) WITH (kafka_topic='stream4', partitions=1, value_format='avro');
CREATE STREAM output4 AS SELECT id,
  TRANSFORM(lambda_map, (k, v) => CONCAT(k, '_new'), (k, v) => TRANSFORM(v, x => ROUND(x))) AS final_output
  FROM stream4 EMIT CHANGES;
INSERT INTO stream4 (id, lambda_map) VALUES (1, MAP('Mary' := ARRAY[1.23, 3.65, 8.45], 'Jose' := ARRAY[5.23, 1.65]));
ASSERT VALUES output4 (id, final_output) VALUES (1, MAP('Mary_new' := ARRAY[1, 4, 8], 'Jose_new' := ARRAY[5, 2]));

--@test: one parameter needs no parentheses; up to three parameters
CREATE STREAM s (id INT KEY, xs ARRAY<INT>, m MAP<STRING, BOOLEAN>) WITH (kafka_topic='s', partitions=1, value_format='JSON');
CREATE STREAM out AS SELECT id, TRANSFORM(xs, x => x + 5) AS plus, REDUCE(m, false, (z, x, y) => z AND x = 'a' OR y) AS any_
  FROM s;
INSERT INTO s (id, xs, m) VALUES (1, ARRAY[1, 2], MAP('a' := false, 'b' := true));
ASSERT VALUES out (id, plus, any_) VALUES (1, ARRAY[6, 7], true);

--@test: a lambda outside TRANSFORM, FILTER or REDUCE is refused
--@expected.message: Lambda expressions are only allowed as arguments of
CREATE STREAM s (id INT KEY, xs ARRAY<INT>) WITH (kafka_topic='s', partitions=1, value_format='JSON');
CREATE STREAM out AS SELECT id, ARRAY_LENGTH(x => x) AS n FROM s;
