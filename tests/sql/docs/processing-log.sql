-- from reference/processing-log.md
-- Records that can't be processed are logged with the page's schema, and the query goes on.
-- The log is read through ksqlDB's default stream over it, KSQL_PROCESSING_LOG.

--@test: a record whose value doesn't deserialize is logged as a DESERIALIZATION_ERROR (type 0)
CREATE STREAM raw (v STRING) WITH (kafka_topic='s', format='KAFKA', partitions=1);
CREATE STREAM s (id INT) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM out AS SELECT * FROM s;
CREATE STREAM errors AS SELECT level, message->type AS type, message->deserializationError->target AS target,
  message->deserializationError->recordB64 AS record, message->deserializationError->`topic` AS topic
  FROM KSQL_PROCESSING_LOG;
INSERT INTO raw (v) VALUES ('not json');
INSERT INTO raw (v) VALUES ('{"ID": 2}');
ASSERT VALUES out (id) VALUES (2);
ASSERT VALUES errors (level, type, target, record, topic) VALUES ('ERROR', 0, 'value', 'bm90IGpzb24=', 's');

--@test: a record that fails inside a query is logged as a RECORD_PROCESSING_ERROR (type 1)
CREATE STREAM s (id INT KEY, a INT, t STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, PARSE_DATE(t, 'yyyy-MM-dd') AS d FROM s;
CREATE STREAM errors AS SELECT level, message->type AS type,
  message->recordProcessingError->errorMessage IS NOT NULL AS has_message FROM KSQL_PROCESSING_LOG;
INSERT INTO s (id, a, t) VALUES (1, 1, 'not a date');
INSERT INTO s (id, a, t) VALUES (2, 1, '2020-01-01');
ASSERT VALUES out (id, d) VALUES (1, NULL);
ASSERT VALUES out (id, d) VALUES (2, '2020-01-01');
ASSERT VALUES errors (level, type, has_message) VALUES ('ERROR', 1, true);

--@test: the log's stream has the page's columns
ASSERT STREAM KSQL_PROCESSING_LOG (logger STRING, level STRING, `TIME` BIGINT, message STRUCT<`TYPE` INTEGER,
  deserializationError STRUCT<target STRING, errorMessage STRING, recordB64 STRING, cause ARRAY<STRING>, `topic` STRING>,
  recordProcessingError STRUCT<errorMessage STRING, record STRING, cause ARRAY<STRING>>,
  productionError STRUCT<errorMessage STRING>,
  serializationError STRUCT<target STRING, errorMessage STRING, record STRING, cause ARRAY<STRING>, `topic` STRING>>)
  WITH (kafka_topic='default_ksql_processing_log', value_format='JSON');
