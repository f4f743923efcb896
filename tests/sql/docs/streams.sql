-- from concepts/streams.md
-- A stream is append-only (every row stays, in order) and partitioned by key: all rows with the
-- same key reside in the same partition.

--@test: every row appended stays in the stream, in the order appended (one partition), a key's later rows too
CREATE STREAM transfers (sender STRING KEY, receiver STRING, amount INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM copied AS SELECT * FROM transfers;
INSERT INTO transfers (sender, receiver, amount) VALUES ('Alice', 'Bob', 100);
INSERT INTO transfers (sender, receiver, amount) VALUES ('Charlie', 'Bob', 50);
INSERT INTO transfers (sender, receiver, amount) VALUES ('Alice', 'Bob', 20);
ASSERT VALUES copied (sender, receiver, amount) VALUES ('Alice', 'Bob', 100);
ASSERT VALUES copied (sender, receiver, amount) VALUES ('Charlie', 'Bob', 50);
ASSERT VALUES copied (sender, receiver, amount) VALUES ('Alice', 'Bob', 20);
