-- from concepts/time-and-windows-in-ksqldb-queries.md
-- Windows, grace periods, late records and the timestamps of output records.

--@test: output records keep the timestamp of the input record, EXPLODE's too
CREATE STREAM s (id INT KEY, xs ARRAY<INT>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, EXPLODE(xs) AS x FROM s;
INSERT INTO s (ROWTIME, id, xs) VALUES (1234, 1, ARRAY[1, 2]);
ASSERT VALUES out (ROWTIME, id, x) VALUES (1234, 1, 1);
ASSERT VALUES out (ROWTIME, id, x) VALUES (1234, 1, 2);

--@test: a stream-stream join's output has the larger of its inputs' timestamps
CREATE STREAM new_orders (order_id INT KEY, total_amount DOUBLE) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE STREAM shipments (order_id INT KEY, warehouse STRING) WITH (kafka_topic='sh', value_format='JSON', partitions=1);
CREATE STREAM shipped AS SELECT o.order_id, o.total_amount, s.warehouse FROM new_orders o
  INNER JOIN shipments s WITHIN 1 HOURS ON o.order_id = s.order_id EMIT CHANGES;
INSERT INTO new_orders (ROWTIME, order_id, total_amount) VALUES (1000, 1, 9.5);
INSERT INTO shipments (ROWTIME, order_id, warehouse) VALUES (5000, 1, 'w1');
INSERT INTO shipments (ROWTIME, order_id, warehouse) VALUES (3600000 + 2000, 1, 'late');
ASSERT VALUES shipped (ROWTIME, o_order_id, total_amount, warehouse) VALUES (5000, 1, 9.5, 'w1');

--@test: a late record within the grace period still joins, and rows meet in timestamp order
-- (the docs: records within the grace period are processed; the order of the matches is that of
-- ksqlDB's window store, whose fetch returns a key's rows by timestamp)
CREATE STREAM l (id INT KEY, v STRING) WITH (kafka_topic='l', value_format='JSON', partitions=1);
CREATE STREAM r (id INT KEY, w STRING) WITH (kafka_topic='r', value_format='JSON', partitions=1);
CREATE STREAM j AS SELECT l.id, v, w FROM l JOIN r WITHIN 10 SECONDS GRACE PERIOD 5 SECONDS ON l.id = r.id;
INSERT INTO l (ROWTIME, id, v) VALUES (10000, 1, 'on time');
INSERT INTO l (ROWTIME, id, v) VALUES (8000, 1, 'late');
INSERT INTO r (ROWTIME, id, w) VALUES (12000, 1, 'x');
ASSERT VALUES j (ROWTIME, l_id, v, w) VALUES (12000, 1, 'late', 'x');
ASSERT VALUES j (ROWTIME, l_id, v, w) VALUES (12000, 1, 'on time', 'x');

--@test: a stream-table join's output has the stream record's timestamp
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t (id INT PRIMARY KEY, w STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT s.id, v, w FROM s JOIN t ON s.id = t.id;
INSERT INTO t (ROWTIME, id, w) VALUES (9000, 1, 'x');
INSERT INTO s (ROWTIME, id, v) VALUES (10000, 1, 5);
ASSERT VALUES out (ROWTIME, s_id, v, w) VALUES (10000, 1, 5, 'x');

--@test: a table-table join's output has the larger timestamp
CREATE TABLE a (id INT PRIMARY KEY, x INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);
CREATE TABLE b (id INT PRIMARY KEY, y INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);
CREATE TABLE out AS SELECT a.id, x, y FROM a JOIN b ON a.id = b.id;
INSERT INTO b (ROWTIME, id, y) VALUES (7000, 1, 2);
INSERT INTO a (ROWTIME, id, x) VALUES (3000, 1, 1);
ASSERT VALUES out (ROWTIME, a_id, x, y) VALUES (7000, 1, 1, 2);

--@test: an aggregate's output has the largest timestamp seen for its key
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s GROUP BY id;
INSERT INTO s (ROWTIME, id, v) VALUES (5000, 1, 1);
INSERT INTO s (ROWTIME, id, v) VALUES (2000, 1, 1);
ASSERT VALUES t (ROWTIME, id, n) VALUES (5000, 1, 1);
ASSERT VALUES t (ROWTIME, id, n) VALUES (5000, 1, 2);

--@test: tumbling windows are aligned to the epoch, start inclusive and end exclusive
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 5000 MILLISECONDS) GROUP BY id;
INSERT INTO s (ROWTIME, id, v) VALUES (1452, 1, 1);
INSERT INTO s (ROWTIME, id, v) VALUES (4999, 1, 1);
INSERT INTO s (ROWTIME, id, v) VALUES (5000, 1, 1);
ASSERT VALUES t (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 0, 5000, 1);
ASSERT VALUES t (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 0, 5000, 2);
ASSERT VALUES t (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 5000, 10000, 1);

--@test: a hopping window of 30 s advancing by 10 s puts a record in three windows
CREATE STREAM pageviews (regionid STRING KEY, gender STRING) WITH (kafka_topic='p', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT regionid, COUNT(*) AS n FROM pageviews
  WINDOW HOPPING (SIZE 30 SECONDS, ADVANCE BY 10 SECONDS)
  WHERE UCASE(gender) = 'FEMALE' AND LCASE(regionid) LIKE '%_6' GROUP BY regionid EMIT CHANGES;
INSERT INTO pageviews (ROWTIME, regionid, gender) VALUES (25000, 'Region_6', 'female');
INSERT INTO pageviews (ROWTIME, regionid, gender) VALUES (25000, 'Region_6', 'male');
INSERT INTO pageviews (ROWTIME, regionid, gender) VALUES (25000, 'Region_7', 'female');
ASSERT VALUES t (regionid, WINDOWSTART, WINDOWEND, n) VALUES ('Region_6', 0, 30000, 1);
ASSERT VALUES t (regionid, WINDOWSTART, WINDOWEND, n) VALUES ('Region_6', 10000, 40000, 1);
ASSERT VALUES t (regionid, WINDOWSTART, WINDOWEND, n) VALUES ('Region_6', 20000, 50000, 1);

--@test: HAVING on a tumbling window's count, as in the page's fraud example
CREATE STREAM authorization_attempts (card_number STRING KEY, amount INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT card_number, COUNT(*) AS attempts FROM authorization_attempts
  WINDOW TUMBLING (SIZE 5 SECONDS) GROUP BY card_number HAVING COUNT(*) > 3 EMIT CHANGES;
INSERT INTO authorization_attempts (ROWTIME, card_number, amount) VALUES (1000, 'c', 1);
INSERT INTO authorization_attempts (ROWTIME, card_number, amount) VALUES (1001, 'c', 1);
INSERT INTO authorization_attempts (ROWTIME, card_number, amount) VALUES (1002, 'c', 1);
INSERT INTO authorization_attempts (ROWTIME, card_number, amount) VALUES (1003, 'c', 1);
ASSERT VALUES t (card_number, WINDOWSTART, attempts) VALUES ('c', 0, 4);

--@test: session windows: records within the gap merge, both bounds are record times
CREATE STREAM pageviews (regionid STRING KEY, v INT) WITH (kafka_topic='p', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT regionid, COUNT(*) AS n FROM pageviews WINDOW SESSION (60 SECONDS) GROUP BY regionid EMIT CHANGES;
INSERT INTO pageviews (ROWTIME, regionid, v) VALUES (10000, 'r', 1);
INSERT INTO pageviews (ROWTIME, regionid, v) VALUES (40000, 'r', 1);
INSERT INTO pageviews (ROWTIME, regionid, v) VALUES (200000, 'r', 1);
ASSERT VALUES t (regionid, WINDOWSTART, WINDOWEND, n) VALUES ('r', 10000, 10000, 1);
ASSERT NULL VALUES t (regionid, WINDOWSTART, WINDOWEND) KEY ('r', 10000, 10000);
ASSERT VALUES t (regionid, WINDOWSTART, WINDOWEND, n) VALUES ('r', 10000, 40000, 2);
ASSERT VALUES t (regionid, WINDOWSTART, WINDOWEND, n) VALUES ('r', 200000, 200000, 1);

--@test: an out-of-order record joins the window it belongs to, within the grace period
CREATE STREAM orders (order_zipcode STRING KEY, order_total INT) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT order_zipcode, TOPK(order_total, 5) AS top FROM orders
  WINDOW TUMBLING (SIZE 1 HOUR, GRACE PERIOD 2 HOURS) GROUP BY order_zipcode EMIT CHANGES;
INSERT INTO orders (ROWTIME, order_zipcode, order_total) VALUES (0, 'z', 1);
INSERT INTO orders (ROWTIME, order_zipcode, order_total) VALUES (7000000, 'z', 2);
INSERT INTO orders (ROWTIME, order_zipcode, order_total) VALUES (1000, 'z', 3);
INSERT INTO orders (ROWTIME, order_zipcode, order_total) VALUES (10900000, 'z', 4);
INSERT INTO orders (ROWTIME, order_zipcode, order_total) VALUES (2000, 'z', 5);
ASSERT VALUES t (order_zipcode, WINDOWSTART, top) VALUES ('z', 0, ARRAY[1]);
ASSERT VALUES t (order_zipcode, WINDOWSTART, top) VALUES ('z', 3600000, ARRAY[2]);
ASSERT VALUES t (order_zipcode, WINDOWSTART, top) VALUES ('z', 0, ARRAY[3, 1]);
ASSERT VALUES t (order_zipcode, WINDOWSTART, top) VALUES ('z', 10800000, ARRAY[4]);

--@test: WINDOWSTART, WINDOWEND and the largest ROWTIME of a window, as in the page's example
CREATE STREAM orders (order_zipcode STRING KEY, orderid INT) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT order_zipcode, FROM_UNIXTIME(WINDOWSTART) AS window_start,
  FROM_UNIXTIME(WINDOWEND) AS window_end, FROM_UNIXTIME(MAX(ROWTIME)) AS window_emit,
  COUNT(orderid) AS number_of_orders
  FROM orders WINDOW TUMBLING (SIZE 5 MINUTES) GROUP BY order_zipcode EMIT CHANGES;
INSERT INTO orders (ROWTIME, order_zipcode, orderid) VALUES (61000, 'z', 1);
ASSERT VALUES t (order_zipcode, window_start, window_end, window_emit, number_of_orders)
  VALUES ('z', '1970-01-01T00:00:00.000', '1970-01-01T00:05:00.000', '1970-01-01T00:01:01.000', 1);

--@test: EMIT FINAL emits a window once, when its grace period has passed
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 1 SECOND)
  GROUP BY id EMIT FINAL;
INSERT INTO s (ROWTIME, id, v) VALUES (0, 1, 1);
INSERT INTO s (ROWTIME, id, v) VALUES (500, 1, 1);
INSERT INTO s (ROWTIME, id, v) VALUES (1999, 1, 1);
INSERT INTO s (ROWTIME, id, v) VALUES (2000, 1, 1);
ASSERT VALUES t (id, WINDOWSTART, n) VALUES (1, 0, 2);

--@test: a persistent query over a windowed table is refused
--@expected.message: KSQL does not support persistent queries on windowed tables.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY id;
CREATE TABLE later AS SELECT id, n FROM t WHERE WINDOWSTART >= '1970-01-01T01:00:00';
