-- from developer-guide/ksqldb-reference/create-table-as-select.md
-- The primary key of the result, windowed aggregations, and the table's properties.

--@test: GROUP BY a column: the primary key takes its name, type and contents
CREATE STREAM s (id INT KEY, region STRING, amount INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT region, SUM(amount) AS total FROM s GROUP BY region;
INSERT INTO s (id, region, amount) VALUES (1, 'eu', 5);
ASSERT TABLE t (region STRING PRIMARY KEY, total INT) WITH (kafka_topic='T', value_format='JSON');
ASSERT VALUES t (region, total) VALUES ('eu', 5);

--@test: GROUP BY a STRUCT field: the primary key is named after the field
CREATE STREAM s (id INT KEY, address STRUCT<city STRING>) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT address->city, COUNT(*) AS n FROM s GROUP BY address->city;
INSERT INTO s (id, address) VALUES (1, STRUCT(city := 'Oslo'));
ASSERT TABLE t (city STRING PRIMARY KEY, n BIGINT) WITH (kafka_topic='T', value_format='JSON');
ASSERT VALUES t (city, n) VALUES ('Oslo', 1);

--@test: GROUP BY another expression: a generated key name unless aliased
CREATE STREAM s (id INT KEY, name STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE generated AS SELECT UCASE(name), COUNT(*) AS n FROM s GROUP BY UCASE(name);
CREATE TABLE aliased AS SELECT UCASE(name) AS big, COUNT(*) AS n FROM s GROUP BY UCASE(name);
INSERT INTO s (id, name) VALUES (1, 'a');
ASSERT TABLE generated (KSQL_COL_0 STRING PRIMARY KEY, n BIGINT) WITH (kafka_topic='GENERATED', value_format='JSON');
ASSERT TABLE aliased (big STRING PRIMARY KEY, n BIGINT) WITH (kafka_topic='ALIASED', value_format='JSON');
ASSERT VALUES aliased (big, n) VALUES ('A', 1);

--@test: GROUP BY several expressions makes as many primary key columns
CREATE STREAM s (id INT KEY, a STRING, b INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t WITH (key_format='JSON') AS SELECT a, b, COUNT(*) AS n FROM s GROUP BY a, b;
INSERT INTO s (id, a, b) VALUES (1, 'x', 2);
INSERT INTO s (id, a, b) VALUES (2, 'x', 2);
ASSERT TABLE t (a STRING PRIMARY KEY, b INT PRIMARY KEY, n BIGINT) WITH (kafka_topic='T', key_format='JSON', value_format='JSON');
ASSERT VALUES t (a, b, n) VALUES ('x', 2, 1);
ASSERT VALUES t (a, b, n) VALUES ('x', 2, 2);

--@test: the projection must include the grouping expression
--@expected.message: The query used to build `T` must include the grouping expression REGION in its projection (eg, SELECT REGION...).
CREATE STREAM s (id INT KEY, region STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT COUNT(*) AS n FROM s GROUP BY region;

--@test: a SELECT column that is neither grouped nor aggregated is refused
--@expected.message: Non-aggregate SELECT expression(s) not part of GROUP BY: ID
CREATE STREAM s (id INT KEY, region STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT region, id, COUNT(*) AS n FROM s GROUP BY region;

--@test: without GROUP BY or a join the key is the source table's primary key, renamed by an alias
CREATE TABLE u (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='u', value_format='JSON', partitions=1);
CREATE TABLE same AS SELECT id, name FROM u;
CREATE TABLE renamed AS SELECT id AS user_id, name FROM u;
ASSERT TABLE same (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='SAME', value_format='JSON');
ASSERT TABLE renamed (user_id INT PRIMARY KEY, name STRING) WITH (kafka_topic='RENAMED', value_format='JSON');

--@test: a table-table join on the primary keys
CREATE TABLE l (id INT PRIMARY KEY, a STRING) WITH (kafka_topic='l', value_format='JSON', partitions=1);
CREATE TABLE r (id INT PRIMARY KEY, b STRING) WITH (kafka_topic='r', value_format='JSON', partitions=1);
CREATE TABLE j AS SELECT l.id, a, b FROM l JOIN r ON l.id = r.id;
INSERT INTO l (id, a) VALUES (1, 'x');
INSERT INTO r (id, b) VALUES (1, 'y');
INSERT INTO l (id, a) VALUES (1, 'z');
ASSERT VALUES j (l_id, a, b) VALUES (1, 'x', 'y');
ASSERT VALUES j (l_id, a, b) VALUES (1, 'z', 'y');

--@test: a table joined to a table on another column is a foreign-key join
CREATE TABLE orders (id INT PRIMARY KEY, customer INT, total INT) WITH (kafka_topic='o', value_format='JSON', partitions=1);
CREATE TABLE customers (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='c', value_format='JSON', partitions=1);
CREATE TABLE j AS SELECT o.id, total, name FROM orders o JOIN customers c ON o.customer = c.id;
INSERT INTO customers (id, name) VALUES (7, 'ann');
INSERT INTO orders (id, customer, total) VALUES (1, 7, 10);
ASSERT VALUES j (o_id, total, name) VALUES (1, 10, 'ann');

--@test: WINDOW needs a stream source (ksqlDB's text)
--@expected.message: Windowing not supported for table aggregations.
CREATE TABLE u (id INT PRIMARY KEY, g STRING) WITH (kafka_topic='u', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT g, COUNT(*) AS n FROM u WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY g;

--@test: a windowed aggregation's key holds the window bounds
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY id;
INSERT INTO s (ROWTIME, id, v) VALUES (90000, 1, 1);
ASSERT TABLE t (id INT PRIMARY KEY, n BIGINT) WITH (kafka_topic='T', value_format='JSON', window_type='TUMBLING', window_size='60000');
ASSERT VALUES t (id, WINDOWSTART, WINDOWEND, n) VALUES (1, 60000, 120000, 1);

--@test: a table over a table passes updates and deletes on
CREATE TABLE u (id INT PRIMARY KEY, v INT) WITH (kafka_topic='u', key_format='KAFKA', value_format='JSON', partitions=1);
CREATE STREAM raw (id INT KEY, v STRING) WITH (kafka_topic='u', format='KAFKA');
CREATE TABLE t AS SELECT id, v * 2 AS doubled FROM u;
INSERT INTO u (id, v) VALUES (1, 1);
INSERT INTO raw (id, v) VALUES (1, NULL);
ASSERT VALUES t (id, doubled) VALUES (1, 2);
ASSERT NULL VALUES t (id) KEY (1);

--@test: a row leaving the WHERE of a table query is deleted from the result
CREATE TABLE u (id INT PRIMARY KEY, v INT) WITH (kafka_topic='u', value_format='JSON', partitions=1);
CREATE TABLE t AS SELECT id, v FROM u WHERE v > 0;
INSERT INTO u (id, v) VALUES (1, 5);
INSERT INTO u (id, v) VALUES (1, -1);
ASSERT VALUES t (id, v) VALUES (1, 5);
ASSERT NULL VALUES t (id) KEY (1);

--@test: PARTITIONS sets the sink topic's partitions, else the source's are used
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=3);
CREATE TABLE t WITH (partitions=2) AS SELECT id, COUNT(*) AS n FROM s GROUP BY id;
CREATE TABLE t2 AS SELECT id, COUNT(*) AS n FROM s GROUP BY id;
ASSERT TABLE t (id INT PRIMARY KEY, n BIGINT) WITH (kafka_topic='T', value_format='JSON', partitions=2);
ASSERT TABLE t2 (id INT PRIMARY KEY, n BIGINT) WITH (kafka_topic='T2', value_format='JSON', partitions=3);
