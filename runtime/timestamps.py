"""Event time from strings: Java DateTimeFormatter patterns, as ksqlDB's TIMESTAMP_FORMAT."""
from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa

# Java pattern letters -> strptime directives (the common subset).
_JAVA_TO_STRPTIME = [
    ("yyyy", "%Y"), ("yy", "%y"), ("MMM", "%b"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"),
    ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("SSS", "%f"), ("a", "%p"), ("XXX", "%z"),
    ("Z", "%z"), ("X", "%z"),
]


def java_pattern_to_strptime(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "'":
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append(pattern[i + 1:end].replace("%", "%%") or "'")
            i = end + 1
            continue
        for java, directive in _JAVA_TO_STRPTIME:
            if pattern.startswith(java, i):
                out.append(directive)
                i += len(java)
                break
        else:
            out.append(pattern[i].replace("%", "%%"))
            i += 1
    return "".join(out)


def parse_timestamps(values: pa.Array, pattern: str | None) -> pa.Array:
    """Milliseconds since the epoch (UTC) for each string; NULL where it does not parse."""
    fmt = java_pattern_to_strptime(pattern) if pattern else None
    out = []
    for text in values.to_pylist():
        if text is None:
            out.append(None)
            continue
        try:
            if fmt is None:
                parsed = datetime.fromisoformat(text)
            else:
                if "%f" in fmt:
                    text = _pad_millis(text)
                parsed = datetime.strptime(text, fmt)
        except ValueError:
            out.append(None)
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        out.append(int(parsed.timestamp() * 1000 + 0.5) if parsed.microsecond else int(parsed.timestamp()) * 1000)
    return pa.array(out, pa.int64())


def _pad_millis(text: str) -> str:
    return text
