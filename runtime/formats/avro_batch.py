"""Avro records -> Arrow columns for a whole batch, in native code (no Python object per record).

A fast path of the AVRO format for the common shape: every payload of the batch written with
one schema, a record whose fields are primitives (boolean, int, long, float, double, string,
bytes), each maybe nullable. The records' Avro bodies (the payloads without their five-byte
header) are laid end to end in one block of an Avro container file in memory, with the
writer's schema in its header, and polars' Avro reader decodes the block into columns.

A record's body carries no length of its own, so a damaged one would shift every record after
it. The decoded rows are therefore checked against the payloads: the bytes each row takes in
Avro's binary encoding (computed from its values) must equal its payload's body length. When
they all do, every record was read from its own bytes; when any does not, or polars refuses
the block, the caller reads the batch record by record, which gives each bad record its own
error (and a bad record goes to the processing log without failing its batch).
"""
from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.runtime.formats import native

_FIXED_SIZE = {"boolean": 1, "float": 4, "double": 8}
_VARINT = {"int", "long"}
_LENGTH_PREFIXED = {"string", "bytes"}
PRIMITIVES = set(_FIXED_SIZE) | _VARINT | _LENGTH_PREFIXED
_SYNC = b"ksql-avro-batch!"  # a container file's 16-byte sync marker (any value will do)


# logical types read here: the primitive under each, and the Arrow type of its numbers
LOGICAL = {"timestamp-millis": ("long", pa.int64()), "date": ("int", pa.int32()), "time-millis": ("int", pa.int32())}
# the numbers of each that Python's datetime, date and time hold (years 1 to 9999, one day):
# the record path refuses the others, and so must this one, or they reach code that cannot
_IN_RANGE = {"timestamp-millis": (-62_135_596_800_000, 253_402_300_799_999), "date": (-719_162, 2_932_896),
             "time-millis": (0, 86_399_999)}


def batch_fields(schema) -> list[tuple[str, str, bool, str | None]] | None:
    """(name, primitive type, nullable, logical type or None) of each field of a writer schema
    this path reads, or None when the schema has another shape."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        return None
    fields = []
    for field in schema.get("fields", ()):
        kind, nullable, logical = field["type"], False, None
        if isinstance(kind, list):
            if len(kind) != 2 or "null" not in kind:
                return None
            kind, nullable = next(k for k in kind if k != "null"), True
        if isinstance(kind, dict) and set(kind) == {"type", "logicalType"} and kind["logicalType"] in LOGICAL \
                and LOGICAL[kind["logicalType"]][0] == kind["type"]:
            kind, logical = kind["type"], kind["logicalType"]
        if not isinstance(kind, str) or kind not in PRIMITIVES:
            return None
        fields.append((field["name"], kind, nullable, logical))
    return fields or None


def decode_bodies(bodies: pa.BinaryArray, schema_text: str, fields) -> dict[str, pa.Array] | None:
    """The fields of the records whose Avro bodies these are (no nulls among them), by field
    name; None when polars cannot read them (or may not be used here: native.py) or a row's
    encoded size differs from its body's."""
    polars = native.polars()
    if polars is None:
        return None
    offsets = np.frombuffer(bodies.buffers()[1], dtype=np.int32)[bodies.offset:bodies.offset + len(bodies) + 1]
    data = bodies.buffers()[2]
    block = data[int(offsets[0]):int(offsets[-1])] if len(bodies) else b""
    container = b"".join([b"Obj\x01", _metadata(schema_text), _SYNC, _varint(len(bodies)), _varint(len(block)),
                          memoryview(block), _SYNC])
    try:
        frame = polars.read_avro(io.BytesIO(container))
    except Exception:  # noqa: BLE001 - polars raises its own error types for bytes it cannot read
        return None
    if frame.height != len(bodies) or frame.width != len(fields):
        return None
    table = frame.to_arrow()
    columns = {}
    sizes = np.zeros(len(bodies), dtype=np.int64)
    for i, (name, kind, nullable, logical) in enumerate(fields):
        column = table.column(i).combine_chunks()
        if logical is not None:
            column = _numbers(column, logical)
            low, high = _IN_RANGE[logical]
            bounds = pc.min_max(column)
            if bounds["min"].is_valid and (bounds["min"].as_py() < low or bounds["max"].as_py() > high):
                return None
        columns[name] = column
        sizes += _encoded_sizes(column, kind, nullable)
    if not np.array_equal(sizes, np.diff(offsets)):
        return None
    return columns


def _numbers(values: pa.Array, logical: str) -> pa.Array:
    """A logical type's values as the numbers the record holds (epoch millis, days, millis of
    the day); polars reads times as nanoseconds."""
    if logical == "time-millis":
        return pc.divide(values.cast(pa.int64()), 1_000_000).cast(pa.int32())
    return values.cast(LOGICAL[logical][1])


def _encoded_sizes(values: pa.Array, kind: str, nullable: bool) -> np.ndarray:
    """The bytes each value takes in Avro's binary encoding (with its union branch's index)."""
    valid = np.ones(len(values), dtype=bool) if values.null_count == 0 else \
        values.is_valid().to_numpy(zero_copy_only=False)
    if kind in _FIXED_SIZE:
        sizes = np.full(len(values), _FIXED_SIZE[kind], dtype=np.int64)
    elif kind in _VARINT:
        sizes = _varint_sizes(pc.fill_null(values, 0).to_numpy().astype(np.int64))
    else:
        lengths = pc.fill_null(pc.binary_length(values), 0).to_numpy().astype(np.int64)
        sizes = _varint_sizes(lengths) + lengths
    sizes = np.where(valid, sizes, 0)
    return sizes + 1 if nullable else sizes  # a union's branch index: one byte


def _varint_sizes(values: np.ndarray) -> np.ndarray:
    """Bytes of each long as Avro writes it: zig-zag, then 7 bits a byte."""
    zigzag = ((values << 1) ^ (values >> 63)).view(np.uint64)
    sizes = np.ones(len(values), dtype=np.int64)
    for k in range(1, 10):
        sizes += zigzag >= np.uint64(1 << (7 * k))
    return sizes


def _metadata(schema_text: str) -> bytes:
    """A container file's metadata map: the schema, no compression."""
    entries = [(b"avro.schema", schema_text.encode()), (b"avro.codec", b"null")]
    parts = [_varint(len(entries))]
    for key, value in entries:
        parts += [_varint(len(key)), key, _varint(len(value)), value]
    parts.append(_varint(0))
    return b"".join(parts)


def _varint(n: int) -> bytes:
    zigzag = (n << 1) ^ (n >> 63)
    out = bytearray()
    while zigzag & ~0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


# ---------------------------------------------------------------- writing

# column type -> how its values are written: the Avro primitive, and the Arrow type its numbers are read as
ENCODABLE = {"BOOLEAN": ("boolean", None), "INTEGER": ("int", pa.int32()), "BIGINT": ("long", pa.int64()),
             "DOUBLE": ("double", None), "STRING": ("string", None), "BYTES": ("bytes", None),
             "TIMESTAMP": ("long", pa.int64()), "DATE": ("int", pa.int32()), "TIME": ("int", pa.int32()),
             "DECIMAL": ("decimal", None)}


def encode_records(header: bytes, columns: list[tuple[pa.Array, str]]) -> pa.BinaryArray | None:
    """Payloads of `header` then each row's values in Avro's binary encoding, every value
    nullable (["null", T]: the union's index, then the value), as fastavro writes them; None
    when a decimal is one this path does not write (past 64 bits, or wider than its type)."""
    parts = [_encoded(values, kind) for values, kind in columns]
    if any(part is None for part in parts):
        return None
    return pc.binary_join_element_wise(pa.scalar(header, pa.binary()), *parts, pa.scalar(b"", pa.binary()))


def _encoded(values: pa.Array, kind: str) -> pa.BinaryArray:
    """Each value's bytes: 0 for a null, else 2 (the union's second branch) and the value."""
    n = len(values)
    valid = np.ones(n, dtype=bool) if values.null_count == 0 else values.is_valid().to_numpy(zero_copy_only=False)
    if kind == "boolean":
        body = pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(np.uint8)[:, None]
        return _rows(body, np.where(valid, 1, 0), valid)
    if kind == "double":
        body = pc.fill_null(values, 0.0).to_numpy().astype("<f8").view(np.uint8).reshape(n, 8)
        return _rows(body, np.where(valid, 8, 0), valid)
    if kind in _VARINT:
        body, sizes = _varints(pc.fill_null(values, 0).to_numpy().astype(np.int64))
        return _rows(body, np.where(valid, sizes, 0), valid)
    if kind == "decimal":
        found = _decimals(values, valid)
        return None if found is None else _rows(found[0], np.where(valid, found[1], 0), valid)
    data = pc.fill_null(values.cast(pa.binary()), b"")  # string or bytes: the length, then the bytes
    body, sizes = _varints(pc.binary_length(data).to_numpy().astype(np.int64))
    return pc.binary_join_element_wise(_rows(body, np.where(valid, sizes, 0), valid), data,
                                       pa.scalar(b"", pa.binary()))


def _decimals(values: pa.Array, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Decimals as Avro's bytes: the length, then the unscaled value big-endian in two's
    complement, in as many bytes as fastavro takes ((bits of its magnitude + 8) // 8)."""
    words = np.frombuffer(values.buffers()[1], dtype=np.int64)[2 * values.offset:2 * (values.offset + len(values))]
    low, high = words[0::2], words[1::2]
    unscaled = np.where(valid, low, 0)
    if np.any(np.where(valid, high != (low >> 63), False)) or np.any(unscaled == np.iinfo(np.int64).min):
        return None  # past 64 bits: the record path writes it
    magnitude = np.abs(unscaled).astype(np.uint64)
    if values.type.precision < 19 and np.any(magnitude >= np.uint64(10 ** values.type.precision)):
        return None  # more digits than its type holds: the record path refuses it
    lengths = np.ones(len(values), dtype=np.int64)
    for k in range(1, 8):
        lengths += magnitude >= np.uint64(1 << (8 * k - 1))
    big_endian = unscaled.astype(">i8").view(np.uint8).reshape(len(values), 8)
    body = np.zeros((len(values), 9), dtype=np.uint8)
    body[:, 0] = lengths * 2  # the length as a zig-zag varint: one byte for 1..8
    for k in range(1, 9):
        rows = lengths == k
        body[rows, 1:1 + k] = big_endian[rows, 8 - k:]
    return body, lengths + 1


def _rows(body: np.ndarray, sizes: np.ndarray, valid: np.ndarray) -> pa.BinaryArray:
    """Row i: the union index byte, then the first sizes[i] bytes of body[i]."""
    n = len(sizes)
    matrix = np.empty((n, body.shape[1] + 1), dtype=np.uint8)
    matrix[:, 0] = np.where(valid, 2, 0)
    matrix[:, 1:] = body
    lengths = sizes + 1
    data = matrix[np.arange(matrix.shape[1]) < lengths[:, None]]  # row by row, each cut to its length
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.BinaryArray.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each long zig-zagged, 7 bits a byte, low bits first, the high bit set on all but the
    last: the bytes as a 10-column matrix, and how many of them each value takes."""
    zigzag = ((values << 1) ^ (values >> 63)).view(np.uint64)
    sizes = _varint_sizes(values)
    shifts = np.arange(10, dtype=np.uint64) * np.uint64(7)
    groups = ((zigzag[:, None] >> shifts) & np.uint64(0x7F)).astype(np.uint8)
    more = np.arange(10) < (sizes - 1)[:, None]
    return groups | np.where(more, 0x80, 0).astype(np.uint8), sizes
