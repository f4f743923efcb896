-- from developer-guide/ksqldb-reference/create-stream.md
-- Expected rows follow the page's text (and the Java DateTimeFormatter rules it points to for
-- TIMESTAMP_FORMAT); raw topic contents are read back through a KAFKA-format stream.

--@test: key and value columns, as in the page's pageviews examples
CREATE STREAM pageviews (page_id BIGINT KEY, viewtime BIGINT, user_id VARCHAR)
  WITH (kafka_topic='keyed-pageviews-topic', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM pageviews;
INSERT INTO pageviews (page_id, viewtime, user_id) VALUES (7, 1000, 'u1');
ASSERT STREAM out (page_id BIGINT KEY, viewtime BIGINT, user_id STRING) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (page_id, viewtime, user_id) VALUES (7, 1000, 'u1');

--@test: a stream's key can be NULL
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO s (id, v) VALUES (NULL, 1);
ASSERT VALUES out (id, v) VALUES (NULL, 1);

--@test: a record with a NULL value is not a tombstone in a stream: it passes through as it is
-- (the page's table says it is ignored; ksqlDB's own tests pass it on with a NULL value)
CREATE STREAM raw (k STRING KEY, v STRING) WITH (kafka_topic='s', format='KAFKA', partitions=1);
CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', key_format='KAFKA', value_format='JSON');
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO raw (k, v) VALUES ('a', NULL);
INSERT INTO raw (k, v) VALUES ('b', '{"V": 2}');
ASSERT NULL VALUES out (k) KEY ('a');
ASSERT VALUES out (k, v) VALUES ('b', 2);

--@test: two records with the same key are both kept
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO s (id, v) VALUES (1, 1);
INSERT INTO s (id, v) VALUES (1, 2);
ASSERT VALUES out (id, v) VALUES (1, 1);
ASSERT VALUES out (id, v) VALUES (1, 2);

--@test: quoted column names keep their case
CREATE STREAM s (`mixedCaseId` INT KEY, `$with@invalid!chars` STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO s (`mixedCaseId`, `$with@invalid!chars`) VALUES (1, 'x');
ASSERT STREAM out (`mixedCaseId` INT KEY, `$with@invalid!chars` STRING) WITH (kafka_topic='OUT', value_format='JSON');

--@test: IF NOT EXISTS keeps the first stream
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM IF NOT EXISTS s (id INT KEY, other STRING) WITH (kafka_topic='s', value_format='JSON');
ASSERT STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON');

--@test: creating a stream that exists fails
--@expected.message: Cannot add stream 'S': A stream with the same name already exists
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON');

--@test: OR REPLACE adds a column
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE OR REPLACE STREAM s (id INT KEY, v INT, w STRING) WITH (kafka_topic='s', value_format='JSON');
ASSERT STREAM s (id INT KEY, v INT, w STRING) WITH (kafka_topic='s', value_format='JSON');

--@test: KAFKA_TOPIC is required
--@expected.message: Missing required property "KAFKA_TOPIC" which has no default value.
CREATE STREAM s (id INT KEY, v INT) WITH (value_format='JSON', partitions=1);

--@test: FORMAT can't be used with VALUE_FORMAT
--@expected.message: Cannot supply both 'VALUE_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', format='JSON', value_format='JSON', partitions=1);

--@test: FORMAT sets the key and the value format
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', format='JSON', partitions=1);
ASSERT STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', key_format='JSON', value_format='JSON');

--@test: TIMESTAMP takes ROWTIME from a BIGINT value column
CREATE STREAM s (id INT KEY, t BIGINT) WITH (kafka_topic='s', value_format='JSON', timestamp='t', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM s;
INSERT INTO s (ROWTIME, id, t) VALUES (5, 1, 1000);
ASSERT VALUES out (ROWTIME, id, rt) VALUES (1000, 1, 1000);

--@test: TIMESTAMP takes ROWTIME from a key column
CREATE STREAM s (id BIGINT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', timestamp='id', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM s;
INSERT INTO s (id, v) VALUES (1000, 1);
ASSERT VALUES out (id, rt) VALUES (1000, 1000);

--@test: TIMESTAMP takes ROWTIME from a TIMESTAMP column
CREATE STREAM s (id INT KEY, ts TIMESTAMP) WITH (kafka_topic='s', value_format='JSON', timestamp='ts', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt, ts FROM s;
INSERT INTO s (id, ts) VALUES (1, '2020-01-01T00:00:00.000');
ASSERT VALUES out (id, rt, ts) VALUES (1, 1577836800000, '2020-01-01T00:00:00.000');

--@test: TIMESTAMP_FORMAT parses a string column with a Java pattern, in UTC without a zone
CREATE STREAM s (id INT KEY, ts STRING) WITH (kafka_topic='s', value_format='JSON', timestamp='ts',
  timestamp_format='yyyy-MM-dd HH:mm:ss.SSS', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM s;
INSERT INTO s (id, ts) VALUES (1, '2020-01-01 00:00:01.500');
ASSERT VALUES out (id, rt) VALUES (1, 1577836801500);

--@test: TIMESTAMP_FORMAT with quoted letters and a zone offset
CREATE STREAM s (id INT KEY, ts STRING) WITH (kafka_topic='s', value_format='JSON', timestamp='ts',
  timestamp_format='yyyy-MM-dd''T''HH:mm:ssX', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM s;
INSERT INTO s (id, ts) VALUES (1, '2020-01-01T00:00:00Z');
INSERT INTO s (id, ts) VALUES (2, '2020-01-01T01:00:00+01');
INSERT INTO s (id, ts) VALUES (3, '2019-12-31T19:30:00-0430');
ASSERT VALUES out (id, rt) VALUES (1, 1577836800000);
ASSERT VALUES out (id, rt) VALUES (2, 1577836800000);
ASSERT VALUES out (id, rt) VALUES (3, 1577836800000);

--@test: TIMESTAMP_FORMAT with a zone name
CREATE STREAM s (id INT KEY, ts STRING) WITH (kafka_topic='s', value_format='JSON', timestamp='ts',
  timestamp_format='yyyy-MM-dd HH:mm VV', partitions=1);
CREATE STREAM out AS SELECT id, ROWTIME AS rt FROM s;
INSERT INTO s (id, ts) VALUES (1, '2020-01-01 09:00 Asia/Tokyo');
ASSERT VALUES out (id, rt) VALUES (1, 1577836800000);

--@test: TIMESTAMP_FORMAT is only for a STRING column (ksqlDB's text)
--@expected.message: 'TIMESTAMP_FORMAT' set in the WITH clause can only be used when the timestamp column is of type STRING.
CREATE STREAM s (id INT KEY, t BIGINT) WITH (kafka_topic='s', value_format='JSON', timestamp='t',
  timestamp_format='yyyy', partitions=1);

--@test: a STRING TIMESTAMP column needs TIMESTAMP_FORMAT (ksqlDB's text)
--@expected.message: A String timestamp field has been specified without also specifying the timestamp_format
CREATE STREAM s (id INT KEY, t STRING) WITH (kafka_topic='s', value_format='JSON', timestamp='t', partitions=1);

--@test: a TIMESTAMP column of another type is refused (ksqlDB's text)
--@expected.message: Timestamp column, `T`, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified.
CREATE STREAM s (id INT KEY, t INT) WITH (kafka_topic='s', value_format='JSON', timestamp='t', partitions=1);

--@test: a TIMESTAMP column that does not exist is refused (ksqlDB's text)
--@expected.message: The TIMESTAMP column set in the WITH clause does not exist in the schema: 'NOPE'
CREATE STREAM s (id INT KEY, t BIGINT) WITH (kafka_topic='s', value_format='JSON', timestamp='nope', partitions=1);

--@test: records whose timestamp is NULL or doesn't parse are skipped
CREATE STREAM s (id INT KEY, t STRING) WITH (kafka_topic='s', value_format='JSON', timestamp='t',
  timestamp_format='yyyy-MM-dd', partitions=1);
CREATE STREAM out AS SELECT id FROM s;
INSERT INTO s (id, t) VALUES (1, 'nope');
INSERT INTO s (id, t) VALUES (2, NULL);
INSERT INTO s (id, t) VALUES (3, '1970-01-02');
ASSERT VALUES out (ROWTIME, id) VALUES (86400000, 3);

--@test: ROWPARTITION and ROWOFFSET are the source record's partition and offset
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, ROWPARTITION AS p, ROWOFFSET AS o FROM s;
INSERT INTO s (id, v) VALUES (1, 1);
INSERT INTO s (id, v) VALUES (2, 1);
ASSERT VALUES out (id, p, o) VALUES (1, 0, 0);
ASSERT VALUES out (id, p, o) VALUES (2, 0, 1);

--@test: pseudo columns in WHERE and in aggregates
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM later AS SELECT id, v FROM s WHERE ROWOFFSET > 0 AND ROWPARTITION = 0;
CREATE TABLE last AS SELECT id, MAX(ROWOFFSET) AS o FROM s GROUP BY id;
INSERT INTO s (id, v) VALUES (1, 1);
INSERT INTO s (id, v) VALUES (1, 2);
ASSERT VALUES later (id, v) VALUES (1, 2);
ASSERT VALUES last (id, o) VALUES (1, 0);
ASSERT VALUES last (id, o) VALUES (1, 1);

--@test: SELECT * leaves the pseudo columns out
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
ASSERT STREAM out (id INT KEY, v INT) WITH (kafka_topic='OUT', value_format='JSON');

--@test: a column can't be named after a pseudo column
--@expected.message: 'ROWPARTITION' is a reserved column name. You cannot use it as a name for a column.
CREATE STREAM s (id INT KEY, rowpartition INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);

--@test: an alias can't be named after a pseudo column
--@expected.message: `ROWTIME` is a reserved column name. You cannot use it as an alias for a column.
CREATE STREAM s (k STRING KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT k, x AS rowtime FROM s;

--@test: a SOURCE stream refuses INSERT
--@expected.message: Cannot insert values into read-only stream: S
CREATE SOURCE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
INSERT INTO s (id, v) VALUES (1, 1);

--@test: VALUE_DELIMITER TAB and SPACE
CREATE STREAM x (f1 STRING, f2 INT) WITH (kafka_topic='x', key_format='KAFKA', value_format='DELIMITED',
  value_delimiter='TAB', partitions=1);
CREATE STREAM y WITH (value_delimiter='SPACE') AS SELECT * FROM x;
CREATE STREAM rawx (v STRING) WITH (kafka_topic='x', format='KAFKA');
CREATE STREAM rawy (v STRING) WITH (kafka_topic='Y', format='KAFKA');
CREATE STREAM outx AS SELECT * FROM rawx;
CREATE STREAM outy AS SELECT * FROM rawy;
INSERT INTO x (f1, f2) VALUES ('a', 1);
ASSERT VALUES outx (v) VALUES ('a	1');
ASSERT VALUES outy (v) VALUES ('a 1');

--@test: WRAP_SINGLE_VALUE false reads and writes an anonymous value
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', wrap_single_value=false, partitions=1);
CREATE STREAM raw (v STRING) WITH (kafka_topic='s', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
INSERT INTO s (id, v) VALUES (1, 5);
ASSERT VALUES out (v) VALUES ('5');

--@test: WRAP_SINGLE_VALUE with several value columns is refused
--@expected.message: 'WRAP_SINGLE_VALUE' is only valid for single-field value schemas
CREATE STREAM s (id INT KEY, v INT, w INT) WITH (kafka_topic='s', value_format='JSON', wrap_single_value=false, partitions=1);

--@test: WRAP_SINGLE_VALUE for DELIMITED is refused
--@expected.message: Format 'DELIMITED' does not support 'WRAP_SINGLE_VALUE' set to 'true'.
CREATE STREAM s (v INT) WITH (kafka_topic='s', format='DELIMITED', wrap_single_value=true, partitions=1);
