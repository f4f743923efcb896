"""PROTOBUF values written a batch at a time: messages of scalar fields built with numpy.

The message of a row's columns (`ConnectDefault1`, field i + 1 the i-th column) is, in proto3's
binary encoding, each set field in number order: its tag (the field number and wire type as a
varint), then a varint (INTEGER, BIGINT two's complement, BOOLEAN), 8 little-endian bytes
(DOUBLE) or a length and UTF-8 bytes (STRING). A field at its default (0, false, '', or NULL,
which proto3 cannot tell from it) is left out, as the protobuf runtime leaves it out. The bytes
are byte for byte what the record path's `SerializeToString` gives; a batch this path does not
write (a -0.0, which the runtime writes though it equals 0) returns None and goes that way.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.runtime.formats.proto_schema import members, repeated

_VARINT, _FIXED64, _LENGTH = 0, 1, 2
WIRE_TYPES = {"INTEGER": _VARINT, "BIGINT": _VARINT, "BOOLEAN": _VARINT, "DOUBLE": _FIXED64, "STRING": _LENGTH}


def encode_messages(header: bytes, columns: list[tuple[pa.Array, str]]) -> pa.BinaryArray | None:
    """`header` then each row's message of the columns (array, SQL type) in field order."""
    parts = []
    for number, (values, base) in enumerate(columns, start=1):
        part = _field(number, values, base)
        if part is None:
            return None
        parts.append(part)
    return pc.binary_join_element_wise(pa.scalar(header, pa.binary()), *parts, pa.scalar(b"", pa.binary()))


def _field(number: int, values: pa.Array, base: str) -> pa.BinaryArray | None:
    """Each row's bytes of one field: the tag and the value, or nothing at the default."""
    n = len(values)
    tag = _varint_bytes((number << 3) | WIRE_TYPES[base])
    if base == "STRING":
        data = pc.fill_null(values.cast(pa.binary()), b"")
        lengths = pc.binary_length(data).to_numpy().astype(np.int64)
        body, sizes = _varints(lengths.view(np.uint64))
        head = _cut(_with_tag(tag, body), np.where(lengths > 0, sizes + len(tag), 0))
        return pc.binary_join_element_wise(head, data, pa.scalar(b"", pa.binary()))
    if base == "DOUBLE":
        numbers = pc.fill_null(values, 0.0).to_numpy(zero_copy_only=False).astype("<f8")
        if np.any((numbers == 0) & np.signbit(numbers)):
            return None
        body = numbers.view(np.uint8).reshape(n, 8)
        return _cut(_with_tag(tag, body), np.where(numbers != 0, 8 + len(tag), 0))
    if base == "BOOLEAN":
        flags = pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(np.uint8)[:, None]
        return _cut(_with_tag(tag, flags), np.where(flags[:, 0] != 0, 1 + len(tag), 0))
    numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(np.int64)  # INTEGER: sign-extended
    body, sizes = _varints(numbers.view(np.uint64))
    return _cut(_with_tag(tag, body), np.where(numbers != 0, sizes + len(tag), 0))


def _with_tag(tag: bytes, body: np.ndarray) -> np.ndarray:
    matrix = np.empty((body.shape[0], len(tag) + body.shape[1]), dtype=np.uint8)
    matrix[:, :len(tag)] = np.frombuffer(tag, dtype=np.uint8)
    matrix[:, len(tag):] = body
    return matrix


def _cut(matrix: np.ndarray, sizes: np.ndarray) -> pa.BinaryArray:
    """Row i: the first sizes[i] bytes of matrix[i]."""
    n = len(sizes)
    data = matrix[np.arange(matrix.shape[1]) < sizes[:, None]]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    return pa.BinaryArray.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unsigned 64-bit values, 7 bits a byte, low bits first, the high bit set on all but the
    last: the bytes as a 10-column matrix, and how many of them each value takes."""
    sizes = np.ones(len(values), dtype=np.int64)
    for k in range(1, 10):
        sizes += values >= (np.uint64(1) << np.uint64(7 * k))
    shifts = np.arange(10, dtype=np.uint64) * np.uint64(7)
    groups = ((values[:, None] >> shifts) & np.uint64(0x7F)).astype(np.uint8)
    more = np.arange(10) < (sizes - 1)[:, None]
    return groups | np.where(more, 0x80, 0).astype(np.uint8), sizes


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


# ---------------------------------------------------------------- reading

# column type -> the field type (FieldDescriptor.TYPE_*) it is read from by this path
_READABLE = {"BIGINT": 3, "INTEGER": 5, "DOUBLE": 1, "BOOLEAN": 8, "STRING": 9}
_WIRE_OF_FIELD_TYPE = {3: _VARINT, 5: _VARINT, 8: _VARINT, 1: _FIXED64, 9: _LENGTH}
_MAX_FIELDS = 256  # a message with more fields set than this is left to the record path


def reading_plan(descriptor, columns) -> list | None:
    """For each column, (field number, field type) of the message's field of its name, or None
    when the message has no such field; None for the whole when a column's field is not of the
    type this path reads into it (the record path converts, or refuses, it)."""
    by_name = {}
    for name, field in members(descriptor):
        by_name[name.upper()] = field  # (the last of a name, as the record path's lookup)
    plan = []
    for column in columns:
        field = by_name.get(column.name.upper())
        if field is None:
            plan.append(None)
        elif hasattr(field, "fields"):  # a oneof
            return None
        elif _READABLE.get(column.type.base) == field.type and not repeated(field) and not field.has_presence:
            plan.append((field.number, field.type))
        else:
            return None
    return plan


def decode_messages(payloads: pa.BinaryArray, skip: int, plan: list, columns) -> list[pa.Array] | None:
    """Each column's values from messages of scalar fields, each payload's message after its
    first `skip` bytes (a null payload gives a row of nulls); None when a payload is not one
    this path reads exactly as the record path does (truncated, a field of another wire type,
    groups, text that is not UTF-8): the record path then reads each and reports the bad ones."""
    n = len(payloads)
    valid = payloads.is_valid().to_numpy(zero_copy_only=False)
    offsets = np.frombuffer(payloads.buffers()[1], dtype=np.int32, count=n + 1, offset=payloads.offset * 4)
    data = payloads.buffers()[2]
    buf = np.zeros((0 if data is None else data.size) + 16, dtype=np.uint8)
    if data is not None:
        buf[:data.size] = np.frombuffer(data, dtype=np.uint8)
    starts = offsets[:-1].astype(np.int64) + np.where(valid, skip, 0)
    ends = offsets[1:].astype(np.int64)
    if np.any(starts > ends):
        return None
    wanted = {entry[0]: (i, entry[1]) for i, entry in enumerate(plan) if entry is not None}
    numbers = {i: np.zeros(n, dtype=np.uint64) for i, (_, kind) in _enumerate_plan(plan) if kind != 9}
    texts = {i: (np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)) for i, (_, kind) in _enumerate_plan(plan)
             if kind == 9}
    position = starts.copy()
    for _ in range(_MAX_FIELDS):
        rows = np.flatnonzero(position < ends)
        if not len(rows):
            break
        tags, at = _read_varints(buf, position[rows])
        if tags is None:
            return None
        field_numbers, wires = tags >> np.uint64(3), (tags & np.uint64(7)).astype(np.int64)
        after = np.empty(len(rows), dtype=np.int64)
        values = np.zeros(len(rows), dtype=np.uint64)
        lengths = np.zeros(len(rows), dtype=np.int64)
        for wire in np.unique(wires).tolist():
            these = wires == wire
            if wire == _VARINT:
                read, past = _read_varints(buf, at[these])
                if read is None:
                    return None
                values[these], after[these] = read, past
            elif wire == _FIXED64:
                values[these] = _little_endian(buf, at[these], 8)
                after[these] = at[these] + 8
            elif wire == _LENGTH:
                read, past = _read_varints(buf, at[these])
                if read is None or np.any(read > np.uint64(1 << 31)):
                    return None
                lengths[these], at[these] = read.astype(np.int64), past
                after[these] = past + lengths[these]
            elif wire == 5:  # 32-bit: a field no column reads
                after[these] = at[these] + 4
            else:  # groups and unknown wire types
                return None
        if np.any(after > ends[rows]):
            return None
        for number in np.unique(field_numbers).tolist():
            found = wanted.get(number)
            if found is None:
                continue  # a field no column reads
            column, kind = found
            these = field_numbers == number
            if np.any(wires[these] != _WIRE_OF_FIELD_TYPE[kind]):
                return None
            if kind == 9:  # the last occurrence of a field wins, as in the runtime
                texts[column][0][rows[these]] = at[these]
                texts[column][1][rows[these]] = lengths[these]
            else:
                numbers[column][rows[these]] = values[these]
        position[rows] = after
    else:
        return None
    mask = None if valid.all() else ~valid
    arrays = []
    for i, column in enumerate(columns):
        arrow_type = _arrow_type(column.type.base)
        if plan[i] is None:
            arrays.append(pa.nulls(n, arrow_type))
            continue
        kind = plan[i][1]
        if kind == 9:
            text = _texts(buf, *texts[i], mask)
            if text is None:
                return None
            arrays.append(text)
        elif kind == 1:
            arrays.append(pa.array(numbers[i].view(np.float64), pa.float64(), mask=mask))
        elif kind == 8:
            arrays.append(pa.array(numbers[i] != 0, pa.bool_(), mask=mask))
        elif kind == 5:  # int32: the low 32 bits
            arrays.append(pa.array(numbers[i].astype(np.uint32).view(np.int32), pa.int32(), mask=mask))
        else:
            arrays.append(pa.array(numbers[i].view(np.int64), pa.int64(), mask=mask))
    return arrays


def _enumerate_plan(plan):
    return ((i, entry) for i, entry in enumerate(plan) if entry is not None)


def _arrow_type(base: str) -> pa.DataType:
    return {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(),
            "STRING": pa.string()}[base]


def _read_varints(buf: np.ndarray, at: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The varints starting at each position: (values, the position after each); None when
    one runs past ten bytes."""
    window = buf[at[:, None] + np.arange(10)]
    last = window < 0x80
    if not np.all(last.any(axis=1)):
        return None, at
    sizes = last.argmax(axis=1) + 1
    widest = int(sizes.max()) if len(sizes) else 1  # (most are a byte or two: work on those columns only)
    groups = (window[:, :widest] & 0x7F).astype(np.uint64) * (np.arange(widest) < sizes[:, None])
    values = np.bitwise_or.reduce(groups << (np.arange(widest, dtype=np.uint64) * np.uint64(7)), axis=1)
    return values, at + sizes


def _little_endian(buf: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    window = np.ascontiguousarray(buf[at[:, None] + np.arange(width)])
    return window.view(np.uint64).reshape(len(at)) if width == 8 else window.view(np.uint32).reshape(len(at))


def _texts(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, mask) -> pa.Array | None:
    """Strings from their bytes in the buffer; None when one is not UTF-8."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] >= 1 << 31:
        return None
    index = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1] - starts, lengths)
    strings = pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets.astype(np.int32)),
                                          pa.py_buffer(buf[index].tobytes()))
    try:
        strings.validate(full=True)
    except pa.ArrowInvalid:
        return None
    if mask is not None:
        strings = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), strings)
    return strings
