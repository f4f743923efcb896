"""The engine on a real Kafka broker, seen from outside as Kafka clients see it: records that
other producers wrote are read, output lands where Java producers would put it, and offsets and
transactions are Kafka's own."""
from __future__ import annotations

import json

import pytest

from ksql.engine import KsqlEngine
from ksql.errors import KsqlError
from ksql.runtime.log.murmur2 import partitions_for

from conftest import wait_for


@pytest.fixture
def kafka(kafka_broker):
    yield {"bootstrap.servers": kafka_broker.bootstrap_servers}
    kafka_broker.clean()


def produce_words(config: dict, topic: str, words: list[str]) -> None:
    """Keyed JSON records written by another Kafka client, partitioned as Java's producer does."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(timeout=30)
    producer = Producer(config)
    keys = [w.encode() for w in words]
    for key, word, partition in zip(keys, words, partitions_for(keys, 2)):
        producer.produce(topic, json.dumps({"LEN": len(word)}).encode(), key, partition=int(partition),
                         timestamp=1_700_000_000_000)
    assert producer.flush(30) == 0


def consume(config: dict, topic: str, count: int) -> list[tuple]:
    """(partition, key, value) of the first `count` committed records of a topic."""
    from confluent_kafka import Consumer

    consumer = Consumer({**config, "group.id": "outside", "auto.offset.reset": "earliest",
                         "isolation.level": "read_committed"})
    consumer.subscribe([topic])
    received = []

    def enough():
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            received.append((message.partition(), message.key(), json.loads(message.value())))
        return len(received) >= count

    try:
        wait_for(enough, timeout=60, interval=0)
    finally:
        consumer.close()
    return sorted(received)


@pytest.mark.parametrize("guarantee", ["exactly_once_v2", "at_least_once"])
def test_reads_what_other_clients_wrote_and_writes_what_they_read(kafka, tmp_path, guarantee):
    words = ["apple", "kiwi", "banana", "fig", "cherry", "plum"]
    produce_words(kafka, "words", words)
    engine = KsqlEngine(str(tmp_path / "data"), {**kafka, "processing.guarantee": guarantee})
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        engine.execute("CREATE STREAM words (word STRING KEY, len INT) WITH (kafka_topic='words', value_format='JSON');"
                       "CREATE STREAM long_words AS SELECT word, len * 10 AS score FROM words WHERE len > 3;")
        received = consume(kafka, "LONG_WORDS", 5)
        keys = [w.encode() for w in words]
        expected = sorted((int(p), key, {"SCORE": len(key) * 10})
                          for key, p in zip(keys, partitions_for(keys, 2)) if len(key) > 3)
        assert received == expected
        # the query's progress is its Kafka consumer group, named as ksqlDB names it
        group = engine.log.group("CSAS_LONG_WORDS_1")
        assert group == "_confluent-ksql-default_query_CSAS_LONG_WORDS_1"
        wait_for(lambda: sum(engine.log.committed("CSAS_LONG_WORDS_1").values()) == len(words))
    finally:
        engine.close()


def test_internal_topics_follow_the_service_id_and_tables_are_compacted(kafka, tmp_path):
    from confluent_kafka.admin import AdminClient, ConfigResource

    engine = KsqlEngine(str(tmp_path / "data"), {**kafka, "ksql.service.id": "shop_"})
    try:
        engine.execute("CREATE TABLE items (id INT PRIMARY KEY, n INT) WITH (kafka_topic='items', "
                       "value_format='JSON', partitions=3);"
                       "CREATE TABLE counts AS SELECT n, COUNT(*) AS c FROM items GROUP BY n;")
        names = {t.name: t.partitions for t in engine.log.topics()}
        assert names["_confluent-ksql-shop__command_topic"] == 1
        assert names["shop_ksql_processing_log"] == 1
        assert names["items"] == 3 and names["COUNTS"] == 3
        assert "_confluent-ksql-shop_query_CTAS_COUNTS_1-Aggregate-Materialize-changelog" in names
        admin = AdminClient(kafka)
        resource = ConfigResource(ConfigResource.Type.TOPIC, "items")
        config = admin.describe_configs([resource])[resource].result(timeout=30)
        assert config["cleanup.policy"].value == "compact"
        # REPLICAS goes to the cluster, which says when it cannot have that many copies
        with pytest.raises(KsqlError, match="Could not create topic 'wide': Unable to replicate the partition 3 "
                                            "time"):
            engine.execute("CREATE STREAM wide (id INT KEY) WITH (kafka_topic='wide', value_format='JSON', "
                           "partitions=1, replicas=3);")
    finally:
        engine.close()
    # a new engine with the same service id finds the statements in the command topic
    again = KsqlEngine(str(tmp_path / "other"), {**kafka, "ksql.service.id": "shop_"})
    try:
        assert list(again.queries) == ["CTAS_COUNTS_1"]
    finally:
        again.close()


def test_security_settings_reach_the_kafka_clients(kafka, kafka_broker, tmp_path):
    """SASL/PLAIN credentials from a properties file, as `ksql --config` reads it."""
    from ksql.properties import engine_properties, read_properties

    config = tmp_path / "kafka.properties"
    config.write_text(f"bootstrap.servers={kafka_broker.sasl_bootstrap_servers}\nsecurity.protocol=SASL_PLAINTEXT\n"
                      "sasl.mechanism=PLAIN\nsasl.username=ksql\nsasl.password=ksql-secret\n")
    engine = KsqlEngine(str(tmp_path / "data"), engine_properties(read_properties(str(config))))
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        engine.execute("CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                       "INSERT INTO s (id, v) VALUES (1, 2);")
        assert list(engine.execute("SELECT * FROM s;")[0]) == [[1, 2]]
    finally:
        engine.close()
    wrong = {"bootstrap.servers": kafka_broker.sasl_bootstrap_servers, "security.protocol": "SASL_PLAINTEXT",
             "sasl.mechanism": "PLAIN", "sasl.username": "ksql", "sasl.password": "nope"}
    with pytest.raises(KsqlError, match="SASL authentication error: Authentication failed: Invalid username"):
        KsqlEngine(str(tmp_path / "other"), wrong)
