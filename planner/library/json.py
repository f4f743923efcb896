"""JSON functions: extracting, checking and writing JSON text."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.functions import BadArguments, per_row, register, rows
from ksql.planner.values import jackson_text_writer
from ksql.planner.library.common import (ANY, B, I, S, VARIES, _nulls, _sql_text, constant, duck,
                                         duck_many, fn, overloads, sig, with_fallback)


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
    # a document with text after its first value goes row by row: Jackson reads the first value;
    # so does a decimal number, whose text Jackson keeps (DuckDB reads it as a double)
    result, odd = duck_many([(f"json_extract_string({_VALID}, {_sql_text(duck_path)})", pa.string()),
                             (f"NOT coalesce(json_valid(a1), true) OR coalesce(json_type(json_extract({_VALID}, "
                              f"{_sql_text(duck_path)})) = 'DOUBLE', false)", pa.bool_())], values[:1], n)
    return result, odd


def json_array_length(values, n):
    return duck(f"CASE WHEN json_type({_VALID}) = 'ARRAY' THEN json_array_length({_VALID}) END",
                values, n, pa.int32())


def json_keys(values, n):
    return duck(f"CASE WHEN json_type({_VALID}) = 'OBJECT' THEN json_keys({_VALID}) END",
                values, n, pa.list_(pa.string()))


def is_json_string(values, n):
    return duck("coalesce(json_valid(a1), false)", values, n, pa.bool_())


def json_items(values, n):
    items = duck(f"CASE WHEN json_type({_VALID}) = 'ARRAY' THEN json_extract({_VALID}, '$[*]')::VARCHAR[] END",
                 values, n, pa.list_(pa.string()))
    # DuckDB writes a decimal number as the double it reads (1.50 as 1.5): those rows go row by row
    texts = broadcast(values[0], n)
    return items, pc.match_substring_regex(texts, _FRACTIONAL.pattern)

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
        return json.JSONDecoder().raw_decode(text.lstrip())[0]


class _Decimal(str):
    """A JSON decimal number's text."""


def _extract_json_field(text, path):
    try:
        value = _json_path(_first_json_value(text), path)
    except ValueError:
        return None
    if value is None:
        return None
    if isinstance(value, float):
        # ksqlDB reads decimals as BigDecimals: their text as written (1.23450), in the
        # scientific form BigDecimal.toString gives (1E+5), which Decimal's str gives too
        try:
            raw = _json_path(json.JSONDecoder(parse_float=_Decimal).raw_decode(text.lstrip())[0], path)
        except ValueError:
            raw = None
        if isinstance(raw, _Decimal):
            return str(Decimal(raw))
    return value if isinstance(value, str) else orjson.dumps(value).decode()


fn("EXTRACTJSONFIELD", "JSON", "The value at a JSONPath in a JSON string.", overloads(sig(S, S, ret=S)),
   with_fallback(extract_json_field, _extract_json_field), "EXTRACTJSONFIELD(json, path)")


def _is_json(text):
    try:
        orjson.loads(text)
        return True
    except orjson.JSONDecodeError:
        return False


fn("IS_JSON_STRING", "JSON", "Whether a string is valid JSON.", overloads(sig(S, ret=B)),
   with_fallback(is_json_string, lambda s: False if s is None else _is_json(s), null_on_null=False),
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
   with_fallback(json_array_length, _json_array_length), "JSON_ARRAY_LENGTH(json)")


def _json_keys(text):
    value = _json_loads(text)
    return list(value) if isinstance(value, dict) else None


fn("JSON_KEYS", "JSON", "The keys of a JSON object.", overloads(sig(S, ret=T.array(S))),
   with_fallback(json_keys, _json_keys),
   "JSON_KEYS(json)")


_FRACTIONAL = re.compile(r"[0-9][.eE]")  # text that may hold a decimal number


def _json_loads_exact(text):
    """Like _json_loads, but a decimal number comes back as its text (a _Decimal), as ksqlDB's
    JSON functions read them (Jackson with exact BigDecimals: 1.50 stays 1.50)."""
    value = _json_loads(text)
    if value is _INVALID or not _FRACTIONAL.search(text):
        return value
    return json.loads(text, parse_float=_Decimal)


def _json_text(value, plain: bool) -> str:
    """A value read by _json_loads_exact as compact JSON text; decimals as BigDecimal prints them:
    plain (1500, as ksqlDB's mapper writes them) or as toString does (1.5E+3, a node's text)."""
    if isinstance(value, _Decimal):
        return format(Decimal(value), "f") if plain else str(Decimal(value))
    if isinstance(value, dict):
        return "{" + ",".join(orjson.dumps(k).decode() + ":" + _json_text(v, plain) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v, plain) for v in value) + "]"
    return orjson.dumps(value).decode()


def _json_records(text):
    value = _json_loads_exact(text)
    if not isinstance(value, dict):
        return None
    return [(k, v if type(v) is str else _json_text(v, False)) for k, v in value.items()]


fn("JSON_RECORDS", "JSON", "The entries of a JSON object, values as JSON text.",
   overloads(sig(S, ret=T.map_of(S, S))), per_row(_json_records), "JSON_RECORDS(json)")


def _json_items(text):
    value = _json_loads_exact(text)
    return [_json_text(v, False) for v in value] if isinstance(value, list) else None


fn("JSON_ITEMS", "JSON", "The items of a JSON array, as JSON text.", overloads(sig(S, ret=T.array(S))),
   with_fallback(json_items, _json_items), "JSON_ITEMS(json)")


def _json_concat(*texts):
    values = [_json_loads_exact(t) for t in texts]
    if any(v is _INVALID for v in values):
        return None
    if all(isinstance(v, dict) for v in values):
        merged = {}
        for v in values:
            merged.update(v)
        return _json_text(merged, True)
    merged = []
    for v in values:
        merged += v if isinstance(v, list) else [v]
    return _json_text(merged, True)


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
    write = jackson_text_writer(sql_type)
    return [write(x) for (x,) in rows(values, n)]


def _to_json_resolve(types):
    if len(types) != 1:
        raise BadArguments()
    return S, [None]


register("TO_JSON_STRING", "JSON", "Any value as JSON text.", _to_json_resolve,
         lambda v, n: _to_json_string(v, n, T.from_arrow(v[0].type) if not pa.types.is_null(v[0].type) else None),
         ("TO_JSON_STRING(value)",))
