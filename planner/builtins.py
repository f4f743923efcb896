"""ksqlDB's built-in scalar functions.

Each function declares its signatures (argument types -> return type, resolved once per
query) and how to evaluate a batch: with Arrow kernels where Arrow has them, otherwise row
by row over Python values (string formatting, JSON, URLs).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import math
import re
import urllib.parse
import uuid as uuid_module
from datetime import date as _date
from datetime import datetime as _datetime
from datetime import timedelta as _timedelta
from datetime import timezone as _utc_tz
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import regex

from ksql.parser.errors import KsqlRecordError
from ksql.planner import javatime
from ksql.planner import kernels as K
from ksql.planner import types as T
from ksql.planner.compiled import broadcast
from ksql.planner.functions import BadArguments, per_row, register, rows
from ksql.planner.kernels import with_fallback
from ksql.planner.types import SqlType
from ksql.planner.values import format_value, python_to_json_value
from ksql.planner.values import json_default as _json_default

ANY, NUM, ARRAY, MAP, STRUCT = "ANY", "NUM", "ARRAY", "MAP", "STRUCT"
_ORDER = ["INTEGER", "BIGINT", "DECIMAL", "DOUBLE"]


def _fits(t: SqlType | None, p) -> bool:
    if t is None or p == ANY:
        return True
    if p == NUM:
        return t.is_numeric
    if p in (ARRAY, MAP, STRUCT):
        return t.base == p
    if t == p:
        return True
    if t.is_numeric and p.is_numeric:
        if p.base == "DECIMAL" and t.base == "DECIMAL":
            return True
        return _ORDER.index(t.base) <= _ORDER.index(p.base)
    return False


def sig(*params, ret, variadic: bool = False):
    """One signature. `ret` is a type or a function of the argument types; with variadic,
    the last parameter repeats (zero or more times)."""
    return params, ret, variadic


def overloads(*signatures):
    def resolve(types):
        for params, ret, variadic in signatures:
            if variadic:
                if len(types) < len(params) - 1:
                    continue
                expanded = list(params[:-1]) + [params[-1]] * (len(types) - len(params) + 1)
            else:
                if len(types) != len(params):
                    continue
                expanded = list(params)
            if all(_fits(t, p) for t, p in zip(types, expanded)):
                wanted = [p if isinstance(p, SqlType) else None for p in expanded]
                result = ret(types) if callable(ret) else ret
                return result, wanted
        raise BadArguments()
    return resolve


def first_type(types):
    known = next((t for t in types if t is not None), None)
    return known or T.STRING


def element_type(types):
    t = types[0]
    return t.params[0] if t is not None and t.base == "ARRAY" else T.STRING


def arrays_type(types):
    for t in types:
        if t is not None:
            return t
    return T.array(T.STRING)


def fn(name, category, description, resolve, evaluate, *signatures):
    register(name, category, description, resolve, evaluate, signatures)


S, I, L, D, B, BY = T.STRING, T.INTEGER, T.BIGINT, T.DOUBLE, T.BOOLEAN, T.BYTES


# ---------------------------------------------------------------- math

def _math1(kernel, name, description, *, ret=D):
    fn(name, "MATHEMATICAL", description, overloads(sig(NUM, ret=ret)),
       lambda v, n: kernel(pc.cast(v[0], pa.float64())), f"{name}(x NUMBER) -> DOUBLE")


def _nan_if_invalid(value, valid):
    return pc.if_else(valid, value, np.nan)


for _name, _kernel, _text in [
    ("SIN", pc.sin, "The sine of x (radians)."), ("COS", pc.cos, "The cosine of x (radians)."),
    ("TAN", pc.tan, "The tangent of x (radians)."), ("ATAN", pc.atan, "The arc tangent of x."),
    ("EXP", pc.exp, "e raised to the power x."),
    ("SINH", lambda x: pc.divide(pc.subtract(pc.exp(x), pc.exp(pc.negate(x))), 2.0), "The hyperbolic sine."),
    ("COSH", lambda x: pc.divide(pc.add(pc.exp(x), pc.exp(pc.negate(x))), 2.0), "The hyperbolic cosine."),
    ("TANH", lambda x: pc.divide(pc.subtract(pc.exp(x), pc.exp(pc.negate(x))),
                                 pc.add(pc.exp(x), pc.exp(pc.negate(x)))), "The hyperbolic tangent."),
    ("ASIN", lambda x: _nan_if_invalid(pc.asin(pc.if_else(pc.less_equal(pc.abs(x), 1.0), x, 0.0)),
                                       pc.less_equal(pc.abs(x), 1.0)), "The arc sine of x."),
    ("ACOS", lambda x: _nan_if_invalid(pc.acos(pc.if_else(pc.less_equal(pc.abs(x), 1.0), x, 0.0)),
                                       pc.less_equal(pc.abs(x), 1.0)), "The arc cosine of x."),
    ("COT", lambda x: pc.divide(1.0, pc.tan(x)), "The cotangent of x (radians)."),
    ("DEGREES", lambda x: pc.multiply(x, 180.0 / math.pi), "Radians to degrees."),
    ("RADIANS", lambda x: pc.multiply(x, math.pi / 180.0), "Degrees to radians."),
    ("SQRT", lambda x: pc.sqrt(x), "The square root of x."),
    ("CBRT", lambda x: _cbrt(x), "The cube root of x."),
    ("LN", lambda x: _log(x, math.e), "The natural logarithm of x."),
]:
    _math1(_kernel, _name, _text)


def _cbrt(x):
    values = x.to_numpy(zero_copy_only=False) if isinstance(x, pa.Array) else np.array([x.as_py()], dtype=float)
    result = pa.array(np.cbrt(values), mask=pc.is_null(x).to_numpy(zero_copy_only=False)
                      if isinstance(x, pa.Array) else None)
    return result if isinstance(x, pa.Array) else result[0]


def _log(x, base):
    # Java: log of a negative number is NaN, of zero is -Infinity.
    return pc.divide(pc.ln(x), math.log(base)) if base != math.e else pc.ln(x)


def _log_base(base, x):
    """As ksqlDB: NaN for a base that is not positive, or is 1."""
    base = pc.cast(base, pa.float64())
    quotient = pc.divide(pc.ln(pc.cast(x, pa.float64())), pc.ln(base))
    bad = pc.or_(pc.less_equal(base, 0.0), pc.equal(base, 1.0))
    return pc.if_else(bad, np.nan, quotient)


fn("LOG", "MATHEMATICAL", "The natural logarithm of x, or its logarithm in the given base.",
   overloads(sig(NUM, ret=D), sig(NUM, NUM, ret=D)),
   lambda v, n: pc.ln(pc.cast(v[0], pa.float64())) if len(v) == 1 else _log_base(v[0], v[1]),
   "LOG(x NUMBER) -> DOUBLE", "LOG(base NUMBER, x NUMBER) -> DOUBLE")
fn("POWER", "MATHEMATICAL", "x raised to the power y.", overloads(sig(NUM, NUM, ret=D)),
   lambda v, n: pc.power(pc.cast(v[0], pa.float64()), pc.cast(v[1], pa.float64())), "POWER(x, y) -> DOUBLE")
fn("ATAN2", "MATHEMATICAL", "The angle of the point (x, y).", overloads(sig(NUM, NUM, ret=D)),
   lambda v, n: pc.atan2(pc.cast(v[0], pa.float64()), pc.cast(v[1], pa.float64())), "ATAN2(y, x) -> DOUBLE")
fn("PI", "MATHEMATICAL", "The constant pi.", overloads(sig(ret=D)), lambda v, n: pa.scalar(math.pi), "PI() -> DOUBLE")
fn("RANDOM", "MATHEMATICAL", "A random number in [0, 1).", overloads(sig(ret=D)),
   lambda v, n: pa.array(np.random.random(n)), "RANDOM() -> DOUBLE")


def _sign(values, n):
    return pc.cast(pc.sign(pc.cast(values[0], pa.float64())), pa.int32())


fn("SIGN", "MATHEMATICAL", "-1, 0 or 1 as x is negative, zero or positive.", overloads(sig(NUM, ret=I)), _sign,
   "SIGN(x NUMBER) -> INTEGER")


def _same_numeric(types):
    return types[0] or D


fn("ABS", "MATHEMATICAL", "The absolute value.", overloads(sig(NUM, ret=_same_numeric)),
   lambda v, n: pc.abs(v[0]), "ABS(x NUMBER) -> same type")
fn("CEIL", "MATHEMATICAL", "The smallest whole number not below x.", overloads(sig(NUM, ret=_same_numeric)),
   lambda v, n: v[0] if pa.types.is_integer(v[0].type) else pc.ceil(v[0]), "CEIL(x NUMBER) -> same type")
fn("FLOOR", "MATHEMATICAL", "The largest whole number not above x.", overloads(sig(NUM, ret=_same_numeric)),
   lambda v, n: v[0] if pa.types.is_integer(v[0].type) else pc.floor(v[0]), "FLOOR(x NUMBER) -> same type")


def _round_type(types):
    t = types[0] or D
    if len(types) == 1:
        if t.base == "DOUBLE":
            return L
        if t.base == "DECIMAL":
            return T.decimal(min(max(t.precision - t.scale + 1, 1), 38), 0)
    return t


def _rounding(mode):
    def evaluate(values, n):
        value = values[0]
        digits = values[1] if len(values) > 1 else pa.scalar(0, pa.int32())
        if pa.types.is_integer(value.type):
            if len(values) == 1:
                return value
        if pa.types.is_floating(value.type) and isinstance(digits, pa.Scalar) and digits.is_valid:
            return _round_doubles(value, digits.as_py(), mode, len(values) == 1)
        out = []
        for x, d in rows([value, digits], n):
            if x is None or d is None:
                out.append(None)
                continue
            if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
                out.append(x)
                continue
            exact = Decimal(str(x)) if isinstance(x, float) else Decimal(x)
            if mode == ROUND_HALF_UP and isinstance(x, float):
                # Java's Math.round: half way rounds toward positive infinity.
                rounded = (exact.scaleb(d) + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR).scaleb(-d)
            else:
                rounded = exact.quantize(Decimal(1).scaleb(-d), rounding=mode) if d >= 0 else \
                    (exact.scaleb(d).quantize(Decimal(1), rounding=mode)).scaleb(-d)
            if isinstance(x, float):
                out.append(float(rounded) if len(values) > 1 else int(rounded))
            elif isinstance(x, int):
                out.append(int(rounded))
            else:
                out.append(rounded if len(values) > 1 else rounded.quantize(Decimal(1), rounding=mode))
        return out
    return evaluate


def _round_doubles(value, digits: int, mode, to_integer: bool):
    """Vectorized rounding of doubles: Java's Math.round (half toward +infinity) or truncation."""
    scale = 10.0 ** digits
    scaled = pc.multiply(value, scale)
    rounded = pc.floor(pc.add(scaled, 0.5)) if mode == ROUND_HALF_UP else pc.trunc(scaled)
    result = pc.divide(rounded, scale)
    return pc.cast(result, pa.int64()) if to_integer else result


fn("ROUND", "MATHEMATICAL", "Rounds half up, to a whole number or to a number of decimal places.",
   overloads(sig(NUM, ret=_round_type), sig(NUM, I, ret=_round_type)), _rounding(ROUND_HALF_UP),
   "ROUND(x NUMBER [, places INTEGER])")
fn("TRUNC", "MATHEMATICAL", "Truncates toward zero, to a whole number or to a number of decimal places.",
   overloads(sig(NUM, ret=_round_type), sig(NUM, I, ret=_round_type)), _rounding(ROUND_DOWN),
   "TRUNC(x NUMBER [, places INTEGER])")


def _comparable_type(name):
    def resolve(types):
        known = [t for t in types if t is not None]
        if not types:
            raise BadArguments(f"Function '{name.lower()}' does not accept parameters ().")
        if not known:
            raise BadArguments(f"Function '{name.lower()}' cannot be resolved due to ambiguous method "
                               f"parameters ({', '.join('null' for _ in types)}).")
        first = known[0]
        if first.is_numeric:
            if not all(t.is_numeric for t in known):
                raise BadArguments(f"Function '{name.lower()}' does not accept parameters "
                                   f"({', '.join(str(t) if t else 'null' for t in types)}).")
            result = known[0]
            for t in known[1:]:
                result = T.common_numeric(result, t)
            return result, [result] * len(types)
        target = first
        for t in known:
            if t.base == "STRING" and first.base in ("DATE", "TIME", "TIMESTAMP"):
                continue
            if t.base in ("DATE", "TIME", "TIMESTAMP") and first.base == "STRING":
                target = t
                continue
            if t.base != first.base:
                raise BadArguments(f"Function '{name.lower()}' does not accept parameters "
                                   f"({', '.join(str(t) if t else 'null' for t in types)}).")
        return target, [target] * len(types)
    return resolve


def _extreme(largest):
    def evaluate(values, n):
        arrays = [broadcast(v, n) for v in values]
        kernel = pc.max_element_wise if largest else pc.min_element_wise
        return kernel(*arrays, skip_nulls=True)
    return evaluate


fn("GREATEST", "MATHEMATICAL", "The largest of its arguments, ignoring NULLs.", _comparable_type("GREATEST"),
   _extreme(True), "GREATEST(a, b, ...) -> the arguments' type")
fn("LEAST", "MATHEMATICAL", "The smallest of its arguments, ignoring NULLs.", _comparable_type("LEAST"),
   _extreme(False), "LEAST(a, b, ...) -> the arguments' type")


def _geo_distance(lat1, lon1, lat2, lon2, unit="KM"):
    radius = {"KM": 6371.0, "KILOMETERS": 6371.0, "MI": 3959.0, "MILES": 3959.0}.get(str(unit or "KM").upper())
    if radius is None:
        raise ValueError("unit must be KM or MI")
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


fn("GEO_DISTANCE", "", "The great-circle distance between two points, in KM (default) or MI.",
   overloads(sig(D, D, D, D, ret=D), sig(D, D, D, D, S, ret=D)),
   with_fallback(K.geo_distance, lambda *a: None if None in a[:4] else _geo_distance(
       *[float(x) if not isinstance(x, (str, type(None))) else x for x in a]), null_on_null=False),
   "GEO_DISTANCE(lat1, lon1, lat2, lon2 [, unit])")
fn("GENERATE_SERIES", "ARRAY", "An array of numbers from start to end, by step.",
   overloads(sig(I, I, ret=T.array(I)), sig(L, L, ret=T.array(L)), sig(I, I, I, ret=T.array(I)),
             sig(L, L, I, ret=T.array(L))),
   with_fallback(K.generate_series, lambda a, b, step=None: list(range(
       a, b + (1 if (step or (1 if b >= a else -1)) > 0 else -1), step or (1 if b >= a else -1)))),
   "GENERATE_SERIES(start, end [, step])")


# ---------------------------------------------------------------- strings

def _str1(name, kernel, description, ret=S):
    fn(name, "STRING", description, overloads(sig(S, ret=ret)), lambda v, n: kernel(v[0]), f"{name}(s STRING)")


_str1("UCASE", pc.utf8_upper, "Upper case.")
_str1("LCASE", pc.utf8_lower, "Lower case.")
_str1("TRIM", lambda s: pc.utf8_trim(s, " \t\n\r\x0b\x0c"), "Removes leading and trailing whitespace.")
fn("LEN", "STRING", "The length of a string, or of bytes.",
   overloads(sig(S, ret=I), sig(BY, ret=I)),
   lambda v, n: pc.utf8_length(v[0]) if pa.types.is_string(v[0].type) else pc.binary_length(v[0]),
   "LEN(s STRING) -> INTEGER", "LEN(b BYTES) -> INTEGER")


def _initcap(s):
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), s.lower())


fn("INITCAP", "STRING", "Capitalizes the first letter of each word.", overloads(sig(S, ret=S)),
   with_fallback(K.initcap, _initcap), "INITCAP(s STRING)")


def _concat(values, n):
    arrays = [pc.fill_null(broadcast(v, n), b"" if pa.types.is_binary(v.type) else "") for v in values]
    all_null = None
    for v in values:
        null = pc.is_null(broadcast(v, n))
        all_null = null if all_null is None else pc.and_(all_null, null)
    joined = pc.binary_join_element_wise(*arrays, b"" if pa.types.is_binary(arrays[0].type) else "")
    return pc.if_else(all_null, pa.scalar(None, joined.type), joined)


fn("CONCAT", "STRING", "Concatenates strings (or bytes), skipping NULLs.",
   overloads(sig(S, ret=S, variadic=True), sig(BY, ret=BY, variadic=True)), _concat, "CONCAT(s STRING, ...)")


def _concat_ws_row(sep, *parts):
    return None if sep is None else sep.join(p for p in parts if p is not None)


_concat_ws = with_fallback(K.concat_ws, _concat_ws_row, null_on_null=False)


fn("CONCAT_WS", "STRING", "Concatenates with a separator, skipping NULLs.",
   overloads(sig(S, S, ret=S, variadic=True), sig(BY, BY, ret=BY, variadic=True)), _concat_ws,
   "CONCAT_WS(separator, s, ...)")


def _substring(s, start, length=None):
    begin = start - 1 if start > 0 else max(len(s) + start, 0)
    if start == 0:
        begin = 0
    return s[begin:] if length is None else s[begin:begin + max(length, 0)]


def _substring_batch(values, n):
    text = values[0]
    constants = all(isinstance(v, pa.Scalar) and v.is_valid for v in values[1:])
    if constants and pa.types.is_string(text.type) and values[1].as_py() > 0:
        start = values[1].as_py() - 1
        stop = start + max(values[2].as_py(), 0) if len(values) > 2 else None
        return pc.utf8_slice_codeunits(text, start, stop)
    return per_row(_substring)(values, n)


fn("SUBSTRING", "STRING", "A substring by 1-based position and optional length.",
   overloads(sig(S, I, ret=S), sig(S, I, I, ret=S), sig(BY, I, ret=BY), sig(BY, I, I, ret=BY)),
   _substring_batch, "SUBSTRING(s, position [, length])")


def _replace(s, old, new):
    return s.replace(old, new)


fn("REPLACE", "STRING", "Replaces every occurrence of a substring.", overloads(sig(S, S, S, ret=S)),
   with_fallback(K.replace, _replace), "REPLACE(s, old, new)")


def _instr(s, sub, position=1, occurrence=1):
    if position < 0:
        end = len(s) + position + 1
        index = end
        for _ in range(occurrence):
            index = s.rfind(sub, 0, index + len(sub) - 1 if index < end else end)
            if index < 0:
                return 0
            end = index
        return index + 1
    index = position - 2
    for _ in range(occurrence):
        index = s.find(sub, index + 1)
        if index < 0:
            return 0
    return index + 1


fn("INSTR", "STRING", "The 1-based position of a substring (0 when absent).",
   overloads(sig(S, S, ret=I), sig(S, S, I, ret=I), sig(S, S, I, I, ret=I)), with_fallback(K.instr, _instr),
   "INSTR(s, sub [, position [, occurrence]])")


def _pad(left):
    def pad(s, length, filler):
        if length < 0 or (not filler and len(s) < length):
            return None
        if len(s) >= length:
            return s[:length]
        needed = length - len(s)
        fill = (filler * (needed // len(filler) + 1))[:needed]
        return fill + s if left else s + fill
    return pad


fn("LPAD", "STRING", "Pads on the left to a length.", overloads(sig(S, I, S, ret=S), sig(BY, I, BY, ret=BY)),
   with_fallback(K.pad(True), _pad(True)), "LPAD(s, length, padding)")
fn("RPAD", "STRING", "Pads on the right to a length.", overloads(sig(S, I, S, ret=S), sig(BY, I, BY, ret=BY)),
   with_fallback(K.pad(False), _pad(False)), "RPAD(s, length, padding)")


def _mask_char(c, upper="X", lower="x", digit="n", other="-"):
    if c.isupper():
        return upper if upper is not None else c
    if c.islower():
        return lower if lower is not None else c
    if c.isdigit():
        return digit if digit is not None else c
    return other if other is not None else c


def _masker(kind):
    def mask(s, *args):
        if kind == "ALL":
            chars = args
            return "".join(_mask_char(c, *chars) for c in s)
        n, chars = args[0], args[1:]
        if n < 0:
            raise ValueError("negative length")
        if kind == "LEFT":
            return "".join(_mask_char(c, *chars) for c in s[:n]) + s[n:]
        if kind == "RIGHT":
            return s[:max(len(s) - n, 0)] + "".join(_mask_char(c, *chars) for c in s[max(len(s) - n, 0):])
        if kind == "KEEP_LEFT":
            return s[:n] + "".join(_mask_char(c, *chars) for c in s[n:])
        return "".join(_mask_char(c, *chars) for c in s[:max(len(s) - n, 0)]) + s[max(len(s) - n, 0):]
    return with_fallback(K.mask(kind), lambda s, *args: None if s is None else mask(s, *args), null_on_null=False)


fn("MASK", "STRING", "Masks letters, digits and other characters.",
   overloads(sig(S, ret=S), sig(S, S, ret=S), sig(S, S, S, ret=S), sig(S, S, S, S, ret=S), sig(S, S, S, S, S, ret=S)),
   _masker("ALL"), "MASK(s [, upper, lower, digit, other])")
for _name, _kind in [("MASK_LEFT", "LEFT"), ("MASK_RIGHT", "RIGHT"), ("MASK_KEEP_LEFT", "KEEP_LEFT"),
                     ("MASK_KEEP_RIGHT", "KEEP_RIGHT")]:
    fn(_name, "STRING", f"Masks characters ({_kind.lower().replace('_', ' ')}).",
       overloads(*[sig(S, I, *([S] * k), ret=S) for k in range(5)]), _masker(_kind),
       f"{_name}(s, n [, upper, lower, digit, other])")


def _chr(code):
    if isinstance(code, str):  # '\\uXXXX', or a surrogate pair '\\uD860\\uDEB8' as Java writes it
        if not re.fullmatch(r"(?:\\u[0-9a-fA-F]{4}){1,2}", code):
            return None
        units = bytes.fromhex(code.replace("\\u", ""))
        try:
            return units.decode("utf-16-be")
        except UnicodeDecodeError:
            return None
    return chr(code) if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None  # no lone surrogates


fn("CHR", "STRING", "The character with a code point (or a '\\uXXXX' string).",
   overloads(sig(I, ret=S), sig(S, ret=S)), with_fallback(K.chr_of_code, _chr),
   "CHR(code INTEGER)", "CHR(code STRING)")
_uuid_of_bytes = with_fallback(K.uuid_from_bytes, lambda b: str(uuid_module.UUID(bytes=b)))


def _uuid(values, n):
    if not values:  # random UUIDs: uuid4 per row is the definition
        return [str(uuid_module.uuid4()) for _ in range(n)]
    return _uuid_of_bytes(values, n)


_uuid.reference = _uuid_of_bytes.reference
fn("UUID", "STRING", "A random UUID, or the UUID in 16 bytes.", overloads(sig(ret=S), sig(BY, ret=S)),
   _uuid, "UUID() -> STRING", "UUID(bytes BYTES) -> STRING")
fn("MD5", "STRING", "The hex MD5 digest of a string.", overloads(sig(S, ret=S)),
   with_fallback(K.md5, lambda s: hashlib.md5(s.encode()).hexdigest()), "MD5(s STRING)")

_ENCODINGS = {"hex", "utf8", "ascii", "base64"}


def _to_bytes(s, encoding):
    encoding = encoding.lower()
    if encoding == "hex":
        return bytes.fromhex(s)
    if encoding == "base64":
        return base64.b64decode(s, validate=True)
    if encoding == "utf8":
        return s.encode("utf-8")
    if encoding == "ascii":
        return s.encode("ascii", errors="replace")  # Java writes '?' for what ASCII cannot hold
    raise ValueError(encoding)


def _from_bytes(b, encoding, upper_hex=True):
    encoding = encoding.lower()
    if encoding == "hex":
        return b.hex().upper() if upper_hex else b.hex()
    if encoding == "base64":
        return base64.b64encode(b).decode()
    if encoding == "utf8":
        return b.decode("utf-8", errors="replace")
    if encoding == "ascii":
        return b.decode("ascii", errors="replace")
    raise ValueError(encoding)


fn("TO_BYTES", "CONVERSIONS", "A string as bytes, in hex, utf8, ascii or base64.", overloads(sig(S, S, ret=BY)),
   with_fallback(K.to_bytes, _to_bytes), "TO_BYTES(s, encoding)")
fn("FROM_BYTES", "CONVERSIONS", "Bytes as a string, in hex, utf8, ascii or base64.", overloads(sig(BY, S, ret=S)),
   with_fallback(K.from_bytes, _from_bytes), "FROM_BYTES(b, encoding)")
fn("ENCODE", "STRING", "Re-encodes a string from one encoding (hex, utf8, ascii, base64) to another.",
   overloads(sig(S, S, S, ret=S)),
   with_fallback(K.encode, lambda s, a, b: _from_bytes(_to_bytes(s, a), b, upper_hex=False)),
   "ENCODE(s, from, to)")


def _int_from_bytes(width, kind):
    def convert(b, order="BIG_ENDIAN"):
        if len(b) != width:
            raise ValueError("wrong length")
        data = b if order.upper() == "BIG_ENDIAN" else b[::-1]
        if kind == "double":
            import struct

            return struct.unpack(">d", data)[0]
        return int.from_bytes(data, "big", signed=True)
    return convert


fn("INT_FROM_BYTES", "CONVERSIONS", "A 4-byte integer.", overloads(sig(BY, ret=I), sig(BY, S, ret=I)),
   with_fallback(K.number_from_bytes(4, "int"), _int_from_bytes(4, "int")), "INT_FROM_BYTES(b [, byte_order])")
fn("BIGINT_FROM_BYTES", "CONVERSIONS", "An 8-byte integer.", overloads(sig(BY, ret=L), sig(BY, S, ret=L)),
   with_fallback(K.number_from_bytes(8, "int"), _int_from_bytes(8, "int")),
   "BIGINT_FROM_BYTES(b [, byte_order])")
fn("DOUBLE_FROM_BYTES", "CONVERSIONS", "An 8-byte double.", overloads(sig(BY, ret=D), sig(BY, S, ret=D)),
   with_fallback(K.number_from_bytes(8, "double"), _int_from_bytes(8, "double")),
   "DOUBLE_FROM_BYTES(b [, byte_order])")


def _java_regex(pattern: str) -> str:
    """Java regex syntax mostly matches Python's; possessive and named-group spellings differ."""
    return pattern.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!")


# How long one regular expression may take over one value. Patterns that backtrack
# catastrophically ('(a|aa)+$') stop there: the record goes to the processing log.
REGEX_TIMEOUT = 0.5


class RegexTimeout(KsqlRecordError):
    pass


class _JavaPattern:
    """A Java regex run by the `regex` module: it releases the GIL while it matches (other
    queries and the server go on) and gives up after REGEX_TIMEOUT, where Python's `re` would
    hold the whole process until it is done. Patterns RE2 can run never get here: the batch
    kernels (kernels.py) use Arrow's RE2, which is linear."""

    def __init__(self, pattern: str):
        self.text = pattern
        self.compiled = regex.compile(_java_regex(pattern), regex.ASCII | regex.VERSION0)

    def _run(self, call):
        try:
            return call(timeout=REGEX_TIMEOUT, concurrent=True)
        except TimeoutError:
            raise RegexTimeout(f"The regular expression '{self.text}' took longer than {REGEX_TIMEOUT} s "
                               f"to match one value") from None

    def search(self, text: str):
        return self._run(lambda **options: self.compiled.search(text, **options))

    def finditer(self, text: str) -> list:
        return self._run(lambda **options: list(self.compiled.finditer(text, **options)))

    def sub(self, replacement, text: str) -> str:
        return self._run(lambda **options: self.compiled.sub(replacement, text, **options))


@functools.lru_cache(maxsize=256)
def _java_compile(pattern: str) -> _JavaPattern:
    """A Java regex in Python: as in Java, \\w, \\d, \\s and \\b are ASCII classes."""
    return _JavaPattern(pattern)


def _java_split(text: str, pattern: str) -> list[str]:
    """Java's split with no limit on the count: captured groups are not part of the result."""
    pieces, start = [], 0
    for match in _java_compile(pattern).finditer(text):
        if match.end() == 0 and match.start() == 0:
            continue  # Java never makes an empty first piece from a zero-width match at the start
        pieces.append(text[start:match.start()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def _java_replacement(text: str):
    """Java's replacement syntax ($1 a group, \\x a literal x) as a function of the match."""
    pieces = re.findall(r"\\(.)|\$(\d)|(.)", text, re.DOTALL)

    def expand(match):
        return "".join(literal or (match.group(int(group)) or "" if group else plain)
                       for literal, group, plain in pieces)
    return expand


fn("REGEXP_EXTRACT", "REGULAR_EXPRESSION", "The first match of a pattern (or of one of its groups).",
   overloads(sig(S, S, ret=S), sig(S, S, I, ret=S)),
   with_fallback(K.regexp_extract,
                 lambda p, s, g=0: (lambda m: m.group(g) if m else None)(_java_compile(p).search(s))),
   "REGEXP_EXTRACT(pattern, s [, group])")
fn("REGEXP_EXTRACT_ALL", "REGULAR_EXPRESSION", "Every match of a pattern (or of one of its groups).",
   overloads(sig(S, S, ret=T.array(S)), sig(S, S, I, ret=T.array(S))),
   with_fallback(K.regexp_extract_all, lambda p, s, g=0: [m.group(g) for m in _java_compile(p).finditer(s)]),
   "REGEXP_EXTRACT_ALL(pattern, s [, group])")
fn("REGEXP_REPLACE", "REGULAR_EXPRESSION", "Replaces every match of a pattern.", overloads(sig(S, S, S, ret=S)),
   with_fallback(K.regexp_replace, lambda s, p, r: _java_compile(p).sub(_java_replacement(r), s)),
   "REGEXP_REPLACE(s, pattern, replacement)")
fn("REGEXP_SPLIT_TO_ARRAY", "REGULAR_EXPRESSION", "Splits a string around matches of a pattern.",
   overloads(sig(S, S, ret=T.array(S))), with_fallback(K.regexp_split, _java_split),
   "REGEXP_SPLIT_TO_ARRAY(s, pattern)")


def _split(s, delimiter):
    if delimiter == "" or delimiter == b"":
        return list(s) if isinstance(s, str) else [bytes([c]) for c in s]
    return s.split(delimiter)


fn("SPLIT", "STRING", "Splits a string (or bytes) around a delimiter.",
   overloads(sig(S, S, ret=T.array(S)), sig(BY, BY, ret=T.array(BY))), with_fallback(K.split, _split),
   "SPLIT(s, delimiter)")


def _split_to_map(s, entry, kv):
    """As ksqlDB: empty entries are skipped; an entry is split at every kv delimiter and its
    first two parts taken; entries without the delimiter are skipped."""
    if not entry or not kv:
        return None
    result = {}
    for part in s.split(entry):
        pieces = part.split(kv)
        if part and len(pieces) >= 2:
            result[pieces[0]] = pieces[1]
    return list(result.items())


fn("SPLIT_TO_MAP", "STRING", "Splits 'k1=v1,k2=v2' into a map.", overloads(sig(S, S, S, ret=T.map_of(S, S))),
   with_fallback(K.split_to_map, _split_to_map), "SPLIT_TO_MAP(s, entry_delimiter, kv_delimiter)")


# ---------------------------------------------------------------- nulls and conditionals

def _coalesce_type(types):
    if not types:
        raise BadArguments("Function 'COALESCE' does not accept parameters ().")
    common = T.common_type(types)
    if common is None:
        if all(t is None for t in types):
            return T.STRING, [T.STRING] * len(types)
        raise BadArguments()
    return common, [common] * len(types)


def _coalesce(values, n):
    if len(values) == 1:
        return broadcast(values[0], n)
    return pc.coalesce(*[broadcast(v, n) for v in values])


register("COALESCE", "CONDITIONAL", "The first argument that is not NULL.", _coalesce_type, _coalesce,
         ("COALESCE(a, b, ...)",))
register("IFNULL", "CONDITIONAL", "The second argument when the first is NULL.",
         lambda types: _coalesce_type(types) if len(types) == 2 else (_ for _ in ()).throw(BadArguments()),
         _coalesce, ("IFNULL(a, b)",))


def _nullif(values, n):
    a, b = broadcast(values[0], n), broadcast(values[1], n)
    if pa.types.is_nested(a.type):  # lists, maps and structs compare element by element
        equal = pa.array([x is not None and x == y for x, y in zip(a.to_pylist(), b.to_pylist())])
    else:
        equal = pc.fill_null(pc.equal(a, b), False)
    return pc.if_else(equal, pa.scalar(None, a.type), a)


register("NULLIF", "CONDITIONAL", "NULL when both arguments are equal, else the first.",
         lambda types: ((types[0] or types[1] or T.STRING), [types[0] or types[1]] * 2) if len(types) == 2
         else (_ for _ in ()).throw(BadArguments()), _nullif, ("NULLIF(a, b)",))
fn("AS_VALUE", "", "Copies a key column into the value.", overloads(sig(ANY, ret=first_type)),
   lambda v, n: broadcast(v[0], n), "AS_VALUE(key)")


# ---------------------------------------------------------------- collections

fn("ARRAY_LENGTH", "ARRAY", "The number of elements.", overloads(sig(ARRAY, ret=I)),
   lambda v, n: pc.list_value_length(v[0]), "ARRAY_LENGTH(a ARRAY)")
fn("ARRAY_CONTAINS", "ARRAY", "Whether an array holds a value.", overloads(sig(ARRAY, ANY, ret=B)),
   with_fallback(K.array_contains, lambda a, x: None if a is None else x in a, null_on_null=False),
   "ARRAY_CONTAINS(a, value)")


def _distinct(a):
    out = []
    for x in a:
        if x not in out:
            out.append(x)
    return out


def _sortable(x):
    return (x is None, x)


fn("ARRAY_DISTINCT", "ARRAY", "The distinct elements, in order of first appearance.",
   overloads(sig(ARRAY, ret=arrays_type)), with_fallback(K.array_distinct, _distinct), "ARRAY_DISTINCT(a)")
fn("ARRAY_EXCEPT", "ARRAY", "The distinct elements of a that are not in b.",
   overloads(sig(ARRAY, ARRAY, ret=arrays_type)), with_fallback(K.array_set("EXCEPT"), lambda a, b: [x for x in _distinct(a) if x not in b]),
   "ARRAY_EXCEPT(a, b)")
fn("ARRAY_INTERSECT", "ARRAY", "The distinct elements in both arrays.",
   overloads(sig(ARRAY, ARRAY, ret=arrays_type)), with_fallback(K.array_set("INTERSECT"), lambda a, b: [x for x in _distinct(a) if x in b]),
   "ARRAY_INTERSECT(a, b)")
fn("ARRAY_UNION", "ARRAY", "The distinct elements of either array.",
   overloads(sig(ARRAY, ARRAY, ret=arrays_type)), with_fallback(K.array_set("UNION"), lambda a, b: _distinct(a + b)),
   "ARRAY_UNION(a, b)")
fn("ARRAY_CONCAT", "ARRAY", "The elements of a, then of b.", overloads(sig(ARRAY, ARRAY, ret=arrays_type)),
   with_fallback(K.array_concat, lambda a, b: None if a is None and b is None else (a or []) + (b or []),
                 null_on_null=False),
   "ARRAY_CONCAT(a, b)")
fn("ARRAY_REMOVE", "ARRAY", "The array without every element equal to a value.",
   overloads(sig(ARRAY, ANY, ret=arrays_type)),
   with_fallback(K.array_remove, lambda a, x: None if a is None else [e for e in a if e != x], null_on_null=False),
   "ARRAY_REMOVE(a, value)")
fn("ARRAY_MAX", "ARRAY", "The largest element, ignoring NULLs.", overloads(sig(ARRAY, ret=element_type)),
   with_fallback(K.array_extreme("max"), lambda a: max((x for x in a if x is not None), default=None)),
   "ARRAY_MAX(a)")
fn("ARRAY_MIN", "ARRAY", "The smallest element, ignoring NULLs.", overloads(sig(ARRAY, ret=element_type)),
   with_fallback(K.array_extreme("min"), lambda a: min((x for x in a if x is not None), default=None)),
   "ARRAY_MIN(a)")


def _array_sort(a, direction="ASC"):
    present = sorted(x for x in a if x is not None)
    if direction.upper() == "DESC":
        present.reverse()
    return present + [None] * (len(a) - len(present))


fn("ARRAY_SORT", "ARRAY", "The elements sorted ASC (default) or DESC, NULLs last.",
   overloads(sig(ARRAY, ret=arrays_type), sig(ARRAY, S, ret=arrays_type)),
   with_fallback(K.array_sort, _array_sort),
   "ARRAY_SORT(a [, direction])")


def _array_join_row(a, *sep):
    delimiter = sep[0] if sep else ","
    if a is None:
        return None
    return (delimiter or "").join("null" if x is None else _text(x) for x in a)


def _text(x):
    return x if isinstance(x, str) else format_value(x)


fn("ARRAY_JOIN", "ARRAY", "The elements as text, joined by a delimiter (default ',').",
   overloads(sig(ARRAY, ret=S), sig(ARRAY, S, ret=S)),
   with_fallback(K.array_join, _array_join_row, null_on_null=False), "ARRAY_JOIN(a [, delimiter])")


def _slice(a, start, end):
    return a[start - 1:end] if start >= 1 and end >= start else None


fn("SLICE", "ARRAY", "Elements from a 1-based start to an end position, inclusive.",
   overloads(sig(ARRAY, I, I, ret=arrays_type)), with_fallback(K.slice_list, _slice),
   "SLICE(a, from, to)")


def _map_type(types):
    t = types[0]
    return t if t is not None else T.map_of(S, S)


fn("MAP_KEYS", "MAP", "The keys of a map.", overloads(sig(MAP, ret=lambda t: T.array(t[0].params[0] if t[0] else S))),
   with_fallback(K.map_part("keys"), lambda m: [k for k, _ in m]), "MAP_KEYS(m)")
fn("MAP_VALUES", "MAP", "The values of a map.",
   overloads(sig(MAP, ret=lambda t: T.array(t[0].params[1] if t[0] else S))),
   with_fallback(K.map_part("values"), lambda m: [v for _, v in m]), "MAP_VALUES(m)")


def _map_union(a, b):
    merged = dict(a or [])
    merged.update(dict(b or []))
    return list(merged.items())


fn("MAP_UNION", "MAP", "Both maps' entries; the second wins on equal keys.", overloads(sig(MAP, MAP, ret=_map_type)),
   lambda v, n: [None if a is None and b is None else _map_union(a, b) for a, b in rows(v, n)], "MAP_UNION(a, b)")


def _as_map_type(types):
    keys, values = types
    return T.map_of(S, values.params[0] if values is not None else S)


fn("AS_MAP", "MAP", "A map from an array of keys and an array of values.",
   overloads(sig(ARRAY, ARRAY, ret=_as_map_type)), per_row(lambda k, v: list(dict(zip(k, v)).items())),
   "AS_MAP(keys, values)")


def _entries_type(types):
    value = types[0].params[1] if types[0] is not None else S
    return T.array(T.struct([("K", S), ("V", value)]))


fn("ENTRIES", "MAP", "The entries of a map as an array of STRUCT<K, V>, optionally sorted by key.",
   overloads(sig(MAP, B, ret=_entries_type)),
   with_fallback(K.map_entries, lambda m, ordered: [{"K": k, "V": v} for k, v in (sorted(m) if ordered else m)]),
   "ENTRIES(m, sorted)")
fn("ELT", "STRING", "The n-th of the following arguments (1-based).", overloads(sig(I, S, ret=S, variadic=True)),
   with_fallback(K.elt, lambda i, *args: None if i is None or not 1 <= i <= len(args) else args[i - 1],
                 null_on_null=False), "ELT(n, s1, s2, ...)")
fn("FIELD", "STRING", "The 1-based position of a string among the following arguments (0 if absent).",
   overloads(sig(S, S, ret=I, variadic=True)),
   with_fallback(K.field, lambda s, *args: 0 if s is None else next((i for i, x in enumerate(args, 1) if x == s), 0),
                 null_on_null=False), "FIELD(s, s1, s2, ...)")


# ---------------------------------------------------------------- JSON

def _json_path(document, path):
    if not path.startswith("$"):
        raise ValueError("path must start with $")
    node = document
    for part in re.findall(r"\.([^.\[\]]+)|\[['\"]?([^\]'\"]+)['\"]?\]", path[1:]):
        key = part[0] or part[1]
        if isinstance(node, dict):
            if key not in node:
                return None
            node = node[key]
        elif isinstance(node, list):
            try:
                index = int(key)
                node = node[index] if index >= 0 else None
            except (ValueError, IndexError):
                return None
        else:
            return None
    return node


def _first_json_value(text):
    """The first JSON value in the text, ignoring what follows it (as Jackson's readTree does)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        import json

        return json.JSONDecoder().raw_decode(text.lstrip())[0]


def _extract_json_field(text, path):
    try:
        value = _json_path(_first_json_value(text), path)
    except ValueError:
        return None
    if value is None:
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


fn("EXTRACTJSONFIELD", "JSON", "The value at a JSONPath in a JSON string.", overloads(sig(S, S, ret=S)),
   with_fallback(K.extract_json_field, _extract_json_field), "EXTRACTJSONFIELD(json, path)")


def _is_json(text):
    try:
        orjson.loads(text)
        return True
    except orjson.JSONDecodeError:
        return False


fn("IS_JSON_STRING", "JSON", "Whether a string is valid JSON.", overloads(sig(S, ret=B)),
   with_fallback(K.is_json_string, lambda s: False if s is None else _is_json(s), null_on_null=False),
   "IS_JSON_STRING(s)")


def _json_loads(text):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _INVALID


_INVALID = object()


def _json_array_length(text):
    value = _json_loads(text)
    return len(value) if isinstance(value, list) else None


fn("JSON_ARRAY_LENGTH", "JSON", "The length of a JSON array.", overloads(sig(S, ret=I)),
   with_fallback(K.json_array_length, _json_array_length), "JSON_ARRAY_LENGTH(json)")


def _json_keys(text):
    value = _json_loads(text)
    return list(value) if isinstance(value, dict) else None


fn("JSON_KEYS", "JSON", "The keys of a JSON object.", overloads(sig(S, ret=T.array(S))),
   with_fallback(K.json_keys, _json_keys),
   "JSON_KEYS(json)")


def _json_records(text):
    value = _json_loads(text)
    if not isinstance(value, dict):
        return None
    return [(k, v if isinstance(v, str) else orjson.dumps(v).decode()) for k, v in value.items()]


fn("JSON_RECORDS", "JSON", "The entries of a JSON object, values as JSON text.",
   overloads(sig(S, ret=T.map_of(S, S))), per_row(_json_records), "JSON_RECORDS(json)")


def _json_items(text):
    value = _json_loads(text)
    return [orjson.dumps(v).decode() for v in value] if isinstance(value, list) else None


fn("JSON_ITEMS", "JSON", "The items of a JSON array, as JSON text.", overloads(sig(S, ret=T.array(S))),
   with_fallback(K.json_items, _json_items), "JSON_ITEMS(json)")


def _json_concat(*texts):
    values = [_json_loads(t) for t in texts]
    if any(v is _INVALID for v in values):
        return None
    if all(isinstance(v, dict) for v in values):
        merged = {}
        for v in values:
            merged.update(v)
        return orjson.dumps(merged).decode()
    merged = []
    for v in values:
        merged += v if isinstance(v, list) else [v]
    return orjson.dumps(merged).decode()


fn("JSON_CONCAT", "JSON", "Merges JSON objects, or concatenates JSON arrays.", overloads(sig(S, ret=S, variadic=True)),
   per_row(_json_concat), "JSON_CONCAT(json, ...)")


def _json_array_contains(text, value):
    array = _json_loads(text)
    if not isinstance(array, list):
        return False
    return any(type(x) is type(value) and x == value or (isinstance(x, (int, float)) and not isinstance(x, bool)
                                                         and isinstance(value, (int, float)) and x == value)
               for x in array)


fn("JSON_ARRAY_CONTAINS", "JSON", "Whether a JSON array holds a value.", overloads(sig(S, ANY, ret=B)),
   lambda v, n: [False if t is None else _json_array_contains(t, x) for t, x in rows(v, n)],
   "JSON_ARRAY_CONTAINS(json, value)")


def _to_json_string(values, n, sql_type=None):
    return ["null" if x is None else orjson.dumps(python_to_json_value(x, sql_type, temporal_text=True),
                                                  default=_json_default).decode()
            for (x,) in rows(values, n)]


def _to_json_resolve(types):
    if len(types) != 1:
        raise BadArguments()
    return S, [None]


register("TO_JSON_STRING", "JSON", "Any value as JSON text.", _to_json_resolve,
         lambda v, n: _to_json_string(v, n, T.from_arrow(v[0].type) if not pa.types.is_null(v[0].type) else None),
         ("TO_JSON_STRING(value)",))


# ---------------------------------------------------------------- URLs

def _url(part):
    def extract(url):
        parsed = urllib.parse.urlsplit(url)
        if part == "host":
            return parsed.hostname
        if part == "port":
            return parsed.port
        if part == "path":
            return parsed.path or None if parsed.path else ""
        if part == "protocol":
            return parsed.scheme or None
        if part == "query":
            return parsed.query or None
        return parsed.fragment or None
    return extract


for _part, _ret in [("HOST", S), ("PORT", I), ("PATH", S), ("PROTOCOL", S), ("QUERY", S), ("FRAGMENT", S)]:
    fn(f"URL_EXTRACT_{_part}", "URL", f"The {_part.lower()} of a URL.", overloads(sig(S, ret=_ret)),
       with_fallback(K.url_part(_part.lower()), _url(_part.lower())), f"URL_EXTRACT_{_part}(url)")


def _url_parameter(url, name):
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True).get(name)
    return values[0] if values else None


fn("URL_EXTRACT_PARAMETER", "URL", "The first value of a query parameter.", overloads(sig(S, S, ret=S)),
   with_fallback(K.url_parameter, _url_parameter), "URL_EXTRACT_PARAMETER(url, name)")
fn("URL_ENCODE_PARAM", "URL", "Escapes a value for a URL query.", overloads(sig(S, ret=S)),
   with_fallback(K.url_encode, lambda s: urllib.parse.quote_plus(s, safe="*").replace("~", "%7E")),
   "URL_ENCODE_PARAM(s)")
fn("URL_DECODE_PARAM", "URL", "Unescapes a URL query value.", overloads(sig(S, ret=S)),
   with_fallback(K.url_decode, lambda s: urllib.parse.unquote_plus(s)), "URL_DECODE_PARAM(s)")


# ---------------------------------------------------------------- dates and times


TS, DT, TM = T.TIMESTAMP, T.DATE, T.TIME
_UTC = _utc_tz.utc
UNIT_FUNCTIONS = ("DATEADD", "DATESUB", "TIMEADD", "TIMESUB", "TIMESTAMPADD", "TIMESTAMPSUB")
_UNIT_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}


def _unit_ms(unit: str) -> int:
    name = unit.upper()
    name = name[:-1] if name.endswith("S") else name
    if name not in _UNIT_MS:
        raise ValueError(f"Unknown time unit {unit}")
    return _UNIT_MS[name]


def _utc(moment):
    return moment.replace(tzinfo=_UTC) if moment.tzinfo is None else moment


def _naive_utc(moment):
    return moment.astimezone(_UTC).replace(tzinfo=None)


def _format_timestamp(ts, pattern, tz="UTC"):
    return javatime.format_datetime(_utc(ts).astimezone(javatime.zone(tz)), pattern)


def _parse_timestamp(text, pattern, tz="UTC"):
    return _naive_utc(javatime.parse_datetime(text, pattern, javatime.zone(tz)))


fn("FORMAT_TIMESTAMP", "DATE_TIME", "A TIMESTAMP as text, with a Java DateTimeFormatter pattern.",
   overloads(sig(TS, S, ret=S), sig(TS, S, S, ret=S)),
   with_fallback(K.format_timestamp("timestamp"), _format_timestamp),
   "FORMAT_TIMESTAMP(ts, pattern [, time_zone])")
fn("PARSE_TIMESTAMP", "DATE_TIME", "Text to a TIMESTAMP, with a Java DateTimeFormatter pattern.",
   overloads(sig(S, S, ret=TS), sig(S, S, S, ret=TS)),
   with_fallback(K.parse_timestamp("timestamp"), _parse_timestamp),
   "PARSE_TIMESTAMP(s, pattern [, time_zone])")
fn("FORMAT_DATE", "DATE_TIME", "A DATE as text.", overloads(sig(DT, S, ret=S)),
   with_fallback(K.format_timestamp("date"),
                 lambda d, p: javatime.format_datetime(_datetime(d.year, d.month, d.day, tzinfo=_UTC), p)),
   "FORMAT_DATE(date, pattern)")
fn("PARSE_DATE", "DATE_TIME", "Text to a DATE.", overloads(sig(S, S, ret=DT)),
   with_fallback(K.parse_timestamp("date"), lambda s, p: javatime.parse_datetime(s, p).date()),
   "PARSE_DATE(s, pattern)")
fn("FORMAT_TIME", "DATE_TIME", "A TIME as text.", overloads(sig(TM, S, ret=S)),
   with_fallback(K.format_timestamp("time"),
                 lambda t, p: javatime.format_datetime(_datetime.combine(_date(1970, 1, 1), t, tzinfo=_UTC), p)),
   "FORMAT_TIME(time, pattern)")
fn("PARSE_TIME", "DATE_TIME", "Text to a TIME.", overloads(sig(S, S, ret=TM)),
   with_fallback(K.parse_timestamp("time"), lambda s, p: javatime.parse_datetime(s, p).time()),
   "PARSE_TIME(s, pattern)")
fn("TIMESTAMPTOSTRING", "DATE_TIME", "Epoch milliseconds as text (deprecated: use FORMAT_TIMESTAMP).",
   overloads(sig(L, S, ret=S), sig(L, S, S, ret=S)),
   with_fallback(K.format_timestamp("millis"),
                 lambda ms, p, tz="UTC": javatime.format_datetime(javatime.from_millis(ms, javatime.zone(tz)), p)),
   "TIMESTAMPTOSTRING(millis, pattern [, time_zone])")
fn("STRINGTOTIMESTAMP", "DATE_TIME", "Text to epoch milliseconds (deprecated: use PARSE_TIMESTAMP).",
   overloads(sig(S, S, ret=L), sig(S, S, S, ret=L)),
   with_fallback(K.parse_timestamp("millis"),
                 lambda s, p, tz="UTC": javatime.to_millis(javatime.parse_datetime(s, p, javatime.zone(tz)))),
   "STRINGTOTIMESTAMP(s, pattern [, time_zone])")
fn("STRINGTODATE", "DATE_TIME", "Text to days since the epoch (deprecated: use PARSE_DATE).",
   overloads(sig(S, S, ret=I)),
   with_fallback(K.parse_timestamp("days"), lambda s, p: (javatime.parse_datetime(s, p).date() - _date(1970, 1, 1)).days),
   "STRINGTODATE(s, pattern)")
fn("DATETOSTRING", "DATE_TIME", "Days since the epoch as text (deprecated: use FORMAT_DATE).",
   overloads(sig(I, S, ret=S)),
   with_fallback(K.format_timestamp("days"),
                 lambda days, p: javatime.format_datetime(javatime.from_millis(days * 86_400_000), p)),
   "DATETOSTRING(days, pattern)")
fn("FROM_UNIXTIME", "DATE_TIME", "Epoch milliseconds to a TIMESTAMP.", overloads(sig(L, ret=TS)),
   lambda v, n: pc.cast(pc.cast(v[0], pa.int64()), pa.timestamp("ms")), "FROM_UNIXTIME(millis)")
fn("FROM_DAYS", "DATE_TIME", "Days since the epoch to a DATE.", overloads(sig(I, ret=DT)),
   lambda v, n: pc.cast(pc.cast(v[0], pa.int32()), pa.date32()), "FROM_DAYS(days)")


def _unix_timestamp(values, n):
    if not values:
        import time as _time

        return pa.scalar(int(_time.time() * 1000), pa.int64())
    return pc.cast(values[0], pa.int64())


fn("UNIX_TIMESTAMP", "DATE_TIME", "Epoch milliseconds of a TIMESTAMP, or of now.",
   overloads(sig(ret=L), sig(TS, ret=L)), _unix_timestamp, "UNIX_TIMESTAMP([ts])")


def _unix_date(values, n):
    if not values:
        return pa.scalar((_date.today() - _date(1970, 1, 1)).days, pa.int32())
    return pc.cast(values[0], pa.int32())


fn("UNIX_DATE", "DATE_TIME", "Days since the epoch of a DATE, or of today.",
   overloads(sig(ret=I), sig(DT, ret=I)), _unix_date, "UNIX_DATE([date])")
fn("CONVERT_TZ", "DATE_TIME", "A TIMESTAMP moved from one time zone to another.",
   overloads(sig(TS, S, S, ret=TS)),
   with_fallback(K.convert_tz, lambda ts, a, b: ts.replace(tzinfo=javatime.zone(a)).astimezone(
       javatime.zone(b)).replace(tzinfo=None)),
   "CONVERT_TZ(ts, from_zone, to_zone)")


def _add(kind, sign):
    def apply(unit, amount, value):
        delta = _timedelta(milliseconds=sign * amount * _unit_ms(unit))
        if kind == "DATE":
            if _unit_ms(unit) < 86_400_000:
                raise ValueError("DATEADD takes DAYS or larger")
            return value + _timedelta(days=delta.days)
        if kind == "TIME":
            moment = _datetime.combine(_date(1970, 1, 1), value) + delta
            return moment.time()
        return value + delta
    return apply


for _kind, _type, _names in [("DATE", DT, ("DATEADD", "DATESUB")), ("TIME", TM, ("TIMEADD", "TIMESUB")),
                             ("TIMESTAMP", TS, ("TIMESTAMPADD", "TIMESTAMPSUB"))]:
    for _name, _sign in zip(_names, (1, -1)):
        fn(_name, "DATE_TIME", f"{'Adds to' if _sign > 0 else 'Subtracts from'} a {_kind}: "
           f"({_name} unit, amount, value).",
           overloads(sig(S, I, _type, ret=_type), sig(S, L, _type, ret=_type)), with_fallback(K.add_interval(_kind, _sign), _add(_kind, _sign)),
           f"{_name}(unit, amount, {_kind.lower()})")
