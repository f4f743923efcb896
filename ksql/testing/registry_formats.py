"""Test records in the AVRO, JSON_SR and PROTOBUF formats: the JSON-like values a test file gives, written
with the topic's registered schema (or, if it has none, the one the source's columns make), and
read back into JSON-like values for comparison, as ksqlDB's test harness does."""
from __future__ import annotations

import base64
import io
import json
import struct
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import fastavro

from ksql.runtime.formats import json_sr
from ksql.runtime.formats import protobuf
from ksql.runtime.formats import schema_registry
from ksql.runtime.formats.avro import schema_for


def encode_avro(value, subject: str, source, key: bool) -> bytes:
    registry = schema_registry.current()
    latest = registry.latest(subject)
    if latest is not None:
        schema_id, _, _, text = latest
        schema = json.loads(text)
    else:
        columns = (source.schema.key if key else source.schema.value) if source else ()
        if not columns:
            raise ValueError(f"no schema for {subject} and no columns to make one from")
        wrapped = (not key) if source.wrap_single_value is None or key else source.wrap_single_value
        schema = schema_for(columns, unwrapped=len(columns) == 1 and not wrapped)
        schema_id = registry.register(subject, json.dumps(schema, separators=(",", ":")))
    buffer = io.BytesIO()
    buffer.write(struct.pack(">bi", schema_registry.MAGIC, schema_id))
    parsed = fastavro.parse_schema(schema)
    fastavro.schemaless_writer(buffer, parsed, _to_avro(value, schema))
    return buffer.getvalue()


def json_sr_header(subject: str, source, key: bool) -> bytes:
    """The wire-format header naming the subject's JSON schema (registered from the source's
    columns if the test declared none)."""
    registry = schema_registry.current()
    latest = registry.latest(subject)
    if latest is not None:
        schema_id = latest[0]
    else:
        columns = (source.schema.key if key else source.schema.value) if source else ()
        if not columns:
            return struct.pack(">bi", schema_registry.MAGIC, 0)  # nothing to describe: no schema
        wrapped = (not key) if source.wrap_single_value is None or key else source.wrap_single_value
        schema = json_sr.schema_for(columns, unwrapped=len(columns) == 1 and not wrapped)
        schema_id = registry.register(subject, json.dumps(schema, separators=(",", ":")), "JSON")
    return struct.pack(">bi", schema_registry.MAGIC, schema_id)


def decode_avro(data: bytes):
    if len(data) < 5 or data[0] != schema_registry.MAGIC:
        return data
    (schema_id,) = struct.unpack(">i", data[1:5])
    _, text = schema_registry.current().schema(schema_id)
    value = fastavro.schemaless_reader(io.BytesIO(data[5:]), fastavro.parse_schema(json.loads(text)), None)
    return _to_json(value)


def _to_avro(value, schema):
    """A JSON-like value shaped for fastavro by the schema (names matched without case)."""
    if value is None:
        return None
    if isinstance(schema, list):
        for branch in schema:
            if branch == "null":
                continue
            try:
                return _to_avro(value, branch)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue
        if "string" in schema and isinstance(value, (int, float)):  # a number written as text
            return str(value).lower() if isinstance(value, bool) else str(value)
        raise ValueError(f"no branch of {schema} takes {value!r}")
    if isinstance(schema, str):
        if schema in ("int", "long"):
            if isinstance(value, bool):
                raise TypeError("a boolean is not a number")
            return int(value)
        if schema in ("float", "double"):
            return float(value)
        if schema == "string":
            if not isinstance(value, str):
                raise TypeError("not a string")
            return value
        if schema == "boolean":
            if not isinstance(value, bool):
                raise TypeError("not a boolean")
            return value
        if schema == "bytes":
            return base64.b64decode(value) if isinstance(value, str) else bytes(value)
        return value
    kind, logical = schema.get("type"), schema.get("logicalType")
    if logical == "decimal":
        return Decimal(str(value))
    if kind == "record":
        if not isinstance(value, dict):
            raise TypeError("not an object")
        lookup = {k.upper(): v for k, v in value.items()}
        return {f["name"]: _to_avro(lookup.get(f["name"].upper()), f["type"]) for f in schema["fields"]}
    if kind == "array":
        if not isinstance(value, list):
            raise TypeError("not an array")
        return [_to_avro(x, schema["items"]) for x in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise TypeError("not an object")
        return {k: _to_avro(x, schema["values"]) for k, x in value.items()}
    if kind == "enum":
        return value
    return _to_avro(value, kind)


def _to_json(value):
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return (value - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    if isinstance(value, date):
        return (value - date(1970, 1, 1)).days
    if isinstance(value, time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return value
    return value


def encode_protobuf(value, subject: str, columns, registry: bool, full_name: str | None = None,
                    nullable: str | None = None) -> bytes:
    """A message of the subject's registered schema (else of the columns), as JSON-like values
    give it; with the wire-format header for PROTOBUF."""
    if not registry:
        message = protobuf.Schema(protobuf.schema_text(columns, nullable=nullable)).message()()
        protobuf.fill_message(message, value if isinstance(value, dict) else {columns[0].name: value})
        return message.SerializeToString()
    latest = schema_registry.current().latest(subject)
    if latest is not None:
        schema_id = latest[0]
    else:
        schema_id = schema_registry.current().register(subject, protobuf.schema_text(columns, nullable=nullable),
                                                       "PROTOBUF")
    schema = protobuf.registered(schema_id)
    message = schema.message(full_name=full_name)()
    fields = message.DESCRIPTOR.fields
    protobuf.fill_message(message, value if isinstance(value, dict) else {fields[0].name: value})
    indexes = protobuf.message_indexes(schema.indexes(message.DESCRIPTOR))
    return struct.pack(">bi", schema_registry.MAGIC, schema_id) + indexes + message.SerializeToString()


def decode_protobuf(data: bytes, columns, registry: bool, nullable: str | None = None):
    if not registry:
        message = protobuf.Schema(protobuf.schema_text(columns, nullable=nullable)).message()
        return _to_json(protobuf.read_message(message.FromString(data)))
    if len(data) < 6 or data[0] != schema_registry.MAGIC:
        return data
    (schema_id,) = struct.unpack(">i", data[1:5])
    indexes, position = protobuf._read_indexes(data, 5)
    message = protobuf.registered(schema_id).message(indexes or (0,))
    return _to_json(protobuf.read_message(message.FromString(data[position:])))
