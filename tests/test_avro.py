"""The AVRO format: records in Confluent's wire format, schemas in the schema registry (the
embedded one by default), schemas inferred for CREATE without columns."""
from __future__ import annotations

import io
import json
import struct
from datetime import datetime
from decimal import Decimal

import fastavro
import pytest

from ksql.runtime.log import make_records

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


def test_a_missing_schema_is_a_clear_error(engine):
    with pytest.raises(Exception, match="Schema for message values on topic 'nothing' does not exist"):
        engine.execute("CREATE STREAM nothing WITH (kafka_topic='nothing', value_format='AVRO', partitions=1);")
