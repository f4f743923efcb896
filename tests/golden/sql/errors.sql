-- A statement that names an unknown column stops the script with its position.
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
SELECT id, nope
  FROM s EMIT CHANGES;
SHOW STREAMS;
