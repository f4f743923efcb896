"""JSON functions: extracting, checking and writing JSON text."""
from __future__ import annotations

import re
import orjson
import pyarrow as pa
from ksql.planner import types as T
from ksql.planner.functions import BadArguments, per_row, register, rows
from ksql.planner.values import python_to_json_value
from ksql.planner.values import json_default as _json_default
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
    return duck(f"CASE WHEN json_type({_VALID}) = 'ARRAY' THEN json_extract({_VALID}, '$[*]')::VARCHAR[] END",
                values, n, pa.list_(pa.string()))

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
        import json
        from decimal import Decimal

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
   with_fallback(json_items, _json_items), "JSON_ITEMS(json)")


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
