"""The connector statements on the embedded log (developer-guide/ksqldb-reference/
create-connector.md, show-connectors.md, describe-connector.md, drop-connector.md): the
built-in connectors with Kafka Connect's settings, ksqlDB's entities and error texts, and a
restart that neither loses nor repeats records."""
from __future__ import annotations

import io
import json

import pytest

from ksql.engine import KsqlEngine
from ksql.engine.session import StatementFailed
from ksql.repl.render import render

from conftest import topic_records

DATAGEN = "io.confluent.kafka.connect.datagen.DatagenConnector"


def engine_in(path, **properties) -> KsqlEngine:
    """An engine whose connectors run only when the test drains them."""
    return KsqlEngine(str(path), properties, background=False)


@pytest.fixture
def engine(tmp_path):
    running = engine_in(tmp_path / "data")
    yield running
    running.close()


def one(engine, sql: str):
    [result] = engine.execute(sql)
    return result


def drain(engine, name: str):
    task = engine.connect.tasks[name]
    task.drain()
    return task


def shown(result) -> str:
    out = io.StringIO()
    render(result, out)
    return out.getvalue()


def test_datagen_orders_quickstart_writes_the_documented_fields(engine):
    created = one(engine, f"CREATE SOURCE CONNECTOR datagen WITH ('connector.class'='{DATAGEN}', "
                          "'kafka.topic'='orders', 'quickstart'='orders', 'max.interval'=0, 'iterations'=20);")
    assert created.kind == "connector_info"
    assert created.entity["info"] == {
        "name": "DATAGEN", "type": "source", "tasks": [{"connector": "DATAGEN", "task": 0}],
        "config": {"connector.class": DATAGEN, "kafka.topic": "orders", "quickstart": "orders",
                   "max.interval": "0", "iterations": "20", "name": "DATAGEN"}}
    assert "Created connector DATAGEN" in shown(created)
    task = drain(engine, "DATAGEN")
    records = topic_records(engine.log, "orders")
    assert len(records) == 20
    # the key is the quickstart's key field (orderid), written by the StringConverter
    assert [key for _, key, _, _ in records] == [str(i).encode() for i in range(20)]
    for i, (_, _, value, _) in enumerate(records):
        order = json.loads(value)
        assert sorted(order) == ["address", "itemid", "orderid", "ordertime", "orderunits"]
        assert order["orderid"] == i
        assert sorted(order["address"]) == ["city", "state", "zipcode"]
        assert 0.1 <= order["orderunits"] <= 10.0 and 10000 <= order["address"]["zipcode"] <= 99999
        assert order["itemid"].startswith("Item_")
    # Datagen's task stops with this reason once it has written `iterations` records
    assert task.state == "FAILED"
    assert task.trace == "Stopping connector: generated the configured 20 number of messages"
    listed = one(engine, "SHOW CONNECTORS;")
    assert listed.entity["connectors"] == [{"name": "DATAGEN", "type": "source", "className": DATAGEN,
                                            "state": "WARNING (0/1 tasks RUNNING)"}]

    one(engine, "CREATE STREAM orders (orderid_key STRING KEY, orderid INT, itemid STRING, "
                "address STRUCT<city STRING, zipcode BIGINT>) WITH (kafka_topic='orders', value_format='JSON');")
    stream = one(engine, "SELECT orderid_key, orderid, address->city FROM orders WHERE orderid < 3;")
    assert [row[:2] for row in stream.rows()] == [["0", 0], ["1", 1], ["2", 2]]


@pytest.mark.parametrize("quickstart, keys", [
    ("pageviews", [b"1", b"11", b"21"]),  # viewtime: 1, then 10 more each record
])
def test_datagen_keys_come_from_the_quickstarts_key_field(engine, quickstart, keys):
    one(engine, f"CREATE SOURCE CONNECTOR g WITH ('connector.class'='DatagenConnector', 'kafka.topic'='t', "
                f"'quickstart'='{quickstart}', 'max.interval'='0', 'iterations'='3');")
    drain(engine, "G")
    records = topic_records(engine.log, "t")
    assert [key for _, key, _, _ in records] == keys
    assert sorted(json.loads(records[0][2])) == ["pageid", "userid", "viewtime"]


def test_users_quickstart_with_a_schema_envelope(engine):
    one(engine, "CREATE SOURCE CONNECTOR u WITH ('connector.class'='DatagenConnector', 'kafka.topic'='users', "
                "'quickstart'='users', 'max.interval'='0', 'iterations'='2', "
                "'value.converter'='org.apache.kafka.connect.json.JsonConverter', "
                "'value.converter.schemas.enable'='true');")
    drain(engine, "U")
    _, key, value, _ = topic_records(engine.log, "users")[0]
    envelope = json.loads(value)
    assert key.startswith(b"User_")
    assert envelope["payload"]["userid"] == key.decode()
    assert envelope["payload"]["gender"] in ("MALE", "FEMALE", "OTHER")
    assert [f["field"] for f in envelope["schema"]["fields"]] == ["registertime", "userid", "regionid", "gender"]


def test_file_source_and_sink_round_trip_through_a_query(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "in.txt").write_text("alpha\nbeta\r\ngamma\npartial")
    engine = engine_in(tmp_path / "data", **{"ksql.connect.file.dir": str(files)})
    try:
        one(engine, "CREATE SOURCE CONNECTOR reader WITH ('connector.class'='FileStreamSource', 'file'='in.txt', "
                    "'topic'='lines', 'value.converter'='org.apache.kafka.connect.storage.StringConverter');")
        drain(engine, "READER")
        # each whole line once; a line without its end yet waits
        assert [v for _, _, v, _ in topic_records(engine.log, "lines")] == [b"alpha", b"beta", b"gamma"]
        one(engine, "SET 'auto.offset.reset'='earliest';")
        one(engine, "CREATE STREAM lines (line STRING) WITH (kafka_topic='lines', value_format='KAFKA');")
        one(engine, "CREATE STREAM shouted WITH (value_format='KAFKA') AS SELECT UCASE(line) AS line FROM lines;")
        engine.drain()
        one(engine, "CREATE SINK CONNECTOR writer WITH ('connector.class'='FileStreamSink', 'file'='out.txt', "
                    "'topics'='SHOUTED', 'value.converter'='org.apache.kafka.connect.storage.StringConverter');")
        drain(engine, "WRITER")
        assert (files / "out.txt").read_text() == "ALPHA\nBETA\nGAMMA\n"

        with open(files / "in.txt", "a") as f:
            f.write(" line\ndelta\n")
        drain(engine, "READER")
        engine.drain()
        drain(engine, "WRITER")
        assert (files / "out.txt").read_text() == "ALPHA\nBETA\nGAMMA\nPARTIAL LINE\nDELTA\n"

        described = one(engine, "DESCRIBE CONNECTOR writer;")
        assert described.kind == "connector_description"
        assert described.entity["connectorClass"] == "FileStreamSink"
        assert described.entity["topics"] == ["SHOUTED"]
        assert [s["name"] for s in described.entity["sources"]] == ["SHOUTED"]
        assert described.entity["status"]["type"] == "sink"
        assert described.entity["status"]["tasks"][0]["state"] == "RUNNING"
        assert "Related Topics" in shown(described) and "ksqlDB Source Name" in shown(described)
    finally:
        engine.close()


def test_a_restart_goes_on_from_the_committed_position(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "in.txt").write_text("1\n2\n")
    properties = {"ksql.connect.file.dir": str(files)}
    engine = engine_in(tmp_path / "data", **properties)
    one(engine, "CREATE SOURCE CONNECTOR reader WITH ('connector.class'='FileStreamSource', 'file'='in.txt', "
                "'topic'='numbers', 'value.converter'='org.apache.kafka.connect.storage.StringConverter');")
    one(engine, "CREATE SINK CONNECTOR writer WITH ('connector.class'='FileStreamSink', 'file'='out.txt', "
                "'topics'='numbers', 'value.converter'='org.apache.kafka.connect.storage.StringConverter');")
    drain(engine, "READER")
    drain(engine, "WRITER")
    engine.close()
    # a sink that wrote lines but died before committing them: they are cut and written again
    with open(files / "out.txt", "a") as f:
        f.write("uncommitted\n")
    with open(files / "in.txt", "a") as f:
        f.write("3\n")

    engine = engine_in(tmp_path / "data", **properties)
    try:
        assert sorted(engine.connect.tasks) == ["READER", "WRITER"]  # back from the command topic
        drain(engine, "READER")
        drain(engine, "WRITER")
        assert [v for _, _, v, _ in topic_records(engine.log, "numbers")] == [b"1", b"2", b"3"]
        assert (files / "out.txt").read_text() == "1\n2\n3\n"
        one(engine, "DROP CONNECTOR reader;")
    finally:
        engine.close()
    engine = engine_in(tmp_path / "data", **properties)
    try:
        assert sorted(engine.connect.tasks) == ["WRITER"]
    finally:
        engine.close()


def test_refusals_name_the_setting_as_ksqldb_and_kafka_connect_do(engine):
    def error(sql: str) -> str:
        with pytest.raises(StatementFailed) as failure:
            engine.execute(sql)
        return str(failure.value.error)

    assert error("CREATE SOURCE CONNECTOR x WITH ('kafka.topic'='t');") == \
        "Validation error: Connector config {kafka.topic=t, name=X} contains no connector type"
    assert error("CREATE SOURCE CONNECTOR x WITH ('connector.class'=' ');") == \
        "Validation error: Connector type cannot be empty"
    assert error("CREATE SOURCE CONNECTOR x WITH ('connector.class'='NoSuchConnector');").startswith(
        "Validation error: Failed to find any class that implements Connector and which name matches "
        "NoSuchConnector, available connectors are: ")
    assert error(f"CREATE SOURCE CONNECTOR x WITH ('connector.class'='{DATAGEN}', 'quickstart'='orders', "
                 "'max.interval'='often');") == (
        'Validation error: kafka.topic - Missing required configuration "kafka.topic" which has no default '
        "value.\nmax.interval - Invalid value often for configuration max.interval: Not a number of type LONG")
    assert error("CREATE SINK CONNECTOR x WITH ('connector.class'='FileStreamSink', 'topics'='t', "
                 "'file'='../../secret');").startswith("Validation error: file - ../../secret is outside the "
                                                       "folder connectors may use")
    assert error("CREATE SINK CONNECTOR x WITH ('connector.class'='FileStreamSink', 'topics'='t', "
                 "'file'='/etc/passwd');").startswith("Validation error: file - /etc/passwd is outside")
    assert "X" not in engine.connect.tasks

    one(engine, "CREATE SOURCE CONNECTOR g WITH ('connector.class'='DatagenConnector', 'kafka.topic'='t', "
                "'quickstart'='users');")
    assert error("CREATE SOURCE CONNECTOR g WITH ('connector.class'='DatagenConnector', 'kafka.topic'='t', "
                 "'quickstart'='users');") == "Connector G already exists"
    again = one(engine, "CREATE SOURCE CONNECTOR IF NOT EXISTS g WITH ('connector.class'='DatagenConnector', "
                        "'kafka.topic'='t', 'quickstart'='users');")
    assert (again.kind, again.entity) == ("warning_entity", {"message": "Connector G already exists"})

    dropped = one(engine, "DROP CONNECTOR g;")
    assert (dropped.kind, dropped.entity) == ("drop_connector", {"connectorName": "G"})
    assert 'Dropped connector "G"' in shown(dropped)
    missing = one(engine, "DROP CONNECTOR g;")
    assert (missing.kind, missing.entity) == ("error_entity", {"errorMessage": "Connector G not found"})
    quiet = one(engine, "DROP CONNECTOR IF EXISTS g;")
    assert quiet.entity == {"message": "Connector 'G' does not exist."}
    assert one(engine, "DESCRIBE CONNECTOR g;").entity == {"errorMessage": "Connector G not found"}


def test_show_connectors_by_kind_and_the_plugins(engine):
    one(engine, "CREATE SOURCE CONNECTOR a WITH ('connector.class'='DatagenConnector', 'kafka.topic'='t', "
                "'quickstart'='users');")
    one(engine, "CREATE SINK CONNECTOR b WITH ('connector.class'='FileStreamSink', 'topics'='t', 'file'='o.txt');")
    assert [c["name"] for c in one(engine, "SHOW SOURCE CONNECTORS;").entity["connectors"]] == ["A"]
    assert [c["name"] for c in one(engine, "LIST SINK CONNECTORS;").entity["connectors"]] == ["B"]
    assert [c["name"] for c in one(engine, "SHOW CONNECTORS;").entity["connectors"]] == ["A", "B"]
    plugins = one(engine, "SHOW CONNECTOR PLUGINS;").entity["connectorsPlugins"]
    assert {(p["className"], p["type"]) for p in plugins} == {
        (DATAGEN, "source"), ("org.apache.kafka.connect.file.FileStreamSourceConnector", "source"),
        ("org.apache.kafka.connect.file.FileStreamSinkConnector", "sink"),
        ("io.debezium.connector.postgresql.PostgresConnector", "source")}


def test_a_stream_over_a_new_generator_infers_its_avro_columns_at_once(engine):
    one(engine, "CREATE SOURCE CONNECTOR g WITH ('connector.class'='DatagenConnector', 'kafka.topic'='orders', "
                "'quickstart'='orders', 'max.interval'='0', 'iterations'='2', "
                "'value.converter'='io.confluent.connect.avro.AvroConverter');")
    # nothing written yet: the topic and its schema are there from the CREATE
    one(engine, "CREATE STREAM orders WITH (kafka_topic='orders', value_format='AVRO');")
    described = one(engine, "DESCRIBE orders;")
    assert described.rows == [["ORDERTIME", "BIGINT"], ["ORDERID", "INTEGER"], ["ITEMID", "STRING"],
                              ["ORDERUNITS", "DOUBLE"],
                              ["ADDRESS", "STRUCT<`CITY` STRING, `STATE` STRING, `ZIPCODE` BIGINT>"]]
    drain(engine, "G")
    rows = one(engine, "SELECT orderid, address->zipcode > 9999 FROM orders;").rows()
    assert list(rows) == [[0, True], [1, True]]
