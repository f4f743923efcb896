-- from developer-guide/ksqldb-reference/assert-topic.md
-- ASSERT [NOT EXISTS] TOPIC: existence, PARTITIONS and REPLICAS checked, other properties refused,
-- none checked with NOT EXISTS. Messages as ksqlDB's AssertTopicExecutor words them (the docs
-- say only that an error is returned). A name is upper-cased unless quoted or given as a string.

--@test: a topic that exists, with its partitions and replicas
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='JSON', partitions=3);
ASSERT TOPIC 'orders';
ASSERT TOPIC `orders`;

--@test: a missing topic fails the assertion
--@expected.message: Topic MISSING does not exist
ASSERT TOPIC missing TIMEOUT 0 SECONDS;

--@test: a name given without quotes is upper-cased
--@expected.message: Topic ORDERS does not exist
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
ASSERT TOPIC orders TIMEOUT 0 SECONDS;

--@test: the partitions must match
--@expected.message: Mismatched configuration for topic orders: For config partitions, expected 2 got 3
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='JSON', partitions=3);
ASSERT TOPIC 'orders' WITH (partitions=2) TIMEOUT 0 SECONDS;

--@test: partitions and replicas that match
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='JSON', partitions=3);
ASSERT TOPIC 'orders' WITH (partitions=3, replicas=1);
ASSERT TOPIC 'orders' WITH (PARTITIONS=3);

--@test: only PARTITIONS and REPLICAS can be checked
--@expected.message: Cannot assert unknown topic property: RETENTION
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
ASSERT TOPIC 'orders' WITH (retention=1000) TIMEOUT 0 SECONDS;

--@test: NOT EXISTS holds for a missing topic, whatever the properties
ASSERT NOT EXISTS TOPIC 'nowhere';
ASSERT NOT EXISTS TOPIC 'nowhere' WITH (partitions=5);

--@test: NOT EXISTS fails for a topic that exists
--@expected.message: Topic orders exists
CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
ASSERT NOT EXISTS TOPIC 'orders' TIMEOUT 0 SECONDS;
