"""CAST's kernels: converting Arrow values of one SQL type to another, with ksqlDB's rules
(Java's truncating integer casts, HALF_UP decimals, NULL for what does not parse or fit).
The binder (planner/binder.py) decides where a cast goes; these carry it out."""
from __future__ import annotations

import base64
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.types import SqlType
from ksql.planner.values import format_value, java_double


def cast_kernel(source: SqlType | None, target: SqlType) -> Callable:
    """A function from values (an array or a scalar) of `source` to values of `target`."""
    arrow_type = T.to_arrow(target)
    if source == target:
        return lambda value: value
    if source is None:
        return lambda value: pa.scalar(None, arrow_type)
    if target.base in ("ARRAY", "MAP", "STRUCT"):
        return lambda value: _cast_nested(value, source, target)
    if target.base == "STRING":
        return lambda value: _to_string(value, source)
    if source.base == "STRING" and target.base in ("BYTES", "TIMESTAMP", "DATE", "TIME"):
        return lambda value: _parse_temporal(value, target)
    if source.base == "STRING" and target.base == "BOOLEAN":
        # Java's Boolean.parseBoolean: "true" in any case is true, every other text false
        return lambda value: pc.equal(pc.utf8_lower(value), "true") if isinstance(value, pa.Array) else \
            pa.scalar(None if not value.is_valid else value.as_py().lower() == "true", pa.bool_())
    if source.base == "STRING" and target.base in ("INTEGER", "BIGINT", "DOUBLE", "DECIMAL"):
        return lambda value: _parse_strings(value, arrow_type)
    if source.base == "DOUBLE" and target.base in ("INTEGER", "BIGINT"):
        # Java's (int) cast truncates toward zero and saturates at the type's bounds.
        bits = 31 if target.base == "INTEGER" else 63
        low, high = float(-(2 ** bits)), float(2 ** bits - 1)

        def to_integer(value):
            value = pc.trunc(value)
            value = pc.max_element_wise(pc.min_element_wise(value, high), low)
            return pc.cast(value, arrow_type, safe=False)

        return to_integer
    if target.base == "DECIMAL":
        return lambda value: _to_decimal(value, source, target)
    if source.base == "DECIMAL" and target.base == "DOUBLE":
        return nearest_doubles  # as BigDecimal.doubleValue gives them
    return lambda value: pc.cast(value, arrow_type, safe=False)


def nearest_doubles(decimals):
    """Each decimal (an array or a scalar) as the double nearest it. Arrow's own cast multiplies
    by a power of ten and can miss it (13.54 became 13.540000000000001); its parser of the
    decimals' text does not, nor does a division of the unscaled integer by the power of ten
    when both are doubles exactly (below 2^53, and 10^22): one IEEE division, rounded once,
    done for the whole array when every value allows it."""
    scale = decimals.type.scale
    if isinstance(decimals, pa.Array) and pa.types.is_decimal128(decimals.type) and 0 <= scale <= 22 \
            and len(decimals):
        # the two 64-bit words of each value, low first: a value that fits in 64 bits has a
        # high word of its low word's sign
        words = np.frombuffer(decimals.buffers()[1], np.int64)[2 * decimals.offset:2 * (decimals.offset + len(decimals))]
        low, high = words[0::2], words[1::2]
        exact = (high == (low >> 63)) & (low < 2**53) & (low > -(2**53))
        nulls = decimals.is_null().to_numpy(zero_copy_only=False) if decimals.null_count else None
        if nulls is not None:
            exact |= nulls  # (whatever a null's slot holds)
        if exact.all():
            return pa.array(low.astype(np.float64) / 10.0 ** scale, pa.float64(), mask=nulls)
    return pc.cast(pc.cast(decimals, pa.string()), pa.float64())


def _cast_array(values: pa.Array, source: SqlType | None, target: SqlType) -> pa.Array:
    return broadcast(cast_kernel(source, target)(values), len(values), T.to_arrow(target))


def _cast_nested(value, source: SqlType, target: SqlType):
    """ARRAY/MAP/STRUCT to another shape of the same kind: elements, values and fields cast
    one by one (struct fields by name; missing ones are NULL)."""
    array = value if isinstance(value, pa.Array) else broadcast(value, 1)
    if target.base == "ARRAY":
        values = _cast_array(array.flatten(), source.params[0], target.params[0])
        offsets = array.offsets
        result = pa.ListArray.from_arrays(offsets, values, type=T.to_arrow(target), mask=array.is_null())
    elif target.base == "MAP":
        k_values = _cast_array(array.keys, source.params[0], target.params[0])
        v_values = _cast_array(array.items, source.params[1], target.params[1])
        result = pa.MapArray.from_arrays(array.offsets, k_values, v_values, type=T.to_arrow(target),
                                         mask=array.is_null())
    else:
        fields = []
        for name, field_type in target.params:
            source_type = source.field(name)
            if source_type is None:
                fields.append(pa.nulls(len(array), T.to_arrow(field_type)))
                continue
            fields.append(_cast_array(pc.struct_field(array, [name]), source_type, field_type))
        result = pa.StructArray.from_arrays(fields, names=[n for n, _ in target.params], mask=array.is_null())
    return result if isinstance(value, pa.Array) else result[0]


def _to_decimal(value, source: SqlType, target: SqlType):
    arrow_type = T.to_arrow(target)
    if source.base == "DOUBLE":
        # Round half up to the target scale, as Java's BigDecimal.setScale(HALF_UP) does.
        value = pc.round(value, target.scale, round_mode="half_up")
        return pc.cast(_null_past(value, target), arrow_type, safe=False)
    if source.base == "DECIMAL" and source.scale > target.scale:
        value = pc.round(value, target.scale, round_mode="half_up")
    if source.base in ("INTEGER", "BIGINT"):  # Arrow wants room for every digit of the integer type
        if target.precision - target.scale >= (10 if source.base == "INTEGER" else 19):
            return pc.cast(value, arrow_type)  # and every value fits
        value = pc.cast(value, pa.decimal128(38, target.scale))
    return pc.cast(_null_past(value, target), arrow_type, safe=False)


def _null_past(value, target: SqlType):
    """NULL for the values a DECIMAL(p, s) cannot hold (10^(p-s) or more), as ksqlDB's CAST
    gives (it logs the overflow and returns null)."""
    digits = target.precision - target.scale
    if pa.types.is_decimal(value.type):
        if value.type.precision - value.type.scale <= digits:
            return value  # every value fits
        limit = pa.scalar(Decimal(10) ** digits, pa.decimal128(min(digits + 1 + value.type.scale, 38),
                                                                value.type.scale))
    else:
        limit = pa.scalar(10.0 ** digits)
    too_big = pc.fill_null(pc.greater_equal(pc.abs(value), limit), False)
    return pc.if_else(too_big, pa.scalar(None, value.type), value)


def _to_string(value, source: SqlType):
    if source.base == "BOOLEAN":
        return pc.if_else(value, "true", "false")
    if source.base == "DOUBLE":
        return _java_double_strings(value)
    if source.base == "TIMESTAMP":  # as ksqlDB prints them: ISO-8601 with milliseconds, no zone
        return pc.strftime(value, format="%Y-%m-%dT%H:%M:%S")
    if source.base in ("ARRAY", "MAP", "STRUCT", "BYTES"):
        array = broadcast(value, 1) if not isinstance(value, pa.Array) else value
        return pa.array([None if v is None else format_value(v, source) for v in array.to_pylist()],
                        pa.string())
    return pc.cast(value, pa.string())


def _java_double_strings(value):
    """Doubles as Java prints them: 1.0, 0.5, 1.0E10."""
    array = value if isinstance(value, pa.Array) else broadcast(value, 1)
    # Arrow prints the same shortest digits as Java in plain notation (Java's range for it is
    # 0.001 <= |x| < 10^7); Java adds ".0" to whole numbers. Other values go one by one.
    magnitude = pc.abs(array)
    plain = pc.and_(pc.greater_equal(magnitude, 1e-3), pc.less(magnitude, 1e7))
    text = pc.cast(array, pa.string())
    text = pc.if_else(pc.match_substring(text, "."), text, pc.binary_join_element_wise(text, ".0", ""))
    odd = pc.fill_null(pc.invert(plain), False)
    if pc.any(odd).as_py():
        others = array.filter(odd)
        text = pc.replace_with_mask(text, odd, pa.array([java_double(v) for v in others.to_pylist()], pa.string()))
    return text if isinstance(value, pa.Array) else text[0]


def _parse_strings(value, arrow_type: pa.DataType):
    """Parse strings to numbers/booleans; values that do not parse become NULL."""
    array = value if isinstance(value, pa.Array) else broadcast(value, 1)
    trimmed = pc.utf8_trim_whitespace(array)
    try:
        if pa.types.is_boolean(arrow_type):
            lowered = pc.utf8_lower(trimmed)
            result = pc.if_else(pc.equal(lowered, "true"), True,
                                pc.if_else(pc.equal(lowered, "false"), False, pa.scalar(None, pa.bool_())))
        else:
            result = pc.cast(trimmed, arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        result = pa.array([_parse_one(v, arrow_type) for v in trimmed.to_pylist()], arrow_type)
    return result if isinstance(value, pa.Array) else result[0]


def _parse_temporal(value, target: SqlType):
    """Strings to BYTES (base64) or to TIMESTAMP/DATE/TIME (ISO-8601); NULL where they do not parse."""
    def parse(text):
        if text is None:
            return None
        try:
            if target.base == "BYTES":
                return base64.b64decode(text, validate=True)
            if target.base == "DATE":
                return date.fromisoformat(text)
            if target.base == "TIME":
                return time.fromisoformat(text)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
            return moment
        except ValueError:
            return None

    array = value if isinstance(value, pa.Array) else broadcast(value, 1)
    result = None
    if target.base in ("TIMESTAMP", "DATE"):
        try:  # Arrow's own ISO-8601 parser takes whole batches of plain dates and local times
            result = pc.cast(array, T.to_arrow(target))
        except pa.ArrowException:
            result = None  # an offset, a 'Z' or a bad value somewhere: Python's parser, row by row
    if result is None:
        result = pa.array([parse(v) for v in array.to_pylist()], T.to_arrow(target))
    return result if isinstance(value, pa.Array) else result[0]


def _parse_one(text, arrow_type):
    if text is None:
        return None
    try:
        if pa.types.is_integer(arrow_type):
            number = int(text)
            bits = arrow_type.bit_width
            return number if -(2 ** (bits - 1)) <= number < 2 ** (bits - 1) else None
        if pa.types.is_floating(arrow_type):
            return float(text)
        if pa.types.is_decimal(arrow_type):
            return Decimal(text).quantize(Decimal(1).scaleb(-arrow_type.scale))
    except (ValueError, ArithmeticError):
        return None
    return None
