"""The AVRO format: records in Confluent's wire format, schemas in the schema registry (the
embedded one by default), schemas inferred for CREATE without columns."""
from __future__ import annotations

import io
import re
import json
import struct
from datetime import datetime
from decimal import Decimal

import fastavro
import pytest

from ksql.errors import KsqlError
from ksql.runtime.log.embedded import make_records

from conftest import topic_records, wait_for


def test_avro_round_trip_registers_and_reads_schemas(engine):
    engine.execute("""
        CREATE STREAM s (id INT KEY, name STRING, amount DECIMAL(4, 2), ts TIMESTAMP, tags ARRAY<STRING>,
                         m MAP<STRING, INT>, st STRUCT<a INT, b STRING>)
          WITH (kafka_topic='s', format='AVRO', partitions=1);
        INSERT INTO s (id, name, amount, ts, tags, m, st)
          VALUES (1, 'x', 12.5, '2024-01-02T03:04:05.006', ARRAY['a'], MAP('k':=1), STRUCT(a:=1, b:='q'));
        CREATE STREAM t AS SELECT id, UCASE(name) AS n, amount * 2 AS a2, ts, tags, m, st FROM s;
    """)
    wait_for(lambda: topic_records(engine.log, "T"))
    assert list(engine.execute("SELECT * FROM t;")[0]) == [
        [1, "X", Decimal("25.00"), datetime(2024, 1, 2, 3, 4, 5, 6000), ["a"], [("k", 1)], {"A": 1, "B": "q"}]]
    registry = engine.schema_registry
    assert registry.subjects() == ["T-key", "T-value", "s-key", "s-value"]
    schema_id, version, kind, text = registry.latest("T-value")
    assert (version, kind) == (1, "AVRO")
    schema = json.loads(text)
    assert schema["name"] == "KsqlDataSourceSchema" and schema["namespace"] == "io.confluent.ksql.avro_schemas"
    assert [f["name"] for f in schema["fields"]] == ["N", "A2", "TS", "TAGS", "M", "ST"]
    # the record on the topic names that schema and decodes with it
    _, _, value, _ = topic_records(engine.log, "T")[0]
    assert value[0] == 0 and struct.unpack(">i", value[1:5])[0] == schema_id
    decoded = fastavro.schemaless_reader(io.BytesIO(value[5:]), fastavro.parse_schema(schema), None)
    assert decoded["N"] == "X" and decoded["A2"] == Decimal("25.00") and decoded["M"] == {"k": 1}


def test_columns_are_inferred_from_the_registered_schema(engine):
    schema = {"type": "record", "name": "Order", "fields": [
        {"name": "ID", "type": "long"}, {"name": "ITEM", "type": ["null", "string"]},
        {"name": "PRICE", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}}]}
    schema_id = engine.schema_registry.register("orders-value", json.dumps(schema))
    engine.execute("CREATE STREAM orders WITH (kafka_topic='orders', value_format='AVRO', partitions=1);")
    described = engine.execute("DESCRIBE orders;")[-1]
    assert [row[0] for row in described.rows] == ["ID", "ITEM", "PRICE"]
    buffer = io.BytesIO()
    buffer.write(struct.pack(">bi", 0, schema_id))
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), {"ID": 7, "ITEM": "pen", "PRICE": Decimal("1.50")})
    engine.log.append("orders", 0, make_records([None, None], [buffer.getvalue(), b"\x01bad"], [1, 2]))
    engine.execute("CREATE STREAM cheap AS SELECT * FROM orders WHERE price < 2;")
    assert wait_for(lambda: list(engine.execute("SELECT * FROM cheap;")[0])) == [[7, "pen", Decimal("1.50")]]
    errors = wait_for(lambda: list(engine.execute(
        "SELECT MESSAGE->DESERIALIZATIONERROR->ERRORMESSAGE FROM KSQL_PROCESSING_LOG;")[0]) or None)
    assert errors[0][0].endswith("Unknown magic byte!")


def test_a_union_of_several_types_is_inferred_as_a_struct_of_its_branches(engine):
    # as Kafka Connect's AvroData reads it (and so ksqlDB): one field per branch, named by the
    # branch's type or record name, set for the branch the value came from
    point = {"type": "record", "name": "geo.Point", "fields": [{"name": "x", "type": "int"}]}
    schema = {"type": "record", "name": "Event", "fields": [
        {"name": "ID", "type": "long"},
        {"name": "V", "type": ["null", "int", "string", point]},
        {"name": "VS", "type": {"type": "array", "items": ["long", "string"]}}]}
    schema_id = engine.schema_registry.register("events-value", json.dumps(schema))
    engine.execute("CREATE STREAM events WITH (kafka_topic='events', value_format='AVRO', partitions=1);")
    described = engine.execute("DESCRIBE events;")[-1]
    assert [(row[0], row[1]) for row in described.rows] == [
        ("ID", "BIGINT"), ("V", "STRUCT<`INT` INTEGER, `STRING` STRING, `POINT` STRUCT<`X` INTEGER>>"),
        ("VS", "ARRAY<STRUCT<`LONG` BIGINT, `STRING` STRING>>")]
    records = []
    for value in ({"ID": 1, "V": 5, "VS": [1, "a"]}, {"ID": 2, "V": "five", "VS": []},
                  {"ID": 3, "V": {"x": 7}, "VS": []}, {"ID": 4, "V": None, "VS": []}):
        buffer = io.BytesIO()
        buffer.write(struct.pack(">bi", 0, schema_id))
        fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), value)
        records.append(buffer.getvalue())
    engine.log.append("events", 0, make_records([None] * 4, records, [1, 2, 3, 4]))
    engine.execute("CREATE STREAM picked AS SELECT id, v->int AS i, v->string AS s, v->point->x AS x, vs FROM events;")
    assert wait_for(lambda: (lambda rows: rows if len(rows) == 4 else None)(
        list(engine.execute("SELECT * FROM picked;")[0]))) == [
        [1, 5, None, None, [{"LONG": 1, "STRING": None}, {"LONG": None, "STRING": "a"}]],
        [2, None, "five", None, []], [3, None, None, 7, []], [4, None, None, None, []]]


def test_a_decimal_written_at_a_wider_scale_fits_the_column_only_without_rounding(engine):
    # ksqlDB's AvroDataTranslator: DecimalUtil.ensureFit, so 1.250 is 1.25 but 1.255 is an error
    writer = {"type": "record", "name": "Price", "fields": [
        {"name": "P", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 3}}]}
    schema_id = engine.schema_registry.register("prices-writer", json.dumps(writer))
    engine.execute("CREATE STREAM prices (p DECIMAL(4, 2)) WITH (kafka_topic='prices', value_format='AVRO', "
                   "partitions=1);")
    records = []
    for price in (Decimal("1.250"), Decimal("1.255")):
        buffer = io.BytesIO()
        buffer.write(struct.pack(">bi", 0, schema_id))
        fastavro.schemaless_writer(buffer, fastavro.parse_schema(writer), {"P": price})
        records.append(buffer.getvalue())
    engine.log.append("prices", 0, make_records([None, None], records, [1, 2]))
    engine.execute("CREATE STREAM copied WITH (value_format='JSON') AS SELECT p FROM prices;")
    assert wait_for(lambda: list(engine.execute("SELECT * FROM copied;")[0]) or None) == [[Decimal("1.25")]]
    errors = wait_for(lambda: list(engine.execute(
        "SELECT MESSAGE->DESERIALIZATIONERROR->ERRORMESSAGE FROM KSQL_PROCESSING_LOG;")[0]) or None)
    assert errors[0][0].endswith("Cannot fit decimal '1.255' into DECIMAL(4, 2) without rounding. (Requires 4,3)")


def test_a_missing_schema_is_a_clear_error(engine):
    with pytest.raises(Exception, match="Schema for message values on topic 'nothing' does not exist"):
        engine.execute("CREATE STREAM nothing WITH (kafka_topic='nothing', value_format='AVRO', partitions=1);")


def test_confluent_serializers_and_the_engine_read_each_other(kafka_broker, tmp_path):
    """Confluent's AvroSerializer writes through the registry `ksql server` serves; the engine
    reads those records, and Confluent's AvroDeserializer reads what the engine writes."""
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from processes import Server

    bootstrap = kafka_broker.bootstrap_servers
    server = Server(tmp_path / "data", "--bootstrap-servers", bootstrap)
    try:
        registry = SchemaRegistryClient({"url": server.url})
        schema = json.dumps({"type": "record", "name": "Payment", "namespace": "shop", "fields": [
            {"name": "ID", "type": "long"}, {"name": "PAYER", "type": "string"},
            {"name": "AMOUNT", "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2}}]})
        serialize = AvroSerializer(registry, schema)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([NewTopic("payments", 1, 1)])["payments"].result(30)
        producer = Producer({"bootstrap.servers": bootstrap})
        for i, (payer, amount) in enumerate([("ann", "12.50"), ("bob", "99.99"), ("ann", "0.01")]):
            value = serialize({"ID": i, "PAYER": payer, "AMOUNT": Decimal(amount)},
                              SerializationContext("payments", MessageField.VALUE))
            producer.produce("payments", value=value, timestamp=1_700_000_000_000 + i)
        producer.flush()

        response = server.ksql(
            "CREATE STREAM payments WITH (kafka_topic='payments', value_format='AVRO');"
            "CREATE STREAM big_payments AS SELECT id, UCASE(payer) AS payer, amount FROM payments WHERE amount > 1;",
            **{"auto.offset.reset": "earliest"})
        assert response.status_code == 200, response.text
        assert registry.get_latest_version("payments-value").schema.schema_str == schema

        deserialize = AvroDeserializer(registry)
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "interop", "auto.offset.reset": "earliest"})
        consumer.subscribe(["BIG_PAYMENTS"])
        got = []

        def more():
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                got.append(deserialize(message.value(), SerializationContext("BIG_PAYMENTS", MessageField.VALUE)))
            return len(got) == 2

        try:
            wait_for(more, timeout=60, interval=0)
        finally:
            consumer.close()
        assert got == [{"ID": 0, "PAYER": "ANN", "AMOUNT": Decimal("12.50")},
                       {"ID": 1, "PAYER": "BOB", "AMOUNT": Decimal("99.99")}]
        assert sorted(registry.get_subjects()) == ["BIG_PAYMENTS-value", "payments-value"]
    finally:
        server.stop()
        kafka_broker.clean()


def test_json_sr_records_carry_the_header_and_columns_come_from_the_json_schema(engine):
    schema = {"type": "object", "properties": {
        "ID": {"connect.index": 0, "oneOf": [{"type": "null"}, {"type": "integer", "connect.type": "int64"}]},
        "TAGS": {"connect.index": 1, "type": "array", "items": {"type": "string"}}}}
    schema_id = engine.schema_registry.register("events-value", json.dumps(schema), "JSON")
    engine.execute("CREATE STREAM events WITH (kafka_topic='events', value_format='JSON_SR', partitions=1);")
    assert [row[0] for row in engine.execute("DESCRIBE events;")[-1].rows] == ["ID", "TAGS"]
    header = struct.pack(">bi", 0, schema_id)
    engine.log.append("events", 0, make_records([None, None], [header + b'{"ID": 5, "TAGS": ["a"]}', b'{"ID": 6}'],
                                                [1, 2]))
    engine.execute("CREATE STREAM copied AS SELECT id, tags FROM events;")
    wait_for(lambda: topic_records(engine.log, "COPIED"))
    (_, _, value, _), = topic_records(engine.log, "COPIED")
    copied_id, _, kind, text = engine.schema_registry.latest("COPIED-value")
    assert kind == "JSON" and value[:5] == struct.pack(">bi", 0, copied_id)
    assert json.loads(value[5:]) == {"ID": 5, "TAGS": ["a"]}
    assert list(json.loads(text)["properties"]) == ["ID", "TAGS"]


def test_json_schema_references_type_lists_and_enums_are_inferred(engine):
    # what JSON Schema writers produce besides Connect's own: a "$ref" to a definition, a
    # nullable "type" list and an enum of strings
    schema = {"type": "object", "properties": {
        "ID": {"type": ["integer", "null"]},
        "AT": {"$ref": "#/definitions/Place"},
        "PATH": {"type": "array", "items": {"$ref": "#/$defs/Step"}},
        "KIND": {"enum": ["a", "b"]}},
        "definitions": {"Place": {"type": "object", "properties": {"room": {"type": "string"}}}},
        "$defs": {"Step": {"type": "number"}}}
    engine.schema_registry.register("moves-value", json.dumps(schema), "JSON")
    engine.execute("CREATE STREAM moves WITH (kafka_topic='moves', value_format='JSON_SR', partitions=1);")
    assert [tuple(row[:2]) for row in engine.execute("DESCRIBE moves;")[-1].rows] == [
        ("ID", "BIGINT"), ("AT", "STRUCT<`room` STRING>"), ("PATH", "ARRAY<DOUBLE>"), ("KIND", "STRING")]


def test_protobuf_records_and_inference_from_proto_text(engine):
    from ksql.runtime.formats import protobuf

    text = ('syntax = "proto3"; import "google/protobuf/timestamp.proto"; message Reading {'
            ' string sensor = 1; double value = 2; repeated int32 flags = 3; map<string, string> tags = 4;'
            ' google.protobuf.Timestamp at = 5; Place place = 6; message Place { string room = 1; } }')
    schema_id = engine.schema_registry.register("readings-value", text, "PROTOBUF")
    engine.execute("CREATE STREAM readings WITH (kafka_topic='readings', value_format='PROTOBUF', partitions=1);")
    assert [tuple(row) for row in engine.execute("DESCRIBE readings;")[-1].rows] == [
        ("SENSOR", "STRING"), ("VALUE", "DOUBLE"), ("FLAGS", "ARRAY<INTEGER>"),
        ("TAGS", "MAP<STRING, STRING>"), ("AT", "TIMESTAMP"), ("PLACE", "STRUCT<`ROOM` STRING>")]
    message = protobuf.Schema(text).message()()
    protobuf.fill_message(message, {"sensor": "t1", "value": 21.5, "flags": [1, 2], "tags": {"k": "v"},
                                    "at": 1_700_000_000_123, "place": {"room": "lab"}})
    payload = struct.pack(">bi", 0, schema_id) + b"\0" + message.SerializeToString()
    engine.log.append("readings", 0, make_records([None, None], [payload, b"\0\0\0\0\x63garbage"], [1, 2]))
    engine.execute("CREATE STREAM warm AS SELECT sensor, value, flags, tags, at, place FROM readings WHERE value > 20;")
    wait_for(lambda: topic_records(engine.log, "WARM"))
    assert list(engine.execute("SELECT * FROM warm;")[0]) == [
        ["t1", 21.5, [1, 2], [("k", "v")], datetime(2023, 11, 14, 22, 13, 20, 123000), {"ROOM": "lab"}]]
    # what the engine wrote decodes with the schema it registered, by Google's runtime
    (_, _, value, _), = topic_records(engine.log, "WARM")
    warm_id, _, kind, warm_text = engine.schema_registry.latest("WARM-value")
    assert kind == "PROTOBUF" and value[:6] == struct.pack(">bi", 0, warm_id) + b"\0"
    decoded = protobuf.Schema(warm_text).message().FromString(value[6:])
    assert (decoded.SENSOR, list(decoded.FLAGS), dict(decoded.TAGS), decoded.PLACE.ROOM) == ("t1", [1, 2], {"k": "v"}, "lab")
    errors = wait_for(lambda: list(engine.execute(
        "SELECT MESSAGE->DESERIALIZATIONERROR->ERRORMESSAGE FROM KSQL_PROCESSING_LOG;")[0]) or None)
    assert "Schema 99 not found" in errors[0][0]


def test_a_protobuf_oneof_is_a_struct_of_its_fields_named_by_the_oneof_and_its_index(engine):
    # as Kafka Connect's ProtobufData reads a message (and so ksqlDB): each oneof first, as a
    # STRUCT `<name>_<index>` holding the field that is set; a proto3 optional field stays a field
    from ksql.runtime.formats import protobuf

    text = ('syntax = "proto3"; message Shape { int32 id = 1; optional string label = 2;'
            ' oneof size { int64 side = 3; double radius = 4; } }')
    schema_id = engine.schema_registry.register("shapes-value", text, "PROTOBUF")
    engine.execute("CREATE STREAM shapes WITH (kafka_topic='shapes', value_format='PROTOBUF', partitions=1);")
    assert [tuple(row) for row in engine.execute("DESCRIBE shapes;")[-1].rows] == [
        ("SIZE_0", "STRUCT<`SIDE` BIGINT, `RADIUS` DOUBLE>"), ("ID", "INTEGER"), ("LABEL", "STRING")]
    payloads = []
    for values in ({"id": 1, "size_0": {"side": 4}}, {"id": 2, "label": "disc", "size_0": {"radius": 0.5}}, {"id": 3}):
        message = protobuf.Schema(text).message()()
        protobuf.fill_message(message, values)
        payloads.append(struct.pack(">bi", 0, schema_id) + b"\0" + message.SerializeToString())
    engine.log.append("shapes", 0, make_records([None] * 3, payloads, [1, 2, 3]))
    engine.execute("CREATE STREAM sized WITH (value_format='JSON') AS SELECT id, label, size_0->side AS side, size_0->radius AS radius FROM shapes;")
    assert wait_for(lambda: (lambda rows: rows if len(rows) == 3 else None)(
        list(engine.execute("SELECT * FROM sized;")[0]))) == [
        [1, None, 4, None], [2, "disc", None, 0.5], [3, None, None, None]]


def test_protobuf_nosr_is_the_bare_message_of_the_columns(engine):
    from ksql.runtime.formats import protobuf

    engine.execute("""
        CREATE STREAM s (id INT KEY, name STRING, n BIGINT) WITH (kafka_topic='s', format='PROTOBUF_NOSR', partitions=1);
        INSERT INTO s (id, name, n) VALUES (1, 'a', 10);
        CREATE STREAM t AS SELECT id, name, n * 2 AS n2 FROM s;
    """)
    wait_for(lambda: topic_records(engine.log, "T"))
    (_, key, value, _), = topic_records(engine.log, "T")
    value_class = protobuf.Schema(protobuf.schema_text((
        protobuf_column("NAME", "STRING"), protobuf_column("N2", "BIGINT")))).message()
    decoded = value_class.FromString(value)
    assert (decoded.NAME, decoded.N2) == ("a", 20)
    key_class = protobuf.Schema(protobuf.schema_text((protobuf_column("ID", "INTEGER"),))).message()
    assert key_class.FromString(key).ID == 1


def protobuf_column(name, type_name):
    from ksql.planner import types as T
    from ksql.planner.schema import VALUE, Column

    return Column(name, getattr(T, type_name), VALUE)


@pytest.mark.parametrize("fmt,kind", [("AVRO", "AVRO"), ("JSON_SR", "JSON"), ("PROTOBUF", "PROTOBUF")])
def test_a_query_registers_its_sink_schemas_when_it_is_created(engine, fmt, kind):
    engine.execute(f"CREATE STREAM src (id INT KEY, v STRING) WITH (kafka_topic='src', format='JSON', partitions=1);"
                   f"CREATE STREAM out WITH (format='{fmt}') AS SELECT id, v FROM src;")
    assert engine.schema_registry.subjects() == ["OUT-key", "OUT-value"]
    assert engine.schema_registry.latest("OUT-value")[2] == kind


def test_records_are_written_with_the_schema_a_statement_names(engine):
    schema = {"type": "record", "name": "Vote", "fields": [
        {"name": "voter", "type": "string"}, {"name": "weight", "type": "long", "default": 1}]}
    schema_id = engine.schema_registry.register("votes-value", json.dumps(schema))
    engine.execute(f"CREATE STREAM votes WITH (kafka_topic='votes', value_format='AVRO', partitions=1, "
                   f"VALUE_SCHEMA_ID={schema_id});"
                   f"INSERT INTO votes (`voter`) VALUES ('ann');")  # (the schema's spelling is kept)
    (_, _, value, _), = topic_records(engine.log, "votes")
    assert struct.unpack(">i", value[1:5])[0] == schema_id and engine.schema_registry.versions("votes-value") == [1]
    decoded = fastavro.schemaless_reader(io.BytesIO(value[5:]), fastavro.parse_schema(schema), None)
    assert decoded == {"voter": "ann", "weight": 1}


def test_when_two_servers_take_the_same_schema_id_the_first_written_keeps_it(tmp_path):
    from ksql.runtime.log.embedded import EmbeddedLog
    from ksql.runtime.formats.schema_registry import TOPIC, EmbeddedRegistry

    log = EmbeddedLog(tmp_path / "data")
    try:
        mine = EmbeddedRegistry(log)
        assert mine.register("a-value", '"int"') == 1
        # another server, not having seen it yet, wrote a different schema under id 1
        other = {"subject": "b-value", "version": 1, "id": 1, "schemaType": "AVRO", "schema": '"long"'}
        log.append(TOPIC, 0, make_records([b"k"], [json.dumps(other).encode()], [0]))
        fresh = EmbeddedRegistry(log)
        assert fresh.schema(1) == ("AVRO", '"int"') and fresh.subjects() == ["a-value"]
        assert fresh.register("b-value", '"long"') == 2  # the loser registers again, under a free id
    finally:
        log.close()


def test_an_engine_uses_another_registry_with_basic_authentication(tmp_path):
    """An engine with ksql.schema.registry.url keeps its schemas in that registry (here the one
    a secured ksql server serves); wrong credentials are a clear error."""
    import subprocess
    import sys

    import httpx

    from ksql.engine import KsqlEngine
    from processes import Server

    users = tmp_path / "users"
    subprocess.run([sys.executable, "-m", "ksql.cli", "server", "--add-user", "ann", "--users-file", str(users)],
                   input="s3cret\n", text=True, check=True, timeout=60)
    config = tmp_path / "server.properties"
    config.write_text(f"authentication.users.file={users}\n")
    registry = Server(tmp_path / "registry", "--config", str(config))
    try:
        settings = {"ksql.schema.registry.url": registry.url, "ksql.schema.registry.basic.auth.user.info": "ann:s3cret"}
        engine = KsqlEngine(str(tmp_path / "data"), settings)
        try:
            engine.execute("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', format='AVRO', partitions=1);"
                           "INSERT INTO s (id, v) VALUES (1, 'a');")
            assert list(engine.execute("SET 'auto.offset.reset'='earliest'; SELECT * FROM s;")[-1]) == [[1, "a"]]
        finally:
            engine.close()
        subjects = httpx.get(registry.url + "/subjects", auth=("ann", "s3cret"), timeout=30)
        assert subjects.json() == ["s-key", "s-value"]

        engine = KsqlEngine(str(tmp_path / "other"), {**settings, "ksql.schema.registry.basic.auth.user.info": "ann:no"})
        try:
            with pytest.raises(Exception, match="The schema registry answered 401"):
                engine.execute("CREATE STREAM t (id INT KEY, v STRING) WITH (kafka_topic='t', format='AVRO', "
                               "partitions=1); INSERT INTO t (id, v) VALUES (1, 'a');")
        finally:
            engine.close()
    finally:
        registry.stop()


def test_a_protobuf_schema_may_import_another_subjects_schema(engine):
    from ksql.runtime.formats import protobuf

    registry = engine.schema_registry
    registry.register("event.proto", 'syntax = "proto3"; message Event { int64 at = 1; }', "PROTOBUF")
    text = 'syntax = "proto3"; import "event.proto"; message Shipment { string id = 1; Event event = 2; }'
    schema_id = registry.register("shipments-value", text, "PROTOBUF",
                                  references=[{"name": "event.proto", "subject": "event.proto", "version": 1}])
    engine.execute("CREATE STREAM shipments WITH (kafka_topic='shipments', value_format='PROTOBUF', partitions=1);")
    assert [tuple(row) for row in engine.execute("DESCRIBE shipments;")[-1].rows] == [
        ("ID", "STRING"), ("EVENT", "STRUCT<`AT` BIGINT>")]
    message = protobuf.registered(schema_id).message()()
    protobuf.fill_message(message, {"id": "s1", "event": {"at": 5}})
    payload = struct.pack(">bi", 0, schema_id) + b"\0" + message.SerializeToString()
    engine.log.append("shipments", 0, make_records([None], [payload], [1]))
    assert wait_for(lambda: list(engine.execute("SELECT * FROM shipments;")[0])) == [["s1", {"AT": 5}]]


def test_value_avro_schema_full_name_names_the_registered_schema(engine):
    # serialization.md: `com.mycompany.MySchema` registers a schema named MySchema in com.mycompany
    engine.execute("CREATE STREAM src (id INT KEY, v STRING) WITH (kafka_topic='src', format='JSON', partitions=1);"
                   "CREATE STREAM out WITH (format='AVRO', VALUE_AVRO_SCHEMA_FULL_NAME='com.mycompany.MySchema') "
                   "AS SELECT id, v FROM src;")
    schema = json.loads(engine.schema_registry.latest("OUT-value")[3])
    assert (schema["name"], schema["namespace"]) == ("MySchema", "com.mycompany")


@pytest.mark.parametrize("with_clause,message", [
    ("value_format='JSON', VALUE_AVRO_SCHEMA_FULL_NAME='a.B'", "JSON does not support the following configs: [fullSchemaName]"),
    ("value_format='AVRO', VALUE_AVRO_SCHEMA_FULL_NAME=' '", "fullSchemaName cannot be empty. Format configuration: {fullSchemaName=}"),
])
def test_a_schema_full_name_needs_a_format_with_named_schemas_and_a_name(engine, with_clause, message):
    with pytest.raises(KsqlError, match=re.escape(message)):
        engine.execute(f"CREATE STREAM s (k STRING KEY, v STRING) WITH (kafka_topic='s', {with_clause});")


@pytest.mark.parametrize("columns,message", [
    ("`1st` INT", "Illegal initial character: 1st"),
    ("`a-b` INT", "Illegal character in: a-b"),
    ("s STRUCT<`x y` INT>", "Illegal character in: x y"),
])
def test_avro_refuses_column_names_that_are_not_avro_names(engine, columns, message):
    with pytest.raises(KsqlError, match=re.escape(f"Schema is not compatible with Avro: {message}")):
        engine.execute(f"CREATE STREAM s ({columns}) WITH (kafka_topic='s', value_format='AVRO', partitions=1);")


def test_protobuf_decimals_keep_precision_and_scale_through_the_registry(engine):
    # ksqlDB writes a DECIMAL as confluent.type.Decimal with (confluent.field_meta) params
    # naming its precision and scale; a stream inferred from that schema gets the same type
    engine.execute("CREATE STREAM src (id INT KEY, price DECIMAL(4, 2)) WITH (kafka_topic='src', format='JSON', partitions=1);"
                   "CREATE STREAM priced WITH (format='PROTOBUF') AS SELECT id, price FROM src;")
    text = engine.schema_registry.latest("PRICED-value")[3]
    assert 'import "confluent/meta.proto";' in text
    assert '(confluent.field_meta) = { params: [{ key: "precision", value: "4" }, { key: "scale", value: "2" }] }' in text
    engine.execute("CREATE STREAM again (id INT KEY) WITH (kafka_topic='PRICED', format='PROTOBUF');")
    assert str(engine.metastore.get("AGAIN").schema.find("PRICE").type) == "DECIMAL(4, 2)"


def test_a_protobuf_struct_whose_fields_are_all_null_is_still_written(engine):
    # proto3 cannot mark a scalar unset inside it, so the struct reads back with the defaults,
    # but it is there: only a NULL struct is left out
    engine.execute("CREATE STREAM s (id INT KEY, foo STRUCT<f0 INT>) WITH (kafka_topic='s', format='PROTOBUF', partitions=1);"
                   "INSERT INTO s (id, foo) VALUES (1, STRUCT(f0 := CAST(NULL AS INT)));"
                   "INSERT INTO s (id, foo) VALUES (2, CAST(NULL AS STRUCT<f0 INT>));")
    wait_for(lambda: len(topic_records(engine.log, "s")) == 2)
    rows = list(engine.execute("SELECT id, foo FROM s EMIT CHANGES LIMIT 2;")[0])
    assert rows == [[1, {"F0": 0}], [2, None]]


def test_an_unwrapped_value_is_inferred_as_one_column_of_the_whole_record(engine):
    # serialization.md: WRAP_SINGLE_VALUE=false reads the value as one column (ROWVAL, as
    # ksqlDB names an inferred single value), here a STRUCT of the record's fields
    schema = {"type": "record", "name": "R", "fields": [{"name": "F0", "type": ["null", "int"]}]}
    engine.schema_registry.register("raw-value", json.dumps(schema))
    engine.execute("CREATE STREAM raw WITH (kafka_topic='raw', value_format='AVRO', wrap_single_value=false, partitions=1);")
    assert engine.metastore.get("RAW").schema.describe() == "`ROWVAL` STRUCT<`F0` INTEGER>"
