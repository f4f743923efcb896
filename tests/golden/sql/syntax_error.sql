SHOW TOPICS;
CREATE STREAM s (id INT KEY, v STRING)
  WITH (kafka_topic='s' value_format='JSON');
