-- Persistent queries: the sink on top, with its topic, partitions and formats.
CREATE STREAM pageviews (user_id INT KEY, page STRING, duration INT)
  WITH (kafka_topic='pageviews', value_format='JSON', partitions=4);
CREATE TABLE users (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=4);
CREATE STREAM long_views AS SELECT user_id, page FROM pageviews WHERE duration > 10;
CREATE TABLE views_per_page WITH (kafka_topic='vpp', partitions=2, value_format='AVRO') AS
  SELECT page, COUNT(*) AS views FROM pageviews GROUP BY page;
CREATE TABLE views_per_minute AS SELECT user_id, COUNT(*) AS views FROM pageviews
  WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY user_id;
CREATE STREAM enriched AS SELECT p.user_id, p.page, u.name FROM pageviews p JOIN users u ON p.user_id = u.id;
CREATE STREAM by_page WITH (key_format='JSON') AS SELECT page, user_id FROM pageviews PARTITION BY page;
INSERT INTO long_views SELECT user_id, page FROM pageviews WHERE duration < 0;
EXPLAIN CSAS_LONG_VIEWS_2;
EXPLAIN CTAS_VIEWS_PER_PAGE_3;
EXPLAIN CTAS_VIEWS_PER_MINUTE_4;
EXPLAIN CSAS_ENRICHED_5;
EXPLAIN CSAS_BY_PAGE_6;
EXPLAIN INSERTQUERY_7;
