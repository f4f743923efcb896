"""The Arrow kernels behind SQL's operators where pyarrow has none that means the same:
integer division and Java's remainder, nested equality, LIKE with a per-row pattern,
subscripts, and ksqlDB's partial timestamp strings."""
from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.runtime.expressions.raised import (
    DECIMAL_DIVIDED_BY_ZERO, DIVIDED_BY_ZERO, ROUNDING, raise_rows, raise_where,
)


def divide(a, b, exact: bool, result_type: pa.DataType | None = None):
    """a / b. Integers truncate toward zero, and a zero divisor throws in Java (the row's value
    is NULL, the error logged: raised.py); doubles give Java's infinities and NaN. Decimals
    divide as ksqlDB's generated code does, `a.divide(b, new MathContext(precision,
    UNNECESSARY)).setScale(scale)`: the quotient must be exact at the result's scale, else Java
    throws "Rounding necessary" (1.00 / 3.00 has no DECIMAL value)."""
    if not exact:
        return pc.divide(a, b)
    zero = pc.equal(b, 0)
    if result_type is not None and pa.types.is_decimal(result_type):
        raise_where(zero, DECIMAL_DIVIDED_BY_ZERO)
        return _decimal_quotients(a, b, result_type)
    raise_where(zero, DIVIDED_BY_ZERO)
    a, safe_b = _without_zero_divisors(a, b, zero)
    quotient = pc.divide(a, safe_b)
    return pc.if_else(zero, pa.scalar(None, quotient.type), quotient)


def _decimal_quotients(a, b, result_type: pa.DataType):
    """Exact decimal quotients at the result's scale; NULL, with "Rounding necessary" noted,
    where the quotient has more digits after the point than the scale (or never ends), and
    NULL where the divisor is zero (noted by the caller). Arrow divides with truncation at a
    scale of its own, max(4, s1 + p2 - s2 + 1): the dividend is first given the scale that
    makes it the result's; a quotient is exact when multiplying it back gives the dividend."""
    a, b = _as_decimal(a), _as_decimal(b)
    (p1, s1), (p2, s2) = (a.type.precision, a.type.scale), (b.type.precision, b.type.scale)
    scale = result_type.scale
    shift = scale - p2 + s2 - 1
    widened = p1 - s1 + shift
    if shift < s1 or max(4, shift + p2 - s2 + 1) != scale or result_type.precision + p2 + 1 > 76:
        return _decimal_quotients_by_row(a, b, result_type)
    zero = pc.equal(b, 0)
    try:
        a_wide = a.cast(pa.decimal128(widened, shift) if widened <= 38 else pa.decimal256(widened, shift))
        a_wide, safe_b = _without_zero_divisors(a_wide, b, zero)
        quotients = pc.divide(a_wide, safe_b)
        exact = pc.and_(pc.equal(pc.multiply(quotients, safe_b), a), pc.invert(zero))
        quotients = pc.if_else(exact, quotients, pa.scalar(None, quotients.type)).cast(result_type)
    except pa.ArrowInvalid:  # a quotient past the result's precision (capped at 38)
        return _decimal_quotients_by_row(a, b, result_type)
    raise_where(pc.and_(pc.invert(exact), pc.invert(zero)), ROUNDING)
    return quotients


def _as_decimal(value):
    """INT and BIGINT as ksqlDB takes them into decimal arithmetic: DECIMAL(10, 0), DECIMAL(19, 0)."""
    if pa.types.is_integer(value.type):
        return value.cast(pa.decimal128(10 if value.type.bit_width <= 32 else 19, 0))
    return value


def _decimal_quotients_by_row(a, b, result_type: pa.DataType):
    """_decimal_quotients for decimals too wide for Arrow's arithmetic to check: each row's
    rational quotient tested in Python integers."""
    if isinstance(a, pa.Scalar) and isinstance(b, pa.Scalar):
        return _decimal_quotients_by_row(pa.array([a.as_py()], a.type), pa.array([b.as_py()], b.type),
                                         result_type)[0]
    n = len(a) if not isinstance(a, pa.Scalar) else len(b)
    lefts = a.to_pylist() if not isinstance(a, pa.Scalar) else [a.as_py()] * n
    rights = b.to_pylist() if not isinstance(b, pa.Scalar) else [b.as_py()] * n
    unit = 10 ** result_type.scale
    quotients, inexact = [], np.zeros(n, bool)
    for i, (x, y) in enumerate(zip(lefts, rights)):
        if x is None or y is None or y == 0:
            quotients.append(None)
            continue
        x_num, x_den = x.as_integer_ratio()
        y_num, y_den = y.as_integer_ratio()
        scaled, divisor = x_num * y_den * unit, x_den * y_num
        if scaled % divisor:
            inexact[i] = True
            quotients.append(None)
        else:
            quotients.append(Decimal(scaled // divisor).scaleb(-result_type.scale))
    if inexact.any():
        raise_rows(inexact, ROUNDING)
    return pa.array(quotients, result_type)


def _without_zero_divisors(a, b, zero):
    """(a, b) with 0 / unit where b is zero, so the kernel divides nothing by zero (those rows
    become NULL after): the unit is 1, or a decimal's smallest step, which fits any precision."""
    unit = pa.scalar(Decimal(1).scaleb(-b.type.scale), b.type) if pa.types.is_decimal(b.type) else \
        pa.scalar(1, b.type)
    return pc.if_else(zero, pa.scalar(0, a.type) if not pa.types.is_decimal(a.type) else
                      pa.scalar(Decimal(0), a.type), a), pc.if_else(zero, unit, b)


def modulo(a, b, exact: bool):
    """Java's %, keeping the sign of the dividend: a - b * trunc(a / b); for exact numbers a
    zero divisor throws in Java (the row's value is NULL, the error logged)."""
    if exact:
        zero = pc.equal(b, 0)
        raise_where(zero, DECIMAL_DIVIDED_BY_ZERO if pa.types.is_decimal(b.type) else DIVIDED_BY_ZERO)
        a, safe_b = _without_zero_divisors(a, b, zero)
        quotient = pc.divide(a, safe_b)
        if not pa.types.is_integer(quotient.type):
            quotient = pc.trunc(quotient)
        out = pc.subtract(a, pc.multiply(quotient, safe_b))
        return pc.if_else(zero, pa.scalar(None, out.type), out)
    return pc.subtract(a, pc.multiply(pc.trunc(pc.divide(a, b)), b))


_PARTIAL_TIMESTAMP = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?)?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?")


def partial_timestamp_millis(text: str | None) -> int | None:
    """Epoch millis of a timestamp written as far as the writer cared to (ksqlDB's partial
    form: '2018', '2020-02-24T24', '2019-01-01T00:00:00+0445'); the rest is the earliest
    value, hour 24 is the next day's midnight, and no zone means UTC. None if unreadable."""
    from datetime import datetime, timedelta, timezone

    if text is None:
        return None
    match = _PARTIAL_TIMESTAMP.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month or 1), int(day or 1), tzinfo=timezone.utc)
    except ValueError:
        return None
    moment += timedelta(hours=int(hour or 0), minutes=int(minute or 0), seconds=int(second or 0),
                        milliseconds=int((fraction or "0").ljust(3, "0")))
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        moment -= offset if zone[0] == "+" else -offset
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)


def nested_equal(a: pa.Array, b: pa.Array) -> pa.Array:
    """Equality of ARRAY, MAP and STRUCT values (NULL when either side is NULL); maps compare
    as sets of entries. Arrow has no kernel for nested equality: values compare in Python."""
    left, right = _comparable_values(a), _comparable_values(b)
    return pa.array([None if x is None or y is None else x == y for x, y in zip(left, right)], pa.bool_())


def _comparable_values(array: pa.Array) -> list:
    def normal(value, arrow_type):
        if value is None:
            return None
        if pa.types.is_map(arrow_type):
            return {k: normal(v, arrow_type.item_type) for k, v in value}
        if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
            return [normal(v, arrow_type.value_type) for v in value]
        if pa.types.is_struct(arrow_type):
            return {f.name: normal(value.get(f.name), f.type) for f in arrow_type}
        return value
    return [normal(v, array.type) for v in array.to_pylist()]


def like_by_pattern(values: pa.Array, patterns: pa.Array, escape, negated: bool) -> pa.Array:
    """LIKE with a pattern per row: one match over the rows of each distinct pattern."""
    result = pa.nulls(len(values), pa.bool_())
    for text in pc.unique(patterns).to_pylist():
        if text is None:
            continue
        rows = pc.fill_null(pc.equal(patterns, text), False)
        like = translate_escape(text, escape) if escape is not None else text
        matched = pc.match_like(values.filter(rows), like)
        result = pc.replace_with_mask(result, rows, pc.invert(matched) if negated else matched)
    return result


def translate_escape(pattern: str, escape: str) -> str:
    """Rewrite a pattern with a custom escape character to Arrow's backslash escapes."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            out.append("\\" + pattern[i + 1])
            i += 2
            continue
        out.append("\\\\" if ch == "\\" else ch)
        i += 1
    return "".join(out)


def array_element(arrays: pa.Array, index: pa.Array) -> pa.Array:
    """1-based element access; negative indexes count from the end; out of range is NULL."""
    lengths = pc.fill_null(pc.list_value_length(arrays), 0).to_numpy(zero_copy_only=False)
    idx = pc.fill_null(pc.cast(index, pa.int64()), 0).to_numpy(zero_copy_only=False)
    position = np.where(idx > 0, idx - 1, lengths + idx)
    valid = (idx != 0) & (position >= 0) & (position < lengths) & ~np.asarray(
        pc.is_null(arrays).to_numpy(zero_copy_only=False)) & np.asarray(
        pc.is_valid(index).to_numpy(zero_copy_only=False))
    offsets = arrays.offsets.to_numpy()[:-1] if len(arrays) else np.array([], dtype=np.int64)
    take = np.where(valid, offsets + np.where(valid, position, 0), 0)
    values = arrays.flatten() if arrays.offset == 0 else arrays.values
    if len(values) == 0:
        return pa.nulls(len(arrays), arrays.type.value_type)
    taken = values.take(pa.array(take.astype(np.int64)))
    return pc.if_else(pa.array(valid), taken, pa.scalar(None, taken.type))


def map_lookup(maps: pa.Array, keys: pa.Array) -> pa.Array:
    """Each row's value for its key (the last entry with that key), or NULL."""
    n = len(maps)
    offsets = maps.offsets.to_numpy()  # absolute positions in the (unsliced) key and value children
    parents = np.repeat(np.arange(n), np.diff(offsets))
    start, stop = int(offsets[0]), int(offsets[-1])
    entry_keys, entry_values = maps.keys.slice(start, stop - start), maps.items.slice(start, stop - start)
    wanted = keys.take(pa.array(parents, pa.int64())) if len(parents) else keys.slice(0, 0)
    hits = np.flatnonzero(pc.fill_null(pc.equal(entry_keys, wanted), False).to_numpy(zero_copy_only=False))
    found = np.full(n, -1, np.int64)
    np.maximum.at(found, parents[hits], hits)
    present = (found >= 0) & pc.is_valid(maps).to_numpy(zero_copy_only=False)
    taken = entry_values.take(pa.array(np.where(present, found, 0))) if len(entry_values) else pa.nulls(n, maps.type.item_type)
    return pc.if_else(pa.array(present), taken, pa.scalar(None, maps.type.item_type))


def interleave(columns: list[pa.Array], n: int) -> pa.Array:
    """Row r's k-th element from columns[k][r]: one flat array, rows one after another."""
    k = len(columns)
    values = pa.concat_arrays(columns)
    order = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).ravel()
    return values.take(pa.array(order))
