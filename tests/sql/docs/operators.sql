-- from developer-guide/ksqldb-reference/operators.md
-- Expected rows follow the page's text; where it is silent, ksqlDB's expression evaluator.

--@test: arithmetic on numeric types
CREATE STREAM users (userid INT KEY, first_name STRING, last_name STRING, a INT, b BIGINT, d DOUBLE)
  WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM out AS SELECT userid, LEN(first_name) + LEN(last_name) AS name_length,
  a - b AS diff, a * d AS product, b / a AS quotient, b % a AS remainder, -a AS negated
  FROM users EMIT CHANGES;
INSERT INTO users (userid, first_name, last_name, a, b, d) VALUES (1, 'Ann', 'Lee', 3, 10, 1.5);
ASSERT VALUES out (userid, name_length, diff, product, quotient, remainder, negated)
  VALUES (1, 6, -7, 4.5, 3, 1, -3);

--@test: integer division truncates and division by zero gives NULL
CREATE STREAM s (id INT KEY, a INT, b INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, a / b AS q, a % b AS r FROM s;
INSERT INTO s (id, a, b) VALUES (1, 7, 2);
INSERT INTO s (id, a, b) VALUES (2, -7, 2);
INSERT INTO s (id, a, b) VALUES (3, 7, 0);
ASSERT VALUES out (id, q, r) VALUES (1, 3, 1);
ASSERT VALUES out (id, q, r) VALUES (2, -3, -1);
ASSERT VALUES out (id, q, r) VALUES (3, NULL, NULL);

--@test: a zero divisor makes the whole expression NULL, as Java's ArithmeticException does
-- The page is silent. ksqlDB's generated code divides integers with Java's / and %, and
-- decimals with BigDecimal.divide and remainder, which throw on a zero divisor: the whole
-- SELECT expression is then NULL (the error goes to the processing log), so COALESCE does not
-- see a NULL value. Doubles divide to Java's infinities and NaN.
CREATE STREAM s (id INT KEY, a INT, b INT, c DECIMAL(4, 2), d DOUBLE) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, COALESCE(a / b, -1) AS q, COALESCE(a % b, -1) AS r,
  COALESCE(c / b, -1) AS cq, d / b AS dq FROM s;
INSERT INTO s (id, a, b, c, d) VALUES (1, 7, 0, 1.5, 2.0);
INSERT INTO s (id, a, b, c, d) VALUES (2, 7, 2, 1.5, 2.0);
ASSERT VALUES out (id, q, r, cq, dq) VALUES (1, NULL, NULL, NULL, CAST('Infinity' AS DOUBLE));
ASSERT VALUES out (id, q, r, cq, dq) VALUES (2, 3, 1, 0.75, 1.0);

--@test: a DECIMAL quotient must be exact at the result's scale, else it is NULL
-- The page is silent; data-types.md gives the result's precision and scale. ksqlDB's generated
-- code is `a.divide(b, new MathContext(precision, RoundingMode.UNNECESSARY)).setScale(scale)`,
-- which throws "Rounding necessary" when the quotient does not end within the scale:
-- DECIMAL(4,2) / DECIMAL(4,2) is DECIMAL(11,7), so 1.00 / 64.00 = 0.015625 is kept, while
-- 0.01 / 64.00 = 0.00015625 (eight places) and 10.10 / 3.00 (never ends) are NULL.
CREATE STREAM s (id INT KEY, a DECIMAL(4, 2), b DECIMAL(4, 2)) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, a / b AS q, COALESCE(a / b, 0.5) AS co FROM s;
INSERT INTO s (id, a, b) VALUES (1, 10.10, 2.00);
INSERT INTO s (id, a, b) VALUES (2, 1.00, 64.00);
INSERT INTO s (id, a, b) VALUES (3, 0.01, 64.00);
INSERT INTO s (id, a, b) VALUES (4, 10.10, 3.00);
INSERT INTO s (id, a, b) VALUES (5, -1.00, 8.00);
ASSERT VALUES out (id, q, co) VALUES (1, 5.0500000, 5.0500000);
ASSERT VALUES out (id, q, co) VALUES (2, 0.0156250, 0.0156250);
ASSERT VALUES out (id, q, co) VALUES (3, NULL, NULL);
ASSERT VALUES out (id, q, co) VALUES (4, NULL, NULL);
ASSERT VALUES out (id, q, co) VALUES (5, -0.1250000, -0.1250000);

--@test: concatenation with + and ||
CREATE STREAM users (userid INT KEY, first_name STRING, last_name STRING)
  WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM out AS SELECT userid, first_name + last_name AS full_name,
  first_name || ' ' || last_name AS spaced FROM users EMIT CHANGES;
INSERT INTO users (userid, first_name, last_name) VALUES (1, 'Ann', 'Lee');
ASSERT VALUES out (userid, full_name, spaced) VALUES (1, 'AnnLee', 'Ann Lee');

--@test: multi-part concatenation with a formatted timestamp and a cast
CREATE TABLE invalid_users_logins_per_host (host STRING PRIMARY KEY, invalid_login_count BIGINT)
  WITH (kafka_topic='logins', value_format='JSON');
CREATE TABLE alerts AS SELECT host,
    TIMESTAMPTOSTRING(ROWTIME, 'yyyy-MM-dd HH:mm:ss', 'UTC') +
        ': On ' + host + ' there were ' + CAST(invalid_login_count AS VARCHAR) +
        ' attempts in the last minute (threshold is >=4)' AS message
  FROM invalid_users_logins_per_host WHERE invalid_login_count >= 4 EMIT CHANGES;
INSERT INTO invalid_users_logins_per_host (ROWTIME, host, invalid_login_count) VALUES (0, 'h1', 3);
INSERT INTO invalid_users_logins_per_host (ROWTIME, host, invalid_login_count) VALUES (60000, 'h1', 5);
ASSERT VALUES alerts (host, message)
  VALUES ('h1', '1970-01-01 00:01:00: On h1 there were 5 attempts in the last minute (threshold is >=4)');

--@test: concatenating a NULL string gives NULL
CREATE STREAM s (id INT KEY, a STRING, b STRING) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, a + b AS ab, a || b AS ab2 FROM s;
INSERT INTO s (id, a, b) VALUES (1, 'x', NULL);
ASSERT VALUES out (id, ab, ab2) VALUES (1, NULL, NULL);

--@test: source dereference
CREATE STREAM users (userid INT KEY, first_name STRING) WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM out AS SELECT userid, users.first_name FROM users EMIT CHANGES;
INSERT INTO users (userid, first_name) VALUES (1, 'Ann');
ASSERT VALUES out (userid, first_name) VALUES (1, 'Ann');

--@test: subscript of an array is one-based, negative from the end, NULL out of range
CREATE STREAM users (userid INT KEY, nicknames ARRAY<STRING>) WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM out AS SELECT userid, nicknames[1] AS first, nicknames[-1] AS last,
  nicknames[5] AS missing FROM users EMIT CHANGES;
INSERT INTO users (userid, nicknames) VALUES (1, ARRAY['a', 'b', 'c']);
ASSERT VALUES out (userid, first, last, missing) VALUES (1, 'a', 'c', NULL);

--@test: subscript of a map by key
CREATE STREAM s (id INT KEY, m MAP<STRING, INT>) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, m['x'] AS x, m['nope'] AS nope FROM s;
INSERT INTO s (id, m) VALUES (1, MAP('x' := 10, 'y' := 20));
ASSERT VALUES out (id, x, nope) VALUES (1, 10, NULL);

--@test: a subscript of a STRUCT is refused, pointing to the dereference operator
-- (the page: subscripts are for arrays and maps, -> for structs; the words are ksqlDB's type check's)
--@expected.message: Subscript expression (ST[1]) do not apply to STRUCT<`A` INTEGER>. Use the dereference operator for STRUCTS: ST->1
CREATE STREAM s (id INT KEY, st STRUCT<a INT>) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, st[1] AS x FROM s;

--@test: a comparison of values that cannot be compared is refused in a SELECT as in a WHERE
--@expected.message: Cannot compare S (STRING) to I (INTEGER) with GREATER_THAN.
CREATE STREAM s (id INT KEY, s STRING, i INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, s > i AS x FROM s;

--@test: struct dereference
CREATE STREAM users (userid INT KEY, address STRUCT<street STRING, house_num INT>)
  WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM out AS SELECT userid, address->street, address->house_num FROM users EMIT CHANGES;
INSERT INTO users (userid, address) VALUES (1, STRUCT(street := 'Main', house_num := 12));
ASSERT STREAM out (userid INT KEY, street STRING, house_num INT) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (userid, street, house_num) VALUES (1, 'Main', 12);

--@test: struct dereference of every field with ->*
CREATE STREAM users (userid INT KEY, address STRUCT<street STRING, house_num INT>)
  WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM out AS SELECT userid, address->* FROM users EMIT CHANGES;
INSERT INTO users (userid, address) VALUES (1, STRUCT(street := 'Main', house_num := 12));
ASSERT VALUES out (userid, street, house_num) VALUES (1, 'Main', 12);

--@test: every field with ->* in a join too, from either side
CREATE STREAM users (userid INT KEY, address STRUCT<street STRING, house_num INT>)
  WITH (kafka_topic='users', value_format='JSON', partitions=1);
CREATE TABLE cities (userid INT PRIMARY KEY, city STRUCT<name STRING>) WITH (kafka_topic='cities', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT u.userid, u.address->*, c.city->* FROM users u JOIN cities c ON u.userid = c.userid;
INSERT INTO cities (userid, city) VALUES (1, STRUCT(name := 'Oslo'));
INSERT INTO users (userid, address) VALUES (1, STRUCT(street := 'Main', house_num := 12));
ASSERT VALUES out (u_userid, street, house_num, name) VALUES (1, 'Main', 12, 'Oslo');

--@test: struct dereference through a source name and an alias
CREATE STREAM users (userid INT KEY, address STRUCT<street STRING>) WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM out AS SELECT userid, u.address->street AS s1 FROM users u EMIT CHANGES;
INSERT INTO users (userid, address) VALUES (1, STRUCT(street := 'Main'));
ASSERT VALUES out (userid, s1) VALUES (1, 'Main');

--@test: dereferencing a field of a NULL struct gives NULL
CREATE STREAM users (userid INT KEY, address STRUCT<street STRING>) WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM out AS SELECT userid, address->street AS street FROM users;
INSERT INTO users (userid, address) VALUES (1, NULL);
ASSERT VALUES out (userid, street) VALUES (1, NULL);

--@test: BETWEEN and NOT BETWEEN are inclusive
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, v BETWEEN 2 AND 4 AS inside, v NOT BETWEEN 2 AND 4 AS outside FROM s;
INSERT INTO s (id, v) VALUES (1, 2);
INSERT INTO s (id, v) VALUES (2, 4);
INSERT INTO s (id, v) VALUES (3, 5);
ASSERT VALUES out (id, inside, outside) VALUES (1, true, false);
ASSERT VALUES out (id, inside, outside) VALUES (2, true, false);
ASSERT VALUES out (id, inside, outside) VALUES (3, false, true);

--@test: BETWEEN over strings in a WHERE
CREATE STREAM s (id INT KEY, name STRING) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, name FROM s WHERE name BETWEEN 'b' AND 'd';
INSERT INTO s (id, name) VALUES (1, 'a');
INSERT INTO s (id, name) VALUES (2, 'c');
INSERT INTO s (id, name) VALUES (3, 'e');
ASSERT VALUES out (id, name) VALUES (2, 'c');

--@test: LIKE with % and _ wildcards, NOT LIKE, and ESCAPE
CREATE STREAM s (id INT KEY, name STRING) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, name LIKE 'a%' AS starts, name LIKE '_b_' AS three,
  name NOT LIKE '%c' AS not_ends, name LIKE '%!%%' ESCAPE '!' AS has_percent FROM s;
INSERT INTO s (id, name) VALUES (1, 'abc');
INSERT INTO s (id, name) VALUES (2, 'x%y');
ASSERT VALUES out (id, starts, three, not_ends, has_percent) VALUES (1, true, true, false, false);
ASSERT VALUES out (id, starts, three, not_ends, has_percent) VALUES (2, false, false, true, true);

--@test: LIKE on a NULL makes the whole expression NULL
-- The page is silent. ksqlDB matches with Java's regular expressions, which throw on a NULL
-- string: the whole SELECT expression is NULL, even inside IFNULL or IS NULL.
CREATE STREAM s (id INT KEY, name STRING, p STRING) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, IFNULL(name LIKE 'a%', true) AS i, (name LIKE p) IS NULL AS n FROM s;
INSERT INTO s (id, name, p) VALUES (1, NULL, 'a%');
INSERT INTO s (id, name, p) VALUES (2, 'abc', NULL);
INSERT INTO s (id, name, p) VALUES (3, 'abc', 'a%');
ASSERT VALUES out (id, i, n) VALUES (1, NULL, NULL);
ASSERT VALUES out (id, i, n) VALUES (2, true, NULL);
ASSERT VALUES out (id, i, n) VALUES (3, true, false);

--@test: IS NULL and IS NOT NULL
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, v IS NULL AS missing, v IS NOT NULL AS present FROM s;
INSERT INTO s (id, v) VALUES (1, NULL);
INSERT INTO s (id, v) VALUES (2, 3);
ASSERT VALUES out (id, missing, present) VALUES (1, true, false);
ASSERT VALUES out (id, missing, present) VALUES (2, false, true);

--@test: IS DISTINCT FROM treats NULLs as equal to each other
CREATE STREAM s (id INT KEY, a INT, b INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, a IS DISTINCT FROM b AS d, a IS NOT DISTINCT FROM b AS nd FROM s;
INSERT INTO s (id, a, b) VALUES (1, NULL, NULL);
INSERT INTO s (id, a, b) VALUES (2, 1, NULL);
INSERT INTO s (id, a, b) VALUES (3, 1, 1);
ASSERT VALUES out (id, d, nd) VALUES (1, false, true);
ASSERT VALUES out (id, d, nd) VALUES (2, true, false);
ASSERT VALUES out (id, d, nd) VALUES (3, false, true);

--@test: AND, OR and NOT with NULL: a NULL that is evaluated makes the expression NULL
-- The page is silent. ksqlDB's generated Java code evaluates `a && b` and `a || b` on boxed
-- Booleans, short-circuiting: a NULL it reaches throws, and the whole expression is NULL.
CREATE STREAM s (id INT KEY, a BOOLEAN, b BOOLEAN) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, a AND b AS a_and, a OR b AS a_or, NOT a AS a_not FROM s;
INSERT INTO s (id, a, b) VALUES (1, NULL, false);
INSERT INTO s (id, a, b) VALUES (2, NULL, true);
INSERT INTO s (id, a, b) VALUES (3, false, NULL);
INSERT INTO s (id, a, b) VALUES (4, true, NULL);
ASSERT VALUES out (id, a_and, a_or, a_not) VALUES (1, NULL, NULL, NULL);
ASSERT VALUES out (id, a_and, a_or, a_not) VALUES (2, NULL, NULL, NULL);
ASSERT VALUES out (id, a_and, a_or, a_not) VALUES (3, false, NULL, true);
ASSERT VALUES out (id, a_and, a_or, a_not) VALUES (4, NULL, true, false);

--@test: arithmetic on a NULL makes the whole expression NULL, wherever it stands
-- The page is silent. ksqlDB's generated code unboxes the operands of arithmetic and throws on
-- a NULL: the whole SELECT expression is then NULL (and the error goes to the processing log),
-- so COALESCE, IS NULL and ARRAY[...] around it do not see a NULL value. A CASE evaluates
-- only the branch it takes, and AND and OR stop once the left side decides.
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, x + 1 AS plain, COALESCE(x + 1, 0) AS co, (x * 2) IS NULL AS isn,
  ARRAY[x + 5, 6] AS arr, CASE WHEN x IS NULL THEN 0 ELSE x + 1 END AS safe,
  CASE WHEN x + 1 > 5 THEN 1 ELSE 2 END AS tested, x IS NOT NULL AND x + 1 > 5 AS guarded FROM s;
INSERT INTO s (id, x) VALUES (1, NULL);
INSERT INTO s (id, x) VALUES (2, 7);
ASSERT VALUES out (id, plain, co, isn, arr, safe, tested, guarded) VALUES (1, NULL, NULL, NULL, NULL, 0, NULL, false);
ASSERT VALUES out (id, plain, co, isn, arr, safe, tested, guarded) VALUES (2, 8, 8, false, ARRAY[12, 6], 8, 1, true);

--@test: an array index that is NULL makes the whole expression NULL
-- The page is silent. ksqlDB's generated code casts the index to a Java int, which throws on
-- a NULL; a NULL array, or an index past its end, gives NULL without a throw.
CREATE STREAM s (id INT KEY, a ARRAY<INT>, i INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, a[i] AS e, IFNULL(a[i], -1) AS f FROM s;
INSERT INTO s (id, a, i) VALUES (1, ARRAY[5, 6], NULL);
INSERT INTO s (id, a, i) VALUES (2, ARRAY[5, 6], 2);
INSERT INTO s (id, a, i) VALUES (3, ARRAY[5, 6], 3);
INSERT INTO s (id, a, i) VALUES (4, NULL, 1);
ASSERT VALUES out (id, e, f) VALUES (1, NULL, NULL);
ASSERT VALUES out (id, e, f) VALUES (2, 6, 6);
ASSERT VALUES out (id, e, f) VALUES (3, NULL, -1);
ASSERT VALUES out (id, e, f) VALUES (4, NULL, -1);

--@test: comparison operators
CREATE STREAM s (id INT KEY, a INT, b BIGINT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT id, a = b AS eq, a <> b AS neq, a != b AS neq2, a < b AS lt,
  a <= b AS lte, a > b AS gt, a >= b AS gte FROM s;
INSERT INTO s (id, a, b) VALUES (1, 1, 2);
ASSERT VALUES out (id, eq, neq, neq2, lt, lte, gt, gte) VALUES (1, false, true, true, true, true, false, false);
