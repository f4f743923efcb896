"""Rows and schemas as ksqlDB's REST API writes them: values by column type (decimals, bytes,
temporal types, nested structs), and the schema objects of a column type's text."""
from __future__ import annotations

import base64
import datetime
import functools




def _row_value(value, shape=None):
    """A result value as ksqlDB's REST API writes it (maps and structs as objects), shaped by
    its column type where known (so an empty map is {} rather than [])."""
    if value is None:
        return None
    kind = shape[0] if shape else None
    if kind == "MAP":
        pairs = value.items() if isinstance(value, dict) else value
        return {str(k): _row_value(v, shape[1]) for k, v in pairs}
    if kind == "ARRAY":
        return [_row_value(v, shape[1]) for v in value]
    if kind == "STRUCT" and isinstance(value, dict):
        return {k: _row_value(v, shape[1].get(k)) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): _row_value(v) for k, v in value}
        return [_row_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _row_value(v) for k, v in value.items()}
    if isinstance(value, datetime.datetime):  # ksqlDB's TIMESTAMP: always milliseconds
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="milliseconds") if value.microsecond else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def schema_of(type_text: str) -> dict:
    """A column type's text as ksqlDB's REST schema object (the /ws/query header)."""
    shape = _shape(type_text)
    base = type_text.split("<")[0].split("(")[0].strip().upper()
    if shape is None:
        return {"type": base, "fields": None, "memberSchema": None}
    parts = _top_level_split(type_text.strip()[len(base) + 1:-1])
    if base == "STRUCT":
        fields = []
        for part in parts:
            name, _, kind = part.strip().partition(" ")
            fields.append({"name": name.strip("`"), "schema": schema_of(kind)})
        return {"type": base, "fields": fields, "memberSchema": None}
    return {"type": base, "fields": None, "memberSchema": schema_of(parts[-1])}


def row_values(row, column_types) -> list:
    """A result row as ksqlDB's REST API writes it, each value shaped by its column's type."""
    return [_row_value(v, _shape(t)) for v, t in zip(row, column_types)]


@functools.lru_cache(maxsize=256)
def _shape(type_text: str):
    """("MAP" | "ARRAY", element shape), ("STRUCT", {field: shape}) or None, from a type's text."""
    text = type_text.strip()
    upper = text.upper()
    for kind in ("ARRAY", "MAP", "STRUCT"):
        if upper.startswith(kind + "<") and text.endswith(">"):
            parts = _top_level_split(text[len(kind) + 1:-1])
            if kind == "ARRAY":
                return kind, _shape(parts[0])
            if kind == "MAP":
                return kind, _shape(parts[-1])
            fields = {}
            for part in parts:
                name, _, field_type = part.strip().partition(" ")
                fields[name.strip("`")] = _shape(field_type)
            return kind, fields
    return None


def _top_level_split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]
