"""How values look as text: Java's number formatting and ksqlDB's display of complex values."""
from __future__ import annotations

import base64
import math
from decimal import Decimal


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
