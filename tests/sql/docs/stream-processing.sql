-- from concepts/stream-processing.md
-- Collections derived from collections with SELECT, their schemas inferred from it: a stream
-- from a stream, a table from a stream joined to a table, a table from a table, a stream from
-- two streams joined within a window (a joined source's column keeps its alias as a prefix:
-- P_PRODUCT_NAME). ROWTIME, ROWPARTITION and ROWOFFSET are the record's
-- own; a SELECT cannot set them.

--@test: a stream from a stream: each song appended again with its title in upper case
CREATE STREAM rock_songs (artist VARCHAR, title VARCHAR) WITH (kafka_topic='rock_songs', partitions=2, value_format='avro');
CREATE STREAM title_cased_songs AS SELECT artist, UCASE(title) AS capitalized_song FROM rock_songs EMIT CHANGES;
INSERT INTO rock_songs (artist, title) VALUES ('Led Zeppelin', 'Kashmir');
ASSERT STREAM title_cased_songs (artist STRING, capitalized_song STRING) WITH (kafka_topic='TITLE_CASED_SONGS', value_format='AVRO');
ASSERT VALUES title_cased_songs (artist, capitalized_song) VALUES ('Led Zeppelin', 'KASHMIR');

--@test: a table from a stream joined to a table: orders and revenue per product
-- (the page's orders have only a key column; a quantity is added here, so that each order
-- has a value)
CREATE TABLE products (product_name VARCHAR PRIMARY KEY, cost DOUBLE) WITH (kafka_topic='products', partitions=1, value_format='json');
CREATE STREAM orders (product_name VARCHAR KEY, quantity INT) WITH (kafka_topic='orders', partitions=1, value_format='json');
CREATE TABLE order_metrics AS SELECT p.product_name, COUNT(*) AS count, SUM(p.cost) AS revenue
  FROM orders o JOIN products p ON p.product_name = o.product_name GROUP BY p.product_name EMIT CHANGES;
INSERT INTO products (rowtime, product_name, cost) VALUES (1000, 'tea', 2.5);
INSERT INTO products (rowtime, product_name, cost) VALUES (1000, 'cake', 4.0);
INSERT INTO orders (rowtime, product_name, quantity) VALUES (2000, 'tea', 1);
INSERT INTO orders (rowtime, product_name, quantity) VALUES (3000, 'cake', 1);
INSERT INTO orders (rowtime, product_name, quantity) VALUES (4000, 'tea', 2);
ASSERT VALUES order_metrics (p_product_name, count, revenue) VALUES ('tea', 1, 2.5);
ASSERT VALUES order_metrics (p_product_name, count, revenue) VALUES ('cake', 1, 4.0);
ASSERT VALUES order_metrics (p_product_name, count, revenue) VALUES ('tea', 2, 5.0);

--@test: a table from a table: the rows of one location
-- (the page's page_view_metrics selects location_id without grouping by it, which ksqlDB
-- refuses; it is carried with LATEST_BY_OFFSET here)
CREATE STREAM page_views (id INT KEY, url STRING, location_id INT) WITH (kafka_topic='page_views', partitions=1, value_format='json');
CREATE TABLE page_view_metrics AS SELECT url, LATEST_BY_OFFSET(location_id) AS location_id, COUNT(*) AS count
  FROM page_views GROUP BY url EMIT CHANGES;
CREATE TABLE page_view_metrics_mountain_view AS SELECT url, count FROM page_view_metrics WHERE location_id = 42 EMIT CHANGES;
INSERT INTO page_views (id, url, location_id) VALUES (1, '/home', 42);
INSERT INTO page_views (id, url, location_id) VALUES (2, '/about', 7);
INSERT INTO page_views (id, url, location_id) VALUES (3, '/home', 42);
ASSERT VALUES page_view_metrics_mountain_view (url, count) VALUES ('/home', 1);
ASSERT VALUES page_view_metrics_mountain_view (url, count) VALUES ('/home', 2);

--@test: a stream from two streams: an impression clicked within one minute, on the same url
CREATE STREAM impressions (user VARCHAR KEY, impression_id BIGINT, url VARCHAR) WITH (kafka_topic='impressions', partitions=1, value_format='json');
CREATE STREAM clicks (user VARCHAR KEY, url VARCHAR) WITH (kafka_topic='clicks', partitions=1, value_format='json');
CREATE STREAM clicked_impressions AS SELECT * FROM impressions i JOIN clicks c WITHIN 1 minute ON i.user = c.user
  WHERE i.url = c.url EMIT CHANGES;
INSERT INTO impressions (rowtime, user, impression_id, url) VALUES (0, 'ann', 1, '/ad');
INSERT INTO impressions (rowtime, user, impression_id, url) VALUES (0, 'bob', 2, '/ad');
INSERT INTO clicks (rowtime, user, url) VALUES (30000, 'ann', '/ad');
INSERT INTO clicks (rowtime, user, url) VALUES (30000, 'bob', '/other');
INSERT INTO clicks (rowtime, user, url) VALUES (90000, 'ann', '/ad');
ASSERT VALUES clicked_impressions (i_user, i_impression_id, i_url, c_user, c_url) VALUES ('ann', 1, '/ad', 'ann', '/ad');

--@test: a SELECT cannot set ROWTIME
--@expected.message: `ROWTIME` is a reserved column name. You cannot use it as an alias for a column.
CREATE STREAM s (id INT KEY, v BIGINT) WITH (kafka_topic='s', partitions=1, value_format='json');
CREATE STREAM out AS SELECT id, v AS ROWTIME FROM s;

--@test: a SELECT cannot set ROWPARTITION
--@expected.message: `ROWPARTITION` is a reserved column name. You cannot use it as an alias for a column.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', partitions=1, value_format='json');
CREATE STREAM out AS SELECT id, v AS ROWPARTITION FROM s;

--@test: ROWTIME is the timestamp of the record written, from the record read
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', partitions=1, value_format='json');
CREATE STREAM out AS SELECT id, v, ROWTIME AS t, ROWOFFSET AS o FROM s;
INSERT INTO s (rowtime, id, v) VALUES (5000, 1, 1);
INSERT INTO s (rowtime, id, v) VALUES (6000, 2, 2);
ASSERT VALUES out (rowtime, id, v, t, o) VALUES (5000, 1, 1, 5000, 0);
ASSERT VALUES out (rowtime, id, v, t, o) VALUES (6000, 2, 2, 6000, 1);
