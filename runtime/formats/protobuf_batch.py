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
