"""Date and time functions: Java date patterns, time zones, date arithmetic, UNIX_* and the
conversions between DATE, TIME, TIMESTAMP and text."""
from __future__ import annotations

import functools
import re
from datetime import date as _date
from datetime import datetime as _datetime
from datetime import timedelta as _timedelta
from datetime import timezone as _utc_tz
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ksql.planner import javatime
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.library.common import (I, L, S, VARIES, _nulls, constant, fn, overloads, sig,
                                         with_fallback)


# ---------------------------------------------------------------- Java date patterns

_MONTHS = pa.array(javatime._MONTHS)
_MONTHS_SHORT = pa.array([m[:3] for m in javatime._MONTHS])
_DAYS = pa.array(javatime._DAYS)
_DAYS_SHORT = pa.array([d[:3] for d in javatime._DAYS])


@functools.lru_cache(maxsize=8)
def _numerals(width: int) -> pa.Array:
    """"0000".."9999" (or "0".."9999" for width 1): numbers become text by one take."""
    return pa.array([str(i).zfill(width) for i in range(10_000)])


def _padded(numbers, width: int):
    low, high = pc.min_max(numbers).values()
    if width <= 4 and (low.as_py() is None or (low.as_py() >= 0 and high.as_py() < 10_000)):
        return _numerals(width).take(numbers)
    text = pc.cast(numbers, pa.string())
    return pc.utf8_lpad(text, width=width, padding="0") if width > 1 else text


_STRFTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def strftime_format(pattern: str) -> tuple[str | None, bool]:
    """The C format for a Java pattern made of fixed-width numeric fields and literals, and
    whether it shows milliseconds (only as 'ss.SSS', which '%S' of a millisecond timestamp
    prints); (None, False) for any other pattern."""
    tokens = list(javatime.tokens(pattern))
    parts, millis, i = [], False, 0
    while i < len(tokens):
        token = tokens[i]
        if token == "ss" and tokens[i + 1:i + 3] == [".", "SSS"]:
            parts.append("%S")
            millis, i = True, i + 3
            continue
        if token in _STRFTIME:
            parts.append(_STRFTIME[token])
        elif token[0] == "'":
            parts.append((token[1:-1].replace("''", "'") if len(token) > 2 else "'").replace("%", "%%"))
        elif not token[0].isalpha():
            parts.append(token.replace("%", "%%"))
        else:
            return None, False
        i += 1
    return "".join(parts), millis


def format_moments(moments, pattern: str):
    """Timestamps (already in the wanted zone) as text with a Java pattern; None for letters
    (zone names, offsets) the batch form does not handle."""
    pieces = []
    for token in javatime.tokens(pattern):
        letter, width = token[0], len(token)
        if letter == "'":
            pieces.append(token[1:-1].replace("''", "'") if width > 2 else "'")
        elif not letter.isalpha():
            pieces.append(token)
        elif letter in "yu":
            year = pc.year(moments)
            pieces.append(_padded(pc.subtract(year, pc.multiply(pc.divide(year, 100), 100)), 2) if width == 2
                          else _padded(year, width))
        elif letter in "ML":
            month = pc.subtract(pc.month(moments), 1)
            pieces.append(_MONTHS.take(month) if width >= 4 else _MONTHS_SHORT.take(month) if width == 3
                          else _padded(pc.add(month, 1), width))
        elif letter == "d":
            pieces.append(_padded(pc.day(moments), width))
        elif letter == "D":
            pieces.append(_padded(pc.day_of_year(moments), width))
        elif letter == "E":
            pieces.append((_DAYS if width >= 4 else _DAYS_SHORT).take(pc.day_of_week(moments)))
        elif letter == "H":
            pieces.append(_padded(pc.hour(moments), width))
        elif letter in "hk":
            hour = pc.hour(moments)
            hour = pc.if_else(pc.equal(hour, 0), 24, hour) if letter == "k" else \
                pc.add(pc.subtract(pc.add(hour, 11), pc.multiply(pc.divide(pc.add(hour, 11), 12), 12)), 1)
            pieces.append(_padded(hour, width))
        elif letter == "m":
            pieces.append(_padded(pc.minute(moments), width))
        elif letter == "s":
            pieces.append(_padded(pc.second(moments), width))
        elif letter == "S":
            millis = _padded(pc.millisecond(moments), 3)
            pieces.append(pc.utf8_slice_codeunits(millis, 0, width) if width <= 3
                          else pc.binary_join_element_wise(millis, "0" * (width - 3), ""))
        elif letter == "a":
            pieces.append(pc.if_else(pc.less(pc.hour(moments), 12), "AM", "PM"))
        else:
            return None
    if not pieces:
        pieces = [""]
    arrays = [p if not isinstance(p, str) else pa.scalar(p) for p in pieces]
    if all(isinstance(p, pa.Scalar) for p in arrays):
        text = "".join(pieces)
        return pc.if_else(pc.is_valid(moments), text, pa.scalar(None, pa.string()))
    return pc.binary_join_element_wise(*arrays, "")


_UTC_NAMES = ("UTC", "Z", "GMT")


def _named_zone(zone_name: str) -> bool:
    """Whether Arrow can take the zone as it is (a region ID such as 'Europe/London').
    Offsets like '+05:00' and unknown IDs are left to the row form, which knows Java's rules."""
    if not re.fullmatch(r"[A-Za-z_]+(?:/[A-Za-z_+-]+)*", zone_name) or zone_name in javatime.SHORT_IDS:
        return False
    try:
        javatime.zone(zone_name)
    except ValueError:
        return False
    return True


# Arrow's time zone rules stop at 2037 (as 32-bit tz files do); Java's go on. Moments
# outside these years are converted row by row.
_ZONE_RULES_FROM, _ZONE_RULES_TO = -2_208_988_800_000, 2_145_916_800_000


def _outside_zone_rules(millis):
    return pc.or_(pc.less(millis, _ZONE_RULES_FROM), pc.greater_equal(millis, _ZONE_RULES_TO))


def _in_zone(millis, zone_name):
    """Epoch milliseconds as timestamps whose fields read as wall time in the zone, or None."""
    moments = pc.cast(pc.cast(millis, pa.int64()), pa.timestamp("ms"))
    if zone_name in _UTC_NAMES:
        return moments
    if not _named_zone(zone_name):
        return None
    return pc.cast(moments, pa.timestamp("ms", tz=zone_name))


def format_timestamp(kind: str):
    """FORMAT_TIMESTAMP / TIMESTAMPTOSTRING / FORMAT_DATE / DATETOSTRING / FORMAT_TIME."""
    def kernel(values, n):
        pattern = constant(values[1])
        zone_name = constant(values[2]) if len(values) > 2 else "UTC"
        if pattern is VARIES or zone_name is VARIES or zone_name is None:
            return None
        if pattern is None:
            return _nulls(n)
        value = broadcast(values[0], n)
        if kind == "date":
            millis = pc.multiply(pc.cast(pc.cast(value, pa.date32()), pa.int64()), 86_400_000)
        elif kind == "days":
            millis = pc.multiply(pc.cast(value, pa.int64()), 86_400_000)
        elif kind == "time":
            millis = pc.cast(pc.cast(value, pa.time32("ms")), pa.int32())
        else:
            millis = pc.cast(value, pa.int64())
        if zone_name not in _UTC_NAMES and not _named_zone(zone_name):
            return None
        moments = _in_zone(millis, zone_name)
        text = format_moments(moments, pattern)
        if text is None or zone_name in _UTC_NAMES:
            return text
        return text, _outside_zone_rules(millis)
    return kernel


def _parse_regex(pattern: str):
    """The RE2 pattern for a Java date pattern with numeric fields only, and its fields."""
    parts, fields = ["(?i)^"], []
    for token in javatime.tokens(pattern):
        letter, width = token[0], len(token)
        if letter == "'" or not letter.isalpha():
            text = (token[1:-1].replace("''", "'") if width > 2 else "'") if letter == "'" else token
            parts.append("".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text))
            continue
        name = f"f{len(fields)}"
        if letter in "yu" and width != 2:
            parts.append(f"(?P<{name}>[+-]?\\d{{{width},9}})")
        elif letter == "S":
            parts.append(f"(?P<{name}>\\d{{1,{max(width, 9)}}})")
        elif letter == "a":
            parts.append(f"(?P<{name}>[AaPp][Mm])")
        elif letter in "yuMLdHkhms":
            parts.append(f"(?P<{name}>\\d{{1,{max(width, 2)}}})" if width == 1 else f"(?P<{name}>\\d{{{width}}})")
        else:
            return None, None
        fields.append((letter, width))
    parts.append("$")
    return "".join(parts), fields


def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of proleptic Gregorian dates (numpy int64 arrays)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_millis(values, n):
    """Text and a constant Java pattern (and zone) -> (epoch millis array, rows to redo)."""
    pattern = constant(values[1])
    zone_name = constant(values[2]) if len(values) > 2 else "UTC"
    if pattern is VARIES or zone_name is VARIES or pattern is None or zone_name is None:
        return None
    if zone_name not in _UTC_NAMES and not _named_zone(zone_name):
        return None
    text = pc.utf8_trim_whitespace(broadcast(values[0], n))
    fmt, with_millis = strftime_format(pattern)
    if fmt is not None and not with_millis and all(f in fmt for f in ("%Y", "%m", "%d")):
        result, redo = _strptime(text, pattern, fmt)  # (C's default date, 1900-01-01, is not Java's)
    else:
        out = _parse_fields(text, pattern, n)
        if out is None:
            return None
        result, redo = out
    if zone_name not in _UTC_NAMES:  # the fields were wall time in the zone
        local = pc.cast(result, pa.timestamp("ms"))
        result = pc.cast(pc.assume_timezone(local, timezone=zone_name, ambiguous="earliest",
                                            nonexistent="latest"), pa.int64())
        # wall times in a daylight-saving gap: Java moves them on by the gap; the row form does too
        back = pc.local_timestamp(pc.cast(pc.cast(result, pa.timestamp("ms")), pa.timestamp("ms", tz=zone_name)))
        moved = pc.not_equal(back, local)
        redo = redo | pc.fill_null(pc.or_(moved, _outside_zone_rules(result)), False).to_numpy(zero_copy_only=False)
    return result, pa.array(redo)


def _strptime(text, pattern: str, fmt: str):
    """Parse with a C format. C's parser is lenient where Java's is strict (one-digit months,
    30 February rolled into March): rows that do not have exactly the pattern's shape, or whose
    day came out different from the text's, are redone row by row."""
    parsed = pc.strptime(text, format=fmt, unit="ms", error_is_null=True)
    regex, _ = _parse_regex(pattern)
    shaped = pc.match_substring_regex(text, regex)
    tokens = javatime.tokens(pattern)
    start = sum(len((t if t[0] != "'" else t[1:-1].replace("''", "'") or "'").encode())
                for t in tokens[:tokens.index("dd")])  # every field before the day has a fixed width
    digits = pc.binary_slice(pc.cast(text, pa.binary()), start, start + 2)
    day = pc.cast(pc.cast(pc.if_else(shaped, digits, pa.scalar(None, pa.binary())), pa.string()), pa.int64())
    exact = pc.and_(shaped, pc.equal(pc.day(parsed), day))
    redo = pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(exact, False))).to_numpy(zero_copy_only=False)
    return pc.cast(parsed, pa.int64()), redo


def _parse_fields(text, pattern: str, n: int):
    """Parse by one regular expression that captures every numeric field; None for patterns
    with names (months, days, zones)."""
    regex, fields = _parse_regex(pattern)
    if regex is None:
        return None
    matched = pc.extract_regex(text, pattern=regex) if fields else None
    numbers = {"y": 1970, "M": 1, "d": 1, "H": 0, "h": None, "m": 0, "s": 0, "S": 0}
    pm = None
    for i, (letter, width) in enumerate(fields):
        column = pc.struct_field(matched, [i])
        if letter == "a":
            pm = pc.equal(pc.utf8_upper(column), "PM").to_numpy(zero_copy_only=False)
            continue
        value = pc.fill_null(pc.cast(pc.if_else(pc.equal(column, ""), "0", column), pa.int64()), 0)
        value = value.to_numpy(zero_copy_only=False)
        if letter in "yu":
            numbers["y"] = value + (2000 if width == 2 else 0)
        elif letter in "ML":
            numbers["M"] = value
        elif letter == "S":
            digits = pc.fill_null(pc.utf8_length(column), 3).to_numpy(zero_copy_only=False)
            numbers["S"] = (value * 1000 // np.power(10, np.minimum(digits, 18).astype(np.int64))).astype(np.int64)
        elif letter in "Hk":
            numbers["H"] = value % 24
        elif letter == "h":
            numbers["H"] = value % 12
        else:
            numbers[letter] = value
    y, mo, d = (np.broadcast_to(np.asarray(numbers[k], dtype=np.int64), (n,)) for k in "yMd")
    h, mi, s, ms = (np.broadcast_to(np.asarray(numbers[k], dtype=np.int64), (n,)) for k in "HmsS")
    if pm is not None:
        h = h + np.where(pm, 12, 0)
    days_in_month = np.array([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(mo, 1, 12) - 1]
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    days_in_month = np.where((mo == 2) & ~leap, 28, days_in_month)
    bad = (mo < 1) | (mo > 12) | (d < 1) | (d > days_in_month) | (h > 23) | (mi > 59) | (s > 59)
    millis = (_days_from_civil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + ms)
    unmatched = pc.invert(pc.fill_null(pc.match_substring_regex(text, regex), True)).to_numpy(
        zero_copy_only=False)
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    redo = present & (unmatched | bad)
    return pa.array(millis, pa.int64(), mask=~present | redo), redo


def parse_timestamp(kind: str):
    """PARSE_TIMESTAMP / STRINGTOTIMESTAMP / PARSE_DATE / STRINGTODATE / PARSE_TIME."""
    def kernel(values, n):
        out = parse_millis(values, n)
        if out is None:
            return None
        millis, redo = out
        if kind == "timestamp":
            return pc.cast(millis, pa.timestamp("ms")), redo
        if kind == "millis":
            return millis, redo
        days = pc.cast(pc.divide(millis, 86_400_000), pa.int32())  # floor for dates after 1970
        if kind == "days":
            return days, redo
        if kind == "date":
            return pc.cast(days, pa.date32()), redo
        return pc.cast(pc.cast(millis, pa.int32()), pa.time32("ms")), redo
    return kernel


# ---------------------------------------------------------------- date arithmetic, zones

_UNIT_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}


def add_interval(kind: str, sign: int):
    """DATEADD / TIMEADD / TIMESTAMPADD and their SUB twins, for a constant unit."""
    def kernel(values, n):
        unit = constant(values[0])
        if unit is VARIES or unit is None:
            return None
        name = unit.upper()[:-1] if unit.upper().endswith("S") else unit.upper()
        if name not in _UNIT_MS or (kind == "DATE" and _UNIT_MS[name] < 86_400_000):
            return None  # the row form raises the error for each row
        amount = pc.multiply(pc.cast(broadcast(values[1], n), pa.int64()), sign * _UNIT_MS[name])
        value = broadcast(values[2], n)
        if kind == "DATE":
            days = pc.add(pc.cast(pc.cast(value, pa.date32()), pa.int64()), pc.divide(amount, 86_400_000))
            return pc.cast(pc.cast(days, pa.int32()), pa.date32())
        if kind == "TIME":
            millis = pc.add(pc.cast(pc.cast(value, pa.time32("ms")), pa.int64()), amount)
            day = 86_400_000
            wrapped = pc.subtract(millis, pc.multiply(pc.floor(pc.divide(pc.cast(millis, pa.float64()), day)), day))
            return pc.cast(pc.cast(pc.cast(wrapped, pa.int64()), pa.int32()), pa.time32("ms"))
        millis = pc.add(pc.cast(value, pa.int64()), amount)
        return pc.cast(millis, pa.timestamp("ms"))
    return kernel


def convert_tz(values, n):
    source, target = constant(values[1]), constant(values[2])
    if VARIES in (source, target) or source is None or target is None:
        return None
    if not all(z in _UTC_NAMES or _named_zone(z) for z in (source, target)):
        return None
    moments = pc.cast(broadcast(values[0], n), pa.timestamp("ms"))
    instant = moments if source in _UTC_NAMES else pc.assume_timezone(
        moments, timezone=source, ambiguous="earliest", nonexistent="latest")
    wall = pc.cast(instant, pa.timestamp("ms")) if target in _UTC_NAMES else \
        pc.local_timestamp(pc.cast(instant, pa.timestamp("ms", tz=target)))
    millis = pc.cast(moments, pa.int64())
    return pc.cast(wall, pa.timestamp("ms")), _outside_zone_rules(millis)


# ---------------------------------------------------------------- dates and times


TS, DT, TM = T.TIMESTAMP, T.DATE, T.TIME
_UTC = _utc_tz.utc
UNIT_FUNCTIONS = ("DATEADD", "DATESUB", "TIMEADD", "TIMESUB", "TIMESTAMPADD", "TIMESTAMPSUB")


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
   with_fallback(format_timestamp("timestamp"), _format_timestamp),
   "FORMAT_TIMESTAMP(ts, pattern [, time_zone])")
fn("PARSE_TIMESTAMP", "DATE_TIME", "Text to a TIMESTAMP, with a Java DateTimeFormatter pattern.",
   overloads(sig(S, S, ret=TS), sig(S, S, S, ret=TS)),
   with_fallback(parse_timestamp("timestamp"), _parse_timestamp),
   "PARSE_TIMESTAMP(s, pattern [, time_zone])")
fn("FORMAT_DATE", "DATE_TIME", "A DATE as text.", overloads(sig(DT, S, ret=S)),
   with_fallback(format_timestamp("date"),
                 lambda d, p: javatime.format_datetime(_datetime(d.year, d.month, d.day, tzinfo=_UTC), p)),
   "FORMAT_DATE(date, pattern)")
fn("PARSE_DATE", "DATE_TIME", "Text to a DATE.", overloads(sig(S, S, ret=DT)),
   with_fallback(parse_timestamp("date"), lambda s, p: javatime.parse_datetime(s, p, whole=False).date()),
   "PARSE_DATE(s, pattern)")
fn("FORMAT_TIME", "DATE_TIME", "A TIME as text.", overloads(sig(TM, S, ret=S)),
   with_fallback(format_timestamp("time"),
                 lambda t, p: javatime.format_datetime(_datetime.combine(_date(1970, 1, 1), t, tzinfo=_UTC), p)),
   "FORMAT_TIME(time, pattern)")
fn("PARSE_TIME", "DATE_TIME", "Text to a TIME.", overloads(sig(S, S, ret=TM)),
   with_fallback(parse_timestamp("time"), lambda s, p: javatime.parse_datetime(s, p).time()),
   "PARSE_TIME(s, pattern)")
fn("TIMESTAMPTOSTRING", "DATE_TIME", "Epoch milliseconds as text (deprecated: use FORMAT_TIMESTAMP).",
   overloads(sig(L, S, ret=S), sig(L, S, S, ret=S)),
   with_fallback(format_timestamp("millis"),
                 lambda ms, p, tz="UTC": javatime.format_datetime(javatime.from_millis(ms, javatime.zone(tz)), p)),
   "TIMESTAMPTOSTRING(millis, pattern [, time_zone])")
fn("STRINGTOTIMESTAMP", "DATE_TIME", "Text to epoch milliseconds (deprecated: use PARSE_TIMESTAMP).",
   overloads(sig(S, S, ret=L), sig(S, S, S, ret=L)),
   with_fallback(parse_timestamp("millis"),
                 lambda s, p, tz="UTC": javatime.to_millis(javatime.parse_datetime(s, p, javatime.zone(tz)))),
   "STRINGTOTIMESTAMP(s, pattern [, time_zone])")
fn("STRINGTODATE", "DATE_TIME", "Text to days since the epoch (deprecated: use PARSE_DATE).",
   overloads(sig(S, S, ret=I)),
   with_fallback(parse_timestamp("days"), lambda s, p: (javatime.parse_datetime(s, p).date() - _date(1970, 1, 1)).days),
   "STRINGTODATE(s, pattern)")
fn("DATETOSTRING", "DATE_TIME", "Days since the epoch as text (deprecated: use FORMAT_DATE).",
   overloads(sig(I, S, ret=S)),
   with_fallback(format_timestamp("days"),
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
   with_fallback(convert_tz, lambda ts, a, b: ts.replace(tzinfo=javatime.zone(a)).astimezone(
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
           overloads(sig(S, I, _type, ret=_type), sig(S, L, _type, ret=_type)), with_fallback(add_interval(_kind, _sign), _add(_kind, _sign)),
           f"{_name}(unit, amount, {_kind.lower()})")
