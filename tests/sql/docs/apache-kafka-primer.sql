-- from concepts/apache-kafka-primer.md
-- A record's key decides its partition (its contents hashed against the number of
-- partitions), so every record of one identity is in one partition, in the order of its
-- offsets; a query that changes the key places the new records by the new key the same way.

--@test: one key's records all go to one partition, at offsets in the order they were appended
CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=4);
CREATE TABLE placed AS SELECT user, COUNT_DISTINCT(ROWPARTITION) AS partitions, COLLECT_LIST(ROWOFFSET) AS offsets,
  COLLECT_LIST(page) AS pages FROM clicks GROUP BY user;
INSERT INTO clicks (user, page) VALUES ('alice', '/a');
INSERT INTO clicks (user, page) VALUES ('alice', '/b');
INSERT INTO clicks (user, page) VALUES ('alice', '/c');
ASSERT VALUES placed (user, partitions, offsets, pages) VALUES ('alice', 1, ARRAY[CAST(0 AS BIGINT)], ARRAY['/a']);
ASSERT VALUES placed (user, partitions, offsets, pages) VALUES ('alice', 1, ARRAY[CAST(0 AS BIGINT), CAST(1 AS BIGINT)], ARRAY['/a', '/b']);
ASSERT VALUES placed (user, partitions, offsets, pages) VALUES ('alice', 1, ARRAY[CAST(0 AS BIGINT), CAST(1 AS BIGINT), CAST(2 AS BIGINT)], ARRAY['/a', '/b', '/c']);

--@test: records given a new key by a query are placed by that key: each page's records in one partition
CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=4);
CREATE STREAM by_page AS SELECT page, user FROM clicks PARTITION BY page;
CREATE TABLE placed AS SELECT page, COUNT_DISTINCT(ROWPARTITION) AS partitions, COUNT(*) AS n FROM by_page GROUP BY page;
INSERT INTO clicks (user, page) VALUES ('alice', '/home');
INSERT INTO clicks (user, page) VALUES ('bob', '/home');
INSERT INTO clicks (user, page) VALUES ('carol', '/home');
ASSERT VALUES placed (page, partitions, n) VALUES ('/home', 1, 1);
ASSERT VALUES placed (page, partitions, n) VALUES ('/home', 1, 2);
ASSERT VALUES placed (page, partitions, n) VALUES ('/home', 1, 3);
