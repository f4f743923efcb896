-- GROUP BY: on the key, on other columns, over tables, windowed, with HAVING and EMIT FINAL.
CREATE STREAM pageviews (user_id INT KEY, page STRING, duration INT)
  WITH (kafka_topic='pageviews', value_format='JSON', partitions=4);
CREATE TABLE users (id INT PRIMARY KEY, name STRING, region STRING)
  WITH (kafka_topic='users', value_format='JSON', partitions=4);
EXPLAIN SELECT user_id, COUNT(*) AS views FROM pageviews GROUP BY user_id EMIT CHANGES;
EXPLAIN SELECT page, SUM(duration) AS total FROM pageviews GROUP BY page EMIT CHANGES;
EXPLAIN SELECT page, user_id, MAX(duration) AS longest FROM pageviews GROUP BY page, user_id EMIT CHANGES;
EXPLAIN SELECT region, COUNT(*) AS people FROM users GROUP BY region EMIT CHANGES;
EXPLAIN SELECT page, COUNT(*) AS views FROM pageviews WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY page EMIT CHANGES;
EXPLAIN SELECT page, COUNT(*) AS views FROM pageviews
  WINDOW HOPPING (SIZE 10 MINUTES, ADVANCE BY 5 MINUTES, RETENTION 2 HOURS, GRACE PERIOD 30 SECONDS)
  GROUP BY page EMIT CHANGES;
EXPLAIN SELECT user_id, COUNT(*) AS views FROM pageviews WINDOW SESSION (5 MINUTES) GROUP BY user_id EMIT CHANGES;
EXPLAIN SELECT page, COUNT(*) AS views FROM pageviews WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY page EMIT FINAL;
EXPLAIN SELECT page, AVG(duration) AS mean FROM pageviews WHERE duration > 0 GROUP BY page
  HAVING COUNT(*) > 2 EMIT CHANGES;
