-- from concepts/lambda-functions.md
-- A lambda transforms each element of a collection, filters its elements, or reduces it to one value.

--@test: transform, filter and reduce a collection with lambdas
CREATE STREAM s (id INT KEY, xs ARRAY<INT>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, TRANSFORM(xs, x => x * 10) AS tens, FILTER(xs, x => x > 1) AS big,
  REDUCE(xs, 0, (total, x) => total + x) AS total FROM s;
INSERT INTO s (id, xs) VALUES (1, ARRAY[1, 2, 3]);
ASSERT VALUES out (id, tens, big, total) VALUES (1, ARRAY[10, 20, 30], ARRAY[2, 3], 6);
