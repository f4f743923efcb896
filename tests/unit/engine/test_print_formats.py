"""PRINT guesses a topic's key and value formats from its bytes and says which are still
possible (developer-guide/ksqldb-reference/print.md; the candidates and their order are
ksqlDB's RecordFormatter's)."""
from __future__ import annotations

import pytest


@pytest.fixture
def engine(make_engine):
    eng = make_engine(background=False)
    eng.session.properties["auto.offset.reset"] = "earliest"
    return eng


def printed(engine, sql: str) -> list[str]:
    lines = list(engine.execute(sql)[0].rows())
    return [line.split(", partition")[0].split("Z, ", 1)[-1] if line.startswith("rowtime") else line
            for line in lines]


def test_the_pages_example_json_values_with_a_string_key(engine):
    engine.execute("CREATE STREAM riderLocations (profileId VARCHAR KEY, latitude DOUBLE, longitude DOUBLE) "
                   "WITH (kafka_topic='rider-locations', value_format='json', partitions=1);"
                   "INSERT INTO riderLocations (profileId, latitude, longitude) VALUES ('18', 37.7877, -122.4205);")
    assert printed(engine, "PRINT 'rider-locations' FROM BEGINNING LIMIT 1;") == [
        "Key format: JSON or KAFKA_STRING",
        "Value format: JSON or KAFKA_STRING",
        'key: 18, value: {"LATITUDE":37.7877,"LONGITUDE":-122.4205}']


def test_eight_bytes_cannot_tell_bigint_from_double_and_the_list_narrows(engine):
    engine.execute("CREATE STREAM s (id BIGINT KEY, v STRING) WITH (kafka_topic='s', value_format='KAFKA', "
                   "partitions=1);"
                   "INSERT INTO s (id, v) VALUES (5, 'a');"
                   "INSERT INTO s (id, v) VALUES (6, '{not json');")
    assert printed(engine, "PRINT s FROM BEGINNING LIMIT 2;") == [
        "Key format: KAFKA_BIGINT or KAFKA_DOUBLE or KAFKA_STRING",  # (NUL bytes are UTF-8 too)
        "Value format: KAFKA_STRING",
        "key: 5, value: a",
        "key: 6, value: {not json"]


def test_int_keys_avro_values_and_windowed_keys(engine):
    engine.execute("CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='AVRO', partitions=1);"
                   "INSERT INTO a (ROWTIME, id, v) VALUES (60000, 1, 2);"
                   "CREATE TABLE w WITH (kafka_topic='w') AS SELECT id, COUNT(*) AS n FROM a "
                   "WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY id;")
    engine.drain()
    assert printed(engine, "PRINT a FROM BEGINNING LIMIT 1;") == [
        "Key format: KAFKA_INT or KAFKA_STRING", "Value format: AVRO or KAFKA_STRING", 'key: 1, value: {"V": 2}']
    assert printed(engine, "PRINT w FROM BEGINNING LIMIT 1;") == [
        "Key format: HOPPING(KAFKA_INT) or TUMBLING(KAFKA_INT) or HOPPING(KAFKA_STRING) or TUMBLING(KAFKA_STRING)",
        "Value format: AVRO or KAFKA_STRING", 'key: [1@60000/-], value: {"N": 1}']


def test_null_keys_are_no_data(engine):
    engine.execute("CREATE STREAM s (v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                   "INSERT INTO s (v) VALUES ('x');")
    assert printed(engine, "PRINT s FROM BEGINNING LIMIT 1;") == [
        "Key format: ¯\\_(ツ)_/¯ - no data processed", "Value format: JSON or KAFKA_STRING",
        'key: <null>, value: {"V":"x"}']
