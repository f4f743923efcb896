-- from reference/sql/data-definition.md
-- Rows of streams and tables: key and value columns, streams over new and existing topics,
-- tables keyed by PRIMARY KEY, header columns, default values, pseudocolumns, constraints.

--@test: the page's stream s1: a new topic of 3 partitions, k in the key, v1 and v2 in the JSON value
CREATE STREAM s1 (k VARCHAR KEY, v1 INT, v2 VARCHAR) WITH (kafka_topic = 's1', partitions = 3, value_format = 'json');
ASSERT TOPIC 's1' WITH (PARTITIONS = 3);
CREATE STREAM out AS SELECT * FROM s1;
INSERT INTO s1 (k, v1, v2) VALUES ('a', 1, 'x');
ASSERT VALUES out (k, v1, v2) VALUES ('a', 1, 'x');

--@test: a stream over an existing topic takes its partition count from the topic
CREATE STREAM s1 (k VARCHAR KEY, v1 INT, v2 VARCHAR) WITH (kafka_topic = 's1', partitions = 3, value_format = 'json');
CREATE STREAM s2 (k1 VARCHAR KEY, v1 VARCHAR) WITH (kafka_topic = 's1', value_format = 'json');
CREATE STREAM out AS SELECT * FROM s2;
ASSERT TOPIC 'OUT' WITH (PARTITIONS = 3);

--@test: rows of a table that share a key are changes to one identity, none of them rejected
CREATE TABLE current_location (person VARCHAR PRIMARY KEY, location VARCHAR) WITH (kafka_topic = 'current_location', partitions = 3, value_format = 'json');
CREATE TABLE moves AS SELECT * FROM current_location;
INSERT INTO current_location (person, location) VALUES ('alice', 'Miami');
INSERT INTO current_location (person, location) VALUES ('alice', 'New York');
INSERT INTO current_location (person, location) VALUES ('alice', 'London');
ASSERT VALUES moves (person, location) VALUES ('alice', 'Miami');
ASSERT VALUES moves (person, location) VALUES ('alice', 'New York');
ASSERT VALUES moves (person, location) VALUES ('alice', 'London');

--@test: a table must declare a PRIMARY KEY
--@expected.message: Tables require a PRIMARY KEY. Please define the PRIMARY KEY.
CREATE TABLE current_location (person VARCHAR, location VARCHAR) WITH (kafka_topic = 'current_location', partitions = 3, value_format = 'json');

--@test: only streams mark a column KEY; a table uses PRIMARY KEY
--@expected.message: Column `PERSON` is a 'KEY' column: please use 'PRIMARY KEY' for tables.
CREATE TABLE current_location (person VARCHAR KEY, location VARCHAR) WITH (kafka_topic = 'current_location', partitions = 3, value_format = 'json');

--@test: only tables have primary keys
--@expected.message: Column `K1` is a 'PRIMARY KEY' column: please use 'KEY' for streams.
CREATE STREAM s3 (k1 VARCHAR PRIMARY KEY, v1 VARCHAR) WITH (kafka_topic = 's3', partitions = 1, value_format = 'json');

--@test: a column declared but absent from the record is NULL
CREATE STREAM s1 (k VARCHAR KEY, v1 INT, v2 VARCHAR) WITH (kafka_topic = 's1', partitions = 1, value_format = 'json');
CREATE STREAM out AS SELECT * FROM s1;
INSERT INTO s1 (k, v1) VALUES ('a', 1);
ASSERT VALUES out (k, v1, v2) VALUES ('a', 1, NULL);

--@test: * leaves the pseudocolumns out; named, they are selected
CREATE STREAM s1 (k VARCHAR KEY, v1 INT) WITH (kafka_topic = 's1', partitions = 1, value_format = 'json');
CREATE STREAM star AS SELECT * FROM s1;
CREATE STREAM pseudo AS SELECT k, ROWTIME AS t, ROWPARTITION AS p, ROWOFFSET AS o, v1 FROM s1;
INSERT INTO s1 (rowtime, k, v1) VALUES (1000, 'a', 1);
INSERT INTO s1 (rowtime, k, v1) VALUES (2000, 'b', 2);
ASSERT STREAM star (k VARCHAR KEY, v1 INT) WITH (kafka_topic = 'STAR', value_format = 'JSON');
ASSERT VALUES pseudo (k, t, p, o, v1) VALUES ('a', 1000, 0, 0, 1);
ASSERT VALUES pseudo (k, t, p, o, v1) VALUES ('b', 2000, 0, 1, 2);

--@test: a HEADERS column must be ARRAY<STRUCT<key STRING, value BYTES>>
--@expected.message: expected ARRAY<STRUCT<`KEY` STRING, `VALUE` BYTES>>
CREATE STREAM s4 (k1 VARCHAR KEY, v1 VARCHAR, h1 ARRAY<STRING> HEADERS) WITH (kafka_topic = 's4', partitions = 1, value_format = 'json');

--@test: a HEADER('<key>') column must be BYTES
--@expected.message: expected BYTES
CREATE STREAM s4 (k1 VARCHAR KEY, v1 VARCHAR, h1 STRING HEADER('abc')) WITH (kafka_topic = 's4', partitions = 1, value_format = 'json');

--@test: header columns are read-only: INSERT VALUES cannot set them
--@expected.message: Cannot insert into HEADER columns: H1
CREATE STREAM s4 (k1 VARCHAR KEY, v1 VARCHAR, h1 BYTES HEADER('abc')) WITH (kafka_topic = 's4', partitions = 1, value_format = 'json');
INSERT INTO s4 VALUES ('abc', 'def', TO_BYTES('x', 'ascii'));

--@test: a query's column made from a header column is a value column of its sink; a record without the header gives NULL
-- (the page's s5 leaves out s4's key column, which a query must select: K1 is added here)
CREATE STREAM s4 (k1 VARCHAR KEY, v1 VARCHAR, h1 BYTES HEADER('abc')) WITH (kafka_topic = 's4', partitions = 1, value_format = 'json');
CREATE STREAM s5 AS SELECT k1, FROM_BYTES(h1, 'ascii') AS decoded FROM s4;
INSERT INTO s4 (k1, v1) VALUES ('abc', 'def');
ASSERT STREAM s5 (k1 STRING KEY, decoded STRING) WITH (kafka_topic = 'S5', value_format = 'JSON');
ASSERT VALUES s5 (k1, decoded) VALUES ('abc', NULL);

--@test: naming a header column in INSERT VALUES is refused too
--@expected.message: Cannot insert into HEADER columns: H1
CREATE STREAM s4 (k1 VARCHAR KEY, v1 VARCHAR, h1 BYTES HEADER('abc')) WITH (kafka_topic = 's4', partitions = 1, value_format = 'json');
INSERT INTO s4 (k1, h1) VALUES ('abc', TO_BYTES('x', 'ascii'));
