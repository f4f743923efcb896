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

import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.types import SqlType
from ksql.runtime.formats import java_text, protobuf_batch, schema_registry
from ksql.runtime.formats.proto_schema import (
    DATE_MESSAGE, DECIMAL_MESSAGE, TIME_MESSAGE, TIMESTAMP_MESSAGE, UNWRAPPED, Schema, members, registered,
    repeated, schema_text)
from ksql.runtime.formats.serdes import RecordError, _Format, _json_reader

# ---------------------------------------------------------------- values


def read_message(message) -> dict:
    """A message as a dict of Python values (unset scalars as their defaults, unset messages
    as None, Timestamp / Date / TimeOfDay / Decimal as datetime / date / time / Decimal)."""
    out = {}
    for name, field in members(message.DESCRIPTOR):
        if hasattr(field, "fields"):  # a oneof: the field set, if any, in a struct of them all
            chosen = message.WhichOneof(field.name)
            out[name] = None if chosen is None else {
                f.name: _read_field(message, f) if f.name == chosen else None for f in field.fields}
            continue
        out[name] = _read_field(message, field)
    return out


def _read_field(message, field):
    value = getattr(message, field.name)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        return {k: _read_single(value_field, v) for k, v in value.items()}
    if repeated(field):
        return [_read_single(field, v) for v in value]
    if field.message_type is not None and not message.HasField(field.name):
        return None
    if field.has_presence and field.message_type is None and not message.HasField(field.name):
        return None  # proto3 optional, unset
    return _read_single(field, value)


def _read_single(field, value):
    if field.message_type is None:
        if field.enum_type is not None:
            found = field.enum_type.values_by_number.get(value)
            return found.name if found else str(value)
        return value
    name = field.message_type.full_name
    if name in UNWRAPPED:
        return value.value
    if name == TIMESTAMP_MESSAGE:
        return datetime(1970, 1, 1) + timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)
    if name == DATE_MESSAGE:
        return date(value.year, value.month, value.day) if value.year else None
    if name == TIME_MESSAGE:
        return time(value.hours, value.minutes, value.seconds, value.nanos // 1000)
    if name == DECIMAL_MESSAGE:
        return Decimal(int.from_bytes(value.value, "big", signed=True)).scaleb(-value.scale) if value.value else None
    return read_message(value)


def fill_message(message, values: dict) -> None:
    """Set a message's fields from Python values (names matched without case); None stays unset."""
    fields = {name.upper(): f for name, f in members(message.DESCRIPTOR)}
    for name, value in values.items():
        field = fields.get(str(name).upper())
        if field is None or value is None:
            continue
        if hasattr(field, "fields"):  # a oneof, given as a struct: the first of its fields that is set
            inner = {f.name.upper(): f for f in field.fields}
            chosen = next(((inner[k.upper()], v) for k, v in value.items()
                           if v is not None and k.upper() in inner), None)
            if chosen is not None:
                _fill_field(message, *chosen)
            continue
        _fill_field(message, field, value)


def _fill_field(message, field, value) -> None:
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
    elif repeated(field):
        target = getattr(message, field.name)
        for v in value:
            if field.message_type is not None:
                _write_single(field, target.add(), v if v is not None else {})
            elif v is not None:
                target.append(_scalar(field, v))
    elif field.message_type is not None:
        _write_single(field, getattr(message, field.name), value)
        if isinstance(value, dict):  # a struct is there even when none of its fields are set
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
    if name in UNWRAPPED:
        target.value = _scalar(target.DESCRIPTOR.fields_by_name["value"], value)
    elif name == TIMESTAMP_MESSAGE:
        millis = value if isinstance(value, int) else int(
            (value.replace(tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1000)
        target.seconds, target.nanos = millis // 1000, millis % 1000 * 1_000_000
    elif name == DATE_MESSAGE:
        day = value if isinstance(value, date) else date(1970, 1, 1) + timedelta(days=int(value))
        target.year, target.month, target.day = day.year, day.month, day.day
    elif name == TIME_MESSAGE:
        if not isinstance(value, time):
            ms = int(value)
            value = time(ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000 * 1000)
        target.hours, target.minutes, target.seconds = value.hour, value.minute, value.second
        target.nanos = value.microsecond * 1000
    elif name == DECIMAL_MESSAGE:
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
        self.nullable = nullable
        self.text = schema_text(self.columns, (full_name or "ConnectDefault1").rsplit(".", 1)[-1], nullable) \
            if self.columns else None
        self._own = Schema(self.text).message() if self.columns else None
        self._readers: dict[int, object] = {}
        self._flat: dict = {}  # message class -> each column's field name, when its fields are plain scalars
        self._plans: dict = {}  # message class -> how the batch reader reads it (None: it does not)
        self._header: bytes | None = None
        self.converters = [_converter(c.type) for c in self.columns]

    def decode(self, payloads):
        return self._decode_each(payloads, self._decode_one, (
            RecordError, ValueError, TypeError, KeyError, IndexError, AttributeError, schema_registry.RegistryError))

    def decode_array(self, payloads):
        arrays = self._decode_batch(payloads)
        return (arrays, {}) if arrays is not None else super().decode_array(payloads)

    def _decode_batch(self, payloads) -> list | None:
        """The columns read a batch at a time (protobuf_batch.py), when every record is a message
        of the same schema whose fields the columns read are plain scalars; else None."""
        if not self.columns or self.key or len(payloads) == 0 or payloads.null_count == len(payloads):
            return None
        message, skip = self._own, 0
        if self.registry:
            first = payloads.filter(payloads.is_valid())[0].as_py()
            header = first[:6]
            if len(header) < 6 or header[0] != schema_registry.MAGIC or header[5] != 0:
                return None  # (only the first message of a file: its indexes are one 0 byte)
            same = pc.equal(pc.binary_slice(payloads, 0, 6), pa.scalar(header, pa.binary()))
            if not pc.all(same).as_py():
                return None
            try:
                message = self._message_class(first)
            except (RecordError, schema_registry.RegistryError, KeyError, ValueError):
                return None
            skip = 6
        plan = self._plans.get(message, _MISSING)
        if plan is _MISSING:
            plan = self._plans[message] = protobuf_batch.reading_plan(message.DESCRIPTOR, self.columns)
        return None if plan is None else protobuf_batch.decode_messages(payloads, skip, plan, self.columns)

    def _decode_one(self, payload: bytes) -> list:
        from google.protobuf.message import DecodeError

        message = self._message_class(payload)
        try:
            parsed = message.FromString(payload[self._offset:] if self.registry else payload)
        except DecodeError as error:
            raise RecordError(f"Failed to deserialize PROTOBUF: {error}") from None
        fields = self._flat.get(message, _MISSING)
        if fields is _MISSING:
            fields = self._flat[message] = _flat_fields(message.DESCRIPTOR, self.columns)
        if fields is not None:  # a message of plain scalars: read each column's field straight off
            return [convert(getattr(parsed, name) if name is not None else None)
                    for name, convert in zip(fields, self.converters)]
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

    def encode_array(self, arrays, n):
        """Written a batch at a time (protobuf_batch.py) when the message is this format's own of
        scalar columns, without NULL wrappers; else record by record."""
        own = self.columns and not self.key and self.schema_id is None and self.full_name is None \
            and self.nullable is None and all(c.type.base in protobuf_batch.WIRE_TYPES for c in self.columns)
        written = None
        if own:
            header = self.register() if self.registry else b""
            written = protobuf_batch.encode_messages(header, [(array, c.type.base) for array, c in
                                                              zip(arrays, self.columns)])
        return written if written is not None else super().encode_array(arrays, n)

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


_MISSING = object()


def _flat_fields(descriptor, columns) -> list | None:
    """Each column's field (its name, or None when the message has none), when every field is a
    plain scalar (not a message, enum, list or optional: what read_message gives as it is);
    None otherwise. Names match without case, the last field of a name winning, as in
    read_message's lookup."""
    names = {}
    for field in descriptor.fields:
        if field.message_type is not None or field.enum_type is not None or repeated(field) or field.has_presence:
            return None
        names[field.name.upper()] = field.name
    return [names.get(c.name.upper()) for c in columns]


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
        return lambda v: None if v is None else java_text.fit_decimal(Decimal(v), sql_type)
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
