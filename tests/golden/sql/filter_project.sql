-- A persistent filter with projections, watched with a push query.
SET 'auto.offset.reset'='earliest';
CREATE STREAM pageviews (user_id STRING KEY, page STRING, duration INT)
  WITH (kafka_topic='pageviews', value_format='JSON', partitions=1);
INSERT INTO pageviews (user_id, page, duration) VALUES ('alice', '/home', 30);
INSERT INTO pageviews (user_id, page, duration) VALUES ('bob', '/cart', 5);
INSERT INTO pageviews (user_id, page, duration) VALUES ('carol', '/home', 12);
CREATE STREAM long_views AS
  SELECT user_id, UCASE(page) AS page, duration * 2 AS doubled, duration / 7 AS weeks
  FROM pageviews WHERE duration > 10 AND page LIKE '/h%';
SELECT * FROM long_views EMIT CHANGES LIMIT 2;
SELECT user_id, CAST(duration AS STRING) + 's' AS d, duration BETWEEN 10 AND 20 AS mid FROM pageviews;
SHOW STREAMS;
SHOW QUERIES;
DESCRIBE long_views;
