-- Sources, filters, projections, PARTITION BY and table functions.
CREATE STREAM pageviews (user_id INT KEY, page STRING, duration INT, tags ARRAY<STRING>)
  WITH (kafka_topic='pageviews', value_format='JSON', partitions=4);
CREATE TABLE users (id INT PRIMARY KEY, name STRING, region STRING)
  WITH (kafka_topic='users', value_format='JSON', partitions=4);
CREATE STREAM nokey (page STRING, duration INT) WITH (kafka_topic='nokey', value_format='JSON', partitions=1);
EXPLAIN SELECT * FROM pageviews EMIT CHANGES;
EXPLAIN SELECT page, duration * 2 AS doubled FROM pageviews WHERE duration > 10 EMIT CHANGES;
EXPLAIN SELECT * FROM users WHERE region = 'EU' EMIT CHANGES;
EXPLAIN SELECT * FROM nokey EMIT CHANGES;
EXPLAIN SELECT page, duration FROM pageviews PARTITION BY page EMIT CHANGES;
EXPLAIN SELECT page, duration FROM nokey PARTITION BY duration EMIT CHANGES;
EXPLAIN SELECT user_id, EXPLODE(tags) AS tag FROM pageviews EMIT CHANGES;
EXPLAIN SELECT user_id, EXPLODE(tags) AS tag, EXPLODE(ARRAY[1, 2]) AS n FROM pageviews WHERE duration > 0 EMIT CHANGES;
EXPLAIN SELECT user_id, CUBE_EXPLODE(ARRAY[page, 'x']) AS c FROM pageviews EMIT CHANGES;
CREATE STREAM orders (id INT KEY, placed_at STRING, amount DOUBLE)
  WITH (kafka_topic='orders', value_format='JSON', partitions=2, timestamp='placed_at', timestamp_format='yyyy-MM-dd HH:mm:ss');
EXPLAIN SELECT id, amount FROM orders WHERE amount > 100 EMIT CHANGES;
EXPLAIN SELECT id, SUM(amount) AS total FROM orders WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY id EMIT CHANGES;
