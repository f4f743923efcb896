-- from developer-guide/ksqldb-reference/quick-reference.md
-- The quick reference's operators and expressions, with the page's examples made to run:
-- BETWEEN (boundaries included, numbers and strings, NOT), CASE (ELSE, none true without ELSE
-- gives NULL, results of one type), CAST in CONCAT (5 becomes 5_HELLO), LIKE with %, NULLIF,
-- WINDOWSTART / WINDOWEND.

--@test: BETWEEN includes its boundaries, for numbers and for strings; NOT BETWEEN is the rest
CREATE STREAM events (event_id INT KEY, event STRING) WITH (kafka_topic='events', value_format='JSON', partitions=1);
CREATE STREAM picked AS SELECT event_id, event, event_id BETWEEN 10 AND 20 AS in_range,
  event NOT BETWEEN 'b' AND 'd' AS outside FROM events WHERE event_id BETWEEN 10 AND 20;
INSERT INTO events (event_id, event) VALUES (9, 'a');
INSERT INTO events (event_id, event) VALUES (10, 'b');
INSERT INTO events (event_id, event) VALUES (15, 'c');
INSERT INTO events (event_id, event) VALUES (20, 'd');
INSERT INTO events (event_id, event) VALUES (21, 'e');
INSERT INTO events (event_id, event) VALUES (12, 'dz');
ASSERT VALUES picked (event_id, event, in_range, outside) VALUES (10, 'b', true, false);
ASSERT VALUES picked (event_id, event, in_range, outside) VALUES (15, 'c', true, false);
ASSERT VALUES picked (event_id, event, in_range, outside) VALUES (20, 'd', true, false);
ASSERT VALUES picked (event_id, event, in_range, outside) VALUES (12, 'dz', true, true);

--@test: the page's CASE: the first true condition's result, else ELSE's
CREATE STREAM orders (id INT KEY, orderunits DOUBLE) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM sized AS SELECT id,
  CASE WHEN orderunits < 2.0 THEN 'small' WHEN orderunits < 4.0 THEN 'medium' ELSE 'large' END AS case_result
  FROM orders;
INSERT INTO orders (id, orderunits) VALUES (1, 1.5);
INSERT INTO orders (id, orderunits) VALUES (2, 2.0);
INSERT INTO orders (id, orderunits) VALUES (3, 3.9);
INSERT INTO orders (id, orderunits) VALUES (4, 4.0);
ASSERT VALUES sized (id, case_result) VALUES (1, 'small');
ASSERT VALUES sized (id, case_result) VALUES (2, 'medium');
ASSERT VALUES sized (id, case_result) VALUES (3, 'medium');
ASSERT VALUES sized (id, case_result) VALUES (4, 'large');

--@test: CASE with no true condition and no ELSE is NULL
CREATE STREAM orders (id INT KEY, orderunits DOUBLE) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM sized AS SELECT id, CASE WHEN orderunits < 2.0 THEN 'small' END AS case_result FROM orders;
INSERT INTO orders (id, orderunits) VALUES (1, 5.0);
ASSERT VALUES sized (id, case_result) VALUES (1, NULL);

--@test: CASE results of different types are refused
--@expected.message: Invalid Case expression. Type for all 'THEN' clauses should be the same.
CREATE STREAM orders (id INT KEY, orderunits DOUBLE) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM sized AS SELECT id, CASE WHEN orderunits < 2.0 THEN 'small' WHEN orderunits < 4.0 THEN 4 END AS case_result FROM orders;

--@test: CASE results must have one type exactly: an INTEGER and a BIGINT are refused
-- (the page: "The schema for all results must be the same, otherwise ksqlDB rejects the
-- statement"; ksqlDB's type check compares the types for equality, naming the clause)
--@expected.message: THEN expression 'WHEN (ID = 2) THEN BIG' has type: BIGINT.
CREATE STREAM orders (id INT KEY, small INT, big BIGINT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM sized AS SELECT id, CASE WHEN id = 1 THEN small WHEN id = 2 THEN big END AS r FROM orders;

--@test: an ELSE of another type than the THEN results is refused
--@expected.message: Type for the default clause should be the same as for 'THEN' clauses.
CREATE STREAM orders (id INT KEY, big BIGINT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM sized AS SELECT id, CASE WHEN big > 0 THEN big ELSE 0 END AS r FROM orders;

--@test: a CASE whose results are all NULL is refused
--@expected.message: Invalid Case expression. All case branches have NULL type
CREATE STREAM orders (id INT KEY, big BIGINT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM sized AS SELECT id, CASE WHEN big > 0 THEN NULL ELSE NULL END AS r FROM orders;

--@test: a WHEN condition that is not a BOOLEAN is refused
-- (the page: CASE "evaluates each boolean condition in WHEN clauses")
--@expected.message: WHEN operand type should be boolean.
CREATE STREAM orders (id INT KEY, big BIGINT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM sized AS SELECT id, CASE WHEN big THEN 1 END AS r FROM orders;

--@test: NULL results take the type of the others
CREATE STREAM orders (id INT KEY, big BIGINT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM sized AS SELECT id, CASE WHEN big > 0 THEN NULL WHEN big < 0 THEN big END AS r,
  CASE WHEN big > 0 THEN big ELSE NULL END AS s FROM orders;
INSERT INTO orders (id, big) VALUES (1, 5);
INSERT INTO orders (id, big) VALUES (2, -5);
ASSERT VALUES sized (id, r, s) VALUES (1, NULL, 5);
ASSERT VALUES sized (id, r, s) VALUES (2, -5, NULL);

--@test: the page's CAST: a count of 5 becomes 5_HELLO
CREATE STREAM pageviews_enriched (page_id INT KEY, user_id STRING) WITH (kafka_topic='pv', value_format='JSON', partitions=1);
CREATE TABLE hellos AS SELECT page_id, CONCAT(CAST(COUNT(*) AS VARCHAR), '_HELLO') AS c
  FROM pageviews_enriched WINDOW TUMBLING (SIZE 20 SECONDS) GROUP BY page_id;
INSERT INTO pageviews_enriched (rowtime, page_id, user_id) VALUES (1000, 7, 'a');
INSERT INTO pageviews_enriched (rowtime, page_id, user_id) VALUES (2000, 7, 'b');
INSERT INTO pageviews_enriched (rowtime, page_id, user_id) VALUES (3000, 7, 'c');
INSERT INTO pageviews_enriched (rowtime, page_id, user_id) VALUES (4000, 7, 'd');
INSERT INTO pageviews_enriched (rowtime, page_id, user_id) VALUES (5000, 7, 'e');
ASSERT VALUES hellos (page_id, c) VALUES (7, '1_HELLO');
ASSERT VALUES hellos (page_id, c) VALUES (7, '2_HELLO');
ASSERT VALUES hellos (page_id, c) VALUES (7, '3_HELLO');
ASSERT VALUES hellos (page_id, c) VALUES (7, '4_HELLO');
ASSERT VALUES hellos (page_id, c) VALUES (7, '5_HELLO');

--@test: the page's LIKE: % matches zero or more characters, here a prefix
CREATE STREAM users (id INT KEY, user_id STRING) WITH (kafka_topic='users', value_format='JSON', partitions=1);
CREATE STREAM santas AS SELECT id, user_id FROM users WHERE user_id LIKE 'santa%';
INSERT INTO users (id, user_id) VALUES (1, 'santa');
INSERT INTO users (id, user_id) VALUES (2, 'santaclaus');
INSERT INTO users (id, user_id) VALUES (3, 'asanta');
INSERT INTO users (id, user_id) VALUES (4, 'Santa');
ASSERT VALUES santas (id, user_id) VALUES (1, 'santa');
ASSERT VALUES santas (id, user_id) VALUES (2, 'santaclaus');

--@test: NULLIF is NULL when the two are equal, else the first
CREATE STREAM s (id INT KEY, col1 INT, col2 INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, NULLIF(col1, col2) AS n FROM s;
INSERT INTO s (id, col1, col2) VALUES (1, 3, 3);
INSERT INTO s (id, col1, col2) VALUES (2, 3, 4);
ASSERT VALUES out (id, n) VALUES (1, NULL);
ASSERT VALUES out (id, n) VALUES (2, 3);

--@test: WINDOWSTART and WINDOWEND are the bounds of each row's window
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE out AS SELECT id, WINDOWSTART AS ws, WINDOWEND AS we, COUNT(*) AS n FROM s
  WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY id;
INSERT INTO s (rowtime, id, v) VALUES (12000, 1, 1);
INSERT INTO s (rowtime, id, v) VALUES (25000, 1, 2);
ASSERT VALUES out (id, ws, we, n) VALUES (1, 10000, 20000, 1);
ASSERT VALUES out (id, ws, we, n) VALUES (1, 20000, 30000, 1);
