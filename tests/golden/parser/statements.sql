-- Golden file: each statement here is parsed, printed back as SQL and dumped as an AST into
-- statements.out. Regenerate with KSQL_UPDATE_GOLDEN=1 and review the diff.
CREATE STREAM pageviews (user_id STRING KEY, page VARCHAR, tags ARRAY<STRING>, props MAP<STRING, INT>,
  address STRUCT<street STRING, `zip` INT>, amount DECIMAL(10, 2), raw BYTES HEADER('trace'), hs HEADERS)
  WITH (kafka_topic='pageviews', value_format='JSON', partitions=4, timestamp='ts');
CREATE OR REPLACE SOURCE TABLE IF NOT EXISTS users (id INT PRIMARY KEY, name STRING) WITH (format='JSON');
CREATE TABLE counts WITH (kafka_topic='counts') AS SELECT page, COUNT(*) AS n FROM pageviews
  WINDOW TUMBLING (SIZE 1 MINUTE, RETENTION 2 DAYS, GRACE PERIOD 10 SECONDS) GROUP BY page HAVING COUNT(*) > 1 EMIT FINAL;
CREATE STREAM joined AS SELECT p.user_id, u.name FROM pageviews p LEFT JOIN users u ON p.user_id = u.id
  FULL OUTER JOIN other o WITHIN (1 SECOND, 5 MINUTES) GRACE PERIOD 1 HOUR ON p.user_id = o.id PARTITION BY u.name;
INSERT INTO joined WITH (query_id='q1') SELECT * FROM other EMIT CHANGES;
INSERT INTO pageviews (user_id, page, amount) VALUES ('a', 'b''c', 12.50);
SELECT a + b * c - d / e % f, -x, NOT y AND z OR w, s || 't', a BETWEEN 1 AND 2, a NOT IN (1, 2),
  a LIKE 'x!%' ESCAPE '!', a IS NOT NULL, a IS DISTINCT FROM b, CAST(a AS DECIMAL(4, 2)),
  CASE a WHEN 1 THEN 'one' ELSE 'other' END, m['k'][1]->f, ARRAY[1, 2], MAP('k' := 1), STRUCT(f := 1),
  TRANSFORM(arr, x => x + 1), REDUCE(arr, 0, (s, x) => s + x), 1.5E3, 1.50, DECIMAL '7', TRUE, NULL
  FROM s WHERE `from` = 1 LIMIT 10;
SELECT s.*, col->* FROM s WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS) GROUP BY (a, b);
DROP TABLE IF EXISTS users DELETE TOPIC;
ALTER STREAM pageviews ADD COLUMN extra STRING, ADD note INT;
CREATE TYPE IF NOT EXISTS address AS STRUCT<street STRING, city STRING>;
DROP TYPE address;
SHOW ALL TOPICS EXTENDED;
LIST QUERIES EXTENDED;
DESCRIBE pageviews EXTENDED;
DESCRIBE FUNCTION ucase;
EXPLAIN CSAS_JOINED_3;
PRINT 'pageviews' FROM BEGINNING INTERVAL 2 LIMIT 5;
TERMINATE ALL;
PAUSE q1;
RESUME ALL;
SET 'auto.offset.reset'='earliest';
UNSET 'auto.offset.reset';
DEFINE topic='pageviews';
UNDEFINE topic;
ASSERT NOT EXISTS TOPIC foo WITH (partitions=1) TIMEOUT 10 SECONDS;
ASSERT SCHEMA SUBJECT foo ID 3;
ASSERT VALUES users (id, name) VALUES (1, 'a');
ASSERT NULL VALUES users (id) KEY (1);
CREATE SINK CONNECTOR IF NOT EXISTS c WITH ("connector.class"='x');
RUN SCRIPT '/tmp/script.sql';
CREATE SOURCE CONNECTOR s WITH ('connector.class' = 'x', "tasks.max" = 1);
SELECT ID, TOTAL FROM COUNTS C JOIN NAMES N ON C.ID = N.ID WHERE TOTAL > 1 ORDER BY TOTAL DESC, ID LIMIT 10;
