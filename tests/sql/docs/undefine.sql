-- from developer-guide/ksqldb-reference/undefine.md
-- UNDEFINE removes a variable: a later ${name} is no longer substituted. The page is silent on
-- what then: ksqlDB substitutes with Apache Commons' StringSubstitutor (KLIP 38), which leaves a
-- reference to an unknown variable as written.

--@test: an undefined variable is no longer substituted
DEFINE greeting = 'hello';
UNDEFINE greeting;
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, '${greeting}' AS g FROM s;
INSERT INTO s (id, v) VALUES (1, 0);
ASSERT VALUES out (id, g) VALUES (1, '${greeting}');

--@test: names match whatever their case
DEFINE Greeting = 'hello';
UNDEFINE GREETING;
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, '${greeting}' AS g FROM s;
INSERT INTO s (id, v) VALUES (1, 0);
ASSERT VALUES out (id, g) VALUES (1, '${greeting}');

--@test: a variable can be defined again after it was undefined
DEFINE greeting = 'hello';
UNDEFINE greeting;
DEFINE greeting = 'bye';
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, '${greeting}' AS g FROM s;
INSERT INTO s (id, v) VALUES (1, 0);
ASSERT VALUES out (id, g) VALUES (1, 'bye');
