--@test: doubles are filtered
CREATE STREAM input (id INT KEY, v INT) WITH (kafka_topic='input', value_format='JSON');
CREATE STREAM output AS SELECT id, v FROM input WHERE v > 10;
INSERT INTO input (id, v) VALUES (1, 5);
INSERT INTO input (id, v) VALUES (2, 50);
ASSERT VALUES output (id, v) VALUES (2, 50);

--@test: unknown columns are rejected
--@expected.message: SELECT column 'NOPE' cannot be resolved
CREATE STREAM s (id INT KEY) WITH (kafka_topic='s', value_format='JSON');
CREATE STREAM t AS SELECT id, nope FROM s;

--@test: a wrong assertion fails
CREATE STREAM input (id INT KEY, v INT) WITH (kafka_topic='input', value_format='JSON');
CREATE STREAM output AS SELECT id, v FROM input;
INSERT INTO input (id, v) VALUES (1, 5);
ASSERT VALUES output (id, v) VALUES (1, 6);
