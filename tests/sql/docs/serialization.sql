-- from reference/serialization.md
-- Records are written as raw text through a KAFKA-format stream over the same topic and read
-- back the same way, so each case checks the bytes the format reads and writes.

--@test: DELIMITED splits a multi-column key and a value into their columns
CREATE STREAM raw (k STRING KEY, v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (orgid BIGINT KEY, id BIGINT KEY, name STRING, age INT) WITH (kafka_topic='x', format='DELIMITED');
CREATE STREAM out AS SELECT * FROM x;
INSERT INTO raw (k, v) VALUES ('120,21', 'bob,49');
ASSERT VALUES out (orgid, id, name, age) VALUES (120, 21, 'bob', 49);

--@test: DELIMITED writes a multi-column key and a value as delimited text
CREATE STREAM x (orgid BIGINT KEY, id BIGINT KEY, name STRING, age INT) WITH (kafka_topic='x', format='DELIMITED', partitions=1);
CREATE STREAM raw (k STRING KEY, v STRING) WITH (kafka_topic='x', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
INSERT INTO x (orgid, id, name, age) VALUES (120, 21, 'bob', 49);
ASSERT VALUES out (k, v) VALUES ('120,21', 'bob,49');

--@test: DELIMITED with a Unicode delimiter
CREATE STREAM delim_stream (f1 STRING, f2 STRING) WITH (kafka_topic='delim', format='DELIMITED', value_delimiter='☺', partitions=1);
CREATE STREAM raw (v STRING) WITH (kafka_topic='delim', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
CREATE STREAM parsed AS SELECT * FROM delim_stream;
INSERT INTO delim_stream (f1, f2) VALUES ('a', 'b');
INSERT INTO raw (v) VALUES ('c☺d');
ASSERT VALUES out (v) VALUES ('a☺b');
ASSERT VALUES parsed (f1, f2) VALUES ('a', 'b');
ASSERT VALUES parsed (f1, f2) VALUES ('c', 'd');

--@test: DELIMITED KEY_DELIMITER for a multi-column key
CREATE STREAM x (a INT KEY, b INT KEY, v STRING) WITH (kafka_topic='x', key_format='DELIMITED', key_delimiter='|',
  value_format='JSON', partitions=1);
CREATE STREAM raw (k STRING KEY, v STRING) WITH (kafka_topic='x', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
INSERT INTO x (a, b, v) VALUES (1, 2, 'z');
ASSERT VALUES out (k) VALUES ('1|2');

--@test: DELIMITED quotes a field holding the delimiter or a quote, and reads it back
CREATE STREAM x (f1 STRING, f2 STRING) WITH (kafka_topic='x', format='DELIMITED', partitions=1);
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
CREATE STREAM parsed AS SELECT * FROM x;
INSERT INTO x (f1, f2) VALUES ('a,b', 'say "hi"');
ASSERT VALUES out (v) VALUES ('"a,b","say ""hi"""');
ASSERT VALUES parsed (f1, f2) VALUES ('a,b', 'say "hi"');

--@test: DELIMITED empty fields are NULL
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (f1 STRING, f2 INT) WITH (kafka_topic='x', format='DELIMITED');
CREATE STREAM out AS SELECT * FROM x;
INSERT INTO raw (v) VALUES (',');
ASSERT VALUES out (f1, f2) VALUES (NULL, NULL);

--@test: DELIMITED fields are read with Java's parsers: a field they refuse sends its record to the processing log
-- The page is silent on how a field's text becomes its column's type; ksqlDB's
-- KsqlDelimitedDeserializer decides: Integer.parseInt (no spaces, nothing out of range),
-- Boolean.parseBoolean (anything but "true" is false), Double.parseDouble (spaces trimmed),
-- and DecimalUtil.ensureFit (no rounding, no overflow).
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (b BOOLEAN, i INT, d DOUBLE, e DECIMAL(4, 2)) WITH (kafka_topic='x', format='DELIMITED');
CREATE STREAM out AS SELECT * FROM x;
CREATE STREAM errors AS SELECT message->deserializationError->errorMessage AS msg FROM KSQL_PROCESSING_LOG;
INSERT INTO raw (v) VALUES ('yes,1, 1.5 ,01.5');
INSERT INTO raw (v) VALUES ('TRUE, 2,2,2');
INSERT INTO raw (v) VALUES ('true,99999999999,2,2');
INSERT INTO raw (v) VALUES ('true,3,3,1.125');
INSERT INTO raw (v) VALUES ('true,4,4,100');
INSERT INTO raw (v) VALUES ('True,+5,5e0,-2');
ASSERT VALUES out (b, i, d, e) VALUES (false, 1, 1.5, 1.50);
ASSERT VALUES out (b, i, d, e) VALUES (true, 5, 5.0, -2.00);
ASSERT VALUES errors (msg) VALUES ('Failed to deserialize value from topic: x. For input string: " 2"');
ASSERT VALUES errors (msg) VALUES ('Failed to deserialize value from topic: x. For input string: "99999999999"');
ASSERT VALUES errors (msg) VALUES ('Failed to deserialize value from topic: x. Cannot fit decimal ''1.125'' into DECIMAL(4, 2) without rounding. (Requires 4,3)');
ASSERT VALUES errors (msg) VALUES ('Failed to deserialize value from topic: x. Numeric field overflow: A field with precision 4 and scale 2 must round to an absolute value less than 10^2. Got 100');

--@test: DELIMITED serializes TIMESTAMP, TIME, DATE as numbers and BYTES as Base64
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (b BOOLEAN, d DOUBLE, dec DECIMAL(4,2), t TIMESTAMP, dt DATE, tm TIME, bs BYTES, bi BIGINT)
  WITH (kafka_topic='x', format='DELIMITED');
CREATE STREAM y AS SELECT * FROM x;
CREATE STREAM rawy (v STRING) WITH (kafka_topic='Y', format='KAFKA');
CREATE STREAM out AS SELECT * FROM rawy;
INSERT INTO raw (v) VALUES ('true,1.5,12.30,1000,3,1000,YWJj,7');
ASSERT VALUES y (b, d, dec, t, dt, tm, bs, bi) VALUES (true, 1.5, 12.30, '1970-01-01T00:00:01.000', '1970-01-04', '00:00:01', TO_BYTES('abc', 'utf8'), 7);
ASSERT VALUES out (v) VALUES ('true,1.5,12.30,1000,3,1000,YWJj,7');

--@test: DELIMITED does not support ARRAY
--@expected.message: The 'DELIMITED' format does not support type 'ARRAY'
CREATE STREAM x (a ARRAY<INT>) WITH (kafka_topic='x', format='DELIMITED', partitions=1);

--@test: DELIMITED does not support MAP or STRUCT
--@expected.message: The 'DELIMITED' format does not support type 'STRUCT'
CREATE STREAM x (a STRUCT<f INT>) WITH (kafka_topic='x', format='DELIMITED', partitions=1);

--@test: a record with the wrong number of DELIMITED fields is skipped and the query goes on
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (f1 STRING, f2 INT) WITH (kafka_topic='x', format='DELIMITED');
CREATE STREAM out AS SELECT * FROM x;
INSERT INTO raw (v) VALUES ('a,1,2');
INSERT INTO raw (v) VALUES ('b,x');
INSERT INTO raw (v) VALUES ('c,3');
ASSERT VALUES out (f1, f2) VALUES ('c', 3);

--@test: JSON object fields are matched case-insensitively, and a number in a string is read as INT
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (id BIGINT, name STRING, age INT) WITH (kafka_topic='x', value_format='JSON');
CREATE STREAM out AS SELECT * FROM x;
INSERT INTO raw (v) VALUES ('{"id": 120, "name": "bob", "age": "49"}');
ASSERT VALUES out (id, name, age) VALUES (120, 'bob', 49);

--@test: JSON top-level primitive with WRAP_SINGLE_VALUE false, read and written
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (id BIGINT) WITH (kafka_topic='x', value_format='JSON', wrap_single_value=false);
CREATE STREAM y WITH (wrap_single_value=false) AS SELECT id FROM x EMIT CHANGES;
CREATE STREAM z AS SELECT id FROM x;
CREATE STREAM rawy (v STRING) WITH (kafka_topic='Y', format='KAFKA');
CREATE STREAM rawz (v STRING) WITH (kafka_topic='Z', format='KAFKA');
CREATE STREAM outy AS SELECT * FROM rawy;
CREATE STREAM outz AS SELECT * FROM rawz;
INSERT INTO raw (v) VALUES ('10');
ASSERT VALUES outy (v) VALUES ('10');
ASSERT VALUES outz (v) VALUES ('{"ID":10}');

--@test: JSON top-level array and map
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM xa (a ARRAY<INT>) WITH (kafka_topic='x', value_format='JSON', wrap_single_value=false);
CREATE STREAM out AS SELECT a[1] AS first FROM xa;
INSERT INTO raw (v) VALUES ('[3, 4]');
ASSERT VALUES out (first) VALUES (3);

--@test: JSON decimals are read from numbers and from strings, and written as numbers
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (numericdecimal DECIMAL(15, 14), stringdecimal DECIMAL(15, 14)) WITH (kafka_topic='x', value_format='JSON');
CREATE STREAM y AS SELECT * FROM x;
CREATE STREAM rawy (v STRING) WITH (kafka_topic='Y', format='KAFKA');
CREATE STREAM out AS SELECT * FROM rawy;
INSERT INTO raw (v) VALUES ('{"numericDecimal": 1.12345678912345, "stringDecimal": "1.12345678912345"}');
ASSERT VALUES out (v) VALUES ('{"NUMERICDECIMAL":1.12345678912345,"STRINGDECIMAL":1.12345678912345}');

--@test: JSON TIMESTAMP, TIME and DATE are numbers, BYTES Base64 text
CREATE STREAM x (id INT KEY, t TIMESTAMP, tm TIME, d DATE, b BYTES) WITH (kafka_topic='x', value_format='JSON', partitions=1);
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
INSERT INTO x (id, t, tm, d, b) VALUES (1, '1970-01-01T00:00:00.001', '00:00:01', '1970-01-03', TO_BYTES('abc', 'utf8'));
ASSERT VALUES out (v) VALUES ('{"T":1,"TM":1000,"D":2,"B":"YWJj"}');

--@test: JSON reads numbers into TIMESTAMP, TIME and DATE columns and Base64 into BYTES
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (t TIMESTAMP, tm TIME, d DATE, b BYTES) WITH (kafka_topic='x', value_format='JSON');
CREATE STREAM out AS SELECT FORMAT_TIMESTAMP(t, 'yyyy-MM-dd HH:mm:ss.SSS') AS t, FORMAT_TIME(tm, 'HH:mm:ss') AS tm,
  FORMAT_DATE(d, 'yyyy-MM-dd') AS d, FROM_BYTES(b, 'utf8') AS b FROM x;
INSERT INTO raw (v) VALUES ('{"t": 1, "tm": 1000, "d": 2, "b": "YWJj"}');
ASSERT VALUES out (t, tm, d, b) VALUES ('1970-01-01 00:00:00.001', '00:00:01', '1970-01-03', 'abc');

--@test: JSON MAP values are objects with STRING keys
CREATE STREAM x (id INT KEY, m MAP<STRING, INT>) WITH (kafka_topic='x', value_format='JSON', partitions=1);
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
INSERT INTO x (id, m) VALUES (1, MAP('a' := 1));
ASSERT VALUES out (v) VALUES ('{"M":{"a":1}}');

--@test: JSON MAP keys must be STRING
--@expected.message: JSON only supports MAP types with STRING keys
CREATE STREAM x (m MAP<INT, INT>) WITH (kafka_topic='x', value_format='JSON', partitions=1);

--@test: JSON field name matching takes the first case-insensitive match
CREATE STREAM raw (v STRING) WITH (kafka_topic='x', format='KAFKA', partitions=1);
CREATE STREAM x (name STRING) WITH (kafka_topic='x', value_format='JSON');
CREATE STREAM out AS SELECT * FROM x;
INSERT INTO raw (v) VALUES ('{"Name": "first", "NAME": "second"}');
ASSERT VALUES out (name) VALUES ('first');

--@test: KAFKA format keys of each primitive type
CREATE STREAM s (k BIGINT KEY, name STRING) WITH (kafka_topic='s', key_format='KAFKA', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO s (k, name) VALUES (9000000000, 'a');
ASSERT VALUES out (k, name) VALUES (9000000000, 'a');

--@test: KAFKA format supports a single field only
--@expected.message: The 'KAFKA' format only supports a single field. Got: [`A` INTEGER, `B` INTEGER]
CREATE STREAM s (a INT, b INT) WITH (kafka_topic='s', format='KAFKA', partitions=1);

--@test: KAFKA format does not support BOOLEAN
--@expected.message: The 'KAFKA' format does not support type 'BOOLEAN'
CREATE STREAM s (k BOOLEAN KEY, v INT) WITH (kafka_topic='s', key_format='KAFKA', value_format='JSON', partitions=1);

--@test: a multi-column key is wrapped in a JSON object, a single one is not
CREATE STREAM s (k1 INT KEY, k2 INT KEY, v INT) WITH (kafka_topic='s', format='JSON', partitions=1);
CREATE STREAM t (k INT KEY, v INT) WITH (kafka_topic='t', format='JSON', partitions=1);
CREATE STREAM raws (k STRING KEY, v STRING) WITH (kafka_topic='s', format='KAFKA');
CREATE STREAM rawt (k STRING KEY, v STRING) WITH (kafka_topic='t', format='KAFKA');
CREATE STREAM outs AS SELECT * FROM raws;
CREATE STREAM outt AS SELECT * FROM rawt;
INSERT INTO s (k1, k2, v) VALUES (1, 2, 3);
INSERT INTO t (k, v) VALUES (1, 3);
ASSERT VALUES outs (k) VALUES ('{"K1":1,"K2":2}');
ASSERT VALUES outt (k) VALUES ('1');

--@test: a single-column key declared as a STRUCT is wrapped
CREATE STREAM t (k STRUCT<f1 INT> KEY, v INT) WITH (kafka_topic='t', format='JSON', partitions=1);
CREATE STREAM rawt (k STRING KEY, v STRING) WITH (kafka_topic='t', format='KAFKA');
CREATE STREAM outt AS SELECT * FROM rawt;
INSERT INTO t (k, v) VALUES (STRUCT(f1 := 1), 3);
ASSERT VALUES outt (k) VALUES ('{"F1":1}');
