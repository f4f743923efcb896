"""Batch kernels for the functions Arrow has no single kernel for: string padding and
masking, regular expressions with Java syntax, URLs, Java date patterns, JSON, geo distance.

Each kernel takes (argument arrays or scalars, batch length) and returns one of:
- the result array (every row computed with Arrow kernels, or by DuckDB over the batch);
- (result, redo): a boolean mask of the unusual rows (a URL with escapes, a date that does
  not match its pattern) that the function's row-level definition recomputes;
- None: the arguments are outside what the kernel handles (a pattern that varies per row, a
  Java regex feature RE2 lacks); the row-level definition computes the whole batch.
`with_fallback` turns a kernel and a row-level definition into a function's evaluate.
"""
from __future__ import annotations

import functools
import re
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner import javatime
from ksql.planner.compiled import broadcast
from ksql.planner.functions import per_row

VARIES = object()  # an argument that is not one constant for the whole batch


def constant(value):
    """The Python value of a constant argument, or VARIES."""
    return value.as_py() if isinstance(value, pa.Scalar) else VARIES


def with_fallback(kernel, reference, null_on_null: bool = True):
    """An evaluate function: the kernel over the batch; the row-level reference for the rows
    (or batches) the kernel leaves to it."""
    slow = per_row(reference, null_on_null)

    def evaluate(values, n):
        try:
            out = kernel(values, n)
        except (pa.ArrowException, _DuckError):
            out = None  # a pattern RE2 rejects, a path DuckDB rejects: Python's rules decide
        if out is None:
            return slow(values, n)
        if not isinstance(out, tuple):
            return out
        result, redo = out
        redo = pc.fill_null(redo, False)
        if not pc.any(redo).as_py():
            return result
        picked = pc.indices_nonzero(redo)
        subset = [v if isinstance(v, pa.Scalar) else v.take(picked) for v in values]
        again = pa.array(slow(subset, len(picked)), result.type)
        # rows from the kernel's result, except the redone ones from `again` (any type, nested too)
        positions = np.arange(n)
        positions[picked.to_numpy()] = n + np.arange(len(picked))
        return pa.concat_arrays([broadcast(result, n), again]).take(pa.array(positions))
    evaluate.reference = slow  # the row form, which tests hold the kernel to
    return evaluate


def _nulls(n, arrow_type=pa.string()):
    return pa.nulls(n, arrow_type)


# ---------------------------------------------------------------- strings

def replace(values, n):
    s, old, new = values[0], constant(values[1]), constant(values[2])
    if old is VARIES or new is VARIES or old == "":
        return None
    if old is None or new is None:
        return _nulls(n)
    return pc.replace_substring(s, pattern=old, replacement=new)


def instr(values, n):
    if len(values) != 2 or constant(values[1]) is VARIES:
        return None
    s, sub = broadcast(values[0], n), constant(values[1])
    if sub is None:
        return _nulls(n, pa.int32())
    found = pc.add(pc.find_substring(s, sub), 1)  # byte offsets: right for ASCII rows only
    return found, pc.invert(pc.string_is_ascii(s))


def pad(left: bool):
    def kernel(values, n):
        length, filler = constant(values[1]), constant(values[2])
        if length is VARIES or filler is VARIES or isinstance(filler, bytes) or (length or 0) > 4096:
            return None
        if length is None or filler is None or length < 0:
            return _nulls(n)
        s = broadcast(values[0], n)
        cut = pc.utf8_slice_codeunits(s, 0, length)
        if not filler:  # nothing to pad with: only strings already long enough have a result
            return pc.if_else(pc.less(pc.utf8_length(s), length), pa.scalar(None, pa.string()), cut)
        full = (filler * (length // len(filler) + 1))[:length]
        prefixes = pa.array([full[:k] for k in range(length + 1)])
        fill = prefixes.take(pc.subtract(length, pc.utf8_length(cut)))
        return pc.binary_join_element_wise(fill, cut, "") if left else pc.binary_join_element_wise(cut, fill, "")
    return kernel


def concat_ws(values, n):
    sep = constant(values[0])
    if sep is VARIES or isinstance(sep, bytes):
        return None
    if sep is None:
        return _nulls(n)
    pieces = [pc.fill_null(pc.binary_join_element_wise(sep, broadcast(v, n), ""), "") for v in values[1:]]
    joined = pc.binary_join_element_wise(*pieces, "") if pieces else pa.array([""] * n)
    return pc.utf8_slice_codeunits(joined, len(sep))  # drop the separator before the first part


def split(values, n):
    delimiter = constant(values[1])
    if delimiter is VARIES or not delimiter:
        return None
    return pc.split_pattern(values[0], pattern=delimiter)


def initcap(values, n):
    """Words split at single spaces, each capitalized; strings with other whitespace go row by row."""
    s = broadcast(values[0], n)
    words = pc.split_pattern(s, pattern=" ")
    flat = pc.utf8_capitalize(pc.list_flatten(words))
    rebuilt = pa.ListArray.from_arrays(words.offsets, flat, mask=words.is_null())
    return pc.binary_join(rebuilt, " "), pc.match_substring_regex(s, r"[^\S ]")


_CLASSES = [r"\p{Lu}", r"\p{Ll}", r"\p{Nd}"]
_PLACEHOLDERS = ["\ue000", "\ue001", "\ue002", "\ue003"]


def _mask(s, chars):
    """Replace upper, lower, digit and other characters; a NULL mask character keeps them.
    Placeholders first, so a mask character is never itself masked again."""
    if any(isinstance(c, str) and len(c) != 1 for c in chars if c is not None):
        return None
    for cls, mark, char in zip(_CLASSES, _PLACEHOLDERS, chars):
        if char is not None:
            s = pc.replace_substring_regex(s, pattern=cls, replacement=mark)
    if chars[3] is not None:
        s = pc.replace_substring_regex(s, pattern=r"[^\p{Lu}\p{Ll}\p{Nd}\x{e000}-\x{e002}]",
                                       replacement=_PLACEHOLDERS[3])
    for mark, char in zip(_PLACEHOLDERS, chars):
        if char is not None:
            s = pc.replace_substring(s, pattern=mark, replacement=char)
    return s


def mask(kind: str):
    defaults = ("X", "x", "n", "-")

    def kernel(values, n):
        args = [constant(v) for v in values[1:]]
        if VARIES in args:
            return None
        s = broadcast(values[0], n)
        if kind == "ALL":
            return _mask(s, tuple(args) + defaults[len(args):])
        count, chars = args[0], tuple(args[1:]) + defaults[len(args) - 1:]
        if count is None or count < 0:
            return None
        length = pc.utf8_length(s)
        if kind in ("LEFT", "KEEP_LEFT"):
            head, tail = pc.utf8_slice_codeunits(s, 0, count), pc.utf8_slice_codeunits(s, count)
            masked = _mask(head if kind == "LEFT" else tail, chars)
            if masked is None:
                return None
            return pc.binary_join_element_wise(*((masked, tail) if kind == "LEFT" else (head, masked)), "")
        # RIGHT / KEEP_RIGHT: the split point depends on each string's length
        if len(set(length.to_pylist())) > 1:
            return None
        point = max((length[0].as_py() or 0) - count, 0) if n else 0
        head, tail = pc.utf8_slice_codeunits(s, 0, point), pc.utf8_slice_codeunits(s, point)
        masked = _mask(tail if kind == "RIGHT" else head, chars)
        if masked is None:
            return None
        return pc.binary_join_element_wise(*((head, masked) if kind == "RIGHT" else (masked, tail)), "")
    return kernel


# ---------------------------------------------------------------- regular expressions (RE2)

def re2_pattern(pattern: str) -> str:
    """Java's named groups in RE2's spelling; other Java features RE2 lacks make Arrow raise."""
    return re.sub(r"\(\?<(?![=!])", "(?P<", pattern)


def _capture_starts(pattern: str) -> list[int]:
    """Where each capturing group's '(' is, in order."""
    starts, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and (not pattern.startswith("(?", i) or pattern.startswith("(?P<", i)):
            starts.append(i)
        i += 1
    return starts


def _one_group(pattern: str, group: int) -> str | None:
    """The pattern with its capturing group number `group` (0: the whole match) as the only
    group, named g: Arrow's extract_regex wants named groups only. None: no such group."""
    starts = _capture_starts(pattern)
    if group > len(starts):
        return None
    out, last = [], 0
    for number, at in enumerate(starts, 1):
        opening = pattern.index(">", at) + 1 if pattern.startswith("(?P<", at) else at + 1
        out += [pattern[last:at], "(?P<g>" if number == group else "(?:"]
        last = opening
    out.append(pattern[last:])
    rewritten = "".join(out)
    return f"(?P<g>{rewritten})" if group == 0 else rewritten


def regexp_extract(values, n):
    pattern = constant(values[0])
    group = constant(values[2]) if len(values) > 2 else 0
    if pattern is VARIES or group is VARIES:
        return None
    if pattern is None or group is None:
        return _nulls(n)
    if group < 0:
        return None
    named = _one_group(re2_pattern(pattern), group)
    if named is None:
        return None
    return pc.struct_field(pc.extract_regex(values[1], pattern=named), [0])


def _re2_replacement(text: str) -> str:
    """Java's replacement syntax ($1 a group, \\x a literal x) in RE2's (\\1 a group)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append("\\\\" if text[i + 1] == "\\" else text[i + 1])
            i += 2
            continue
        if c == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            out.append("\\" + text[i + 1])
            i += 2
            continue
        out.append("\\\\" if c == "\\" else c)
        i += 1
    return "".join(out)


def regexp_replace(values, n):
    pattern, replacement = constant(values[1]), constant(values[2])
    if pattern is VARIES or replacement is VARIES:
        return None
    if pattern is None or replacement is None:
        return _nulls(n)
    return pc.replace_substring_regex(values[0], pattern=re2_pattern(pattern),
                                      replacement=_re2_replacement(replacement))


def regexp_split(values, n):
    pattern = constant(values[1])
    if pattern is VARIES or not pattern:
        return None
    return pc.split_pattern_regex(values[0], pattern=re2_pattern(pattern))


def regexp_extract_all(values, n):
    pattern = constant(values[0])
    group = constant(values[2]) if len(values) > 2 else 0
    if pattern is VARIES or group is VARIES or pattern is None or group is None:
        return None
    return duck(f"regexp_extract_all(a1, {_sql_text(re2_pattern(pattern))}, {int(group)})",
                values[1:2], n, pa.list_(pa.string()))


# ---------------------------------------------------------------- DuckDB over a batch

_local = threading.local()


class _DuckError(Exception):
    pass


def duck(expression: str, values: list, n: int, arrow_type):
    """Evaluate one DuckDB expression over the arguments (named a1, a2, ...) of a batch."""
    return duck_many([(expression, arrow_type)], values, n)[0]


def duck_many(expressions: list, values: list, n: int) -> list:
    """Evaluate DuckDB expressions [(sql, arrow type)] over one batch in one query."""
    import duckdb

    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
    table = pa.table({f"a{i + 1}": broadcast(v, n) for i, v in enumerate(values)})
    select = ", ".join(f"{sql} AS r{i}" for i, (sql, _) in enumerate(expressions))
    try:
        con.register("batch", table)
        result = con.sql(f"SELECT {select} FROM batch").to_arrow_table()
    except duckdb.Error as error:
        raise _DuckError(str(error)) from error
    finally:
        con.unregister("batch")
    return [pc.cast(result.column(i).combine_chunks(), arrow_type) for i, (_, arrow_type) in enumerate(expressions)]


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def md5(values, n):
    return duck("md5(a1)", values, n, pa.string())


# ---------------------------------------------------------------- JSON (DuckDB's JSON extension)

_VALID = "CASE WHEN json_valid(a1) THEN a1 END"


def _duck_json_path(path: str) -> str | None:
    """A JSONPath as ksqlDB takes it ($.a.b[0], $['a']) in DuckDB's spelling, if it can."""
    if not path.startswith("$") or re.search(r"[*?@]|\.\.", path):
        return None
    parts, consumed = [], 0
    for match in re.finditer(r"\.([^.\[\]]+)|\[['\"]([^'\"]+)['\"]\]|\[(\d+)\]", path[1:]):
        key, quoted, index = match.groups()
        parts.append(f"[{index}]" if index else '."' + (key or quoted).replace('"', '\\"') + '"')
        consumed += len(match.group())
    if consumed != len(path) - 1:
        return None  # negative indexes and other forms: the row form decides
    return "$" + "".join(parts)


def extract_json_field(values, n):
    path = constant(values[1])
    if path is VARIES:
        return None
    if path is None:
        return _nulls(n)
    duck_path = _duck_json_path(path)
    if duck_path is None:
        return None
    # a document with text after its first value goes row by row: Jackson reads the first value
    result, odd = duck_many([(f"json_extract_string({_VALID}, {_sql_text(duck_path)})", pa.string()),
                             ("NOT coalesce(json_valid(a1), true)", pa.bool_())], values[:1], n)
    return result, odd


def json_array_length(values, n):
    return duck(f"CASE WHEN json_type({_VALID}) = 'ARRAY' THEN json_array_length({_VALID}) END",
                values, n, pa.int32())


def json_keys(values, n):
    return duck(f"CASE WHEN json_type({_VALID}) = 'OBJECT' THEN json_keys({_VALID}) END",
                values, n, pa.list_(pa.string()))


def is_json_string(values, n):
    return duck("coalesce(json_valid(a1), false)", values, n, pa.bool_())


# ---------------------------------------------------------------- URLs

# URLs in the plain shape (scheme://host[:port][/path][?query][#fragment], no escapes) are
# taken apart by one regular expression; anything else goes row by row.
_PLAIN = r"[A-Za-z0-9._~!$&'()*,;=:@/-]"
_URL = (r"^(?P<protocol>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?"
        rf"(?P<path>/{_PLAIN}*)?(?:\?(?P<query>(?:{_PLAIN}|\?)*))?(?:#(?P<fragment>(?:{_PLAIN}|\?)*))?$")
_URL_FIELDS = ["protocol", "host", "port", "path", "query", "fragment"]


def url_part(part: str):
    def kernel(values, n):
        s = broadcast(values[0], n)
        parts = pc.extract_regex(s, pattern=_URL)
        unusual = pc.and_(pc.is_valid(s), pc.is_null(parts))
        value = pc.struct_field(parts, [_URL_FIELDS.index(part)])
        if part == "host":
            value = pc.utf8_lower(value)
        elif part == "port":
            value = pc.cast(pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value), pa.int32())
        elif part != "path":  # an empty protocol, query or fragment is NULL; an empty path ""
            value = pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value)
        return value, unusual
    return kernel


def url_parameter(values, n):
    name = constant(values[1])
    if name is VARIES:
        return None
    if name is None:
        return _nulls(n)
    s = broadcast(values[0], n)
    query = pc.struct_field(pc.extract_regex(s, pattern=_URL), [_URL_FIELDS.index("query")])
    unusual = pc.or_(pc.and_(pc.is_valid(s), pc.is_null(query)), pc.match_substring_regex(s, r"[%+]"))
    escaped = "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in name)
    found = pc.extract_regex(query, pattern=rf"(?:^|&)(?P<name>{escaped})(?:=(?P<value>[^&]*))?(?:&|$)")
    return pc.struct_field(found, [1]), unusual


def url_encode(values, n):
    s = broadcast(values[0], n)
    plain = pc.match_substring_regex(s, r"^[A-Za-z0-9.*_ -]*$")
    return pc.replace_substring(s, pattern=" ", replacement="+"), pc.invert(plain)


def url_decode(values, n):
    s = broadcast(values[0], n)
    return pc.replace_substring(s, pattern="+", replacement=" "), pc.match_substring(s, "%")


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


# ---------------------------------------------------------------- arrays and maps

def _list_array(value, n):
    return broadcast(value, n)


def _rebuild(lists, counts, values):
    """A list array with `counts` elements per row taken in order from `values`; NULL where
    `lists` is NULL."""
    offsets = np.zeros(len(lists) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=lists.is_null())


def _elements(lists):
    """(row index of each element, the elements) of a list array."""
    return pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), pc.list_flatten(lists)


def _count_by_row(parents, n):
    return np.bincount(parents, minlength=n) if len(parents) else np.zeros(n, np.int64)


def _same(values, other):
    """Element-wise equality where NULL equals NULL (as Python's `in` and `==` see them)."""
    both_null = pc.and_(pc.is_null(values), pc.is_null(other))
    return pc.or_(pc.fill_null(pc.equal(values, other), False), both_null)


def array_contains(values, n):
    lists = _list_array(values[0], n)
    parents, items = _elements(lists)
    wanted = broadcast(values[1], n).take(pa.array(parents, pa.int64()))
    hits = parents[pc.fill_null(_same(items, wanted), False).to_numpy(zero_copy_only=False)]
    found = _count_by_row(hits, n) > 0
    return pa.array(found, pa.bool_(), mask=lists.is_null().to_numpy(zero_copy_only=False))


def array_remove(values, n):
    lists = _list_array(values[0], n)
    parents, items = _elements(lists)
    wanted = broadcast(values[1], n).take(pa.array(parents, pa.int64()))
    keep = pc.invert(_same(items, wanted)).to_numpy(zero_copy_only=False)
    return _rebuild(lists, _count_by_row(parents[keep], n), items.filter(pa.array(keep)))


def array_extreme(function: str):
    def kernel(values, n):
        lists = _list_array(values[0], n)
        parents, items = _elements(lists)
        table = pa.table({"p": pa.array(parents, pa.int64()), "v": items})
        grouped = table.group_by("p").aggregate([("v", function)])
        out = pa.nulls(n, items.type)
        if grouped.num_rows:
            mask = np.zeros(n, bool)
            mask[grouped.column("p").to_numpy()] = True
            order = pc.sort_indices(grouped, sort_keys=[("p", "ascending")])
            out = pc.replace_with_mask(out, pa.array(mask), grouped.column(1).take(order))
        return out
    return kernel


def array_sort(values, n):
    direction = constant(values[1]) if len(values) > 1 else "ASC"
    if direction is VARIES:
        return None
    if direction is None:
        return pa.nulls(n, broadcast(values[0], n).type)
    lists = _list_array(values[0], n)
    parents, items = _elements(lists)
    order = "descending" if direction.upper() == "DESC" else "ascending"
    table = pa.table({"p": pa.array(parents, pa.int64()), "v": items})
    sorted_at = pc.sort_indices(table, sort_keys=[("p", "ascending"), ("v", order)])  # NULLs sort last
    return _rebuild(lists, _count_by_row(parents, n), items.take(sorted_at))


def _distinct_elements(parents, items, n):
    """Each row's distinct elements in order of first appearance: (parents, items)."""
    table = pa.table({"p": pa.array(parents, pa.int64()), "v": items, "i": pa.array(np.arange(len(items)))})
    firsts = table.group_by(["p", "v"], use_threads=False).aggregate([("i", "min")]).column("i_min")
    kept = pc.sort_indices(firsts)
    positions = firsts.take(kept).combine_chunks() if isinstance(firsts, pa.ChunkedArray) else firsts.take(kept)
    return parents[positions.to_numpy()], items.take(positions)


def array_distinct(values, n):
    lists = _list_array(values[0], n)
    parents, items = _distinct_elements(*_elements(lists), n)
    return _rebuild(lists, _count_by_row(parents, n), items)


def _members(parents, items, other_parents, other_items, n):
    """Whether each (row, element) is among the other array's elements of the same row."""
    left = pa.table({"p": pa.array(parents, pa.int64()), "v": items, "i": pa.array(np.arange(len(items)))})
    right = pa.table({"p": pa.array(other_parents, pa.int64()), "v": other_items}).group_by(["p", "v"]).aggregate([])
    matched = left.join(right, keys=["p", "v"], join_type="left semi").column("i").to_numpy()
    member = np.zeros(len(items), bool)
    member[matched] = True
    # joins never match NULL keys; Python's `in` finds None in a list holding None
    rows_with_null = np.zeros(n, bool)
    rows_with_null[other_parents[pc.is_null(other_items).to_numpy(zero_copy_only=False)]] = True
    return member | (pc.is_null(items).to_numpy(zero_copy_only=False) & rows_with_null[parents])


def array_set(kind: str):
    """ARRAY_EXCEPT / ARRAY_INTERSECT / ARRAY_UNION: distinct elements, in order of first appearance."""
    def kernel(values, n):
        a, b = _list_array(values[0], n), _list_array(values[1], n)
        both = pc.or_(a.is_null(), b.is_null())
        a_parents, a_items = _elements(a)
        b_parents, b_items = _elements(b)
        if kind == "UNION":
            table = pa.table({"p": pa.array(np.concatenate([a_parents, b_parents]), pa.int64()),
                              "side": pa.array(np.r_[np.zeros(len(a_parents)), np.ones(len(b_parents))]),
                              "v": pa.concat_arrays([a_items, b_items.cast(a_items.type)])})
            order = pc.sort_indices(table, sort_keys=[("p", "ascending"), ("side", "ascending")])
            table = table.take(order)
            parents, items = _distinct_elements(table.column("p").to_numpy(), table.column("v").combine_chunks(), n)
        else:
            parents, items = _distinct_elements(a_parents, a_items, n)
            member = _members(parents, items, b_parents, b_items, n)
            keep = member if kind == "INTERSECT" else ~member
            parents, items = parents[keep], items.filter(pa.array(keep))
        rows_mask = both
        counts = _count_by_row(parents, n)
        offsets = np.zeros(n + 1, np.int32)
        np.cumsum(counts, out=offsets[1:])
        return pa.ListArray.from_arrays(pa.array(offsets), items, mask=rows_mask)
    return kernel


def array_concat(values, n):
    a, b = _list_array(values[0], n), _list_array(values[1], n)
    a_parents, a_items = _elements(a)
    b_parents, b_items = _elements(b)
    table = pa.table({"p": pa.array(np.concatenate([a_parents, b_parents]), pa.int64()),
                      "side": pa.array(np.r_[np.zeros(len(a_parents)), np.ones(len(b_parents))]),
                      "v": pa.concat_arrays([a_items, b_items.cast(a_items.type)])})
    order = pc.sort_indices(table, sort_keys=[("p", "ascending"), ("side", "ascending")])
    counts = _count_by_row(a_parents, n) + _count_by_row(b_parents, n)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    neither = pc.and_(a.is_null(), b.is_null())
    return pa.ListArray.from_arrays(pa.array(offsets), table.column("v").combine_chunks().take(order), mask=neither)


def slice_list(values, n):
    start, end = constant(values[1]), constant(values[2])
    if start is VARIES or end is VARIES:
        return None
    lists = _list_array(values[0], n)
    if start is None or end is None or start < 1 or end < start:
        return pa.nulls(n, lists.type)
    return pc.list_slice(lists, start - 1, end)


def map_part(part: str):
    def kernel(values, n):
        maps = broadcast(values[0], n)
        items = maps.keys if part == "keys" else maps.items
        return pa.ListArray.from_arrays(maps.offsets, items, mask=maps.is_null())
    return kernel


# ---------------------------------------------------------------- bytes (DuckDB's encoders)

_TO_BYTES = {"hex": "unhex(a1)", "base64": "from_base64(a1)", "utf8": "encode(a1)"}
_FROM_BYTES = {"hex": "hex(a1)", "base64": "to_base64(a1)", "utf8": "decode(a1)"}


def to_bytes(values, n):
    encoding = constant(values[1])
    if encoding is VARIES or encoding is None or encoding.lower() not in _TO_BYTES:
        return None
    if encoding.lower() == "hex":  # DuckDB reads odd-length and non-hex text leniently: Java rejects it
        s = broadcast(values[0], n)
        odd = pc.invert(pc.match_substring_regex(s, r"^(?:[0-9A-Fa-f]{2})*$"))
        return duck(_TO_BYTES["hex"], values[:1], n, pa.binary()), odd
    if encoding.lower() == "base64":
        s = broadcast(values[0], n)
        odd = pc.invert(pc.match_substring_regex(s, r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"))
        clean = pc.if_else(odd, pa.scalar(None, pa.string()), s)
        return duck(_TO_BYTES["base64"], [clean], n, pa.binary()), odd
    return pc.cast(broadcast(values[0], n), pa.binary())


def from_bytes(values, n):
    encoding = constant(values[1])
    if encoding is VARIES or encoding is None or encoding.lower() not in _FROM_BYTES:
        return None
    b = broadcast(values[0], n)
    if encoding.lower() == "utf8":
        valid = pc.utf8_is_valid(b) if hasattr(pc, "utf8_is_valid") else None
        if valid is None:
            return None
        return pc.cast(pc.if_else(valid, b, pa.scalar(None, pa.binary())), pa.string()), pc.invert(valid)
    return duck(_FROM_BYTES[encoding.lower()], [b], n, pa.string())


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


def elt(values, n):
    index = pc.cast(broadcast(values[0], n), pa.int64())
    options = [broadcast(v, n) for v in values[1:]]
    if not options:
        return pa.nulls(n, pa.string())
    valid = pc.and_(pc.greater_equal(index, 1), pc.less_equal(index, len(options)))
    picked = pc.choose(pc.subtract(pc.if_else(valid, index, 1), 1), *options)
    return pc.if_else(pc.fill_null(valid, False), picked, pa.scalar(None, pa.string()))


def field(values, n):
    target = broadcast(values[0], n)
    out = pa.array(np.zeros(n, np.int32))
    for position in range(len(values) - 1, 0, -1):  # the first match wins: fill from the last
        hit = pc.fill_null(pc.equal(target, broadcast(values[position], n)), False)
        out = pc.if_else(hit, position, out)
    return pc.cast(out, pa.int32())


def number_from_bytes(width: int, kind: str):
    """INT_FROM_BYTES / BIGINT_FROM_BYTES / DOUBLE_FROM_BYTES: fixed-width big- (or little-)
    endian numbers read straight from the binary column's buffer."""
    def kernel(values, n):
        order = constant(values[1]) if len(values) > 1 else "BIG_ENDIAN"
        if order is VARIES or order is None or order.upper() not in ("BIG_ENDIAN", "LITTLE_ENDIAN"):
            return None
        blobs = broadcast(values[0], n)
        lengths = pc.binary_length(blobs)
        wrong = pc.fill_null(pc.not_equal(lengths, width), False)
        if pc.any(wrong).as_py() or blobs.offset:
            return None
        offsets = np.frombuffer(blobs.buffers()[1], np.int32)[:n + 1]
        data = blobs.buffers()[2]
        raw = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]] if data is not None else np.zeros(0, np.uint8)
        present = pc.is_valid(blobs).to_numpy(zero_copy_only=False)
        out = np.zeros(n, np.float64 if kind == "double" else np.int64)
        code = {4: "i4", 8: "i8"}[width] if kind == "int" else "f8"
        endian = ">" if order.upper() == "BIG_ENDIAN" else "<"
        out[present] = np.frombuffer(raw.tobytes(), endian + code)
        arrow_type = pa.float64() if kind == "double" else (pa.int32() if width == 4 else pa.int64())
        return pa.array(out, arrow_type, mask=~present)
    return kernel


@functools.lru_cache(maxsize=1)
def _basic_plane() -> pa.Array:
    """Every character of Unicode's basic plane (surrogates as NULL), for CHR by one take."""
    return pa.array([None if 0xD800 <= c <= 0xDFFF else chr(c) for c in range(0x10000)], pa.string())


def chr_of_code(values, n):
    codes = broadcast(values[0], n)
    if not pa.types.is_integer(codes.type):
        return None
    inside = pc.and_(pc.greater_equal(codes, 0), pc.less(codes, 0x10000))
    picked = _basic_plane().take(pc.if_else(inside, codes, 0))
    return pc.if_else(pc.fill_null(inside, False), picked, pa.scalar(None, pa.string())), \
        pc.fill_null(pc.invert(inside), False)


def array_join(values, n):
    delimiter = constant(values[1]) if len(values) > 1 else ","
    lists = broadcast(values[0], n)
    if delimiter is VARIES or not pa.types.is_string(lists.type.value_type):
        return None
    items = pc.fill_null(pc.list_flatten(lists), "null")
    parents, _ = _elements(lists)
    joined = pc.binary_join(_rebuild(lists, _count_by_row(parents, n), items), delimiter or "")
    return joined


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


def _apply(kernel, values, n):
    """A kernel's (result, rows to redo) with no rows to redo when it returns an array alone."""
    out = kernel(values, n)
    if out is None or isinstance(out, tuple):
        return out
    return out, pa.array(np.zeros(n, bool))


def encode(values, n):
    """ENCODE(s, from, to): TO_BYTES then FROM_BYTES (hex in lower case)."""
    raw = _apply(to_bytes, [values[0], values[1]], n)
    if raw is None:
        return None
    text = _apply(from_bytes, [raw[0], values[2]], n)
    if text is None:
        return None
    target = constant(values[2])
    result = pc.utf8_lower(text[0]) if target.lower() == "hex" else text[0]
    return result, pc.or_(raw[1], text[1])


def uuid_from_bytes(values, n):
    blobs = broadcast(values[0], n)
    wrong = pc.fill_null(pc.not_equal(pc.binary_length(blobs), 16), False)
    digits = pc.utf8_lower(duck("hex(a1)", [pc.if_else(wrong, pa.scalar(None, pa.binary()), blobs)], n, pa.string()))
    parts = [pc.utf8_slice_codeunits(digits, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
    return pc.binary_join_element_wise(*parts, "-"), wrong


def split_to_map(values, n):
    entry, kv = constant(values[1]), constant(values[2])
    if entry is VARIES or kv is VARIES:
        return None
    if not entry or not kv:
        return pa.nulls(n, pa.map_(pa.string(), pa.string()))
    text = broadcast(values[0], n)
    entries = pc.split_pattern(text, pattern=entry)
    parents, items = _elements(entries)
    pieces = pc.split_pattern(items, pattern=kv)
    usable = pc.and_(pc.greater_equal(pc.list_value_length(pieces), 2),
                     pc.greater(pc.utf8_length(items), 0)).to_numpy(zero_copy_only=False)
    keys = pc.list_element(pieces.filter(pa.array(usable)), 0)
    vals = pc.list_element(pieces.filter(pa.array(usable)), 1)
    kept = parents[usable]
    table = pa.table({"p": pa.array(kept, pa.int64()), "k": keys})
    repeated = table.group_by(["p", "k"]).aggregate([("k", "count")]).filter(pc.greater(pc.field("k_count"), 1))
    redo = np.zeros(n, bool)
    redo[repeated.column("p").to_numpy()] = True  # a key given twice: the row form keeps the last value
    counts = _count_by_row(kept, n)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    maps = pa.MapArray.from_arrays(pa.array(offsets), keys, vals, mask=text.is_null())
    return maps, pa.array(redo)


def map_entries(values, n):
    ordered = constant(values[1])
    if ordered is VARIES or ordered is None:
        return None
    maps = broadcast(values[0], n)
    offsets = maps.offsets.to_numpy()
    start, stop = int(offsets[0]), int(offsets[-1])
    keys, items = maps.keys.slice(start, stop - start), maps.items.slice(start, stop - start)
    entries = pa.StructArray.from_arrays([keys, items], names=["K", "V"])
    if ordered:
        parents = np.repeat(np.arange(n), np.diff(offsets))
        order = pc.sort_indices(pa.table({"p": parents, "k": keys}), sort_keys=[("p", "ascending"), ("k", "ascending")])
        entries = entries.take(order)
    return pa.ListArray.from_arrays(pa.array(offsets - start, pa.int32()), entries, mask=maps.is_null())


def json_items(values, n):
    return duck(f"CASE WHEN json_type({_VALID}) = 'ARRAY' THEN json_extract({_VALID}, '$[*]')::VARCHAR[] END",
                values, n, pa.list_(pa.string()))
