-- from developer-guide/ksqldb-reference/create-type.md
-- Type aliases, nested, used in columns and casts.

--@test: the page's ADDRESS and PERSON types, nested, in a stream's columns
CREATE TYPE ADDRESS AS STRUCT<number INTEGER, street VARCHAR, city VARCHAR>;
CREATE TYPE PERSON AS STRUCT<name VARCHAR, address ADDRESS>;
CREATE STREAM people (id INT KEY, p PERSON) WITH (kafka_topic='p', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, p->address->city AS city FROM people;
INSERT INTO people (id, p) VALUES (1, STRUCT(name := 'ann', address := STRUCT(number := 1, street := 'Main', city := 'Oslo')));
ASSERT STREAM people (id INT KEY, p STRUCT<name STRING, address STRUCT<number INT, street STRING, city STRING>>)
  WITH (kafka_topic='p', value_format='JSON');
ASSERT VALUES out (id, city) VALUES (1, 'Oslo');

--@test: registering the same type twice fails
--@expected.message: Cannot register custom type 'ADDRESS' since it is already registered with type: STRUCT<`NUMBER` INTEGER, `STREET` STRING, `CITY` STRING>
CREATE TYPE ADDRESS AS STRUCT<number INTEGER, street VARCHAR, city VARCHAR>;
CREATE TYPE ADDRESS AS STRUCT<number INTEGER>;

--@test: a type alias in a CAST
CREATE TYPE PAIR AS STRUCT<a INT, b STRING>;
CREATE STREAM s (id INT KEY, x INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, CAST(STRUCT(a := x, b := 'y') AS PAIR) AS p FROM s;
INSERT INTO s (id, x) VALUES (1, 2);
ASSERT VALUES out (id, p) VALUES (1, STRUCT(A := 2, B := 'y'));
