-- from concepts/events.md
-- An event is a key (its identity) and a value, with the time it was true; every row has the
-- pseudo columns ROWTIME, ROWPARTITION and ROWOFFSET, windowed sources WINDOWSTART and WINDOWEND.

--@test: columns come from the key or the value, and ROWTIME is the event's time
CREATE STREAM sales (item STRING KEY, amount INT) WITH (kafka_topic='sales', value_format='JSON', partitions=1);
CREATE STREAM seen AS SELECT item, amount, ROWTIME AS at, ROWPARTITION AS part, ROWOFFSET AS pos FROM sales;
INSERT INTO sales (ROWTIME, item, amount) VALUES (1000, 'pen', 3);
INSERT INTO sales (ROWTIME, item, amount) VALUES (2000, 'ink', 5);
ASSERT VALUES seen (item, amount, at, part, pos) VALUES ('pen', 3, 1000, 0, 0);
ASSERT VALUES seen (item, amount, at, part, pos) VALUES ('ink', 5, 2000, 0, 1);

--@test: events with the same key represent the same identity, whatever their values
CREATE STREAM sales (item STRING KEY, amount INT) WITH (kafka_topic='sales', value_format='JSON', partitions=1);
CREATE TABLE per_item AS SELECT item, COUNT(*) AS n, SUM(amount) AS total FROM sales GROUP BY item;
INSERT INTO sales (item, amount) VALUES ('pen', 3);
INSERT INTO sales (item, amount) VALUES ('pen', 4);
ASSERT VALUES per_item (item, n, total) VALUES ('pen', 1, 3);
ASSERT VALUES per_item (item, n, total) VALUES ('pen', 2, 7);

--@test: rows of a windowed source have WINDOWSTART and WINDOWEND
CREATE STREAM sales (item STRING KEY, amount INT) WITH (kafka_topic='sales', value_format='JSON', partitions=1);
CREATE TABLE per_minute WITH (kafka_topic='per_minute') AS SELECT item, COUNT(*) AS n FROM sales
  WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY item;
CREATE STREAM windows (item STRING KEY, n BIGINT) WITH (kafka_topic='per_minute', value_format='JSON',
  window_type='TUMBLING', window_size='1 MINUTE');
CREATE STREAM bounds AS SELECT item, WINDOWSTART AS ws, WINDOWEND AS we, n FROM windows;
INSERT INTO sales (ROWTIME, item, amount) VALUES (61000, 'pen', 3);
ASSERT VALUES bounds (item, ws, we, n) VALUES ('pen', 60000, 120000, 1);
