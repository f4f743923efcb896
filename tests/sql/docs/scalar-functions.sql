-- from developer-guide/ksqldb-reference/scalar-functions.md
-- Each case evaluates the page's examples (and its stated edge cases) in a persistent query
-- over one row; where the page gives an example result, that is the expected value. LOG(x)
-- is the natural logarithm, and JSON_RECORDS gives a text value without its quotes, as
-- ksqlDB's own tests have them (the page says base 10, and shows a="abc").

--@test: maths: ABS, CEIL, FLOOR, ROUND, TRUNC, SIGN on the page's rules
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  ABS(-3) AS c0,
  CEIL(1.2) AS c1,
  FLOOR(-1.2) AS c2,
  ROUND(1.5) AS c3,
  ROUND(-1.5) AS c4,
  ROUND(1.2345, 2) AS c5,
  ROUND(12345, -2) AS c6,
  TRUNC(12345.67, -3) AS c7,
  TRUNC(12345.67) AS c8,
  TRUNC(-1.5) AS c9,
  SIGN(-5) AS c10,
  SIGN(0.0) AS c11,
  SIGN(2.5e0) AS c12
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) VALUES (1,
  3,
  2,
  -2,
  2,
  -1,
  1.23,
  12300,
  12000,
  12345,
  -1,
  -1,
  0,
  1);

--@test: maths: ROUND and TRUNC with places work on the decimal a value shows, ties going up
-- "Numbers equidistant to the nearest value are rounded up, in the positive direction": for
-- negative values too, so -1.55 to one place is -1.5. ksqlDB rounds a DOUBLE with places as the
-- decimal its text shows (BigDecimal.valueOf), so 1.005 to two places is 1.01 and 0.29 truncated
-- to two places stays 0.29, whatever their binary values; a DECIMAL keeps its scale.
CREATE STREAM s (id INT KEY, d DOUBLE, m DECIMAL(5, 2)) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ROUND(d, 2) AS r2, TRUNC(d, 2) AS t2, ROUND(d) AS r0, ROUND(m, 1) AS m1, ROUND(m) AS m0,
  TRUNC(m, 1) AS n1 FROM s;
INSERT INTO s (id, d, m) VALUES (1, 1.005, -1.55);
INSERT INTO s (id, d, m) VALUES (2, 2.675, 1.55);
INSERT INTO s (id, d, m) VALUES (3, 0.29, -1.50);
INSERT INTO s (id, d, m) VALUES (4, -2.5, 2.50);
ASSERT VALUES out (id, r2, t2, r0, m1, m0, n1) VALUES (1, 1.01, 1.0, 1, -1.50, -2, -1.50);
ASSERT VALUES out (id, r2, t2, r0, m1, m0, n1) VALUES (2, 2.68, 2.67, 3, 1.60, 2, 1.50);
ASSERT VALUES out (id, r2, t2, r0, m1, m0, n1) VALUES (3, 0.29, 0.29, 0, -1.50, -1, -1.50);
ASSERT VALUES out (id, r2, t2, r0, m1, m0, n1) VALUES (4, -2.5, -2.5, -2, 2.50, 3, 2.50);

--@test: maths: roots, powers, logarithms and their edge values
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  SQRT(4) AS c0,
  CBRT(27.0) AS c1,
  EXP(0) AS c2,
  LN(1) AS c3,
  POWER(2, 3) AS c4,
  POWER(10, 400) AS c5,
  LOG(2, 8) AS c6,
  LOG(2, 0) AS c7,
  LOG(-1, 8) AS c8,
  LOG(0, 8) AS c9,
  LOG(1, 8) AS c10,
  LOG(8, -1) AS c11
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11) VALUES (1,
  2.0,
  3.0,
  1.0,
  0.0,
  8.0,
  CAST('Infinity' AS DOUBLE),
  3.0,
  CAST('-Infinity' AS DOUBLE),
  CAST('NaN' AS DOUBLE),
  CAST('NaN' AS DOUBLE),
  CAST('NaN' AS DOUBLE),
  CAST('NaN' AS DOUBLE));

--@test: maths: trigonometry in radians
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  ACOS(2) AS c0,
  ASIN(2) AS c1,
  ACOS(1) AS c2,
  ATAN(0) AS c3,
  ATAN2(0, 1) AS c4,
  COS(0) AS c5,
  COSH(0) AS c6,
  SIN(0) AS c7,
  SINH(0) AS c8,
  TAN(0) AS c9,
  TANH(0) AS c10,
  COT(0) AS c11,
  COT(-CAST(0 AS DOUBLE)) AS c12,
  DEGREES(PI()) AS c13,
  RADIANS(180) AS c14
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14) VALUES (1,
  CAST('NaN' AS DOUBLE),
  CAST('NaN' AS DOUBLE),
  0.0,
  0.0,
  0.0,
  1.0,
  1.0,
  0.0,
  0.0,
  0.0,
  0.0,
  CAST('Infinity' AS DOUBLE),
  CAST('-Infinity' AS DOUBLE),
  180.0,
  PI());

--@test: maths: GREATEST, LEAST, GENERATE_SERIES, GEO_DISTANCE
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  GREATEST(1, 5, 3) AS c0,
  LEAST(1, 5, 3) AS c1,
  GREATEST('a', 'c', NULL) AS c2,
  GENERATE_SERIES(1, 5, 2) AS c3,
  GENERATE_SERIES(5, 1) AS c4,
  GEO_DISTANCE(0.0, 0.0, 0.0, 0.0) AS c5,
  RANDOM() < 1.0 AS c6
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6) VALUES (1,
  5,
  1,
  'c',
  ARRAY[1, 3, 5],
  ARRAY[5, 4, 3, 2, 1],
  0.0,
  true);

--@test: collections: ARRAY_CONCAT, ARRAY_DISTINCT, ARRAY_EXCEPT, ARRAY_INTERSECT, ARRAY_UNION (the page's examples)
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  ARRAY_CONCAT(ARRAY[1, 2, 3, 1, 2], ARRAY[4, 1]) AS c0,
  ARRAY_CONCAT(ARRAY['apple', 'apple', NULL, 'cherry'], ARRAY['cherry']) AS c1,
  ARRAY_CONCAT(CAST(NULL AS ARRAY<INT>), ARRAY[1]) AS c2,
  ARRAY_DISTINCT(ARRAY[1, 1, 2, 3, 1, 2]) AS c3,
  ARRAY_DISTINCT(ARRAY['apple', 'apple', NULL, 'cherry']) AS c4,
  ARRAY_EXCEPT(ARRAY[1, 2, 3, 1, 2], ARRAY[2, 3]) AS c5,
  ARRAY_EXCEPT(ARRAY['apple', 'apple', NULL, 'cherry'], ARRAY['cherry']) AS c6,
  ARRAY_INTERSECT(ARRAY[1, 2, 3, 1, 2], ARRAY[2, 1]) AS c7,
  ARRAY_INTERSECT(ARRAY['apple', 'apple', NULL, 'cherry'], ARRAY['apple']) AS c8,
  ARRAY_UNION(ARRAY[1, 2, 3, 1, 2], ARRAY[4, 1]) AS c9,
  ARRAY_UNION(ARRAY['apple', 'apple', NULL, 'cherry'], ARRAY['cherry']) AS c10
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) VALUES (1,
  ARRAY[1, 2, 3, 1, 2, 4, 1],
  ARRAY['apple', 'apple', NULL, 'cherry', 'cherry'],
  ARRAY[1],
  ARRAY[1, 2, 3],
  ARRAY['apple', NULL, 'cherry'],
  ARRAY[1],
  ARRAY['apple', NULL],
  ARRAY[1, 2],
  ARRAY['apple'],
  ARRAY[1, 2, 3, 4],
  ARRAY['apple', NULL, 'cherry']);

--@test: collections: ARRAY_MAX, ARRAY_MIN, ARRAY_REMOVE, ARRAY_SORT, ARRAY_JOIN, ARRAY_LENGTH, ARRAY_CONTAINS
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  ARRAY_MAX(ARRAY[-1, 2, NULL, 0]) AS c0,
  ARRAY_MAX(ARRAY[false, NULL, true]) AS c1,
  ARRAY_MAX(ARRAY['Foo', 'Bar', NULL, 'baz']) AS c2,
  ARRAY_MIN(ARRAY[-1, 2, NULL, 0]) AS c3,
  ARRAY_MIN(ARRAY[false, NULL, true]) AS c4,
  ARRAY_MIN(ARRAY['Foo', 'Bar', NULL, 'baz']) AS c5,
  ARRAY_REMOVE(ARRAY[1, 2, 3, 2, 1], 2) AS c6,
  ARRAY_REMOVE(ARRAY[false, NULL, true, true], false) AS c7,
  ARRAY_REMOVE(ARRAY['Foo', 'Bar', NULL, 'baz'], NULL) AS c8,
  ARRAY_SORT(ARRAY[3, 1, NULL, 2]) AS c9,
  ARRAY_SORT(ARRAY['b', 'a'], 'DESC') AS c10,
  ARRAY_JOIN(ARRAY[1, 2, 3]) AS c11,
  ARRAY_JOIN(ARRAY['a', 'b'], '|') AS c12,
  ARRAY_LENGTH(ARRAY[1, 2, 3]) AS c13,
  ARRAY_CONTAINS(ARRAY[1, 2, 3], 3) AS c14,
  SLICE(ARRAY[1, 2, 3, 4], 2, 3) AS c15
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15) VALUES (1,
  2,
  true,
  'baz',
  -1,
  false,
  'Bar',
  ARRAY[1, 3, 1],
  ARRAY[NULL, true, true],
  ARRAY['Foo', 'Bar', 'baz'],
  ARRAY[1, 2, 3, NULL],
  ARRAY['b', 'a'],
  '1,2,3',
  'a|b',
  3,
  true,
  ARRAY[2, 3]);

--@test: collections: maps, ELT, FIELD, AS_MAP, ENTRIES
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  MAP_KEYS(MAP('apple' := 10, 'banana' := 20)) AS c0,
  MAP_VALUES(MAP('apple' := 10, 'banana' := 20)) AS c1,
  MAP_UNION(MAP('apple' := 10, 'banana' := 20), MAP('cherry' := 99)) AS c2,
  MAP_UNION(MAP('apple' := 10, 'banana' := 20), MAP('apple' := 50)) AS c3,
  AS_MAP(ARRAY['a', 'b'], ARRAY[1, 2]) AS c4,
  ELT(2, 'a', 'b') AS c5,
  ELT(3, 'a', 'b') AS c6,
  FIELD('b', 'a', 'b') AS c7,
  FIELD('z', 'a', 'b') AS c8,
  JSON_ARRAY_CONTAINS('[1, 2, 3]', 3) AS c9,
  JSON_ARRAY_CONTAINS('{}', 3) AS c10
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) VALUES (1,
  ARRAY['apple', 'banana'],
  ARRAY[10, 20],
  MAP('apple' := 10, 'banana' := 20, 'cherry' := 99),
  MAP('apple' := 50, 'banana' := 20),
  MAP('a' := 1, 'b' := 2),
  'b',
  CAST(NULL AS STRING),
  2,
  0,
  true,
  false);

--@test: strings: CHR, CONCAT, CONCAT_WS, INITCAP, INSTR (the page's examples)
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  CHR(75) AS c0,
  CHR('\u004b') AS c1,
  CHR(22909) AS c2,
  CHR('\u597d') AS c3,
  CONCAT('a', CAST(NULL AS STRING), 'b') AS c4,
  CONCAT_WS(', ', 'apple', 'banana', NULL, 'date') AS c5,
  CONCAT_WS(CAST(NULL AS STRING), 'a') AS c6,
  INITCAP('hello wORLD  foo') AS c7,
  INSTR('CORPORATE FLOOR', 'OR') AS c8,
  INSTR('CORPORATE FLOOR', 'OR', 3) AS c9,
  INSTR('CORPORATE FLOOR', 'OR', 3, 2) AS c10,
  INSTR('CORPORATE FLOOR', 'OR', -3) AS c11,
  INSTR('CORPORATE FLOOR', 'OR', -3, 2) AS c12,
  INSTR('CORPORATE FLOOR', 'MISSING') AS c13
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13) VALUES (1,
  'K',
  'K',
  '好',
  '好',
  'ab',
  'apple, banana, date',
  CAST(NULL AS STRING),
  'Hello World  Foo',
  2,
  5,
  14,
  5,
  2,
  0);

--@test: strings: case, length, padding, masks (the page's examples)
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  LCASE('AbC') AS c0,
  UCASE('AbC') AS c1,
  LEN('abc') AS c2,
  TRIM('  a b  ') AS c3,
  LPAD('Foo', 7, 'Bar') AS c4,
  LPAD('Foo', 2, 'Bar') AS c5,
  LPAD('', 2, 'Bar') AS c6,
  LPAD('123', 5, '0') AS c7,
  LPAD('Foo', -1, 'Bar') AS c8,
  LPAD('Foo', 2, '') AS c9,
  RPAD('Foo', 7, 'Bar') AS c10,
  RPAD('Foo', 2, 'Bar') AS c11,
  RPAD('', 2, 'Bar') AS c12,
  MASK('My Test $123') AS c13,
  MASK('My Test $123', '*', NULL, '1', NULL) AS c14,
  MASK_KEEP_LEFT('My Test $123', 4) AS c15,
  MASK_KEEP_RIGHT('My Test $123', 4) AS c16,
  MASK_LEFT('My Test $123', 4) AS c17,
  MASK_RIGHT('My Test $123', 4) AS c18
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18) VALUES (1,
  'abc',
  'ABC',
  3,
  'a b',
  'BarBFoo',
  'Fo',
  'Ba',
  '00123',
  CAST(NULL AS STRING),
  CAST(NULL AS STRING),
  'FooBarB',
  'Fo',
  'Ba',
  'Xx-Xxxx--nnn',
  '*y *est $111',
  'My Txxx--nnn',
  'Xx-Xxxx-$123',
  'Xx-Xest $123',
  'My Test -nnn');

--@test: strings: replace, regular expressions, split, substring
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  REPLACE('foo bar foo', 'foo', 'x') AS c0,
  REGEXP_EXTRACT('(.*) (.*)', 'hello there', 2) AS c1,
  REGEXP_EXTRACT('.*', 'abc') AS c2,
  REGEXP_EXTRACT_ALL('(\w+) (\w+)', 'hello there nice day', 2) AS c3,
  REGEXP_REPLACE('aabbb ab', 'a.b+', 'X') AS c4,
  REGEXP_REPLACE(CAST(NULL AS STRING), 'a', 'b') AS c5,
  REGEXP_SPLIT_TO_ARRAY('a1b22c', '[0-9]+') AS c6,
  REGEXP_SPLIT_TO_ARRAY('abc', 'x') AS c7,
  REGEXP_SPLIT_TO_ARRAY('1a11b1', '1') AS c8,
  SPLIT('a,b,,c,', ',') AS c9,
  SPLIT('abc', '') AS c10,
  SPLIT('abc', 'x') AS c11,
  SPLIT_TO_MAP('apple:=green/cherry:=red', '/', ':=') AS c12,
  SPLIT_TO_MAP('a=1,b=2,a=3', ',', '=') AS c13,
  SPLIT_TO_MAP('a=1', '', '=') AS c14,
  SUBSTRING('stream', 1, 4) AS c15,
  SUBSTRING('stream', 3) AS c16,
  SUBSTRING('stream', -2) AS c17
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17) VALUES (1,
  'x bar x',
  'there',
  'abc',
  ARRAY['there', 'day'],
  'X ab',
  CAST(NULL AS STRING),
  ARRAY['a', 'b', 'c'],
  ARRAY['abc'],
  ARRAY['', 'a', '', 'b', ''],
  ARRAY['a', 'b', '', 'c', ''],
  ARRAY['a', 'b', 'c'],
  ARRAY['abc'],
  MAP('apple' := 'green', 'cherry' := 'red'),
  MAP('a' := '3', 'b' := '2'),
  CAST(NULL AS MAP<STRING, STRING>),
  'stre',
  'ream',
  'am');

--@test: strings: hashing, UUIDs, encodings and bytes
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  MD5('hash me') AS c0,
  LEN(UUID()) AS c1,
  UUID(TO_BYTES('237e9877e79b12d4a765321741963000', 'hex')) AS c2,
  ENCODE('4b', 'hex', 'utf8') AS c3,
  ENCODE('K', 'utf8', 'base64') AS c4,
  ENCODE('Sw==', 'base64', 'hex') AS c5,
  FROM_BYTES(TO_BYTES('abc', 'utf8'), 'hex') AS c6,
  FROM_BYTES(TO_BYTES('abc', 'utf8'), 'base64') AS c7,
  LEN(TO_BYTES('abcd', 'utf8')) AS c8,
  FROM_BYTES(CONCAT(TO_BYTES('61', 'hex'), TO_BYTES('62', 'hex')), 'utf8') AS c9,
  FROM_BYTES(SUBSTRING(TO_BYTES('abcd', 'utf8'), 2, 2), 'utf8') AS c10,
  BIGINT_FROM_BYTES(TO_BYTES('AAAAASoF8gA=', 'base64'), 'BIG_ENDIAN') AS c11,
  BIGINT_FROM_BYTES(TO_BYTES('01', 'hex')) AS c12,
  INT_FROM_BYTES(TO_BYTES('01000000', 'hex'), 'LITTLE_ENDIAN') AS c13,
  DOUBLE_FROM_BYTES(TO_BYTES('3ff0000000000000', 'hex')) AS c14,
  FROM_UNIXTIME(CAST(INT_FROM_BYTES(TO_BYTES(SUBSTRING('628b30f00000000000000000', 0, 8), 'hex')) AS BIGINT) * 1000) AS c15
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15) VALUES (1,
  '17b31dce96b9d6c6d0a6ba95f47796fb',
  36,
  '237e9877-e79b-12d4-a765-321741963000',
  'K',
  'Sw==',
  '4b',
  '616263',
  'YWJj',
  4,
  'ab',
  'bc',
  5000000000,
  CAST(NULL AS BIGINT),
  1,
  1.0,
  '2022-05-23T07:00:00.000');

--@test: JSON: IS_JSON_STRING, JSON_ARRAY_LENGTH, JSON_KEYS (the page's examples)
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  IS_JSON_STRING('[1, 2, 3]') AS c0,
  IS_JSON_STRING('{}') AS c1,
  IS_JSON_STRING('1') AS c2,
  IS_JSON_STRING('"abc"') AS c3,
  IS_JSON_STRING('null') AS c4,
  IS_JSON_STRING('') AS c5,
  IS_JSON_STRING('abc') AS c6,
  IS_JSON_STRING(NULL) AS c7,
  JSON_ARRAY_LENGTH('[1, 2, 3]') AS c8,
  JSON_ARRAY_LENGTH('[1, [1, [2]], 3]') AS c9,
  JSON_ARRAY_LENGTH('[]') AS c10,
  JSON_ARRAY_LENGTH('{}') AS c11,
  JSON_ARRAY_LENGTH('123') AS c12,
  JSON_ARRAY_LENGTH('abc') AS c13,
  JSON_KEYS('{"a": "abc", "b": { "c": "a" }, "d": 1}') AS c14,
  ARRAY_LENGTH(JSON_KEYS('{}')) AS c15,
  JSON_KEYS('[]') AS c16,
  JSON_KEYS('') AS c17
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17) VALUES (1,
  true,
  true,
  true,
  true,
  true,
  false,
  false,
  false,
  3,
  3,
  0,
  CAST(NULL AS INT),
  CAST(NULL AS INT),
  CAST(NULL AS INT),
  ARRAY['a', 'b', 'd'],
  0,
  CAST(NULL AS ARRAY<STRING>),
  CAST(NULL AS ARRAY<STRING>));

--@test: JSON: JSON_CONCAT, JSON_RECORDS, JSON_ITEMS (the page's examples)
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  JSON_CONCAT('{"a": 1}', '{"b": 2}') AS c0,
  JSON_CONCAT('{"a": {"5": 6}}', '{"a": {"3": 4}}') AS c1,
  JSON_CONCAT('{}', '{}') AS c2,
  JSON_CONCAT('[1, 2]', '[3, 4]') AS c3,
  JSON_CONCAT('[1, [2]]', '[[[3]], [[[4]]]]') AS c4,
  JSON_CONCAT('null', 'null') AS c5,
  JSON_CONCAT('[1, 2]', '{"a": 1}') AS c6,
  JSON_CONCAT('[1, 2]', '3') AS c7,
  JSON_CONCAT('1', '2') AS c8,
  JSON_CONCAT('[]', '[]') AS c9,
  JSON_CONCAT('abc', '[1]') AS c10,
  JSON_CONCAT(NULL, '[1]') AS c11,
  JSON_RECORDS('{"a": "abc", "b": { "c": "a" }, "d": 1}') AS c12,
  JSON_RECORDS('[]') AS c13,
  JSON_RECORDS('abc') AS c14,
  JSON_ITEMS('[1, 2, 3]') AS c15,
  JSON_ITEMS('abc') AS c16
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16) VALUES (1,
  '{"a":1,"b":2}',
  '{"a":{"3":4}}',
  '{}',
  '[1,2,3,4]',
  '[1,[2],[[3]],[[[4]]]]',
  '[null,null]',
  '[1,2,{"a":1}]',
  '[1,2,3]',
  '[1,2]',
  '[]',
  CAST(NULL AS STRING),
  CAST(NULL AS STRING),
  MAP('a' := 'abc', 'b' := '{"c":"a"}', 'd' := '1'),
  CAST(NULL AS MAP<STRING, STRING>),
  CAST(NULL AS MAP<STRING, STRING>),
  ARRAY['1', '2', '3'],
  CAST(NULL AS ARRAY<STRING>));

--@test: JSON: TO_JSON_STRING writes struct fields and map keys in order, numbers as Java does
-- The page is silent on order and number text; ksqlDB's ToJsonString copies structs and maps into
-- sorted maps and writes with Jackson: a decimal as its plain text (1.10 keeps its zero), a double
-- as Java's Double.toString (1.0E10) and NaN as a string.
CREATE STREAM s (id INT KEY, d DOUBLE) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  TO_JSON_STRING(STRUCT(B := 1, A := CAST(1.10 AS DECIMAL(4, 2)))) AS c0,
  TO_JSON_STRING(MAP('b' := d, 'a' := 0.5e0)) AS c1,
  TO_JSON_STRING(CAST('NaN' AS DOUBLE)) AS c2
  FROM s;
INSERT INTO s (id, d) VALUES (1, 1e10);
ASSERT VALUES out (id, c0, c1, c2) VALUES (1, '{"A":1.10,"B":1}', '{"a":0.5,"b":1.0E10}', '"NaN"');

--@test: JSON: JSON_ITEMS, JSON_CONCAT and JSON_RECORDS keep a decimal number's digits
-- The page is silent; ksqlDB's JSON functions read numbers as exact BigDecimals (1.50 stays
-- 1.50). JSON_CONCAT writes them plain (1.5e3 as 1500); JSON_ITEMS and JSON_RECORDS give each
-- node's own text, which BigDecimal writes in its scientific form (1E+5).
CREATE STREAM s (id INT KEY, j STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, JSON_ITEMS(j) AS i, JSON_CONCAT(j, '[1.5e3]') AS c,
  JSON_RECORDS('{"a": 1.50, "b": [1E2]}') AS r FROM s;
INSERT INTO s (id, j) VALUES (1, '[1.50, 1e5, {"a": 2.0}, "v1.2", 3]');
ASSERT VALUES out (id, i, c, r) VALUES (1, ARRAY['1.50', '1E+5', '{"a":2.0}', '"v1.2"', '3'],
  '[1.50,100000,{"a":2.0},"v1.2",3,1500]', MAP('a' := '1.50', 'b' := '[1E+2]'));

--@test: JSON: TO_JSON_STRING and EXTRACTJSONFIELD (the page's examples)
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  TO_JSON_STRING(1) AS c0,
  TO_JSON_STRING(15.3) AS c1,
  TO_JSON_STRING('abc') AS c2,
  TO_JSON_STRING(true) AS c3,
  TO_JSON_STRING(PARSE_DATE('2021-10-11', 'yyyy-MM-dd')) AS c4,
  TO_JSON_STRING(PARSE_TIME('13:25', 'HH:mm')) AS c5,
  TO_JSON_STRING(PARSE_TIMESTAMP('2021-06-31 12:18:39.446', 'yyyy-MM-dd HH:mm:ss.SSS')) AS c6,
  TO_JSON_STRING(CAST(NULL AS STRING)) AS c7,
  TO_JSON_STRING(ARRAY[1, 2, 3]) AS c8,
  TO_JSON_STRING(STRUCT(id := 1, name := 'A')) AS c9,
  TO_JSON_STRING(MAP('c' := 2, 'd' := 4)) AS c10,
  TO_JSON_STRING(ARRAY[STRUCT(json_key := 1, json_value := MAP('c' := 2, 'd' := 3))]) AS c11,
  EXTRACTJSONFIELD('{"log": {"cloud": "gcp836Csd", "app": "ksProcessor", "instance": 4}}', '$.log.cloud') AS c12,
  CAST(EXTRACTJSONFIELD('{"log": {"instance": 4}}', '$.log.instance') AS INT) AS c13,
  EXTRACTJSONFIELD('{"log": {}}', '$.log.nope') AS c14
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14) VALUES (1,
  '1',
  '15.3',
  '"abc"',
  'true',
  '"2021-10-11"',
  '"13:25"',
  '"2021-06-30T12:18:39.446"',
  'null',
  '[1,2,3]',
  '{"ID":1,"NAME":"A"}',
  '{"c":2,"d":4}',
  '[{"JSON_KEY":1,"JSON_VALUE":{"c":2,"d":3}}]',
  'gcp836Csd',
  4,
  CAST(NULL AS STRING));

--@test: conditionals: COALESCE, IFNULL, NULLIF, AS_VALUE
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  COALESCE(NULL, 2, 3) AS c0,
  IFNULL(CAST(NULL AS INT), 5) AS c1,
  NULLIF(1, 1) AS c2,
  NULLIF(1, 2) AS c3
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3) VALUES (1,
  2,
  5,
  CAST(NULL AS INT),
  1);

--@test: dates and times: arithmetic, formatting and parsing
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  CONVERT_TZ(PARSE_TIMESTAMP('2020-01-01 00:00', 'yyyy-MM-dd HH:mm'), 'UTC', 'America/Los_Angeles') AS c0,
  DATEADD(DAYS, 2, PARSE_DATE('2020-01-01', 'yyyy-MM-dd')) AS c1,
  DATESUB(DAYS, 1, PARSE_DATE('2020-03-01', 'yyyy-MM-dd')) AS c2,
  TIMEADD(HOURS, 2, PARSE_TIME('23:00', 'HH:mm')) AS c3,
  TIMESUB(MINUTES, 30, PARSE_TIME('00:10', 'HH:mm')) AS c4,
  TIMESTAMPADD(MILLISECONDS, 5, FROM_UNIXTIME(0)) AS c5,
  TIMESTAMPSUB(DAYS, 1, FROM_UNIXTIME(0)) AS c6,
  FORMAT_DATE(FROM_DAYS(18000), 'yyyy-MM-dd') AS c7,
  FORMAT_TIME(PARSE_TIME('13:25:01', 'HH:mm:ss'), 'hh:mm a') AS c8,
  FORMAT_TIMESTAMP(FROM_UNIXTIME(0), 'yyyy-MM-dd HH:mm:ss.SSS', 'Asia/Kolkata') AS c9,
  UNIX_DATE(PARSE_DATE('1970-01-03', 'yyyy-MM-dd')) AS c10,
  UNIX_TIMESTAMP(FROM_UNIXTIME(1000)) AS c11,
  DATETOSTRING(18000, 'yyyy-MM-dd') AS c12,
  STRINGTODATE('2019-04-14', 'yyyy-MM-dd') AS c13,
  STRINGTOTIMESTAMP('2019-04-14 10:00:00', 'yyyy-MM-dd HH:mm:ss', 'UTC') AS c14,
  TIMESTAMPTOSTRING(1555236000000, 'yyyy-MM-dd HH:mm:ss', 'UTC') AS c15
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15) VALUES (1,
  '2019-12-31T16:00:00.000',
  '2020-01-03',
  '2020-02-29',
  '01:00:00',
  '23:40:00',
  '1970-01-01T00:00:00.005',
  '1969-12-31T00:00:00.000',
  '2019-04-14',
  '01:25 PM',
  '1970-01-01 05:30:00.000',
  2,
  1000,
  '2019-04-14',
  18000,
  1555236000000,
  '2019-04-14 10:00:00');

--@test: URLs (the page's examples; path, query and fragment decoded as java.net.URI does)
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  URL_DECODE_PARAM('url%20encoded') AS c0,
  URL_ENCODE_PARAM('url encoded') AS c1,
  URL_EXTRACT_FRAGMENT('http://test.com#frag') AS c2,
  URL_EXTRACT_FRAGMENT('http://test.com#frag%20space') AS c3,
  URL_EXTRACT_HOST('http://test.com:8080/path') AS c4,
  URL_EXTRACT_PARAMETER('http://test.com?a%20b=c%20d', 'a b') AS c5,
  URL_EXTRACT_PARAMETER('http://test.com?a=foo&b=bar', 'b') AS c6,
  URL_EXTRACT_PATH('http://test.com/path/to#a') AS c7,
  URL_EXTRACT_PORT('http://localhost:8080/path') AS c8,
  URL_EXTRACT_PROTOCOL('http://test.com?a=foo&b=bar') AS c9,
  URL_EXTRACT_QUERY('http://test.com?a=foo%20bar&b=baz') AS c10
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) VALUES (1,
  'url encoded',
  'url+encoded',
  'frag',
  'frag space',
  'test.com',
  'c d',
  'bar',
  '/path/to',
  8080,
  'http',
  'a=foo bar&b=baz');

--@test: a CAST the page's table does not list is refused: BOOLEAN to a number
--@expected.message: Cast of BOOLEAN to INTEGER is not supported
CREATE STREAM s (id INT KEY, b BOOLEAN) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, CAST(b AS INT) AS i FROM s;

--@test: a CAST the page's table does not list is refused: BYTES to STRING ("any except BYTES")
--@expected.message: Cast of BYTES to STRING is not supported
CREATE STREAM s (id INT KEY, b BYTES) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, CAST(b AS STRING) AS t FROM s;

--@test: a CAST of an ARRAY is refused when its elements' CAST is
--@expected.message: Cast of ARRAY<BOOLEAN> to ARRAY<INTEGER> is not supported
CREATE STREAM s (id INT KEY, bs ARRAY<BOOLEAN>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, CAST(bs AS ARRAY<INT>) AS i FROM s;

--@test: CAST between the types the page's table lists
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id,
  CAST(TRUE AS STRING) AS c0,
  CAST('TRUE' AS BOOLEAN) AS c1,
  CAST('yes' AS BOOLEAN) AS c2,
  CAST('12.5' AS DECIMAL(4,2)) AS c3,
  CAST(12.567 AS DECIMAL(4,2)) AS c4,
  CAST(1.9 AS INT) AS c5,
  CAST(-1.9 AS INT) AS c6,
  CAST('2020-01-01' AS DATE) AS c7,
  CAST('01:02:03' AS TIME) AS c8,
  CAST('2020-01-01T01:02:03.004' AS TIMESTAMP) AS c9,
  CAST(FROM_UNIXTIME(90061000) AS DATE) AS c10,
  CAST(FROM_UNIXTIME(90061000) AS TIME) AS c11,
  CAST(PARSE_DATE('2020-01-01', 'yyyy-MM-dd') AS TIMESTAMP) AS c12,
  CAST(ARRAY[1, 2] AS ARRAY<STRING>) AS c13,
  CAST(MAP('a' := 1) AS MAP<STRING, DOUBLE>) AS c14,
  CAST(STRUCT(a := 1, b := 'x') AS STRUCT<A BIGINT, C STRING>) AS c15,
  CAST(1.5e0 AS STRING) AS c16,
  CAST(100 AS DOUBLE) AS c17
  FROM s;
INSERT INTO s (id, x) VALUES (1, 0);
ASSERT VALUES out (id, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17) VALUES (1,
  'true',
  true,
  false,
  12.50,
  12.57,
  1,
  -1,
  '2020-01-01',
  '01:02:03',
  '2020-01-01T01:02:03.004',
  '1970-01-02',
  '01:01:01',
  '2020-01-01T00:00:00.000',
  ARRAY['1', '2'],
  MAP('a' := 1.0),
  STRUCT(A := CAST(1 AS BIGINT), C := CAST(NULL AS STRING)),
  '1.5',
  100.0);

--@test: ROUND of a DECIMAL(p, s) is a DECIMAL(p - s, 0) (ksqlDB's source), exact on all 33 digits
CREATE STREAM s (id INT KEY, v DECIMAL(33, 16)) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ROUND(v) AS r0, ROUND(v, 2) AS r2, ROUND(v, -2) AS rm2, v + v AS doubled FROM s;
INSERT INTO s (id, v) VALUES (1, 12345678987654321.2345678987654321);
ASSERT VALUES out (id, r0, r2, rm2, doubled) VALUES (1, 12345678987654321, 12345678987654321.23, 12345678987654300, 24691357975308642.4691357975308642);
ASSERT STREAM out (id INT KEY, r0 DECIMAL(17, 0), r2 DECIMAL(33, 16), rm2 DECIMAL(33, 16), doubled DECIMAL(34, 16)) WITH (kafka_topic='OUT', value_format='JSON');

--@test: EXTRACTJSONFIELD gives a decimal number's text as written (ksqlDB's source reads decimals as BigDecimals)
CREATE STREAM s (id INT KEY, j STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, EXTRACTJSONFIELD(j, '$.a[0]') AS d, EXTRACTJSONFIELD(j, '$.a[-1]') AS neg, EXTRACTJSONFIELD(j, '$.a[1]') AS i, EXTRACTJSONFIELD(j, '$.e') AS e FROM s;
INSERT INTO s (id, j) VALUES (1, '{"a": [1.23450, 7], "e": 1e5}');
ASSERT VALUES out (id, d, neg, i, e) VALUES (1, '1.23450', NULL, '7', '1E+5');
