"""The AVRO format: records in Confluent's wire format (magic byte, schema id, Avro binary),
their schemas in the schema registry (runtime/schema_registry.py).

Writing, the schema follows ksqlDB's mapping of SQL types: a record named
`io.confluent.ksql.avro_schemas.KsqlDataSourceSchema` of nullable fields, DECIMAL as bytes
with the decimal logical type, TIMESTAMP / DATE / TIME as timestamp-millis / date /
time-millis. It is registered under `<topic>-key` or `<topic>-value` with the first record.
Reading, each record is decoded with the schema its id names, and its values are converted
to the declared columns' types (an Avro int read into a STRING column gives its text, as in
ksqlDB).
"""
from __future__ import annotations

import io
import json
import struct
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.types import SqlType
from ksql.runtime.formats import avro_batch, java_text, schema_registry
from ksql.runtime.formats.serdes import RecordError, _Format, _json_reader

RECORD_NAME = "io.confluent.ksql.avro_schemas.KsqlDataSourceSchema"
_PRIMITIVES = {"BOOLEAN": "boolean", "INTEGER": "int", "BIGINT": "long", "DOUBLE": "double",
               "STRING": "string", "BYTES": "bytes"}
_LOGICAL = {"TIMESTAMP": {"type": "long", "logicalType": "timestamp-millis"},
            "DATE": {"type": "int", "logicalType": "date"},
            "TIME": {"type": "int", "logicalType": "time-millis"}}


# ---------------------------------------------------------------- SQL types -> Avro schemas


def avro_type(sql_type: SqlType, name: str) -> object:
    """The (non-null) Avro type of a SQL type; `name` names any record it makes."""
    base = sql_type.base
    if base in _PRIMITIVES:
        return _PRIMITIVES[base]
    if base in _LOGICAL:
        return dict(_LOGICAL[base])
    if base == "DECIMAL":
        return {"type": "bytes", "logicalType": "decimal", "precision": sql_type.precision,
                "scale": sql_type.scale}
    if base == "ARRAY":
        return {"type": "array", "items": _nullable(avro_type(sql_type.params[0], name))}
    if base == "MAP":
        if sql_type.params[0].base != "STRING":
            raise KsqlStatementError(f"Avro maps need STRING keys, not {sql_type.params[0]}")
        return {"type": "map", "values": _nullable(avro_type(sql_type.params[1], name + "_MapValue"))}
    if base == "STRUCT":
        return _record(name, [(n, t) for n, t in sql_type.params])
    raise KsqlStatementError(f"The AVRO format does not support {sql_type}")


def _nullable(avro) -> list:
    return ["null", avro]


def _record(name: str, fields) -> dict:
    return {"type": "record", "name": name.rsplit(".", 1)[-1], **(
        {"namespace": name.rsplit(".", 1)[0]} if "." in name else {}),
        "fields": [{"name": n, "type": _nullable(avro_type(t, f"{name}_{n}")), "default": None}
                   for n, t in fields]}


def schema_for(columns, unwrapped: bool, full_name: str = RECORD_NAME) -> dict | list:
    if unwrapped:
        return _nullable(avro_type(columns[0].type, full_name))
    return _record(full_name, [(c.name, c.type) for c in columns])


# ---------------------------------------------------------------- Avro schemas -> SQL types


def sql_type(avro, upper: bool = False, named: dict | None = None) -> SqlType:
    """The SQL type of an Avro schema (for CREATE STREAM/TABLE without columns); `upper`: the
    fields of records in it named in upper case, as ksqlDB names inferred columns (so that
    `after->name` finds a Debezium record's `name`). A type named earlier in the schema may be
    used again by its name (Debezium's `before` and `after` share one record)."""
    named = {} if named is None else named
    if isinstance(avro, list):
        rest = [a for a in avro if a != "null"]
        if not rest:
            raise KsqlStatementError(f"Cannot map the Avro union {json.dumps(avro)} to a SQL type")
        if len(rest) == 1:
            return sql_type(rest[0], upper, named)
        # as Kafka Connect reads a union of several types: a STRUCT of one field per branch
        return T.struct(tuple((name.upper() if upper else name, sql_type(branch, upper, named))
                              for name, branch in zip(union_names(rest), rest)))
    if isinstance(avro, str):
        found = {v: k for k, v in _PRIMITIVES.items()}.get(avro)
        if found == "BOOLEAN":
            return T.BOOLEAN
        if found:
            return getattr(T, found)
        if avro in ("float",):
            return T.DOUBLE
        if avro in named:
            return named[avro]
        raise KsqlStatementError(f"Cannot map the Avro type {avro} to a SQL type")
    kind, logical = avro.get("type"), avro.get("logicalType")
    if logical == "decimal":
        return T.decimal(int(avro["precision"]), int(avro.get("scale", 0)))
    if logical in ("timestamp-millis", "timestamp-micros"):
        return T.TIMESTAMP
    if logical == "date":
        return T.DATE
    if logical in ("time-millis", "time-micros"):
        return T.TIME
    if kind == "array":
        return T.array(sql_type(avro["items"], upper, named))
    if kind == "map":
        return T.map_of(T.STRING, sql_type(avro["values"], upper, named))
    if kind == "record":
        result = T.struct(tuple((f["name"].upper() if upper else f["name"], sql_type(f["type"], upper, named))
                                for f in avro["fields"]))
    elif kind == "enum":
        result = T.STRING
    elif kind == "fixed":
        result = T.BYTES
    else:
        return sql_type(kind, upper, named)
    name = avro.get("name", "")
    namespace = avro.get("namespace")
    named[name] = result
    if namespace and "." not in name:
        named[f"{namespace}.{name}"] = result
    return result


_AVRO_TYPES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string", "array", "map"}


def union_names(branches: list) -> list[str]:
    """The fields Kafka Connect names a union's branches by: a record's, enum's or fixed's
    name (without its namespace), else the Avro type's name (int, string, array, ...)."""
    names = []
    for branch in branches:
        kind = branch.get("type") if isinstance(branch, dict) else branch
        if isinstance(branch, dict) and kind in ("record", "enum", "fixed"):
            names.append(branch["name"].rsplit(".", 1)[-1])
        elif isinstance(branch, str) and branch not in _AVRO_TYPES:  # a named type, by its name
            names.append(branch.rsplit(".", 1)[-1])
        else:
            names.append(kind if isinstance(kind, str) else str(kind))
    return names


def union_shaper(schema):
    """None when an Avro schema has no union of several types; else a function that turns the
    values fastavro reads (with return_named_type: a union's record, enum or fixed comes as
    (its full name, its value)) into what sql_type() maps such a union to: {branch name:
    value}, the other branches absent (NULL)."""
    named: dict = {}
    if not _has_wide_union(schema, named):
        return None
    return lambda value: _shaped(value, schema, named)


def _has_wide_union(schema, named: dict) -> bool:
    """Whether a schema holds a union of several non-null types (noting its named types)."""
    if isinstance(schema, list):
        inner = [_has_wide_union(b, named) for b in schema if b != "null"]  # (each branch visited)
        return len(inner) > 1 or any(inner)
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind in ("record", "enum", "fixed"):
        named[schema["name"]] = named[schema["name"].rsplit(".", 1)[-1]] = schema
    if kind == "record":
        return any([_has_wide_union(f["type"], named) for f in schema["fields"]])  # (each field visited)
    if kind == "array":
        return _has_wide_union(schema["items"], named)
    if kind == "map":
        return _has_wide_union(schema["values"], named)
    return isinstance(kind, (list, dict)) and _has_wide_union(kind, named)


def _shaped(value, schema, named: dict):
    if value is None:
        return None
    if isinstance(schema, str):
        schema = named.get(schema, schema)
    if isinstance(schema, list):
        rest = [b for b in schema if b != "null"]
        if isinstance(value, tuple):  # a named branch
            name = value[0].rsplit(".", 1)[-1]
            branch = named.get(value[0], named.get(name))
            value = value[1]
        else:
            branch = rest[_branch_of(value, rest)]
            name = union_names([branch])[0]
        shaped = _shaped(value, branch, named)
        return shaped if len(rest) == 1 else {name: shaped}
    if not isinstance(schema, dict):
        return value
    kind = schema.get("type")
    if isinstance(kind, (list, dict)):
        return _shaped(value, kind, named)
    if kind == "record":
        return {f["name"]: _shaped(value.get(f["name"]), f["type"], named) for f in schema["fields"]}
    if kind == "array":
        return [_shaped(x, schema["items"], named) for x in value]
    if kind == "map":
        return {k: _shaped(x, schema["values"], named) for k, x in value.items()}
    return value


def _branch_of(value, branches: list) -> int:
    """Which unnamed branch of a union a value fastavro read came from, by its Python type."""
    wanted = ("boolean",) if isinstance(value, bool) else ("int", "long") if isinstance(value, int) else \
        ("float", "double") if isinstance(value, float) else ("string",) if isinstance(value, str) else \
        ("bytes",) if isinstance(value, bytes) else ("array",) if isinstance(value, list) else \
        ("map",) if isinstance(value, dict) else ()
    for i, branch in enumerate(branches):
        kind = branch.get("type") if isinstance(branch, dict) else branch
        if kind in wanted:
            return i
    for i, branch in enumerate(branches):  # a logical type: a timestamp, date or decimal
        if isinstance(branch, dict) and branch.get("logicalType"):
            return i
    raise RecordError(f"No branch of the union {json.dumps(branches)} holds {value!r}")


def inferred_columns(schema_id: int, text: str, key: bool, keep_case: bool, full_name: str | None):
    """The columns of a registered schema, as (name, type): a value record's fields (named as
    the schema spells them when keep_case, else upper-cased); else one column, named None (the
    caller's ROWKEY / ROWVAL): a key is one column whatever its type, as keys are not wrapped."""
    schema = json.loads(text)
    if isinstance(schema, list):
        schema = next((s for s in schema if s != "null"), schema)
    if not key and isinstance(schema, dict) and schema.get("type") == "record":
        named: dict = {}  # (one for the whole schema: a later field may use a type an earlier one named)
        return [(f["name"] if keep_case else f["name"].upper(), sql_type(f["type"], not keep_case, named))
                for f in schema["fields"]]
    return [(None, sql_type(schema, not keep_case))]


def _check_names(names: list[str], types: list[SqlType]) -> None:
    """Avro names a record's fields as identifiers do: a letter or '_' first, then letters,
    digits and '_'. Nested STRUCT fields are record fields too."""
    for name in names:
        if not (name[:1].isascii() and (name[:1].isalpha() or name[:1] == "_")):
            raise KsqlStatementError(f"Schema is not compatible with Avro: Illegal initial character: {name}")
        if not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
            raise KsqlStatementError(f"Schema is not compatible with Avro: Illegal character in: {name}")
    for sql_type in types:
        if sql_type.base == "STRUCT":
            _check_names([n for n, _ in sql_type.params], [t for _, t in sql_type.params])
        elif sql_type.base in ("ARRAY", "MAP"):
            _check_names([], list(sql_type.params))


# ---------------------------------------------------------------- the format


class AvroFormat(_Format):
    def __init__(self, columns, key: bool, topic: str | None, wrap=None, schema_id: int | None = None,
                 full_name: str | None = None):
        import fastavro

        self._fastavro = fastavro
        self.columns = tuple(columns)
        self.key = key
        if wrap is None:
            wrap = not key
        self.unwrapped = len(self.columns) == 1 and not wrap
        self.subject = f"{topic}-{'key' if key else 'value'}" if topic else None
        self.schema_id = schema_id  # KEY_SCHEMA_ID / VALUE_SCHEMA_ID: write with this schema
        self.full_name = full_name or RECORD_NAME
        _check_names([] if self.unwrapped else [c.name for c in self.columns], [c.type for c in self.columns])
        self.converters = [_converter(c.type) for c in self.columns]
        self._writer = None  # (schema id, parsed schema), set at the first record written
        self._foreign = None  # the schema of a given id, when records are written with it
        self._readers: dict[int, object] = {}
        self._batch_readers: dict[int, tuple] = {}  # schema id -> (its text, its fields) for avro_batch

    # -- reading

    def decode_array(self, payloads: pa.BinaryArray):
        """A batch read natively (avro_batch.py) when its records are of the shape that path
        reads exactly as this one does, else record by record."""
        decoded = None if self.unwrapped else self._decode_batch(payloads)
        return decoded if decoded is not None else self.decode(payloads.to_pylist())

    def _decode_batch(self, payloads: pa.BinaryArray):
        present = payloads.drop_null() if payloads.null_count else payloads
        if len(present) == 0:
            return None
        headers = pc.binary_slice(present, 0, 5)
        first = headers[0].as_py()
        if len(first) < 5 or first[0] != schema_registry.MAGIC or not pc.all(pc.equal(headers, first)).as_py():
            return None  # headers of several schemas, or bad ones: each record gets its own answer
        (schema_id,) = struct.unpack(">i", first[1:5])
        try:
            _, plan, _ = self._reader(schema_id)
        except (RecordError, schema_registry.RegistryError, ValueError, KeyError):
            return None
        text, fields = self._batch_readers[schema_id]
        if fields is None or plan is None:
            return None
        kinds = {name: (kind, logical) for name, kind, _, logical in fields}
        if any(name and kinds[name] not in _BATCH_READS.get(column.type.base, ())
               for (name, _), column in zip(plan, self.columns)):
            return None  # a column the record path converts (an int read into a STRING, ...)
        decoded = avro_batch.decode_bodies(schema_registry.bodies(present), text, fields)
        if decoded is None:
            return None
        arrays = []
        for (name, _), column in zip(plan, self.columns):
            arrow_type = T.to_arrow(column.type)
            arrays.append(decoded[name].cast(arrow_type) if name else pa.nulls(len(present), arrow_type))
        if present is not payloads:  # the null payloads back in their places, as empty rows
            valid = payloads.is_valid().to_numpy(zero_copy_only=False)
            places = pa.array(np.cumsum(valid) - 1, mask=~valid)
            arrays = [array.take(places) for array in arrays]
        return arrays, {}

    def decode(self, payloads):
        failures = (RecordError, ValueError, TypeError, EOFError, IndexError, KeyError, schema_registry.RegistryError)
        try:
            return self._decode_each(payloads, self._decode_one, failures)
        except (pa.ArrowInvalid, OverflowError):
            # a value the fast path passed on unchecked does not fit its column (an Avro int
            # past 32 bits, from broken bytes): read this batch checking every value
            return self._decode_each(payloads, lambda p: self._decode_one(p, checked=True), failures)

    def _decode_one(self, payload: bytes, checked: bool = False) -> list:
        if len(payload) < 5 or payload[0] != schema_registry.MAGIC:
            raise RecordError("Unknown magic byte!")
        (schema_id,) = struct.unpack(">i", payload[1:5])
        parsed, plan, shaper = self._reader(schema_id)
        try:
            value = self._fastavro.schemaless_reader(io.BytesIO(payload[5:]), parsed, None,
                                                     return_named_type=shaper is not None)
            if shaper is not None:
                value = shaper(value)
        except EOFError:  # (fastavro's message names its buffer object)
            raise RecordError(f"Error deserializing Avro message for id {schema_id}: it ends before its value "
                              f"does") from None
        if self.unwrapped or (len(self.columns) == 1 and not isinstance(value, dict)):
            return [self.converters[0](value)]
        if not isinstance(value, dict):
            raise RecordError(f"Expected an Avro record, got {type(value).__name__}")
        if plan is not None and not checked:
            return [value.get(name) if convert is None else convert(value.get(name)) for name, convert in plan]
        lookup = {k.upper(): v for k, v in value.items()}
        return [convert(lookup.get(c.name.upper())) for c, convert in zip(self.columns, self.converters)]

    def _reader(self, schema_id: int):
        """The parsed writer schema of an id, and when it is a record: for each column, the
        field that holds it and how to convert its values (None: they are already the
        column's, as when the writer's field has the type this format writes)."""
        found = self._readers.get(schema_id)
        if found is None:
            schema_type, text = schema_registry.current().schema(schema_id)
            if schema_type != "AVRO":
                raise RecordError(f"Schema {schema_id} is {schema_type}, not AVRO")
            schema = json.loads(text)
            plan = None
            if isinstance(schema, dict) and schema.get("type") == "record":
                fields = {f["name"].upper(): f for f in schema["fields"]}
                plan = []
                for column, convert in zip(self.columns, self.converters):
                    field = fields.get(column.name.upper())
                    same = field is not None and _NATIVE.get(column.type.base) is not None and \
                        _without_null(field["type"]) == _NATIVE[column.type.base]
                    plan.append((field["name"] if field else None, None if same else convert))
            found = self._readers[schema_id] = (self._fastavro.parse_schema(schema), plan, union_shaper(schema))
            self._batch_readers[schema_id] = (text, avro_batch.batch_fields(schema))
        return found

    # -- writing

    def encode_array(self, arrays, n) -> pa.BinaryArray:
        """Written natively (avro_batch.py) when every column is of a type that path writes and
        the schema is this format's own, else record by record."""
        kinds = [avro_batch.ENCODABLE.get(c.type.base) for c in self.columns]
        if not self.columns or None in kinds:
            return super().encode_array(arrays, n)
        schema_id, _ = self._writer_schema()
        if self._foreign is not None:  # someone else's schema: its names, its defaults
            return super().encode_array(arrays, n)
        header = struct.pack(">bi", schema_registry.MAGIC, schema_id)
        columns = [(array.cast(as_numbers) if as_numbers is not None else array, kind)
                   for array, (kind, as_numbers) in zip(arrays, kinds)]
        written = avro_batch.encode_records(header, columns)
        return written if written is not None else super().encode_array(arrays, n)

    def encode(self, arrays, n):
        if not self.columns:
            return [None] * n
        schema_id, parsed = self._writer_schema()
        header = struct.pack(">bi", schema_registry.MAGIC, schema_id)
        columns = [_avro_values(array, c.type) for array, c in zip(arrays, self.columns)]
        foreign = self._foreign
        out = []
        for i in range(n):
            buffer = io.BytesIO()
            buffer.write(header)
            if self.unwrapped:
                record = columns[0][i]
            else:
                record = {c.name: values[i] for c, values in zip(self.columns, columns)}
            if foreign is not None:  # a registered schema of someone else's: its names, its defaults
                record = shape(record, foreign)
            self._fastavro.schemaless_writer(buffer, parsed, record)
            out.append(buffer.getvalue())
        return out

    def register(self) -> None:
        if self.columns and self.subject:
            self._writer_schema()

    def _writer_schema(self):
        if self._writer is None:
            registry = schema_registry.current()
            if self.schema_id is not None:
                schema_type, text = registry.schema(self.schema_id)
                self._foreign = json.loads(text)
                self._writer = (self.schema_id, self._fastavro.parse_schema(json.loads(text)))
            else:
                schema = schema_for(self.columns, self.unwrapped, self.full_name)
                text = json.dumps(schema, separators=(",", ":"))
                schema_id = registry.register(self.subject, text) if self.subject else 0
                self._writer = (schema_id, self._fastavro.parse_schema(schema))
        return self._writer

    def schema_text(self) -> str:
        return json.dumps(schema_for(self.columns, self.unwrapped, self.full_name), separators=(",", ":"))


# ---------------------------------------------------------------- values

# column type -> the Avro (primitive, logical type) whose values avro_batch reads as its own
_BATCH_READS = {"BOOLEAN": {("boolean", None)}, "INTEGER": {("int", None)}, "BIGINT": {("long", None)},
                "DOUBLE": {("double", None)}, "STRING": {("string", None)}, "BYTES": {("bytes", None)},
                "TIMESTAMP": {("long", "timestamp-millis")}, "DATE": {("int", "date")},
                "TIME": {("int", "time-millis")}}

# Avro types whose values fastavro returns exactly as the column type needs them.
_NATIVE = {"BOOLEAN": "boolean", "INTEGER": "int", "BIGINT": "long", "DOUBLE": "double", "STRING": "string",
           "BYTES": "bytes"}


def _without_null(avro):
    """The one non-null branch of a ["null", T] union (or the type itself)."""
    if isinstance(avro, list):
        rest = [a for a in avro if a != "null"]
        return rest[0] if len(rest) == 1 else avro
    return avro


def _converter(sql_type: SqlType):
    """From a value fastavro read to the Python value Arrow expects for the column."""
    base = sql_type.base
    if base in ("ARRAY", "MAP", "STRUCT"):  # the JSON reader's shapes, with these readers inside
        return _json_reader(sql_type, inner=_converter)
    if base == "BYTES":
        return lambda v: v if v is None or isinstance(v, bytes) else _fail_bytes(v)
    as_json = _json_reader(sql_type)
    if base == "TIMESTAMP":
        def read(v):
            if isinstance(v, datetime):
                return v.astimezone(timezone.utc).replace(tzinfo=None) if v.tzinfo else v
            return None if v is None else datetime(1970, 1, 1) + timedelta(milliseconds=int(v))
        return read
    if base == "DATE":
        return lambda v: v if isinstance(v, date) or v is None else date(1970, 1, 1) + timedelta(days=int(v))
    if base == "TIME":
        def read(v):
            if isinstance(v, time) or v is None:
                return v
            ms = int(v)
            return time(ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000 * 1000)
        return read
    if base == "DECIMAL":
        def read(v):
            if isinstance(v, Decimal):  # (the writer's scale: ksqlDB fits it without rounding)
                return java_text.fit_decimal(v, sql_type)
            return as_json(v)
        return read
    if base == "STRING":
        def read(v):
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, (dict, list)):
                return json.dumps(v, separators=(",", ":"))
            return as_json(v if not isinstance(v, (bytes, Decimal, datetime, date, time)) else str(v))
        return read
    return as_json


def shape(value, schema):
    """A value shaped for a given Avro schema: record fields named as the schema names them
    (matched without case; fields the value lacks are left to their defaults), maps as dicts."""
    if value is None:
        return None
    if isinstance(schema, list):
        branch = next((b for b in schema if isinstance(b, dict) and (
            b.get("type") == "record" and isinstance(value, dict) or
            b.get("type") in ("array", "map") and isinstance(value, list))), None)
        return shape(value, branch) if branch is not None else value
    if not isinstance(schema, dict):
        return value
    kind = schema.get("type")
    if isinstance(kind, (dict, list)):
        return shape(value, kind)
    if kind == "record" and isinstance(value, dict):
        lookup = {str(k).upper(): v for k, v in value.items()}
        out = {}
        for field in schema["fields"]:
            name = field["name"]
            if name.upper() in lookup and (lookup[name.upper()] is not None or "default" not in field):
                out[name] = shape(lookup[name.upper()], field["type"])
        return out
    if kind == "array" and isinstance(value, list):
        return [shape(x, schema["items"]) for x in value]
    if kind == "map":
        items = value.items() if isinstance(value, dict) else value
        return {k: shape(x, schema["values"]) for k, x in items}
    return value


def _fail_bytes(v):
    raise RecordError(f"Can't convert type. sourceType: {type(v).__name__}, requiredType: BYTES")


def _avro_values(array: pa.Array, sql_type: SqlType) -> list:
    """A column's values as fastavro writes them (maps as dicts)."""
    values = array.to_pylist()
    if _has_map(sql_type):
        convert = _map_fixer(sql_type)
        return [convert(v) for v in values]
    return values


def _has_map(sql_type: SqlType) -> bool:
    if sql_type.base == "MAP":
        return True
    if sql_type.base == "ARRAY":
        return _has_map(sql_type.params[0])
    if sql_type.base == "STRUCT":
        return any(_has_map(t) for _, t in sql_type.params)
    return False


def _map_fixer(sql_type: SqlType):
    base = sql_type.base
    if base == "MAP":
        inner = _map_fixer(sql_type.params[1])
        return lambda v: None if v is None else {k: inner(x) for k, x in v}
    if base == "ARRAY":
        inner = _map_fixer(sql_type.params[0])
        return lambda v: None if v is None else [inner(x) for x in v]
    if base == "STRUCT":
        fields = [(n, _map_fixer(t)) for n, t in sql_type.params]
        return lambda v: None if v is None else {n: f(v.get(n)) for n, f in fields}
    return lambda v: v
