"""Numeric functions: ABS, ROUND, the trigonometry, RANDOM, GEO_DISTANCE, ..."""
from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.functions import BadArguments, rows
from ksql.planner.library.common import D, I, L, NUM, S, fn, overloads, sig, with_fallback


# ---------------------------------------------------------------- geo

def geo_distance(values, n):
    """Haversine distance in KM, or in miles when the unit says so (a NULL unit means KM)."""
    lat1, lon1, lat2, lon2 = [broadcast(v, n).cast(pa.float64()).to_numpy(zero_copy_only=False)
                              for v in values[:4]]
    unit = pc.utf8_upper(broadcast(values[4], n, pa.string())) if len(values) > 4 else pa.nulls(n, pa.string())
    miles = pc.is_in(unit, pa.array(["MI", "MILES"])).to_numpy(zero_copy_only=False)
    known = pc.or_(pc.is_null(unit), pc.is_in(unit, pa.array(["MI", "MILES", "KM", "KILOMETERS"])))
    radius = np.where(miles, 3959.0, 6371.0)
    d_lat, d_lon = np.radians(lat2 - lat1), np.radians(lon2 - lon1)
    a = np.sin(d_lat / 2) ** 2 + np.cos(np.radians(lat1)) * np.cos(np.radians(lat2)) * np.sin(d_lon / 2) ** 2
    with np.errstate(invalid="ignore"):
        distance = 2 * radius * np.arcsin(np.sqrt(a))
    missing = pc.invert(known)
    for v in values[:4]:
        missing = pc.or_(missing, pc.is_null(broadcast(v, n)))
    return pa.array(distance, pa.float64(), mask=missing.to_numpy(zero_copy_only=False))


def generate_series(values, n):
    start, end = (pc.fill_null(pc.cast(broadcast(v, n), pa.int64()), 0).to_numpy(zero_copy_only=False)
                  for v in values[:2])
    nulls = pc.or_(pc.is_null(broadcast(values[0], n)), pc.is_null(broadcast(values[1], n)))
    if len(values) > 2:
        step_array = broadcast(values[2], n)
        nulls = pc.or_(nulls, pc.is_null(step_array))
        step = pc.fill_null(pc.cast(step_array, pa.int64()), 1).to_numpy(zero_copy_only=False)
    else:
        step = np.where(end >= start, 1, -1)
    nulls = nulls.to_numpy(zero_copy_only=False)
    if np.any((step == 0) & ~nulls):
        return None  # the row form reports a zero step
    safe_step = np.where(step == 0, 1, step)
    counts = np.where(nulls, 0, np.maximum((end - start) // safe_step + 1, 0))
    if counts.sum() > 50_000_000:
        return None
    rows = np.repeat(np.arange(n), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    numbers = start[rows] + (np.arange(counts.sum()) - first) * safe_step[rows]
    element = broadcast(values[0], n).type
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(numbers, element), mask=pa.array(nulls))


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
            return T.decimal(max(t.precision - t.scale, 1), 0)  # as ksqlDB types it
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
            rounded = _round_exact(x, d, mode, len(values) == 1)
            if isinstance(x, float):
                out.append(float(rounded) if len(values) > 1 else int(rounded))
            elif isinstance(x, int):
                out.append(int(rounded))
            else:
                out.append(rounded if len(values) > 1 else rounded.quantize(Decimal(1), rounding=mode))
        return out
    return evaluate


def _round_exact(x, d: int, mode, to_integer: bool) -> Decimal:
    """One value rounded as ksqlDB does, in decimal arithmetic: a DOUBLE with places as the
    decimal its shortest text shows (Java's BigDecimal.valueOf), one without as its exact binary
    value (Math.round); rounding half way goes toward positive infinity, whatever the sign."""
    if isinstance(x, float):
        exact = Decimal(x) if to_integer else Decimal(repr(x))
    else:
        exact = Decimal(x)
    if mode == ROUND_HALF_UP:
        rounded = (exact.scaleb(d) + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR).scaleb(-d)
    else:
        rounded = exact.quantize(Decimal(1).scaleb(-d), rounding=mode) if d >= 0 else \
            (exact.scaleb(d).quantize(Decimal(1), rounding=mode)).scaleb(-d)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # Java's decimals have no -0


def _round_doubles(value, digits: int, mode, to_integer: bool):
    """Doubles rounded (half toward +infinity, as Java's Math.round) or truncated, computed in
    floating point, then, where floating point may differ from ksqlDB's decimal arithmetic (a
    scaled value near a half, or near a whole number when truncating, or past 2**52), again one
    value at a time by _round_exact."""
    scale = 10.0 ** digits
    scaled = pc.multiply(value, scale)
    rounded = pc.floor(pc.add(scaled, 0.5)) if mode == ROUND_HALF_UP else pc.trunc(scaled)
    result = pc.divide(rounded, scale)
    numbers = pc.fill_null(scaled, 0.0).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        fraction = numbers - np.floor(numbers)
        near = np.abs(fraction - 0.5) < 1e-6 if mode == ROUND_HALF_UP else (fraction < 1e-6) | (fraction > 1 - 1e-6)
        doubtful = near | ~np.isfinite(numbers) | (np.abs(numbers) >= 2.0 ** 52) | (digits < 0)
    doubtful &= np.isfinite(pc.fill_null(value, 0.0).to_numpy(zero_copy_only=False))
    doubtful_rows = np.flatnonzero(doubtful)
    if len(doubtful_rows):
        exact = [float(_round_exact(x, digits, mode, to_integer)) if x is not None else None
                 for x in value.take(pa.array(doubtful_rows)).to_pylist()]
        out = result.to_numpy(zero_copy_only=False).copy()
        out[doubtful_rows] = [np.nan if v is None else v for v in exact]
        result = pa.array(out, pa.float64(), mask=value.is_null().to_numpy(zero_copy_only=False))
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
            bases = {t.base for t in known}
            if len(bases) > 1 and "DOUBLE" not in bases:
                # ksqlDB has one overload per numeric type: INTEGER with BIGINT widens to the
                # BIGINT, DECIMAL and DOUBLE ones alike, and it refuses to choose
                raise BadArguments(f"Function '{name.lower()}' cannot be resolved due to ambiguous method "
                                   f"parameters ({', '.join(str(t) if t else 'null' for t in types)}).")
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
   with_fallback(geo_distance, lambda *a: None if None in a[:4] else _geo_distance(
       *[float(x) if not isinstance(x, (str, type(None))) else x for x in a]), null_on_null=False),
   "GEO_DISTANCE(lat1, lon1, lat2, lon2 [, unit])")
fn("GENERATE_SERIES", "ARRAY", "An array of numbers from start to end, by step.",
   overloads(sig(I, I, ret=T.array(I)), sig(L, L, ret=T.array(L)), sig(I, I, I, ret=T.array(I)),
             sig(L, L, I, ret=T.array(L))),
   with_fallback(generate_series, lambda a, b, step=None: list(range(
       a, b + (1 if (step or (1 if b >= a else -1)) > 0 else -1), step or (1 if b >= a else -1)))),
   "GENERATE_SERIES(start, end [, step])")
