"""Protobuf schemas for the PROTOBUF formats (protobuf.py): proto3 text written from the columns
as ksqlDB's mapping makes it, proto text parsed (proto-schema-parser) into descriptors from
which the protobuf runtime builds message classes, and descriptors read back as SQL types."""
from __future__ import annotations

import functools

from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.types import SqlType
from ksql.runtime.formats import schema_registry
from ksql.runtime.formats.serdes import RecordError

# Messages ksqlDB's mapping refers to, for types protobuf has no scalar for.
_KNOWN = {
    "google/type/date.proto": ('syntax = "proto3"; package google.type; '
                               'message Date { int32 year = 1; int32 month = 2; int32 day = 3; }'),
    "google/type/timeofday.proto": ('syntax = "proto3"; package google.type; message TimeOfDay '
                                    '{ int32 hours = 1; int32 minutes = 2; int32 seconds = 3; int32 nanos = 4; }'),
    "confluent/type/decimal.proto": ('syntax = "proto3"; package confluent.type; message Decimal '
                                     '{ bytes value = 1; uint32 precision = 2; uint32 scale = 3; }'),
    # the (confluent.field_meta) option's message, which names a DECIMAL's precision and scale
    "confluent/meta.proto": ('syntax = "proto3"; package confluent; import "google/protobuf/descriptor.proto"; '
                             'message Meta { string doc = 1; map<string, string> params = 2; repeated string tags = 3; }'),
}
TIMESTAMP_MESSAGE, DATE_MESSAGE, TIME_MESSAGE, DECIMAL_MESSAGE = ("google.protobuf.Timestamp", "google.type.Date", "google.type.TimeOfDay",
                                      "confluent.type.Decimal")
_IMPORTS = {TIMESTAMP_MESSAGE: "google/protobuf/timestamp.proto", DATE_MESSAGE: "google/type/date.proto",
            TIME_MESSAGE: "google/type/timeofday.proto", DECIMAL_MESSAGE: "confluent/type/decimal.proto"}
_SCALARS = {"INTEGER": "int32", "BIGINT": "int64", "DOUBLE": "double", "BOOLEAN": "bool", "STRING": "string",
            "BYTES": "bytes"}
_MESSAGES = {"TIMESTAMP": TIMESTAMP_MESSAGE, "DATE": DATE_MESSAGE, "TIME": TIME_MESSAGE, "DECIMAL": DECIMAL_MESSAGE}
# nullable.representation WRAPPER: scalars as Google's wrapper messages, unset = NULL
_WRAPPERS = {"INTEGER": "google.protobuf.Int32Value", "BIGINT": "google.protobuf.Int64Value",
             "DOUBLE": "google.protobuf.DoubleValue", "BOOLEAN": "google.protobuf.BoolValue",
             "STRING": "google.protobuf.StringValue", "BYTES": "google.protobuf.BytesValue"}
UNWRAPPED = {name: getattr(T, base) for base, name in _WRAPPERS.items()}
UNWRAPPED.update({"google.protobuf.FloatValue": T.DOUBLE, "google.protobuf.UInt32Value": T.BIGINT,
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
            options = ""
            if sql_type.base == "DECIMAL":  # its precision and scale, as ksqlDB writes them
                self.imports.add("confluent/meta.proto")
                options = (f' [(confluent.field_meta) = {{ params: [{{ key: "precision", value: "{sql_type.precision}" }}, '
                           f'{{ key: "scale", value: "{sql_type.scale}" }}] }}]')
            lines.append(f"{indent}  {self.field_type(sql_type, nested, indent)} {field} = {number}{options};")
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
        self.decimals: dict[str, tuple[int, int]] = {}  # DECIMAL field (full name) -> precision, scale
        self.file = _add(pool, "schema.proto", text, imported or {}, self.decimals)
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


def _add(pool, name: str, text: str, imported: dict[str, str], decimals: dict | None = None):
    """Parse proto text into the pool (with the well-known files it imports); its descriptor.
    The precision and scale its DECIMAL fields' (confluent.field_meta) options give go to
    `decimals` (the pool keeps no options it has no extension for)."""
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
            proto.message_type.append(_message_proto(element, {} if decimals is None else decimals, proto.package))
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


def _message_proto(message, decimals: dict, scope: str):
    from google.protobuf import descriptor_pb2

    F = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.DescriptorProto(name=message.name)
    full_name = f"{scope}.{message.name}" if scope else message.name
    optional = []  # proto3 `optional` fields
    for element in message.elements:
        kind = type(element).__name__
        if kind == "Message":
            proto.nested_type.append(_message_proto(element, decimals, full_name))
        elif kind == "Enum":
            proto.enum_type.append(_enum_proto(element))
        elif kind == "Field":
            field = proto.field.add(name=element.name, number=element.number, json_name=element.name)
            _set_type(field, element.type)
            params = _field_meta_params(element)
            if "precision" in params:
                decimals[f"{full_name}.{element.name}"] = (int(params["precision"]), int(params.get("scale", 0)))
            cardinality = str(getattr(element.cardinality, "value", element.cardinality or ""))
            field.label = F.LABEL_REPEATED if cardinality == "REPEATED" else F.LABEL_OPTIONAL
            if cardinality == "OPTIONAL":
                field.proto3_optional = True
                optional.append(field)
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
    for field in optional:  # each in a oneof of its own, which protoc puts after the real ones
        field.oneof_index = len(proto.oneof_decl)
        proto.oneof_decl.add(name=f"_{field.name}")
    return proto


def _field_meta_params(field) -> dict[str, str]:
    """The key/value params of a field's (confluent.field_meta) option, in either order."""
    params = {}
    for option in getattr(field, "options", None) or ():
        if option.name.strip("()") != "confluent.field_meta":
            continue
        for meta in getattr(option.value, "elements", ()):
            if meta.name != "params":
                continue
            for entry in meta.value if isinstance(meta.value, list) else [meta.value]:
                pair = {e.name: e.value for e in getattr(entry, "elements", ())}
                if "key" in pair and "value" in pair:
                    params[str(pair["key"])] = str(pair["value"])
    return params


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


def sql_type(field, decimals: dict | None = None) -> SqlType:
    """The SQL type of a message field (for CREATE STREAM/TABLE without columns); `decimals`:
    the precision and scale of DECIMAL fields (Schema.decimals)."""
    decimals = decimals or {}
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return T.map_of(_single_type(key, decimals), _single_type(value, decimals))
    element = _single_type(field, decimals)
    return T.array(element) if repeated(field) else element


def _single_type(field, decimals: dict) -> SqlType:
    if field.message_type is not None:
        name = field.message_type.full_name
        if name in UNWRAPPED:
            return UNWRAPPED[name]
        if name == TIMESTAMP_MESSAGE:
            return T.TIMESTAMP
        if name == DATE_MESSAGE:
            return T.DATE
        if name == TIME_MESSAGE:
            return T.TIME
        if name == DECIMAL_MESSAGE:
            return T.decimal(*decimals.get(field.full_name, (64, 0)))
        return T.struct(tuple((name.upper(), _member_type(member, decimals))
                              for name, member in members(field.message_type)))
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
    schema = registered(schema_id)
    message = schema.message(full_name=full_name)
    return [(name if keep_case else name.upper(), _member_type(member, schema.decimals))
            for name, member in members(message.DESCRIPTOR)]


@functools.lru_cache(maxsize=1024)  # (read for every message the record path reads or writes)
def members(descriptor) -> tuple[tuple[str, object], ...]:
    """A message's parts as Kafka Connect's ProtobufData reads them, with their names: each
    oneof first, as one STRUCT named `<oneof>_<its index>` of its fields; then the other
    fields. (A proto3 `optional` field's oneof, which protoc makes up, is no oneof here.)"""
    unions = [o for o in descriptor.oneofs if not _synthetic(o)]
    in_union = {f.name for o in unions for f in o.fields}
    return tuple([(f"{o.name}_{o.index}", o) for o in unions] +
                 [(f.name, f) for f in descriptor.fields if f.name not in in_union])


def _synthetic(oneof) -> bool:
    return len(oneof.fields) == 1 and oneof.name == "_" + oneof.fields[0].name


def _member_type(member, decimals: dict) -> SqlType:
    if hasattr(member, "fields"):  # a oneof
        return T.struct(tuple((f.name.upper(), sql_type(f, decimals)) for f in member.fields))
    return sql_type(member, decimals)

def repeated(field) -> bool:
    """Whether a field is repeated (protobuf 7 drops FieldDescriptor.label)."""
    repeated = getattr(field, "is_repeated", None)
    return repeated if repeated is not None else field.label == field.LABEL_REPEATED
