-- from developer-guide/ksqldb-reference/select-push-query.md
-- A push query's clauses, run as persistent queries over the same rows (the REST form, with
-- LIMIT, is in select-push-query.json).

--@test: ROWTIME between two epoch values, as in the page's first example
CREATE STREAM pageviews (id INT KEY, page STRING) WITH (kafka_topic='p', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM pageviews WHERE ROWTIME >= 1510923225000 AND ROWTIME <= 1510923228000 EMIT CHANGES;
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510923224999, 1, 'before');
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510923225000, 2, 'first');
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510923228000, 3, 'last');
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510923228001, 4, 'after');
ASSERT VALUES out (id, page) VALUES (2, 'first');
ASSERT VALUES out (id, page) VALUES (3, 'last');

--@test: ROWTIME compared with ISO-8601 strings, the same bounds in UTC
-- (the page writes them as 04:53:45, which is the same instant in UTC-8; without a zone a
-- datestring is UTC, as the page says further down)
CREATE STREAM pageviews (id INT KEY, page STRING) WITH (kafka_topic='p', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM pageviews WHERE ROWTIME >= '2017-11-17T12:53:45' AND ROWTIME <= '2017-11-17T12:53:48' EMIT CHANGES;
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510923224999, 1, 'before');
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510923225000, 2, 'first');
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510923228000, 3, 'last');
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510923228001, 4, 'after');
ASSERT VALUES out (id, page) VALUES (2, 'first');
ASSERT VALUES out (id, page) VALUES (3, 'last');

--@test: an inexact datestring is padded with zeros
CREATE STREAM pageviews (id INT KEY, page STRING) WITH (kafka_topic='p', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM pageviews WHERE ROWTIME = '2019-07-30T11:00';
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1564484400001, 1, 'a millisecond late');
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1564484400000, 2, 'on the hour');
ASSERT VALUES out (id, page) VALUES (2, 'on the hour');

--@test: a datestring with a zone is converted, one without is UTC
CREATE STREAM pageviews (id INT KEY, page STRING) WITH (kafka_topic='p', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM pageviews WHERE ROWTIME = '2017-11-17T04:53:45-0330';
CREATE STREAM utc AS SELECT * FROM pageviews WHERE ROWTIME = '2017-11-17T08:23:45';
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510894425000, 1, 'utc 04:53:45');
INSERT INTO pageviews (ROWTIME, id, page) VALUES (1510907025000, 2, 'newfoundland 04:53:45');
ASSERT VALUES out (id, page) VALUES (2, 'newfoundland 04:53:45');
ASSERT VALUES utc (id, page) VALUES (2, 'newfoundland 04:53:45');

--@test: WHERE may use ROWPARTITION and ROWOFFSET
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s WHERE ROWPARTITION = 0 AND ROWOFFSET >= 1;
INSERT INTO s (id, v) VALUES (1, 1);
INSERT INTO s (id, v) VALUES (2, 2);
ASSERT VALUES out (id, v) VALUES (2, 2);

--@test: a join's sources each have their pseudo columns, named through the source's alias
-- (the page: the WHERE clause and the projection can refer to any column of a stream, pseudo
-- columns included; in a join they belong to a source, and are named ALIAS_COLUMN in the result)
CREATE STREAM a (id INT KEY, x INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);
CREATE STREAM b (id INT KEY, y INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);
CREATE STREAM ab AS SELECT a.id, x, y, a.ROWOFFSET, b.ROWOFFSET, b.ROWPARTITION, b.ROWTIME FROM a
  JOIN b WITHIN 1 MINUTE ON a.id = b.id WHERE b.ROWOFFSET > 0;
INSERT INTO a (ROWTIME, id, x) VALUES (1000, 1, 10);
INSERT INTO b (ROWTIME, id, y) VALUES (2000, 1, 20);
INSERT INTO b (ROWTIME, id, y) VALUES (3000, 1, 30);
ASSERT VALUES ab (a_id, x, y, a_rowoffset, b_rowoffset, b_rowpartition, b_rowtime) VALUES (1, 10, 30, 0, 1, 0, 3000);

--@test: the page's tumbling, hopping and session examples with window bounds in the projection
CREATE STREAM orders (id INT KEY, item_id STRING, quantity INT) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE TABLE tumbling AS SELECT windowstart AS ws, windowend AS we, item_id, SUM(quantity) AS total
  FROM orders WINDOW TUMBLING (SIZE 20 SECONDS) GROUP BY item_id EMIT CHANGES;
CREATE TABLE hopping AS SELECT windowstart AS ws, windowend AS we, item_id, SUM(quantity) AS total
  FROM orders WINDOW HOPPING (SIZE 20 SECONDS, ADVANCE BY 5 SECONDS) GROUP BY item_id EMIT CHANGES;
CREATE TABLE session AS SELECT windowstart AS ws, windowend AS we, item_id, SUM(quantity) AS total
  FROM orders WINDOW SESSION (20 SECONDS) GROUP BY item_id EMIT CHANGES;
INSERT INTO orders (ROWTIME, id, item_id, quantity) VALUES (21000, 1, 'i', 2);
INSERT INTO orders (ROWTIME, id, item_id, quantity) VALUES (30000, 2, 'i', 3);
ASSERT VALUES tumbling (item_id, ws, we, total) VALUES ('i', 20000, 40000, 2);
ASSERT VALUES tumbling (item_id, ws, we, total) VALUES ('i', 20000, 40000, 5);
ASSERT VALUES hopping (item_id, ws, we, total) VALUES ('i', 5000, 25000, 2);
ASSERT VALUES hopping (item_id, ws, we, total) VALUES ('i', 10000, 30000, 2);
ASSERT VALUES hopping (item_id, ws, we, total) VALUES ('i', 15000, 35000, 2);
ASSERT VALUES hopping (item_id, ws, we, total) VALUES ('i', 20000, 40000, 2);
ASSERT VALUES hopping (item_id, ws, we, total) VALUES ('i', 15000, 35000, 5);
ASSERT VALUES hopping (item_id, ws, we, total) VALUES ('i', 20000, 40000, 5);
ASSERT VALUES hopping (item_id, ws, we, total) VALUES ('i', 25000, 45000, 3);
ASSERT VALUES hopping (item_id, ws, we, total) VALUES ('i', 30000, 50000, 3);
ASSERT VALUES session (item_id, ws, we, total) VALUES ('i', 21000, 21000, 2);
ASSERT NULL VALUES session (item_id, WINDOWSTART, WINDOWEND) KEY ('i', 21000, 21000);
ASSERT VALUES session (item_id, ws, we, total) VALUES ('i', 21000, 30000, 5);

--@test: the page's stream-stream-stream join: orders paid within 1 hour, shipped within 2 hours of payment
CREATE STREAM orders (id INT KEY, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
CREATE STREAM payments (id INT KEY, paid INT) WITH (kafka_topic='payments', value_format='JSON', partitions=1);
CREATE STREAM shipments (id INT KEY, warehouse STRING) WITH (kafka_topic='shipments', value_format='JSON', partitions=1);
CREATE STREAM shipped_orders AS SELECT o.id AS order_id, amount, paid, warehouse
  FROM orders o
  INNER JOIN payments p WITHIN 1 HOURS ON p.id = o.id
  INNER JOIN shipments s WITHIN 2 HOURS ON s.id = o.id;
INSERT INTO orders (ROWTIME, id, amount) VALUES (0, 1, 10);
INSERT INTO payments (ROWTIME, id, paid) VALUES (1800000, 1, 10);
INSERT INTO shipments (ROWTIME, id, warehouse) VALUES (3600000, 1, 'w');
INSERT INTO orders (ROWTIME, id, amount) VALUES (0, 2, 20);
INSERT INTO payments (ROWTIME, id, paid) VALUES (7200001, 2, 20);
ASSERT VALUES shipped_orders (order_id, amount, paid, warehouse) VALUES (1, 10, 10, 'w');

--@test: EMIT FINAL is only for windowed aggregations
--@expected.message: EMIT FINAL is only supported for windowed aggregations.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s GROUP BY id EMIT FINAL;
