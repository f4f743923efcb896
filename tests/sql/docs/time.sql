-- from reference/sql/time.md
-- Time units, and TIMESTAMP_FORMAT patterns (Java DateTimeFormatter) with quoted text.
-- The page's third pattern, 'hh ''o''clock'' a, zzzz', is not a valid Java pattern once the
-- SQL quotes are undone (Java wants o''clock inside the quotes): it is tested as Java has it.

--@test: every time unit in windows and WITHIN
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE d AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 1 DAYS) GROUP BY id;
CREATE TABLE h AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 2 HOURS) GROUP BY id;
CREATE TABLE m AS SELECT id, COUNT(*) AS n FROM s WINDOW HOPPING (SIZE 30 MINUTES, ADVANCE BY 30 MINUTES) GROUP BY id;
CREATE TABLE sec AS SELECT id, COUNT(*) AS n FROM s WINDOW SESSION (10 SECONDS) GROUP BY id;
CREATE TABLE ms AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 500 MILLISECONDS) GROUP BY id;
INSERT INTO s (ROWTIME, id, v) VALUES (90061001, 1, 1);
ASSERT VALUES d (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 86400000, 172800000, 1);
ASSERT VALUES h (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 86400000, 93600000, 1);
ASSERT VALUES m (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 90000000, 91800000, 1);
ASSERT VALUES sec (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 90061001, 90061001, 1);
ASSERT VALUES ms (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 90061000, 90061500, 1);

--@test: singular time units are accepted too
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY id;
INSERT INTO s (ROWTIME, id, v) VALUES (61000, 1, 1);
ASSERT VALUES t (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 60000, 120000, 1);

--@test: the pattern yyyy-MM-dd'T'HH:mm:ssX, its quotes doubled in SQL
CREATE STREAM test (id BIGINT KEY, event_timestamp VARCHAR) WITH (kafka_topic='test_topic', value_format='JSON',
  timestamp='event_timestamp', timestamp_format='yyyy-MM-dd''T''HH:mm:ssX', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM test;
INSERT INTO test (id, event_timestamp) VALUES (1, '2001-07-04T12:08:56-07');
ASSERT VALUES out (id, rt) VALUES (1, 994273736000);

--@test: the pattern yyyy.MM.dd G 'at' HH:mm:ss z: an era and a zone abbreviation
CREATE STREAM test (id BIGINT KEY, event_timestamp VARCHAR) WITH (kafka_topic='test_topic', value_format='JSON',
  timestamp='event_timestamp', timestamp_format='yyyy.MM.dd G ''at'' HH:mm:ss z', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM test;
INSERT INTO test (id, event_timestamp) VALUES (1, '2001.07.04 AD at 12:08:56 PDT');
ASSERT VALUES out (id, rt) VALUES (1, 994273736000);

--@test: the pattern hh 'o''clock' a, zzzz: a full zone name, the date defaulting to 1970-01-01
CREATE STREAM test (id BIGINT KEY, event_timestamp VARCHAR) WITH (kafka_topic='test_topic', value_format='JSON',
  timestamp='event_timestamp', timestamp_format='hh ''o''''clock'' a, zzzz', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM test;
INSERT INTO test (id, event_timestamp) VALUES (1, '12 o''clock PM, Pacific Daylight Time');
ASSERT VALUES out (id, rt) VALUES (1, 72000000);

--@test: a BIGINT TIMESTAMP column holds epoch milliseconds
CREATE STREAM test (id BIGINT KEY, event_timestamp BIGINT) WITH (kafka_topic='test_topic', value_format='JSON',
  timestamp='event_timestamp', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM test;
INSERT INTO test (id, event_timestamp) VALUES (1, 994273736000);
ASSERT VALUES out (id, rt) VALUES (1, 994273736000);
