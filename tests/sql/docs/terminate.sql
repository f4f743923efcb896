-- from developer-guide/ksqldb-reference/terminate.md
-- A terminated persistent query stops writing; TERMINATE ALL stops every one.

--@test: a terminated query writes nothing more, and its sink can then be dropped
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
INSERT INTO s (id, v) VALUES (1, 1);
TERMINATE CSAS_OUT_1;
INSERT INTO s (id, v) VALUES (2, 2);
SET 'auto.offset.reset'='earliest';  -- later reads all that out holds
CREATE STREAM later AS SELECT * FROM out;
INSERT INTO s (id, v) VALUES (3, 3);
ASSERT VALUES out (id, v) VALUES (1, 1);
ASSERT VALUES later (id, v) VALUES (1, 1);
DROP STREAM later;
DROP STREAM out;

--@test: a source with a query writing to it can't be dropped until the query is terminated
--@expected.message: Cannot drop OUT.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT * FROM s;
CREATE STREAM again AS SELECT * FROM out;
DROP STREAM out;

--@test: terminating a query that does not exist fails
--@expected.message: Unknown queryId: CSAS_NOPE_9
TERMINATE CSAS_NOPE_9;
