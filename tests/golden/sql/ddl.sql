-- Creating, describing and dropping streams and tables.
CREATE TABLE users (id STRING PRIMARY KEY, name STRING, age INT)
  WITH (kafka_topic='users', format='JSON', partitions=3);
CREATE STREAM clicks (user_id STRING KEY, url STRING)
  WITH (kafka_topic='clicks', key_format='KAFKA', value_format='DELIMITED', partitions=2);
SHOW TABLES;
SHOW TOPICS;
DESCRIBE users;
DROP STREAM clicks DELETE TOPIC;
DROP STREAM IF EXISTS clicks;
SHOW TOPICS;
DROP TABLE users;
SHOW TABLES;
