"""The JSON_SR format: JSON records behind Confluent's wire-format header (magic byte and the
id of a JSON Schema in the schema registry, schemaType JSON).

The JSON itself is read and written as the JSON format does; the schema written follows
Kafka Connect's JSON Schema mapping, as ksqlDB's (fields as `oneOf` null or the type, with
`connect.index` and `connect.type`).
"""
from __future__ import annotations

import json
import struct

import pyarrow as pa
import pyarrow.compute as pc

from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.types import SqlType
from ksql.runtime.formats import schema_registry
from ksql.runtime.formats.serdes import JsonFormat

_MAGIC = pa.scalar(bytes([schema_registry.MAGIC]), pa.binary())

_CONNECT = {"INTEGER": ("integer", "int32"), "BIGINT": ("integer", "int64"), "DOUBLE": ("number", "float64"),
            "BOOLEAN": ("boolean", "boolean"), "STRING": ("string", None), "BYTES": ("string", "bytes")}
_LOGICAL = {"TIMESTAMP": ("integer", "int64", "org.apache.kafka.connect.data.Timestamp"),
            "DATE": ("integer", "int32", "org.apache.kafka.connect.data.Date"),
            "TIME": ("integer", "int32", "org.apache.kafka.connect.data.Time")}


def json_schema(sql_type: SqlType) -> dict:
    base = sql_type.base
    if base in _CONNECT:
        kind, connect = _CONNECT[base]
        return {"type": kind, **({"connect.type": connect} if connect else {})}
    if base in _LOGICAL:
        kind, connect, title = _LOGICAL[base]
        return {"type": kind, "connect.type": connect, "title": title}
    if base == "DECIMAL":
        return {"type": "number", "connect.type": "bytes", "title": "org.apache.kafka.connect.data.Decimal",
                "connect.parameters": {"scale": str(sql_type.scale),
                                       "connect.decimal.precision": str(sql_type.precision)}}
    if base == "ARRAY":
        return {"type": "array", "items": _nullable(json_schema(sql_type.params[0]))}
    if base == "MAP":
        return {"type": "object", "additionalProperties": _nullable(json_schema(sql_type.params[1])),
                "connect.type": "map"}
    if base == "STRUCT":
        return _object([(n, t) for n, t in sql_type.params])
    raise KsqlStatementError(f"The JSON_SR format does not support {sql_type}")


def _nullable(schema: dict) -> dict:
    return {"oneOf": [{"type": "null"}, schema]}


def _object(fields) -> dict:
    return {"type": "object", "properties": {
        name: {"connect.index": i, **_nullable(json_schema(t))} for i, (name, t) in enumerate(fields)}}


def schema_for(columns, unwrapped: bool) -> dict:
    if unwrapped:
        return _nullable(json_schema(columns[0].type))
    return _object([(c.name, c.type) for c in columns])


def sql_type(schema: dict, root: dict | None = None) -> SqlType:
    """The SQL type of a JSON Schema (for CREATE STREAM/TABLE without columns); `root`: the
    whole document, where a "$ref" points."""
    root = schema if root is None else root
    schema = _resolved(schema, root)
    if "oneOf" in schema or "anyOf" in schema:
        rest = [s for s in schema.get("oneOf", schema.get("anyOf")) if _resolved(s, root).get("type") != "null"]
        if len(rest) != 1:
            raise KsqlStatementError(f"Cannot map the JSON schema {json.dumps(schema)} to a SQL type")
        return sql_type(rest[0], root)
    kind, connect, title = schema.get("type"), schema.get("connect.type"), schema.get("title", "")
    if isinstance(kind, list):  # "type": ["string", "null"]: a nullable string
        rest = [k for k in kind if k != "null"]
        if len(rest) != 1:
            raise KsqlStatementError(f"Cannot map the JSON schema {json.dumps(schema)} to a SQL type")
        kind = rest[0]
    if title.endswith("Decimal"):
        params = schema.get("connect.parameters", {})
        return T.decimal(int(params.get("connect.decimal.precision", 64)), int(params.get("scale", 0)))
    if title.endswith(".Timestamp"):
        return T.TIMESTAMP
    if title.endswith(".Date"):
        return T.DATE
    if title.endswith(".Time"):
        return T.TIME
    if kind == "integer":
        return T.INTEGER if connect in ("int8", "int16", "int32") else T.BIGINT
    if kind == "number":
        return T.DOUBLE
    if kind == "boolean":
        return T.BOOLEAN
    if kind == "string" or kind is None and "enum" in schema:  # an enum's symbols are strings
        return T.BYTES if connect == "bytes" else T.STRING
    if kind == "array":
        return T.array(sql_type(schema.get("items", {"type": "string"}), root))
    if kind == "object":
        fields = record_columns(schema, root)
        if fields is not None:
            return T.struct(tuple(fields))
        return T.map_of(T.STRING, sql_type(schema.get("additionalProperties", {"type": "string"}), root))
    raise KsqlStatementError(f"Cannot map the JSON schema {json.dumps(schema)} to a SQL type")


def _resolved(schema: dict, root: dict) -> dict:
    """The schema a local "$ref" ("#/definitions/Name", "#/$defs/Name") points to."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#"):
        target = root
        for part in schema["$ref"][1:].strip("/").split("/"):
            if part:
                target = target[part.replace("~1", "/").replace("~0", "~")]
        schema, seen = target, seen + 1
        if seen > 64:
            raise KsqlStatementError(f"The JSON schema refers to itself: {json.dumps(schema)[:200]}")
    return schema


def record_columns(schema: dict, root: dict | None = None) -> list[tuple[str, SqlType]] | None:
    """The fields of an object schema, in order; None for any other schema."""
    root = schema if root is None else root
    schema = _resolved(schema, root)
    if schema.get("type") == "object" and "properties" in schema and schema.get("connect.type") != "map":
        fields = sorted(schema["properties"].items(), key=lambda item: item[1].get("connect.index", 0))
        return [(name, sql_type(s, root)) for name, s in fields]
    return None


def inferred_columns(schema_id: int, text: str, key: bool, keep_case: bool, full_name: str | None):
    """The columns of a registered JSON schema, as (name, type): a value object's properties,
    else one column named None (the caller's ROWKEY / ROWVAL)."""
    schema = json.loads(text)
    fields = record_columns(schema) if not key else None
    return fields if fields is not None else [(None, sql_type(schema))]


class JsonSrFormat(JsonFormat):
    def __init__(self, columns, key: bool, topic: str | None, wrap=None, schema_id: int | None = None):
        super().__init__(columns, key=key, wrap=wrap)
        self.subject = f"{topic}-{'key' if key else 'value'}" if topic else None
        self.schema_id = schema_id  # KEY/VALUE_SCHEMA_ID: records name that schema, nothing is registered
        self._header: bytes | None = None

    def decode(self, payloads):
        stripped, bad = [], {}
        for i, payload in enumerate(payloads):
            if payload is not None and (len(payload) < 5 or payload[0] != schema_registry.MAGIC):
                bad[i] = "Unknown magic byte!"
                stripped.append(None)
            else:
                stripped.append(None if payload is None else payload[5:])
        arrays, errors = super().decode(stripped)
        return arrays, {**errors, **bad}

    def decode_array(self, payloads):
        present = payloads.drop_null()
        if len(present) and (pc.min(pc.binary_length(present)).as_py() < 5
                             or pc.any(pc.not_equal(pc.binary_slice(present, 0, 1), _MAGIC)).as_py()):
            return self.decode(payloads.to_pylist())  # each bad header gets its error
        return super().decode_array(schema_registry.bodies(payloads))

    def encode_array(self, arrays, n):
        return pc.binary_join_element_wise(self.register(), self._encode_batch(arrays, n), b"")

    def register(self) -> bytes:
        """Register the schema (once); the header that names it."""
        if self._header is None:
            schema_id = self.schema_id or 0
            if self.schema_id is None and self.subject and self.columns:
                text = json.dumps(schema_for(self.columns, self.unwrapped), separators=(",", ":"))
                schema_id = schema_registry.current().register(self.subject, text, "JSON")
            self._header = struct.pack(">bi", schema_registry.MAGIC, schema_id)
        return self._header

    def encode(self, arrays, n):
        header = self.register()
        return [None if v is None else header + v for v in self._encode_batch(arrays, n).to_pylist()]
