"""Values read from text as ksqlDB's Java code reads them: the DELIMITED format's fields, and
a JSON string given for a number.

Java's parsers are stricter than Python's in places (Integer.parseInt takes no spaces, no
underscores and nothing out of range; new BigDecimal(text) takes no spaces or NaN) and
looser in others (Boolean.parseBoolean calls anything but "true" false; Double.parseDouble
trims spaces and takes a trailing d or f). A text they refuse raises ValueError with
Java's message, and the format sends its record to the processing log.
"""
from __future__ import annotations

import base64
import binascii
import re
from decimal import Context, Decimal

from ksql.planner.types import SqlType

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DOUBLE = re.compile(r"[+-]?(?:NaN|Infinity|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[fFdD]?")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_JAVA_SPACE = "".join(map(chr, range(33)))  # what String.trim removes
_WIDE = Context(prec=100)  # room for any DECIMAL(38) value while it is checked
MILLIS_PER_DAY = 86_400_000


def parse_integer(text: str, bits: int) -> int:
    """Integer.parseInt (bits=32) or Long.parseLong (bits=64)."""
    if _INTEGER.fullmatch(text):
        number = int(text)
        if -(1 << (bits - 1)) <= number < 1 << (bits - 1):
            return number
    raise ValueError(f'For input string: "{text}"')


def parse_double(text: str) -> float:
    """Double.parseDouble: leading and trailing spaces are ignored, as is a d or f suffix."""
    trimmed = text.strip(_JAVA_SPACE)
    if not _DOUBLE.fullmatch(trimmed):
        raise ValueError(f'For input string: "{text}"' if trimmed else "empty String")
    return float(trimmed.rstrip("fFdD"))


def parse_boolean(text: str) -> bool:
    """Boolean.parseBoolean: "true" in any case; anything else is false, never an error."""
    return text.lower() == "true"


def parse_decimal(text: str, sql_type: SqlType) -> Decimal:
    """new BigDecimal(text), fitted to the column's type (fit_decimal)."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"Value is not a valid decimal: {text}")
    return fit_decimal(Decimal(text), sql_type)


def fit_decimal(number: Decimal, sql_type: SqlType) -> Decimal:
    """ksqlDB's DecimalUtil.ensureFit: the value at the type's scale, if that takes neither
    more whole digits than the type has nor rounding."""
    precision, scale = sql_type.precision, sql_type.scale
    whole = precision - scale
    if abs(number) >= Decimal(10) ** whole:
        raise ValueError(f"Numeric field overflow: A field with precision {precision} and scale {scale} must round "
                         f"to an absolute value less than 10^{whole}. Got {format(number, 'f')}")
    fitted = number.quantize(Decimal(1).scaleb(-scale), context=_WIDE)
    if fitted != number:
        _, digits, exponent = number.as_tuple()
        raise ValueError(f"Cannot fit decimal '{format(number, 'f')}' into DECIMAL({precision}, {scale}) without "
                         f"rounding. (Requires {len(digits)},{-exponent})")
    return fitted


def parse_time(text: str) -> int:
    """A TIME written as milliseconds since midnight."""
    millis = parse_integer(text, 64)
    if not 0 <= millis < MILLIS_PER_DAY:
        raise ValueError("Time values must use number of milliseconds greater than 0 and less than 86400000.")
    return millis


def parse_base64(text: str) -> bytes:
    """java.util.Base64's basic decoder: its alphabet only, the padding optional."""
    if _BASE64.fullmatch(text) and len(text.rstrip("=")) % 4 != 1:
        try:
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except binascii.Error:
            pass
    raise ValueError(f"Value is not a valid Base64 encoded string: {text}")
