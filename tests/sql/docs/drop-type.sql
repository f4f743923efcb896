-- from developer-guide/ksqldb-reference/drop-type.md
-- Dropping a type alias, even one in use.

--@test: a dropped type can be registered again with another definition
CREATE TYPE ADDRESS AS STRUCT<number INTEGER>;
DROP TYPE ADDRESS;
CREATE TYPE ADDRESS AS STRUCT<street STRING>;
CREATE STREAM s (id INT KEY, a ADDRESS) WITH (kafka_topic='s', value_format='JSON', partitions=1);
ASSERT STREAM s (id INT KEY, a STRUCT<street STRING>) WITH (kafka_topic='s', value_format='JSON');

--@test: dropping a type in use does not change the sources that use it
CREATE TYPE ADDRESS AS STRUCT<number INTEGER>;
CREATE STREAM s (id INT KEY, a ADDRESS) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
DROP TYPE ADDRESS;
INSERT INTO s (id, a) VALUES (1, STRUCT(number := 5));
ASSERT VALUES out (id, a) VALUES (1, STRUCT(number := 5));

--@test: IF EXISTS does not fail for a missing type
DROP TYPE IF EXISTS NOPE;
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
ASSERT STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON');

--@test: dropping a missing type fails
--@expected.message: Type NOPE does not exist.
DROP TYPE NOPE;
