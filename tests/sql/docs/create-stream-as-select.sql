-- from developer-guide/ksqldb-reference/create-stream-as-select.md
-- The key of the result, the properties a CSAS inherits from its sources, and its examples.

--@test: without PARTITION BY or a join the key is the source's key, renamed by an alias
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM same AS SELECT id, v FROM s;
CREATE STREAM renamed AS SELECT id AS k, v FROM s;
ASSERT STREAM same (id INT KEY, v STRING) WITH (kafka_topic='SAME', value_format='JSON');
ASSERT STREAM renamed (k INT KEY, v STRING) WITH (kafka_topic='RENAMED', value_format='JSON');

--@test: the projection must include the key column
--@expected.message: The query used to build `OUT` must include the key column ID in its projection (eg, SELECT ID...).
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT v FROM s;

--@test: PARTITION BY a column: the key column takes its name, type and contents
CREATE STREAM s (id INT KEY, v STRING, n BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT n, id, v FROM s PARTITION BY n;
INSERT INTO s (id, v, n) VALUES (1, 'a', 10);
ASSERT STREAM out (n BIGINT KEY, id INT, v STRING) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (n, id, v) VALUES (10, 1, 'a');

--@test: PARTITION BY a STRUCT field: the key column is named after the field
CREATE STREAM s (id INT KEY, address STRUCT<city STRING, zip INT>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT address->city, id FROM s PARTITION BY address->city;
INSERT INTO s (id, address) VALUES (1, STRUCT(city := 'Paris', zip := 75001));
ASSERT STREAM out (city STRING KEY, id INT) WITH (kafka_topic='OUT', value_format='JSON');
ASSERT VALUES out (city, id) VALUES ('Paris', 1);

--@test: PARTITION BY another expression: a generated key name unless the projection aliases it
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM generated AS SELECT UCASE(v), id FROM s PARTITION BY UCASE(v);
CREATE STREAM aliased AS SELECT UCASE(v) AS big, id FROM s PARTITION BY UCASE(v);
INSERT INTO s (id, v) VALUES (1, 'a');
ASSERT STREAM generated (KSQL_COL_0 STRING KEY, id INT) WITH (kafka_topic='GENERATED', value_format='JSON');
ASSERT STREAM aliased (big STRING KEY, id INT) WITH (kafka_topic='ALIASED', value_format='JSON');
ASSERT VALUES aliased (big, id) VALUES ('A', 1);

--@test: PARTITION BY several expressions makes as many key columns
CREATE STREAM s (id INT KEY, a STRING, b INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out WITH (key_format='JSON') AS SELECT a, b, id FROM s PARTITION BY a, b;
INSERT INTO s (id, a, b) VALUES (1, 'x', 2);
ASSERT STREAM out (a STRING KEY, b INT KEY, id INT) WITH (kafka_topic='OUT', key_format='JSON', value_format='JSON');
ASSERT VALUES out (a, b, id) VALUES ('x', 2, 1);

--@test: PARTITION BY applies after WHERE and before SELECT
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT v * 2 AS doubled, id FROM s WHERE v > 1 PARTITION BY v * 2;
INSERT INTO s (id, v) VALUES (1, 1);
INSERT INTO s (id, v) VALUES (2, 3);
ASSERT VALUES out (doubled, id) VALUES (6, 2);

--@test: a stream-table join's key is the join column, its formats and partitions the left source's
CREATE STREAM clickstream (userid INT KEY, page STRING) WITH (kafka_topic='c', key_format='KAFKA', value_format='JSON', partitions=2);
CREATE TABLE users (id INT PRIMARY KEY, name STRING, classification STRING, level INT)
  WITH (kafka_topic='u', key_format='KAFKA', value_format='DELIMITED', partitions=2);
CREATE STREAM enriched AS SELECT cs.*, u.name, u.classification, u.level FROM clickstream cs
  JOIN users u ON u.id = cs.userid EMIT CHANGES;
INSERT INTO users (id, name, classification, level) VALUES (1, 'ann', 'gold', 3);
INSERT INTO clickstream (userid, page) VALUES (1, 'home');
ASSERT STREAM enriched (cs_userid INT KEY, cs_page STRING, name STRING, classification STRING, level INT)
  WITH (kafka_topic='ENRICHED', key_format='KAFKA', value_format='JSON');
ASSERT VALUES enriched (cs_userid, cs_page, name, classification, level) VALUES (1, 'home', 'ann', 'gold', 3);

--@test: formats are inherited from the source unless set
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', key_format='KAFKA', value_format='DELIMITED', partitions=1);
CREATE STREAM same AS SELECT * FROM s;
CREATE STREAM changed WITH (value_format='JSON') AS SELECT * FROM s;
CREATE STREAM both_ WITH (format='JSON') AS SELECT * FROM s;
ASSERT STREAM same (id INT KEY, v STRING) WITH (kafka_topic='SAME', key_format='KAFKA', value_format='DELIMITED');
ASSERT STREAM changed (id INT KEY, v STRING) WITH (kafka_topic='CHANGED', key_format='KAFKA', value_format='JSON');
ASSERT STREAM both_ (id INT KEY, v STRING) WITH (kafka_topic='BOTH_', key_format='JSON', value_format='JSON');

--@test: KAFKA_TOPIC names the sink topic
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out WITH (kafka_topic='my_topic') AS SELECT * FROM s;
INSERT INTO s (id, v) VALUES (1, 'a');
ASSERT STREAM out (id INT KEY, v STRING) WITH (kafka_topic='my_topic', value_format='JSON');
ASSERT VALUES out (id, v) VALUES (1, 'a');

--@test: FORMAT and VALUE_FORMAT together are refused
--@expected.message: Cannot supply both 'VALUE_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats.
CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out WITH (format='JSON', value_format='JSON') AS SELECT * FROM s;

--@test: TIMESTAMP sets the timestamp of the records written, not the windows of the query itself
CREATE STREAM bar (id INT KEY, t2 BIGINT) WITH (kafka_topic='bar', value_format='JSON', partitions=1);
CREATE STREAM foo WITH (TIMESTAMP='t2') AS SELECT * FROM bar EMIT CHANGES;
CREATE TABLE counted AS SELECT id, COUNT(*) AS n FROM foo WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY id;
INSERT INTO bar (ROWTIME, id, t2) VALUES (1000, 1, 25000);
ASSERT VALUES foo (ROWTIME, id, t2) VALUES (25000, 1, 25000);
ASSERT VALUES counted (id, WINDOWSTART, n) VALUES (1, 20000, 1);

--@test: WRAP_SINGLE_VALUE false writes an anonymous value
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM y WITH (WRAP_SINGLE_VALUE=false) AS SELECT id, v FROM s;
CREATE STREAM raw (v STRING) WITH (kafka_topic='Y', format='KAFKA');
CREATE STREAM out AS SELECT * FROM raw;
INSERT INTO s (id, v) VALUES (1, 5);
ASSERT VALUES out (v) VALUES ('5');

--@test: CREATE OR REPLACE keeps the query going with a new projection
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT id, v FROM s;
INSERT INTO s (id, v) VALUES (1, 1);
CREATE OR REPLACE STREAM out AS SELECT id, v, v * 10 AS w FROM s;
INSERT INTO s (id, v) VALUES (2, 2);
ASSERT VALUES out (id, v) VALUES (1, 1);
ASSERT VALUES out (id, v, w) VALUES (2, 2, 20);

--@test: a stream-stream join needs a WITHIN clause
--@expected.message: Stream-Stream joins must have a WITHIN clause specified. None was provided.
CREATE STREAM a (id INT KEY, x INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);
CREATE STREAM b (id INT KEY, y INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT a.id, x, y FROM a JOIN b ON a.id = b.id;

--@test: a stream-stream join with WITHIN before and after
CREATE STREAM a (id INT KEY, x INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);
CREATE STREAM b (id INT KEY, y INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT a.id, x, y FROM a JOIN b WITHIN (1 SECOND, 5 SECONDS) GRACE PERIOD 10 SECONDS ON a.id = b.id;
INSERT INTO a (ROWTIME, id, x) VALUES (10000, 1, 1);
INSERT INTO b (ROWTIME, id, y) VALUES (8500, 1, 2);
INSERT INTO b (ROWTIME, id, y) VALUES (9500, 1, 3);
INSERT INTO b (ROWTIME, id, y) VALUES (15000, 1, 4);
INSERT INTO b (ROWTIME, id, y) VALUES (15001, 1, 5);
ASSERT VALUES out (ROWTIME, a_id, x, y) VALUES (10000, 1, 1, 3);
ASSERT VALUES out (ROWTIME, a_id, x, y) VALUES (15000, 1, 1, 4);

--@test: a stream joined to a table on a column that is not the table's key is refused
--@expected.message: Invalid join condition: stream-table joins require to join on the table's primary key. Got S.V = T.W.
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t (id INT PRIMARY KEY, w INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
CREATE STREAM out AS SELECT s.id, v FROM s JOIN t ON s.v = t.w;
