"""Event time from strings: Java DateTimeFormatter patterns, as ksqlDB's TIMESTAMP_FORMAT.

The pattern is read as STRINGTOTIMESTAMP reads it (ksqlDB uses the same parser for both): the
function library's batch kernel where it can, the row-by-row parser for the rest, a text the
pattern does not fit giving NULL (the record is then skipped as one without a timestamp)."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from ksql.planner import javatime
from ksql.planner.library.dates import parse_millis


def parse_timestamps(values: pa.Array, pattern: str | None) -> pa.Array:
    """Milliseconds since the epoch (UTC) for each string; NULL where it does not parse."""
    if pattern is None:
        return pa.array([_iso_millis(text) for text in values.to_pylist()], pa.int64())
    n = len(values)
    try:
        out = parse_millis([values, pa.scalar(pattern)], n)
    except pa.ArrowException:
        out = None
    if out is None:
        return pa.array([_java_millis(text, pattern) for text in values.to_pylist()], pa.int64())
    result, redo = out
    redo = np.asarray(redo.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    if not redo.any():
        return pa.array(result, pa.int64())
    millis = pa.array(result, pa.int64()).to_pylist()
    texts = values.to_pylist()
    for i in np.flatnonzero(redo):
        millis[i] = _java_millis(texts[i], pattern)
    return pa.array(millis, pa.int64())


def _java_millis(text: str | None, pattern: str) -> int | None:
    if text is None:
        return None
    try:
        return javatime.to_millis(javatime.parse_datetime(text, pattern))
    except (ValueError, KeyError, OverflowError):
        return None


def _iso_millis(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return javatime.to_millis(parsed)
