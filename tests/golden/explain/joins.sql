-- Joins: stream-stream, stream-table, table-table, foreign key, outer, three sources, aggregated.
CREATE STREAM pageviews (user_id INT KEY, page STRING, duration INT)
  WITH (kafka_topic='pageviews', value_format='JSON', partitions=4);
CREATE STREAM clicks (user_id INT KEY, button STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=4);
CREATE TABLE users (id INT PRIMARY KEY, name STRING, region_id INT)
  WITH (kafka_topic='users', value_format='JSON', partitions=4);
CREATE TABLE regions (id INT PRIMARY KEY, label STRING) WITH (kafka_topic='regions', value_format='JSON', partitions=4);
EXPLAIN SELECT p.user_id, p.page, u.name FROM pageviews p JOIN users u ON p.user_id = u.id EMIT CHANGES;
EXPLAIN SELECT p.user_id, p.page, u.name FROM pageviews p LEFT JOIN users u ON p.user_id = u.id EMIT CHANGES;
EXPLAIN SELECT p.user_id, p.page, c.button FROM pageviews p
  JOIN clicks c WITHIN 10 SECONDS ON p.user_id = c.user_id EMIT CHANGES;
EXPLAIN SELECT p.user_id, p.page, c.button FROM pageviews p
  FULL OUTER JOIN clicks c WITHIN (1 MINUTE, 2 MINUTES) GRACE PERIOD 5 SECONDS ON p.user_id = c.user_id EMIT CHANGES;
EXPLAIN SELECT u.id, u.name, r.label FROM users u JOIN regions r ON u.id = r.id EMIT CHANGES;
EXPLAIN SELECT u.id, u.name, r.label FROM users u JOIN regions r ON u.region_id = r.id EMIT CHANGES;
EXPLAIN SELECT p.user_id, u.name, r.label FROM pageviews p JOIN users u ON p.user_id = u.id
  JOIN regions r ON p.user_id = r.id EMIT CHANGES;
EXPLAIN SELECT p.page, u.name FROM pageviews p JOIN users u ON p.duration = u.id EMIT CHANGES;
EXPLAIN SELECT u.name, COUNT(*) AS views FROM pageviews p JOIN users u ON p.user_id = u.id
  GROUP BY u.name EMIT CHANGES;
