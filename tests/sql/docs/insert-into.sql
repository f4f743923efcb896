-- from developer-guide/ksqldb-reference/insert-into.md
-- A query writing into an existing stream: its schema and key must match the stream's.

--@test: two queries write into one stream
CREATE STREAM a (id INT KEY, v STRING) WITH (kafka_topic='a', value_format='JSON', partitions=1);
CREATE STREAM b (id INT KEY, v STRING) WITH (kafka_topic='b', value_format='JSON', partitions=1);
CREATE STREAM merged AS SELECT * FROM a;
INSERT INTO merged SELECT * FROM b;
INSERT INTO a (id, v) VALUES (1, 'from a');
INSERT INTO b (id, v) VALUES (2, 'from b');
ASSERT VALUES merged (id, v) VALUES (1, 'from a');
ASSERT VALUES merged (id, v) VALUES (2, 'from b');

--@test: PARTITION BY applies after WHERE and before SELECT, and must give the stream's key
CREATE STREAM target (v STRING KEY, id INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM b (id INT KEY, v STRING) WITH (kafka_topic='b', value_format='JSON', partitions=1);
INSERT INTO target SELECT v, id FROM b WHERE id > 1 PARTITION BY v;
INSERT INTO b (id, v) VALUES (1, 'x');
INSERT INTO b (id, v) VALUES (2, 'y');
ASSERT VALUES target (v, id) VALUES ('y', 2);

--@test: a query whose columns differ from the stream's is refused
--@expected.message: Incompatible schema between results and sink.
CREATE STREAM target (id INT KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM b (id INT KEY, w INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);
INSERT INTO target SELECT * FROM b;

--@test: INSERT INTO a table is refused
--@expected.message: INSERT INTO can only be used to insert into a stream. T is a table.
CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM b (id INT KEY, v STRING) WITH (kafka_topic='b', value_format='JSON', partitions=1);
INSERT INTO t SELECT * FROM b;

--@test: INSERT INTO from a table is refused
--@expected.message: Incompatible data sink and query result. Data sink (TARGET) type is STREAM but select query result is TABLE.
CREATE STREAM target (id INT KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE TABLE src (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='src', value_format='JSON', partitions=1);
INSERT INTO target SELECT * FROM src;

--@test: INSERT INTO with a join
CREATE STREAM target (id INT KEY, v STRING, name STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM b (id INT KEY, v STRING) WITH (kafka_topic='b', value_format='JSON', partitions=1);
CREATE TABLE u (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='u', value_format='JSON', partitions=1);
INSERT INTO target SELECT b.id AS id, v, name FROM b JOIN u ON b.id = u.id;
INSERT INTO u (id, name) VALUES (1, 'ann');
INSERT INTO b (id, v) VALUES (1, 'x');
ASSERT VALUES target (id, v, name) VALUES (1, 'x', 'ann');
