"""Key and value formats: bytes <-> typed Arrow columns, a batch at a time.

A format is built once per query for a list of columns. `decode` turns a list of raw
payloads into one Arrow array per column plus the rows that failed (row -> reason);
`encode` turns columns back into payloads. Formats: KAFKA, JSON, DELIMITED, NONE.
"""
from __future__ import annotations

import base64
import csv
from decimal import Decimal, InvalidOperation

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.schema import Column
from ksql.planner.types import SqlType
from ksql.planner.values import json_ready_writer, non_finite_as_text
from ksql.planner.values import java_double, json_default as _json_default
from ksql.runtime.formats import java_text, json_batch
from ksql.runtime.formats.json_batch import ObjectDecoder

FORMATS = ("KAFKA", "JSON", "DELIMITED", "NONE")
KNOWN_FORMATS = FORMATS + ("AVRO", "PROTOBUF", "JSON_SR", "PROTOBUF_NOSR")


class RecordError(Exception):
    pass


class _Format:
    columns: tuple[Column, ...]

    def _empty_row(self):
        return [None] * len(self.columns)

    def _decode_each(self, payloads, decode_one, failures=(RecordError, ValueError, TypeError), describe=None):
        """Arrays of payloads decoded one at a time; one that fails with one of `failures`
        gives an empty row and its reason (`describe(error)`), by row."""
        rows, bad = [], {}
        for i, payload in enumerate(payloads):
            if payload is None:
                rows.append(self._empty_row())
                continue
            try:
                rows.append(decode_one(payload))
            except failures as error:
                bad[i] = describe(error) if describe else str(error) or type(error).__name__
                rows.append(self._empty_row())
        return self._build(rows), bad

    def decode_array(self, payloads: pa.BinaryArray):
        """`decode` over the payloads as one Arrow array (the formats with a batch path read it
        without a Python object per record)."""
        return self.decode(payloads.to_pylist())

    def unread(self, names) -> None:
        """Told the columns nobody reads: a format may give them as NULLs, after checking
        their values all the same (a bad value still makes its record an error)."""

    def encode_array(self, arrays, n) -> pa.BinaryArray:
        """`encode`, as one Arrow array of payloads (null for none)."""
        return pa.array(self.encode(arrays, n), pa.binary())

    def _build(self, rows: list[list]) -> list[pa.Array]:
        arrays = []
        for i, column in enumerate(self.columns):
            arrays.append(pa.array([r[i] for r in rows], T.to_arrow(column.type)))
        return arrays


class NoneFormat(_Format):
    columns = ()

    def decode(self, payloads):
        return [], {}

    def encode(self, arrays, n):
        return [None] * n


# ---------------------------------------------------------------- KAFKA

_KAFKA_TYPES = {"INTEGER": ">i4", "BIGINT": ">i8", "DOUBLE": ">f8"}


class KafkaFormat(_Format):
    """Kafka's own serializers: 4/8-byte big-endian numbers, UTF-8 strings, raw bytes."""

    def __init__(self, columns, key: bool):
        if len(columns) > 1:
            raise KsqlStatementError(
                f"The 'KAFKA' format only supports a single field. Got: "
                f"[{', '.join(f'`{c.name}` {c.type}' + (' KEY' if key else '') for c in columns)}]")
        for column in columns:
            if column.type.base not in ("INTEGER", "BIGINT", "DOUBLE", "STRING", "BYTES"):
                raise KsqlStatementError(
                    f"The 'KAFKA' format does not support type '{column.type.base}'")
        self.columns = tuple(columns)

    def decode(self, payloads):
        if not self.columns:
            return [], {}
        sql_type = self.columns[0].type
        arrow_type = T.to_arrow(sql_type)
        bad = {}
        if sql_type.base in _KAFKA_TYPES:
            dtype = np.dtype(_KAFKA_TYPES[sql_type.base])
            width = dtype.itemsize
            valid = [p is not None for p in payloads]
            for i, p in enumerate(payloads):
                if p is not None and len(p) != width:
                    bad[i] = (f"Size of data received by {_java_deserializer(sql_type)} is not {width}"
                              if len(p) != width else "")
                    valid[i] = False
            joined = b"".join(p if v else b"\0" * width for p, v in zip(payloads, valid))
            values = np.frombuffer(joined, dtype=dtype).astype(dtype.newbyteorder("="))
            return [pa.array(values, arrow_type, mask=~np.array(valid, dtype=bool))], bad
        if sql_type.base == "STRING":
            # Kafka's StringDeserializer (new String(bytes, UTF_8)) reads bytes that are not
            # UTF-8 as U+FFFD, without an error
            return [pa.array([None if p is None else p.decode("utf-8", "replace") for p in payloads],
                             pa.string())], bad
        if sql_type.base == "BOOLEAN":
            return [pa.array([None if p is None else p != b"\0" for p in payloads], pa.bool_())], bad
        return [pa.array(payloads, pa.binary())], bad

    def decode_array(self, payloads: pa.BinaryArray):
        base = self.columns[0].type.base if self.columns else None
        if base in _KAFKA_TYPES and len(payloads):
            dtype = np.dtype(_KAFKA_TYPES[base])
            width = dtype.itemsize
            filled = pc.fill_null(payloads, b"\0" * width) if payloads.null_count else payloads
            if pc.all(pc.equal(pc.binary_length(filled), width)).as_py():
                offsets = np.frombuffer(filled.buffers()[1], np.int32, 1, filled.offset * 4)
                values = np.frombuffer(filled.buffers()[2], dtype, len(filled), int(offsets[0]))
                mask = payloads.is_null().to_numpy(zero_copy_only=False) if payloads.null_count else None
                return [pa.array(values.astype(dtype.newbyteorder("=")), T.to_arrow(self.columns[0].type),
                                 mask=mask)], {}
        elif base == "STRING":
            try:
                return [payloads.cast(pa.string())], {}
            except pa.ArrowInvalid:
                pass  # invalid UTF-8: the record path replaces it
        elif base == "BYTES":
            return [payloads], {}
        return self.decode(payloads.to_pylist())

    def encode_array(self, arrays, n) -> pa.BinaryArray:
        if not self.columns:
            return pa.nulls(n, pa.binary())
        base = self.columns[0].type.base
        values = arrays[0].combine_chunks() if isinstance(arrays[0], pa.ChunkedArray) else arrays[0]
        if base in _KAFKA_TYPES:
            dtype = np.dtype(_KAFKA_TYPES[base])
            raw = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(dtype)
            offsets = np.arange(0, (n + 1) * dtype.itemsize, dtype.itemsize, dtype=np.int32)
            out = pa.BinaryArray.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(raw)])
            return pc.if_else(values.is_null(), pa.scalar(None, pa.binary()), out) if values.null_count else out
        if base in ("STRING", "BYTES"):
            return values.cast(pa.binary())
        return super().encode_array(arrays, n)

    def encode(self, arrays, n):
        if not self.columns:
            return [None] * n
        sql_type = self.columns[0].type
        values = arrays[0]
        if sql_type.base in _KAFKA_TYPES:
            dtype = np.dtype(_KAFKA_TYPES[sql_type.base])
            nulls = values.is_null().to_numpy(zero_copy_only=False)
            raw = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(dtype).tobytes()
            w = dtype.itemsize
            return [None if nulls[i] else raw[i * w:(i + 1) * w] for i in range(n)]
        if sql_type.base == "STRING":
            return [None if v is None else v.encode() for v in values.to_pylist()]
        if sql_type.base == "BOOLEAN":
            return [None if v is None else (b"\x01" if v else b"\x00") for v in values.to_pylist()]
        return values.to_pylist()


def _java_deserializer(sql_type: SqlType) -> str:
    return {"INTEGER": "IntegerDeserializer", "BIGINT": "LongDeserializer",
            "DOUBLE": "DoubleDeserializer"}.get(sql_type.base, "Deserializer")


# ---------------------------------------------------------------- JSON


class JsonFormat(_Format):
    """JSON objects with case-insensitive field names; a single key column is unwrapped."""

    def __init__(self, columns, key: bool, wrap=None):
        self.columns = tuple(columns)
        self.key = key
        # A lone key column is written bare; a lone value column is wrapped in an object
        # unless WRAP_SINGLE_VALUE=false.
        if wrap is None:
            wrap = not key
        self.unwrapped = len(self.columns) == 1 and not wrap
        self.readers = [_json_reader(c.type) for c in self.columns]
        self.writers = [_json_writer(c.type) for c in self.columns]
        self.lookup = {c.name.upper(): i for i, c in enumerate(self.columns)}
        # Objects of plain columns are read, and objects of integers, booleans and strings
        # written, a batch at a time (json_batch.py).
        plain = not self.unwrapped and bool(self.columns)
        self.batch_decoder = ObjectDecoder(self.columns) if plain and all(
            c.type.base in json_batch.DECODABLE for c in self.columns) else None
        self.columnar_out = plain and all(json_batch.encodable(c.type) for c in self.columns)

    def decode(self, payloads):
        return self._decode_records(payloads)

    def unread(self, names) -> None:
        if self.batch_decoder is not None:
            self.batch_decoder.unread = frozenset(name.upper() for name in names)

    def decode_array(self, payloads: pa.BinaryArray):
        if self.batch_decoder is not None:
            arrays = self.batch_decoder.decode(payloads)
            if arrays is not None:
                return arrays, {}
        return self._decode_records(payloads.to_pylist())

    def _decode_records(self, payloads):
        """JSON payloads (no registry header) read one at a time."""
        return self._decode_each(payloads, lambda payload: self._decode_one(orjson.loads(payload)),
                                 (orjson.JSONDecodeError, RecordError, ValueError, TypeError), _json_error)

    def _decode_one(self, document):
        if self.unwrapped:
            return [self.readers[0](document)]
        if not isinstance(document, dict):
            if len(self.columns) == 1:  # a bare value for a single wrapped column is accepted
                return [self.readers[0](document)]
            raise RecordError(f"Can't convert type. sourceType: {_json_kind(document)}, requiredType: STRUCT")
        row = self._empty_row()
        seen = set()
        for name, value in document.items():
            index = self.lookup.get(name.upper())
            if index is not None and index not in seen:  # the first case-insensitive match wins
                seen.add(index)
                row[index] = self.readers[index](value)
        return row

    def encode(self, arrays, n):
        return self._encode_batch(arrays, n).to_pylist() if self.columnar_out else self._encode_records(arrays, n)

    def encode_array(self, arrays, n) -> pa.BinaryArray:
        return self._encode_batch(arrays, n)

    def _encode_batch(self, arrays, n) -> pa.BinaryArray:
        """JSON payloads (no registry header) as one array, a batch at a time where it can. Rows
        with a NaN or infinite DOUBLE are written one at a time (as "NaN", "Infinity"), the others
        a batch at a time, and the two put back in row order."""
        if self.columnar_out:
            batch_writer = json_batch.encode_objects
        elif self.unwrapped and self.columns[0].type.base in json_batch.ENCODABLE:
            batch_writer = json_batch.encode_bare
        else:
            return pa.array(self._encode_records(arrays, n), pa.binary())
        odd = json_batch.non_finite_rows(self.columns, arrays)
        if odd is None:
            written = batch_writer(self.columns, arrays)
            if written is not None:
                return written
        elif len(odd) < n:
            plain = np.setdiff1d(np.arange(n), odd, assume_unique=True)
            written = batch_writer(self.columns, [a.take(pa.array(plain)) for a in arrays])
            if written is not None:
                by_rows = self._encode_records([a.take(pa.array(odd)) for a in arrays], len(odd))
                at = np.empty(n, np.int64)
                at[plain] = np.arange(len(plain))
                at[odd] = len(plain) + np.arange(len(odd))
                return pa.concat_arrays([written, pa.array(by_rows, pa.binary())]).take(pa.array(at))
        return pa.array(self._encode_records(arrays, n), pa.binary())

    def _encode_records(self, arrays, n) -> list:
        """JSON payloads (no registry header) written one at a time."""
        if not self.columns:
            return [None] * n
        columns = [w(a) for w, a in zip(self.writers, arrays)]
        if self.unwrapped:
            return [orjson.dumps(v, default=_json_default) for v in columns[0]]
        names = [c.name for c in self.columns]
        return [orjson.dumps(dict(zip(names, row)), default=_json_default) for row in zip(*columns)]

    def encode_rows(self, arrays, n, present: np.ndarray):
        """Like encode, but rows where `present` is false become None (tombstones)."""
        payloads = self.encode(arrays, n)
        return [p if present[i] else None for i, p in enumerate(payloads)]


def _json_error(error) -> str:
    if isinstance(error, orjson.JSONDecodeError):
        return f"Failed to deserialize JSON: {error}"
    return str(error)


def _json_kind(value) -> str:
    """The Jackson node class ksqlDB's messages name for a JSON value (its reader keeps
    floats as exact decimals: DecimalNode)."""
    if isinstance(value, bool):
        return "BooleanNode"
    if isinstance(value, int):
        return "IntNode" if -2**31 <= value < 2**31 else "LongNode" if -2**63 <= value < 2**63 else "BigIntegerNode"
    if isinstance(value, float):
        return "DecimalNode"
    if isinstance(value, str):
        return "TextNode"
    if isinstance(value, list):
        return "ArrayNode"
    if isinstance(value, dict):
        return "ObjectNode"
    return "NullNode"


def _fail(value, sql_type: SqlType):
    raise RecordError(f"Can't convert type. sourceType: {_json_kind(value)}, requiredType: {sql_type}")


def _json_reader(sql_type: SqlType, inner=None):
    """A function from a parsed JSON value to the Python value Arrow expects for sql_type.
    `inner` makes the readers of an ARRAY's, MAP's or STRUCT's parts (by default this one; the
    AVRO format passes its own, for the values fastavro gives)."""
    inner = inner or _json_reader
    base = sql_type.base

    # as ksqlDB's JsonSerdeUtils reads them: a number without its fraction, a string with
    # Java's parser; a number out of the type's range is an error, as the data types page says
    # (Jackson's intValue would keep its low bits)
    if base == "BOOLEAN":
        def read(v):
            if v is None or isinstance(v, bool):
                return v
            _fail(v, sql_type)
        return read
    if base in ("INTEGER", "BIGINT"):
        bits = 32 if base == "INTEGER" else 64
        half = 1 << (bits - 1)

        def read(v):
            if v is None:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                _fail(v, sql_type)
            if isinstance(v, str):
                try:
                    return java_text.parse_integer(v, bits)
                except ValueError:
                    raise RecordError(f"Can't coerce string to type. targetType: {base}") from None
            number = int(v)
            if not -half <= number < half:
                raise RecordError(f"Value {number} is out of range for {sql_type}")
            return number
        return read
    if base == "DOUBLE":
        def read(v):
            if v is None:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                _fail(v, sql_type)
            if isinstance(v, str):
                try:
                    return java_text.parse_double(v)
                except ValueError:
                    raise RecordError(f"Can't coerce string to type. targetType: {base}") from None
            return float(v)
        return read
    if base == "DECIMAL":
        def read(v):
            if v is None:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                _fail(v, sql_type)
            if isinstance(v, str):
                return java_text.parse_decimal(v, sql_type)
            try:
                number = Decimal(v) if isinstance(v, int) else Decimal(repr(v))
            except InvalidOperation:  # NaN or infinite
                _fail(v, sql_type)
            return java_text.fit_decimal(number, sql_type)
        return read
    if base == "STRING":
        def read(v):
            if v is None or isinstance(v, str):
                return v
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, (int, float)):
                return str(v)
            if isinstance(v, list):  # ksqlDB reads each element as a STRING and lists them
                return "[" + ", ".join("null" if e is None else read(e) for e in v) + "]"
            return orjson.dumps(v).decode()
        return read
    if base == "BYTES":
        def read(v):
            if v is None:
                return None
            if not isinstance(v, str):
                _fail(v, sql_type)
            try:
                return base64.b64decode(v, validate=True)
            except ValueError:
                raise RecordError("Value is not valid base64 for BYTES") from None
        return read
    if base in ("TIMESTAMP", "DATE", "TIME"):
        def read(v):
            if v is None:
                return None
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            if isinstance(v, str) and v.lstrip("-").isdigit():
                return int(v)
            _fail(v, sql_type)
        return read
    if base == "ARRAY":
        element = inner(sql_type.params[0])

        def read(v):
            if v is None:
                return None
            if not isinstance(v, list):
                _fail(v, sql_type)
            return [element(x) for x in v]
        return read
    if base == "MAP":
        key_reader = inner(sql_type.params[0])
        value_reader = inner(sql_type.params[1])

        def read(v):
            if v is None:
                return None
            if not isinstance(v, dict):
                _fail(v, sql_type)
            return [(key_reader(k), value_reader(x)) for k, x in v.items()]
        return read
    if base == "STRUCT":
        fields = [(name, inner(t)) for name, t in sql_type.params]
        lookup = {name.upper(): (name, reader) for name, reader in fields}

        def read(v):
            if v is None:
                return None
            if not isinstance(v, dict):
                _fail(v, sql_type)
            out, seen = {name: None for name, _ in fields}, set()
            for k, x in v.items():
                hit = lookup.get(k.upper())
                if hit is not None and hit[0] not in seen:  # the first case-insensitive match wins
                    seen.add(hit[0])
                    out[hit[0]] = hit[1](x)
            return out
        return read
    raise KsqlStatementError(f"JSON does not support {sql_type}")


def _json_writer(sql_type: SqlType):
    """A function from an Arrow array to a list of JSON-ready Python values."""
    base = sql_type.base
    if base in ("TIMESTAMP", "TIME", "DATE"):
        int_type = pa.int64() if base == "TIMESTAMP" else pa.int32()
        return lambda array: pc.cast(array, int_type).to_pylist()
    if base in ("ARRAY", "MAP", "STRUCT"):
        convert = json_ready_writer(sql_type)
        return lambda array: [convert(v) for v in array.to_pylist()]
    if base == "DOUBLE":
        return _double_writer
    return lambda array: array.to_pylist()


def _double_writer(array: pa.Array) -> list:
    values = array.to_pylist()
    finite = pc.is_finite(array)
    if pc.all(pc.fill_null(finite, True)).as_py():
        return values
    return [non_finite_as_text(v) for v in values]


# ---------------------------------------------------------------- DELIMITED


class DelimitedFormat(_Format):
    """Comma (or other single-character) separated values, one field per column."""

    def __init__(self, columns, delimiter: str = ",", topic: str | None = None):
        self.topic = topic or ""  # (named in errors)
        for column in columns:
            if column.type.base in ("ARRAY", "MAP", "STRUCT"):
                raise KsqlStatementError(
                    f"The 'DELIMITED' format does not support type '{column.type.base}', column: `{column.name}`")
        self.columns = tuple(columns)
        self.delimiter = {"TAB": "\t", "SPACE": " "}.get(delimiter.upper(), delimiter) if len(delimiter) > 1 else delimiter
        if len(self.delimiter) != 1:
            raise KsqlStatementError(f"Invalid delimiter: '{delimiter}'. A delimiter is one character, TAB or SPACE.")
        self.parsers = [_text_parser(c.type) for c in self.columns]

    def decode(self, payloads):
        return self._decode_each(payloads, self._decode_one, (
            csv.Error, RecordError, ValueError, InvalidOperation), _delimited_error)

    def _decode_one(self, payload: bytes) -> list:
        text = payload.decode("utf-8", "replace")  # (as new String(bytes, UTF_8) reads it)
        fields = next(csv.reader([text], delimiter=self.delimiter)) if text else [""]
        if len(fields) != len(self.columns):
            raise RecordError(
                f"Column count mismatch on deserialization. topic: {self.topic}, expected: {len(self.columns)}, "
                f"got: {len(fields)}")
        return [None if f == "" else p(f) for p, f in zip(self.parsers, fields)]

    def encode(self, arrays, n):
        if not self.columns:
            return [None] * n
        columns = [_text_column(a, c.type) for a, c in zip(arrays, self.columns)]
        delimiter = self.delimiter
        return [delimiter.join("" if v is None else _csv_field(v, delimiter, i == 0) for i, v in enumerate(row))
                .encode() for row in zip(*columns)]


def _delimited_error(error) -> str:
    if isinstance(error, csv.Error):  # (its messages end in advice about opening files: cut)
        return f"Invalid DELIMITED record: {str(error).split(' - ')[0]}"
    return str(error) or "invalid DELIMITED record"


def _csv_field(value: str, delimiter: str, first: bool = False) -> str:
    """Quote as the Apache Commons CSV version in ksqlDB does in its minimal mode: a record's
    first field is quoted unless it starts with a letter or digit."""
    if value == "":
        return value
    needs = (value[0] <= "#" or value[-1] <= " " or delimiter in value or '"' in value
             or "\n" in value or "\r" in value or (first and not (value[0].isascii() and value[0].isalnum())))
    return '"' + value.replace('"', '""') + '"' if needs else value


def _text_parser(sql_type: SqlType):
    """How a DELIMITED field is read: with Java's parsers, as ksqlDB's deserializer does."""
    base = sql_type.base
    if base in ("INTEGER", "DATE"):
        return lambda s: java_text.parse_integer(s, 32)
    if base in ("BIGINT", "TIMESTAMP"):
        return lambda s: java_text.parse_integer(s, 64)
    if base == "TIME":
        return java_text.parse_time
    if base == "DOUBLE":
        return java_text.parse_double
    if base == "DECIMAL":
        return lambda s: java_text.parse_decimal(s, sql_type)
    if base == "BOOLEAN":
        return java_text.parse_boolean
    if base == "BYTES":
        return java_text.parse_base64
    return lambda s: s


def _text_column(array: pa.Array, sql_type: SqlType) -> list:
    base = sql_type.base
    if base in ("TIMESTAMP", "TIME", "DATE"):
        return [None if v is None else str(v) for v in pc.cast(array, pa.int64() if base == "TIMESTAMP" else pa.int32()).to_pylist()]
    if base == "DOUBLE":
        return [None if v is None else java_double(v) for v in array.to_pylist()]
    if base == "BOOLEAN":
        return [None if v is None else ("true" if v else "false") for v in array.to_pylist()]
    if base == "BYTES":
        return [None if v is None else base64.b64encode(v).decode() for v in array.to_pylist()]
    return [None if v is None else str(v) for v in array.to_pylist()]


# ---------------------------------------------------------------- helpers for literal rows


__all__ = ["FORMATS", "KNOWN_FORMATS", "RecordError"]
