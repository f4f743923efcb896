"""Kafka Connect's converters: how a connector's keys and values become record bytes and back.

The embedded worker's defaults are the ones ksqlDB's quickstarts set: keys as strings, values
as JSON without the schema envelope. A connector's own `key.converter` /
`value.converter` (and `...converter.schemas.enable`) settings override them. The
AvroConverter registers each topic's schema (from the record's Connect schema, as
Confluent's converter derives it) in the engine's schema registry under `<topic>-key` or
`<topic>-value`, so ksqlDB infers the columns of a stream declared over the topic."""
from __future__ import annotations

import io
import json
import re

import fastavro
import orjson

from ksql.runtime.formats import schema_registry

STRING = "org.apache.kafka.connect.storage.StringConverter"
JSON = "org.apache.kafka.connect.json.JsonConverter"
BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter"
AVRO = "io.confluent.connect.avro.AvroConverter"
KINDS = (STRING, JSON, BYTES, AVRO)
WORKER_DEFAULTS = {"key.converter": STRING, "value.converter": JSON, "value.converter.schemas.enable": "false",
                   "key.converter.schemas.enable": "false"}


class Converter:
    """One of the converters above; `schema` is a Connect schema (JSON form) for the envelope."""

    def __init__(self, kind: str, schemas_enable: bool, role: str = "value"):
        self.kind = kind
        self.schemas_enable = schemas_enable
        self.role = role
        self._avro: dict = {}  # (topic, Connect schema) -> (schema id, parsed Avro schema)

    def to_bytes(self, value, schema: dict | None = None, topic: str = "") -> bytes | None:
        if value is None:
            return None
        if self.kind == AVRO:
            return self._avro_bytes(value, schema, topic)
        if self.kind == STRING:
            return (value if isinstance(value, str) else orjson.dumps(value).decode()
                    if isinstance(value, (dict, list)) else str(value)).encode()
        if self.kind == BYTES:
            return value if isinstance(value, bytes) else str(value).encode()
        if self.schemas_enable:
            return orjson.dumps({"schema": schema, "payload": value})
        return orjson.dumps(value)

    def to_text(self, raw: bytes | None) -> str:
        """A record's key or value as a sink writes it: text, JSON values re-serialized compactly."""
        if raw is None:
            return "null"
        if self.kind == AVRO:
            schema_id = int.from_bytes(raw[1:5], "big")
            parsed = fastavro.parse_schema(json.loads(schema_registry.current().schema(schema_id)[1]))
            value = fastavro.schemaless_reader(io.BytesIO(raw[5:]), parsed)
            return value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
        if self.kind != JSON:
            return raw.decode("utf-8", "replace")
        value = orjson.loads(raw)
        if self.schemas_enable and isinstance(value, dict) and "payload" in value:
            value = value["payload"]
        return value if isinstance(value, str) else orjson.dumps(value).decode()

    def register(self, schema: dict | None, topic: str) -> None:
        """Register the Avro schema of records of this Connect schema (AvroConverter only)."""
        if self.kind == AVRO and schema is not None:
            self._avro_schema(schema, topic)

    def _avro_schema(self, schema: dict, topic: str) -> tuple[int, dict]:
        cache_key = (topic, orjson.dumps(schema))
        known = self._avro.get(cache_key)
        if known is None:
            avro = avro_schema(schema, set())
            schema_id = schema_registry.current().register(f"{topic}-{self.role}", json.dumps(avro))
            known = self._avro[cache_key] = (schema_id, fastavro.parse_schema(avro))
        return known

    def _avro_bytes(self, value, schema: dict, topic: str) -> bytes:
        """Confluent's wire format: a zero byte, the schema's id, the Avro binary encoding."""
        known = self._avro_schema(schema, topic)
        out = io.BytesIO()
        out.write(b"\x00" + known[0].to_bytes(4, "big"))
        fastavro.schemaless_writer(out, known[1], value)
        return out.getvalue()


_AVRO_TYPES = {"int8": "int", "int16": "int", "int32": "int", "int64": "long", "float32": "float",
               "float64": "double", "boolean": "boolean", "string": "string", "bytes": "bytes"}


def avro_schema(schema: dict, named: set, default_name: str = "ConnectDefault"):
    """The Avro schema of a Connect schema, as Confluent's AvroConverter makes it: a struct is a
    record named after the schema (a name met before is referred to by name), an optional
    field a union with null that defaults to null."""
    kind = schema["type"]
    if kind == "struct":
        # Avro names are letters, digits and _ (Debezium adjusts `call-center-db.public.calls` alike)
        full = re.sub(r"[^A-Za-z0-9_.]", "_", schema.get("name") or default_name)
        if full in named:
            return full
        named.add(full)
        namespace, _, name = full.rpartition(".")
        fields = []
        for field in schema["fields"]:
            inner = avro_schema(field, named, f"{full}_{field['field']}")
            if field.get("optional"):
                fields.append({"name": field["field"], "type": ["null", inner], "default": None})
            else:
                fields.append({"name": field["field"], "type": inner})
        record = {"type": "record", "name": name, "fields": fields}
        return {**record, "namespace": namespace} if namespace else record
    if kind == "array":
        return {"type": "array", "items": avro_schema(schema["items"], named, default_name)}
    if kind == "map":
        return {"type": "map", "values": avro_schema(schema["values"], named, default_name)}
    return _AVRO_TYPES[kind]


def converter(config: dict, role: str, problems: list[str]) -> Converter:
    """The key or value (`role`) converter a connector's settings ask for (its settings include
    the worker's, see ksql/engine/connect_backends.py)."""
    setting = f"{role}.converter"
    kind = config.get(setting) or WORKER_DEFAULTS[setting]
    if kind not in KINDS:
        problems.append(f"{setting} - {kind} is not one of the converters the embedded worker runs: "
                        f"{', '.join(KINDS)}")
        kind = WORKER_DEFAULTS[setting]
    enable = config.get(f"{setting}.schemas.enable") or WORKER_DEFAULTS[f"{setting}.schemas.enable"]
    return Converter(kind, enable.lower() == "true", role)
