-- from developer-guide/ksqldb-reference/define.md
-- Variables substituted with ${name}, their quotes removed.

--@test: variables in a CREATE and a query
DEFINE replicas = '1';
DEFINE format = 'JSON';
DEFINE name = 'Tom Sawyer';
DEFINE topicName = '''my_topic''';
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic=${topicName}, value_format='${format}', partitions=${replicas});
CREATE STREAM out AS SELECT id, '${name}' AS who FROM s;
INSERT INTO s (id, v) VALUES (1, 'x');
ASSERT STREAM s (id INT KEY, v STRING) WITH (kafka_topic='my_topic', value_format='JSON');
ASSERT VALUES out (id, who) VALUES (1, 'Tom Sawyer');

--@test: a variable can be undefined and defined again with another value
DEFINE format = 'DELIMITED';
UNDEFINE format;
DEFINE format = 'JSON';
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='${format}', partitions=1);
ASSERT STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON');
