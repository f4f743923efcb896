-- from reference/sql/syntax/lexical-structure.md
-- Statements end in ';'; keywords and plain identifiers are case-insensitive (identifiers are
-- shown in capitals); backticked identifiers keep their case and any character; constants are
-- strings ('' for a quote), numbers and booleans; comments run from -- to the end of the line or
-- between /* and */; operators bind in the page's order of precedence.

--@test: the page's example statements are valid, tokens flanking special characters need no spaces
CREATE STREAM s1 (a STRING KEY, b STRING) WITH (kafka_topic='s1', value_format='json', partitions=1);
CREATE TABLE t1 (k1 STRING PRIMARY KEY, v STRING) WITH (kafka_topic='t1', value_format='json', partitions=1);
CREATE STREAM s2 AS
    SELECT a, b
    FROM s1
    EMIT CHANGES;
CREATE STREAM s3 AS SELECT a,b FROM s1 WHERE b='v1';
INSERT INTO s1 (a, b) VALUES ('k1', 'v1');
ASSERT VALUES s2 (a, b) VALUES ('k1', 'v1');
ASSERT VALUES s3 (a, b) VALUES ('k1', 'v1');

--@test: keywords and identifiers are case-insensitive, and identifiers are shown in capitals
create stream S1 (A string key, B int) with (KAFKA_TOPIC='s1', value_format='json', partitions=1);
CrEaTe StReAm s2 As SeLeCt a, b * 2 AS twice FrOm s1;
insert into s1 (a, b) values ('x', 21);
ASSERT VALUES S2 (A, TWICE) VALUES ('x', 42);
ASSERT STREAM s2 (A STRING KEY, TWICE INT) WITH (kafka_topic='S2', value_format='JSON');

--@test: a backticked identifier keeps its case and any character, and must be used as declared
CREATE STREAM `s1` (k VARCHAR KEY, `@MY-identifier-stream-column!` INT) WITH (kafka_topic = 's1', partitions = 3, value_format = 'json');
CREATE STREAM out AS SELECT k, `@MY-identifier-stream-column!` AS v FROM `s1`;
INSERT INTO `s1` (k, `@MY-identifier-stream-column!`) VALUES ('a', 7);
ASSERT VALUES out (k, v) VALUES ('a', 7);

--@test: a backticked identifier is not the same as its capitalized spelling
--@expected.message: S1 does not exist.
CREATE STREAM `s1` (k VARCHAR KEY, v INT) WITH (kafka_topic = 's1', partitions = 1, value_format = 'json');
CREATE STREAM out AS SELECT * FROM s1;

--@test: a keyword is refused as a plain identifier
--@expected.message: is a reserved keyword
CREATE STREAM select (k VARCHAR KEY, v INT) WITH (kafka_topic = 's1', partitions = 1, value_format = 'json');

--@test: a keyword may be an identifier in backticks
CREATE STREAM `SELECT` (k VARCHAR KEY, `FROM` INT) WITH (kafka_topic = 's1', partitions = 1, value_format = 'json');
CREATE STREAM out AS SELECT k, `FROM` FROM `SELECT`;
INSERT INTO `SELECT` (k, `FROM`) VALUES ('a', 1);
ASSERT VALUES out (k, `FROM`) VALUES ('a', 1);

--@test: a quote inside a string constant is written twice
CREATE STREAM s (k STRING KEY, v STRING) WITH (kafka_topic='s', value_format='json', partitions=1);
CREATE STREAM out AS SELECT k, v, LEN(v) AS n FROM s;
INSERT INTO s (k, v) VALUES ('a', 'You can call me ''Stuart'', or Stu.');
ASSERT VALUES out (k, v, n) VALUES ('a', 'You can call me ''Stuart'', or Stu.', 33);

--@test: the page's numeric constants, each with its value
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='json', partitions=1);
CREATE STREAM out AS SELECT k,
    5 * 2 = 10 AS digits,
    7.2 * 10 = 72 AS fraction,
    0.0087 * 10000 = 87 AS small,
    1. = 1 AS trailing_point,
    .5 + .5 = 1 AS leading_point,
    1e-3 * 1000 = 1.0 AS exponent,
    1.332434e+2 = 133.2434 AS signed_exponent,
    +100 = 100 AS plus,
    -250 + 250 = 0 AS minus
  FROM s;
INSERT INTO s (k, v) VALUES ('a', 1);
ASSERT VALUES out (k, digits, fraction, small, trailing_point, leading_point, exponent, signed_exponent, plus, minus) VALUES ('a', true, true, true, true, true, true, true, true, true);

--@test: boolean constants are not case-sensitive
CREATE STREAM s (k STRING KEY, v BOOLEAN) WITH (kafka_topic='s', value_format='json', partitions=1);
CREATE STREAM out AS SELECT k FROM s WHERE v = TRUE AND v <> false AND true = True;
INSERT INTO s (k, v) VALUES ('a', false);
INSERT INTO s (k, v) VALUES ('b', tRuE);
ASSERT VALUES out (k) VALUES ('b');

--@test: operators bind in the page's order of precedence, equal ones left to right
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='json', partitions=1);
CREATE STREAM out AS SELECT k,
    1 + 2 * 3 AS mul_first,
    (5 + 2) * 3 AS grouped,
    10 - 4 - 3 AS left_to_right,
    20 / 2 % 3 AS same_level,
    NOT 1 = 2 AS not_after_compare,
    TRUE OR FALSE AND FALSE AS and_before_or,
    v + 1 > 2 AS arithmetic_before_compare
  FROM s;
INSERT INTO s (k, v) VALUES ('a', 2);
ASSERT VALUES out (k, mul_first, grouped, left_to_right, same_level, not_after_compare, and_before_or, arithmetic_before_compare) VALUES ('a', 7, 21, 3, 1, true, true, true);

--@test: comments are ignored, to the end of the line or between /* and */
CREATE STREAM s (k STRING KEY, v INT) -- the source
  WITH (kafka_topic='s', value_format='json', partitions=1);
/* Here is
   another comment. */
CREATE STREAM out AS SELECT k, /* inline */ v FROM s;
INSERT INTO s (k, v) VALUES ('a', 3); -- Here is a comment.
ASSERT VALUES out (k, v) VALUES ('a', 3);

--@test: brackets build and index arrays and key into maps; the arrow reaches into structs
CREATE STREAM s (k STRING KEY, m MAP<STRING, INT>, st STRUCT<f INT>) WITH (kafka_topic='s', value_format='json', partitions=1);
CREATE STREAM out AS SELECT k, ARRAY[1, 2, 3][2] AS second, m['x'] AS x, st->f AS f FROM s;
INSERT INTO s (k, m, st) VALUES ('a', MAP('x' := 9), STRUCT(f := 4));
ASSERT VALUES out (k, second, x, f) VALUES ('a', 2, 9, 4);

--@test: ${...} references a defined variable
DEFINE topic = 'vars';
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='${topic}', value_format='json', partitions=1);
ASSERT STREAM s (k STRING KEY, v INT) WITH (kafka_topic='vars', value_format='JSON');
