"""Values as Python holds them: Java's number formatting, ksqlDB's display of complex values, and
JSON-ready forms (what the JSON format, TO_JSON_STRING and the REST API write)."""
from __future__ import annotations

import base64
import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import orjson

from ksql.planner.types import SqlType


def java_double(value: float) -> str:
    """A double as Java's Double.toString prints it (1.0, 1.0E10, 1.0E-5, NaN, Infinity)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    if len(digits) == 1:
        # Java shows two digits at least, the pair nearest the exact value: 4.9E-324, where
        # the shortest round trip is 5e-324
        sign, digits, exponent = Decimal(f"{value:.1e}").as_tuple()
    power = len(digits) - 1 + exponent
    fraction = "".join(map(str, digits[1:])) or "0"
    return f"{'-' if sign else ''}{digits[0]}.{fraction}E{power}"


def format_value(value, sql_type=None) -> str:
    """A value as ksqlDB's CLI and CAST(... AS STRING) show it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return "{" + ", ".join(f"{k}={format_value(v)}" for k, v in value) + "}"
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "Struct{" + ",".join(f"{k}={format_value(v)}" for k, v in value.items() if v is not None) + "}"
    return str(value)


def json_default(value):
    """What JSON writers (orjson, json) call for values JSON has no type for."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return str(value)


def non_finite_as_text(value):
    """JSON has no NaN or Infinity: written as strings, as Jackson does for ksqlDB."""
    if value is None or math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def json_ready_writer(sql_type: SqlType, temporal_text: bool = False):
    """Convert one Python value (from Arrow's to_pylist) into a JSON-ready value. The JSON
    format writes DATE, TIME and TIMESTAMP as numbers; TO_JSON_STRING (temporal_text) writes
    them as ISO-8601 text, as ksqlDB does."""
    base = sql_type.base
    if temporal_text and base in ("TIMESTAMP", "DATE", "TIME"):
        return _iso_text(base)
    if base == "TIMESTAMP":
        return lambda v: None if v is None else _epoch_millis(v)
    if base == "DATE":
        return lambda v: None if v is None else (v - date(1970, 1, 1)).days
    if base == "TIME":
        return lambda v: None if v is None else (
            ((v.hour * 60 + v.minute) * 60 + v.second) * 1000 + v.microsecond // 1000)
    if base == "ARRAY":
        element = json_ready_writer(sql_type.params[0], temporal_text)
        return lambda v: None if v is None else [element(x) for x in v]
    if base == "MAP":
        value = json_ready_writer(sql_type.params[1], temporal_text)
        return lambda v: None if v is None else {k: value(x) for k, x in v}
    if base == "STRUCT":
        fields = [(name, json_ready_writer(t, temporal_text)) for name, t in sql_type.params]
        return lambda v: None if v is None else {name: w(v.get(name)) for name, w in fields}
    if base == "DOUBLE":
        return non_finite_as_text
    return lambda v: v


def _iso_text(base: str):
    """Java's ISO-8601 text: 1972-09-27, 16:43[:40[.123]] (LocalTime leaves out zero seconds),
    1971-11-28T23:46:40.000."""
    if base == "DATE":
        return lambda v: None if v is None else v.isoformat()
    if base == "TIME":
        return lambda v: None if v is None else (
            v.strftime("%H:%M") if not v.second and not v.microsecond else
            v.strftime("%H:%M:%S") + (f".{v.microsecond // 1000:03d}" if v.microsecond else ""))
    return lambda v: None if v is None else v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}"


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _epoch_millis(value: datetime) -> int:
    """Exact milliseconds since the epoch (no float rounding)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // timedelta(milliseconds=1)


def jackson_text_writer(sql_type: SqlType | None):
    """A writer of one value as JSON text the way ksqlDB's TO_JSON_STRING writes it with
    Jackson: struct fields and map keys in sorted order (it copies them into TreeMaps), decimals
    as their plain text (1.10 stays 1.10), doubles as Java prints them (1.0E10), NaN and the
    infinities as strings, bytes in base64 and temporal values as ISO-8601 text."""
    base = sql_type.base if sql_type is not None else None
    if base in ("TIMESTAMP", "DATE", "TIME"):
        iso = _iso_text(base)
        return lambda v: "null" if v is None else orjson.dumps(iso(v)).decode()
    if base == "ARRAY":
        element = jackson_text_writer(sql_type.params[0])
        return lambda v: "null" if v is None else "[" + ",".join(element(x) for x in v) + "]"
    if base == "MAP":
        value = jackson_text_writer(sql_type.params[1])
        return lambda v: "null" if v is None else "{" + ",".join(
            orjson.dumps(str(k)).decode() + ":" + value(x) for k, x in sorted(v, key=lambda e: str(e[0]))) + "}"
    if base == "STRUCT":
        fields = sorted((name, jackson_text_writer(t)) for name, t in sql_type.params)
        return lambda v: "null" if v is None else "{" + ",".join(
            orjson.dumps(name).decode() + ":" + w(v.get(name)) for name, w in fields) + "}"
    return _jackson_scalar


def _jackson_scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value) if math.isfinite(value) else '"' + java_double(value) + '"'
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, bytearray)):
        return '"' + base64.b64encode(value).decode() + '"'
    return orjson.dumps(value, default=json_default).decode()


def python_to_json_value(value, sql_type: SqlType, temporal_text: bool = False):
    """A Python value of sql_type as JSON-ready data (used for test output and REST rows)."""
    return json_ready_writer(sql_type, temporal_text)(value)
