-- from reference/sql/appendix.md
-- The operators of the language, each on a row: comparisons (strings and numbers), arithmetic,
-- + and || on strings, := and -> on structs, . naming a source, => in a lambda, an exponent,
-- NOT / AND / OR, BETWEEN, LIKE, IN, and both kinds of comment.

--@test: comparison operators on numbers and strings
CREATE STREAM s (id INT KEY, a INT, b INT, x STRING, y STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, a = b AS eq, a != b AS ne1, a <> b AS ne2, a < b AS lt, a <= b AS le, a > b AS gt,
  a >= b AS ge, x = y AS s_eq, x < y AS s_lt, x >= y AS s_ge FROM s;
INSERT INTO s (id, a, b, x, y) VALUES (1, 2, 3, 'apple', 'banana');
INSERT INTO s (id, a, b, x, y) VALUES (2, 3, 3, 'pear', 'pear');
ASSERT VALUES out (id, eq, ne1, ne2, lt, le, gt, ge, s_eq, s_lt, s_ge) VALUES (1, false, true, true, true, true, false, false, false, true, false);
ASSERT VALUES out (id, eq, ne1, ne2, lt, le, gt, ge, s_eq, s_lt, s_ge) VALUES (2, true, false, false, false, true, false, true, true, false, true);

--@test: arithmetic, and + or || joining strings
CREATE STREAM s (id INT KEY, a INT, b INT, x STRING, y STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, a + b AS sum, a - b AS diff, a * b AS prod, a / b AS quot, a % b AS rem,
  x + y AS plus, x || y AS bars FROM s;
INSERT INTO s (id, a, b, x, y) VALUES (1, 17, 5, 'stream', 'ing');
ASSERT VALUES out (id, sum, diff, prod, quot, rem, plus, bars) VALUES (1, 22, 12, 85, 3, 2, 'streaming', 'streaming');

--@test: := builds a struct, -> reads a field, . names the source, => makes a lambda, E an exponent
CREATE STREAM s (id INT KEY, a INT, xs ARRAY<INT>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT s.id AS id, STRUCT(f := s.a) -> f AS field, TRANSFORM(xs, x => x * 2) AS doubled,
  1.5E2 AS big, 2e-1 AS small FROM s;
INSERT INTO s (id, a, xs) VALUES (1, 7, ARRAY[1, 2, 3]);
ASSERT VALUES out (id, field, doubled, big, small) VALUES (1, 7, ARRAY[2, 4, 6], 150.0, 0.2);

--@test: NOT, AND, OR, BETWEEN, LIKE and IN
CREATE STREAM s (id INT KEY, a INT, x STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, NOT (a > 1) AS n, a > 1 AND x = 'b' AS both_, a > 5 OR x = 'b' AS either,
  a BETWEEN 1 AND 2 AS btw, x LIKE 'b%' AS lk, a IN (1, 3, 5) AS inn FROM s;
INSERT INTO s (id, a, x) VALUES (1, 2, 'banana');
INSERT INTO s (id, a, x) VALUES (2, 3, 'b');
ASSERT VALUES out (id, n, both_, either, btw, lk, inn) VALUES (1, false, false, false, true, true, false);
ASSERT VALUES out (id, n, both_, either, btw, lk, inn) VALUES (2, false, true, true, false, true, true);

--@test: -- and /* */ comments are ignored, inside a statement too
CREATE STREAM s (id INT KEY, a INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, /* doubled */ a * 2 AS a2 -- the value twice
  FROM s;
INSERT INTO s (id, a) VALUES (1, 21);
ASSERT VALUES out (id, a2) VALUES (1, 42);
