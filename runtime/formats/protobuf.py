"""The PROTOBUF and PROTOBUF_NOSR formats.

A schema is proto3 text, parsed (proto-schema-parser) into descriptors from which the
protobuf runtime builds message classes at run time. Writing, the text comes from the
columns, as ksqlDB's mapping makes it (a message `ConnectDefault1` of the columns; STRUCT as
a nested message, ARRAY as repeated, MAP as map, DECIMAL / TIMESTAMP / DATE / TIME as
confluent.type.Decimal / google.protobuf.Timestamp / google.type.Date / google.type.TimeOfDay).

PROTOBUF records carry Confluent's wire format (magic byte, schema id, message indexes) and
their schemas live in the schema registry (schemaType PROTOBUF); PROTOBUF_NOSR records are
the bare message, its schema taken from the columns. Proto3 has no null scalars: an unset
INT reads as 0, an unset STRING as '' (as in ksqlDB); unset messages read as NULL. Keys are
always messages of their columns.
"""
from __future__ import annotations

import struct
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.types import SqlType
from ksql.runtime.formats import schema_registry
from ksql.runtime.formats.serdes import RecordError, _Format, _json_reader

# Messages ksqlDB's mapping refers to, for types protobuf has no scalar for.
_KNOWN = {
    "google/type/date.proto": ('syntax = "proto3"; package google.type; '
                               'message Date { int32 year = 1; int32 month = 2; int32 day = 3; }'),
    "google/type/timeofday.proto": ('syntax = "proto3"; package google.type; message TimeOfDay '
                                    '{ int32 hours = 1; int32 minutes = 2; int32 seconds = 3; int32 nanos = 4; }'),
    "confluent/type/decimal.proto": ('syntax = "proto3"; package confluent.type; message Decimal '
                                     '{ bytes value = 1; uint32 precision = 2; uint32 scale = 3; }'),
}
_TIMESTAMP, _DATE, _TIME, _DECIMAL = ("google.protobuf.Timestamp", "google.type.Date", "google.type.TimeOfDay",
                                      "confluent.type.Decimal")
_IMPORTS = {_TIMESTAMP: "google/protobuf/timestamp.proto", _DATE: "google/type/date.proto",
            _TIME: "google/type/timeofday.proto", _DECIMAL: "confluent/type/decimal.proto"}
_SCALARS = {"INTEGER": "int32", "BIGINT": "int64", "DOUBLE": "double", "BOOLEAN": "bool", "STRING": "string",
            "BYTES": "bytes"}
_MESSAGES = {"TIMESTAMP": _TIMESTAMP, "DATE": _DATE, "TIME": _TIME, "DECIMAL": _DECIMAL}
# nullable.representation WRAPPER: scalars as Google's wrapper messages, unset = NULL
_WRAPPERS = {"INTEGER": "google.protobuf.Int32Value", "BIGINT": "google.protobuf.Int64Value",
             "DOUBLE": "google.protobuf.DoubleValue", "BOOLEAN": "google.protobuf.BoolValue",
             "STRING": "google.protobuf.StringValue", "BYTES": "google.protobuf.BytesValue"}
_UNWRAPPED = {name: getattr(T, base) for base, name in _WRAPPERS.items()}
_UNWRAPPED.update({"google.protobuf.FloatValue": T.DOUBLE, "google.protobuf.UInt32Value": T.BIGINT,
                   "google.protobuf.UInt64Value": T.BIGINT})


# ---------------------------------------------------------------- columns -> proto text


def schema_text(columns, name: str = "ConnectDefault1", nullable: str | None = None) -> str:
    """nullable: None (unset scalars read as their defaults), WRAPPER or OPTIONAL (they read as NULL)."""
    writer = _SchemaWriter(nullable)
    body = writer.message(name, [(c.name, c.type) for c in columns], "")
    head = 'syntax = "proto3";\n\n' + "".join(f'import "{i}";\n' for i in sorted(writer.imports))
    return head + ("\n" if writer.imports else "") + body


class _SchemaWriter:
    """Writes one .proto file: the imports its types need, nested messages numbered in order."""

    def __init__(self, nullable: str | None):
        self.nullable = nullable
        self.imports: set[str] = set()
        self.messages = 1  # ConnectDefault1 is the top message; nested ones count on from there

    def message(self, name: str, fields, indent: str) -> str:
        lines, nested = [], []
        for number, (field, sql_type) in enumerate(fields, start=1):
            lines.append(f"{indent}  {self.field_type(sql_type, nested, indent)} {field} = {number};")
        return f"{indent}message {name} {{\n" + "\n".join(lines + nested) + f"\n{indent}}}\n"

    def field_type(self, sql_type: SqlType, nested: list, indent: str, in_collection: bool = False) -> str:
        base = sql_type.base
        if base in _SCALARS:
            if self.nullable == "WRAPPER" and not in_collection:
                self.imports.add("google/protobuf/wrappers.proto")
                return _WRAPPERS[base]
            if self.nullable == "OPTIONAL" and not in_collection:
                return "optional " + _SCALARS[base]
            return _SCALARS[base]
        if base in _MESSAGES:
            self.imports.add(_IMPORTS[_MESSAGES[base]])
            return _MESSAGES[base]
        if base == "ARRAY":
            element = sql_type.params[0]
            if element.base in ("ARRAY", "MAP"):
                raise KsqlStatementError(f"The PROTOBUF format does not support {sql_type}")
            return "repeated " + self.field_type(element, nested, indent, in_collection=True)
        if base == "MAP":
            key, value = sql_type.params
            if key.base not in ("STRING", "INTEGER", "BIGINT", "BOOLEAN") or value.base in ("ARRAY", "MAP"):
                raise KsqlStatementError(f"The PROTOBUF format does not support {sql_type}")
            return f"map<{_SCALARS[key.base]}, {self.field_type(value, nested, indent, in_collection=True)}>"
        if base == "STRUCT":
            self.messages += 1
            name = f"ConnectDefault{self.messages}"
            nested.append(self.message(name, list(sql_type.params), indent + "  ").rstrip("\n"))
            return name
        raise KsqlStatementError(f"The PROTOBUF format does not support {sql_type}")


# ---------------------------------------------------------------- proto text -> message classes


class Schema:
    """The message classes of one proto file (by default its first message)."""

    def __init__(self, text: str, imported: dict[str, str] | None = None):
        """imported: the texts of the files it imports by name (the registry's references)."""
        from google.protobuf import descriptor_pool

        pool = descriptor_pool.DescriptorPool()
        self.file = _add(pool, "schema.proto", text, imported or {})
        self.messages = list(self.file.message_types_by_name.values())
        if not self.messages:
            raise KsqlStatementError("The protobuf schema defines no message")

    def message(self, indexes=(0,), full_name: str | None = None):
        from google.protobuf import message_factory

        if full_name:
            found = next((m for m in _all_messages(self.messages) if m.full_name == full_name), None)
            if found is None:
                raise KsqlStatementError(f"The protobuf schema has no message {full_name}")
            return message_factory.GetMessageClass(found)
        descriptor = self.messages[indexes[0]]
        for index in indexes[1:]:
            descriptor = descriptor.nested_types[index]
        return message_factory.GetMessageClass(descriptor)


    def indexes(self, descriptor) -> list[int]:
        """The path of a message in the file: its index among the top-level messages, then
        among each enclosing message's nested ones."""
        path = []
        while descriptor.containing_type is not None:
            path.append(list(descriptor.containing_type.nested_types).index(descriptor))
            descriptor = descriptor.containing_type
        path.append(self.messages.index(descriptor))
        return path[::-1]


def _all_messages(messages):
    for m in messages:
        yield m
        yield from _all_messages(m.nested_types)


def registered(schema_id: int) -> Schema:
    """The registry's schema of an id, with the schemas it references."""
    registry = schema_registry.current()
    schema_type, text = registry.schema(schema_id)
    if schema_type != "PROTOBUF":
        raise RecordError(f"Schema {schema_id} is {schema_type}, not PROTOBUF")
    return Schema(text, schema_registry.imported_schemas(registry, schema_id))


def _add(pool, name: str, text: str, imported: dict[str, str]):
    """Parse proto text into the pool (with the well-known files it imports); its descriptor."""
    from google.protobuf import descriptor_pb2
    from proto_schema_parser.parser import Parser

    parsed = Parser().parse(text)
    proto = descriptor_pb2.FileDescriptorProto(name=name, syntax="proto3")
    for element in parsed.file_elements:
        kind = type(element).__name__
        if kind == "Import":
            _add_import(pool, element.name, imported)
            proto.dependency.append(element.name)
        elif kind == "Package":
            proto.package = element.name
        elif kind == "Message":
            proto.message_type.append(_message_proto(element))
        elif kind == "Enum":
            proto.enum_type.append(_enum_proto(element))
    try:
        return pool.Add(proto)
    except TypeError:  # older protobuf runtimes return nothing from Add
        return pool.FindFileByName(name)


def _add_import(pool, name: str, imported: dict[str, str]) -> None:
    try:
        pool.FindFileByName(name)
        return
    except KeyError:
        pass
    if name in imported:
        _add(pool, name, imported[name], imported)
        return
    if name in _KNOWN:
        _add(pool, name, _KNOWN[name], imported)
        return
    if name.startswith("google/protobuf/"):
        import importlib

        from google.protobuf import descriptor_pb2

        module = importlib.import_module(f"google.protobuf.{name.rsplit('/', 1)[1][:-6]}_pb2")
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        pool.Add(proto)
        return
    raise KsqlStatementError(f"The protobuf schema imports {name}, which is not known here")


_TYPES = None


def _scalar_types():
    global _TYPES
    if _TYPES is None:
        from google.protobuf.descriptor_pb2 import FieldDescriptorProto as F

        _TYPES = {"double": F.TYPE_DOUBLE, "float": F.TYPE_FLOAT, "int32": F.TYPE_INT32, "int64": F.TYPE_INT64,
                  "uint32": F.TYPE_UINT32, "uint64": F.TYPE_UINT64, "sint32": F.TYPE_SINT32,
                  "sint64": F.TYPE_SINT64, "fixed32": F.TYPE_FIXED32, "fixed64": F.TYPE_FIXED64,
                  "sfixed32": F.TYPE_SFIXED32, "sfixed64": F.TYPE_SFIXED64, "bool": F.TYPE_BOOL,
                  "string": F.TYPE_STRING, "bytes": F.TYPE_BYTES}
    return _TYPES


def _message_proto(message):
    from google.protobuf import descriptor_pb2

    F = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.DescriptorProto(name=message.name)
    for element in message.elements:
        kind = type(element).__name__
        if kind == "Message":
            proto.nested_type.append(_message_proto(element))
        elif kind == "Enum":
            proto.enum_type.append(_enum_proto(element))
        elif kind == "Field":
            field = proto.field.add(name=element.name, number=element.number, json_name=element.name)
            _set_type(field, element.type)
            cardinality = str(getattr(element.cardinality, "value", element.cardinality or ""))
            field.label = F.LABEL_REPEATED if cardinality == "REPEATED" else F.LABEL_OPTIONAL
            if cardinality == "OPTIONAL":
                field.proto3_optional = True
                field.oneof_index = len(proto.oneof_decl)
                proto.oneof_decl.add(name=f"_{element.name}")
        elif kind == "MapField":
            entry = proto.nested_type.add(name="".join(p.capitalize() for p in element.name.split("_")) + "Entry")
            entry.options.map_entry = True
            _set_type(entry.field.add(name="key", number=1, label=F.LABEL_OPTIONAL), element.key_type)
            _set_type(entry.field.add(name="value", number=2, label=F.LABEL_OPTIONAL), element.value_type)
            proto.field.add(name=element.name, number=element.number, label=F.LABEL_REPEATED,
                            type_name=entry.name, type=F.TYPE_MESSAGE, json_name=element.name)
        elif kind == "OneOf":
            index = len(proto.oneof_decl)
            proto.oneof_decl.add(name=element.name)
            for inner in element.elements:
                if type(inner).__name__ == "Field":
                    field = proto.field.add(name=inner.name, number=inner.number, label=F.LABEL_OPTIONAL,
                                            oneof_index=index, json_name=inner.name)
                    _set_type(field, inner.type)
    return proto


def _set_type(field, type_name: str) -> None:
    scalar = _scalar_types().get(type_name)
    if scalar is not None:
        field.type = scalar
    else:
        field.type_name = type_name  # a message or an enum: the pool resolves it in scope


def _enum_proto(enum):
    from google.protobuf import descriptor_pb2

    proto = descriptor_pb2.EnumDescriptorProto(name=enum.name)
    for value in enum.elements:
        if type(value).__name__ == "EnumValue":
            proto.value.add(name=value.name, number=value.number)
    return proto


# ---------------------------------------------------------------- descriptors -> SQL types


def sql_type(field) -> SqlType:
    """The SQL type of a message field (for CREATE STREAM/TABLE without columns)."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return T.map_of(_single_type(key), _single_type(value))
    element = _single_type(field)
    return T.array(element) if _repeated(field) else element


def _single_type(field) -> SqlType:
    if field.message_type is not None:
        name = field.message_type.full_name
        if name in _UNWRAPPED:
            return _UNWRAPPED[name]
        if name == _TIMESTAMP:
            return T.TIMESTAMP
        if name == _DATE:
            return T.DATE
        if name == _TIME:
            return T.TIME
        if name == _DECIMAL:
            return T.decimal(64, 0)
        return T.struct(tuple((f.name.upper(), sql_type(f)) for f in field.message_type.fields))
    if field.enum_type is not None:
        return T.STRING
    kind = field.type
    if kind in (field.TYPE_INT32, field.TYPE_SINT32, field.TYPE_SFIXED32):
        return T.INTEGER
    if kind in (field.TYPE_INT64, field.TYPE_SINT64, field.TYPE_SFIXED64, field.TYPE_UINT32, field.TYPE_FIXED32,
                field.TYPE_UINT64, field.TYPE_FIXED64):
        return T.BIGINT
    if kind in (field.TYPE_DOUBLE, field.TYPE_FLOAT):
        return T.DOUBLE
    if kind == field.TYPE_BOOL:
        return T.BOOLEAN
    if kind == field.TYPE_BYTES:
        return T.BYTES
    return T.STRING


def inferred_columns(schema_id: int, text: str, key: bool, keep_case: bool, full_name: str | None):
    """The columns of a registered schema's message (keys too are messages of their columns)."""
    message = registered(schema_id).message(full_name=full_name)
    return [(f.name if keep_case else f.name.upper(), sql_type(f)) for f in message.DESCRIPTOR.fields]


# ---------------------------------------------------------------- values


def read_message(message) -> dict:
    """A message as a dict of Python values (unset scalars as their defaults, unset messages
    as None, Timestamp / Date / TimeOfDay / Decimal as datetime / date / time / Decimal)."""
    out = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: _read_single(value_field, v) for k, v in value.items()}
        elif _repeated(field):
            out[field.name] = [_read_single(field, v) for v in value]
        elif field.message_type is not None and not message.HasField(field.name):
            out[field.name] = None
        elif field.has_presence and field.message_type is None and not message.HasField(field.name):
            out[field.name] = None  # proto3 optional, unset
        else:
            out[field.name] = _read_single(field, value)
    return out


def _repeated(field) -> bool:
    """Whether a field is repeated (protobuf 7 drops FieldDescriptor.label)."""
    repeated = getattr(field, "is_repeated", None)
    return repeated if repeated is not None else field.label == field.LABEL_REPEATED


def _read_single(field, value):
    if field.message_type is None:
        if field.enum_type is not None:
            found = field.enum_type.values_by_number.get(value)
            return found.name if found else str(value)
        return value
    name = field.message_type.full_name
    if name in _UNWRAPPED:
        return value.value
    if name == _TIMESTAMP:
        return datetime(1970, 1, 1) + timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)
    if name == _DATE:
        return date(value.year, value.month, value.day) if value.year else None
    if name == _TIME:
        return time(value.hours, value.minutes, value.seconds, value.nanos // 1000)
    if name == _DECIMAL:
        return Decimal(int.from_bytes(value.value, "big", signed=True)).scaleb(-value.scale) if value.value else None
    return read_message(value)


def fill_message(message, values: dict) -> None:
    """Set a message's fields from Python values (names matched without case); None stays unset."""
    fields = {f.name.upper(): f for f in message.DESCRIPTOR.fields}
    for name, value in values.items():
        field = fields.get(str(name).upper())
        if field is None or value is None:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            target = getattr(message, field.name)
            value_field = field.message_type.fields_by_name["value"]
            for k, v in (value.items() if isinstance(value, dict) else value):
                if v is None:
                    continue
                if value_field.message_type is not None:
                    _write_single(value_field, target[k], v)
                else:
                    target[k] = _scalar(value_field, v)
        elif _repeated(field):
            target = getattr(message, field.name)
            for v in value:
                if field.message_type is not None:
                    _write_single(field, target.add(), v if v is not None else {})
                elif v is not None:
                    target.append(_scalar(field, v))
        elif field.message_type is not None:
            _write_single(field, getattr(message, field.name), value)
            if not value and isinstance(value, dict):
                getattr(message, field.name).SetInParent()
        else:
            setattr(message, field.name, _scalar(field, value))


def _scalar(field, value):
    if field.enum_type is not None:
        found = field.enum_type.values_by_name.get(str(value))
        return found.number if found else int(value)
    kind = field.type
    if kind == field.TYPE_BOOL:
        if not isinstance(value, bool):
            raise RecordError(f"Can't convert type. sourceType: {type(value).__name__}, requiredType: BOOLEAN")
        return value
    if kind in (field.TYPE_DOUBLE, field.TYPE_FLOAT):
        return float(value)
    if kind == field.TYPE_STRING:
        return value if isinstance(value, str) else str(value)
    if kind == field.TYPE_BYTES:
        import base64

        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    return int(value)


def _write_single(field, target, value) -> None:
    name = field.message_type.full_name
    if name in _UNWRAPPED:
        target.value = _scalar(target.DESCRIPTOR.fields_by_name["value"], value)
    elif name == _TIMESTAMP:
        millis = value if isinstance(value, int) else int(
            (value.replace(tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1000)
        target.seconds, target.nanos = millis // 1000, millis % 1000 * 1_000_000
    elif name == _DATE:
        day = value if isinstance(value, date) else date(1970, 1, 1) + timedelta(days=int(value))
        target.year, target.month, target.day = day.year, day.month, day.day
    elif name == _TIME:
        if not isinstance(value, time):
            ms = int(value)
            value = time(ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000 * 1000)
        target.hours, target.minutes, target.seconds = value.hour, value.minute, value.second
        target.nanos = value.microsecond * 1000
    elif name == _DECIMAL:
        number = Decimal(str(value))
        sign, digits, exponent = number.as_tuple()
        unscaled = int(number.scaleb(-exponent))
        target.value = unscaled.to_bytes(max(1, (unscaled.bit_length() + 8) // 8), "big", signed=True)
        target.precision, target.scale = max(len(digits), 1), max(-exponent, 0)
    else:
        fill_message(target, value)


# ---------------------------------------------------------------- the formats


class ProtobufFormat(_Format):
    """PROTOBUF (registry=True: wire format, schema in the registry) or PROTOBUF_NOSR."""

    def __init__(self, columns, key: bool, topic: str | None, registry: bool, schema_id: int | None = None,
                 full_name: str | None = None, nullable: str | None = None):
        self.columns = tuple(columns)
        self.key = key
        self.registry = registry
        self.subject = f"{topic}-{'key' if key else 'value'}" if topic else None
        self.schema_id = schema_id  # KEY/VALUE_SCHEMA_ID: write with that registered schema
        self.full_name = full_name  # KEY/VALUE_SCHEMA_FULL_NAME: the message to read and write
        self.text = schema_text(self.columns, (full_name or "ConnectDefault1").rsplit(".", 1)[-1], nullable) \
            if self.columns else None
        self._own = Schema(self.text).message() if self.columns else None
        self._readers: dict[int, object] = {}
        self._header: bytes | None = None
        self.converters = [_converter(c.type) for c in self.columns]

    def decode(self, payloads):
        return self._decode_each(payloads, self._decode_one, (
            RecordError, ValueError, TypeError, KeyError, IndexError, AttributeError, schema_registry.RegistryError))

    def _decode_one(self, payload: bytes) -> list:
        from google.protobuf.message import DecodeError

        message = self._message_class(payload)
        try:
            parsed = message.FromString(payload[self._offset:] if self.registry else payload)
        except DecodeError as error:
            raise RecordError(f"Failed to deserialize PROTOBUF: {error}") from None
        lookup = {k.upper(): v for k, v in read_message(parsed).items()}
        return [convert(lookup.get(c.name.upper())) for c, convert in zip(self.columns, self.converters)]

    def _message_class(self, payload: bytes):
        if not self.registry:
            return self._own
        if len(payload) < 6 or payload[0] != schema_registry.MAGIC:
            raise RecordError("Unknown magic byte!")
        (schema_id,) = struct.unpack(">i", payload[1:5])
        indexes, self._offset = _read_indexes(payload, 5)
        key = (schema_id, tuple(indexes))
        found = self._readers.get(key)
        if found is None:
            found = self._readers[key] = registered(schema_id).message(indexes or (0,), self.full_name)
        return found

    def encode(self, arrays, n):
        if not self.columns:
            return [None] * n
        header = self.register() if self.registry else b""
        columns = [array.to_pylist() for array in arrays]
        out = []
        for i in range(n):
            row = {c.name: values[i] for c, values in zip(self.columns, columns)}
            if self.key and all(v is None for v in row.values()):
                out.append(None)  # no key at all, rather than a message of defaults
                continue
            message = self._own()
            fill_message(message, row)
            out.append(header + message.SerializeToString())
        return out


    def register(self) -> bytes:
        """Register the schema (once, PROTOBUF only); the header that names it. With a schema
        id given, nothing is registered: records are written as that schema's message."""
        if self._header is None:
            schema_id, indexes = 0, [0]
            if self.registry and self.schema_id is not None:
                schema = registered(self.schema_id)
                self._own = schema.message(full_name=self.full_name)
                schema_id, indexes = self.schema_id, schema.indexes(self._own.DESCRIPTOR)
            elif self.registry and self.subject and self.columns:
                schema_id = schema_registry.current().register(self.subject, self.text, "PROTOBUF")
            self._header = struct.pack(">bi", schema_registry.MAGIC, schema_id) + message_indexes(indexes)
        return self._header


def message_indexes(indexes: list[int]) -> bytes:
    """Confluent's encoding of a message's path in its file ([0], the first message: one 0)."""
    if indexes == [0]:
        return b"\0"
    return b"".join(_zigzag_bytes(n) for n in [len(indexes), *indexes])


def _zigzag_bytes(n: int) -> bytes:
    value, out = (n << 1) ^ (n >> 63), bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_indexes(payload: bytes, position: int) -> tuple[list[int], int]:
    """Confluent's message indexes: a zigzag varint count, then that many indexes ([0] as 0)."""
    count, position = _zigzag(payload, position)
    indexes = []
    for _ in range(count):
        index, position = _zigzag(payload, position)
        indexes.append(index)
    return indexes, position


def _zigzag(data: bytes, position: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if position >= len(data):
            raise RecordError("Truncated message indexes")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), position


def _converter(sql_type: SqlType):
    """From a value read off a message to the Python value Arrow expects for the column."""
    base = sql_type.base
    if base in ("TIMESTAMP", "DATE", "TIME", "BYTES"):
        return lambda v: v
    if base == "DECIMAL":
        return lambda v: None if v is None else Decimal(v).quantize(Decimal(1).scaleb(-sql_type.scale))
    if base == "ARRAY":
        element = _converter(sql_type.params[0])
        return lambda v: None if v is None else [element(x) for x in v]
    if base == "MAP":
        key, value = _converter(sql_type.params[0]), _converter(sql_type.params[1])
        return lambda v: None if v is None else [(key(k), value(x)) for k, x in v.items()]
    if base == "STRUCT":
        fields = [(name, _converter(t)) for name, t in sql_type.params]

        def read(v):
            if v is None:
                return None
            lookup = {k.upper(): x for k, x in v.items()}
            return {name: convert(lookup.get(name.upper())) for name, convert in fields}
        return read
    return _json_reader(sql_type)
