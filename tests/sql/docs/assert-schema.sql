-- from developer-guide/ksqldb-reference/assert-schema.md
-- ASSERT [NOT EXISTS] SCHEMA by subject, by id or both. Schemas are registered when a CREATE
-- statement over a registry format runs (ksqlDB's SchemaRegisterInjector; the docs are silent);
-- messages as ksqlDB's AssertSchemaExecutor words them.

--@test: a stream's value schema is registered under <topic>-value when it is created
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='AVRO', partitions=1);
ASSERT SCHEMA SUBJECT 'orders-value';
ASSERT SCHEMA SUBJECT 'orders-value' ID 1;
ASSERT SCHEMA ID 1;
ASSERT NOT EXISTS SCHEMA SUBJECT 'orders-key';

--@test: a missing subject fails the assertion
--@expected.message: Schema with subject name nothing-value does not exist
ASSERT SCHEMA SUBJECT 'nothing-value' TIMEOUT 0 SECONDS;

--@test: an id registered under another subject does not count for this one
--@expected.message: Schema with subject name a-value id 2 does not exist
CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='AVRO', partitions=1);
CREATE STREAM b (id INT KEY, w STRING) WITH (kafka_topic='b', value_format='AVRO', partitions=1);
ASSERT SCHEMA ID 2;
ASSERT SCHEMA SUBJECT 'a-value' ID 2 TIMEOUT 0 SECONDS;

--@test: NOT EXISTS fails for a schema that exists
--@expected.message: Schema with id 1 exists
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='AVRO', partitions=1);
ASSERT NOT EXISTS SCHEMA ID 1 TIMEOUT 0 SECONDS;

--@test: a CREATE AS SELECT registers its sink's schema
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM out WITH (value_format='PROTOBUF') AS SELECT id, v * 2 AS w FROM s;
ASSERT SCHEMA SUBJECT 'OUT-value';
