"""PRINT's guess at a topic's key and value formats, as ksqlDB makes it.

Every format starts as a candidate (keys also in their windowed forms); a format that cannot
read a record's key (or value) stops being one. Each record is shown as the first candidate
left reads it, and PRINT says which candidates are left whenever that list changes
("Key format: KAFKA_INT or KAFKA_STRING"). Reading bytes alone cannot tell every format apart
(eight bytes are a BIGINT and a DOUBLE alike): the list says so.
"""
from __future__ import annotations

import io
import json
import struct

from ksql.planner.values import java_double

NO_DATA = "¯\\_(ツ)_/¯ - no data processed"
NO_MATCH = (" does not match any supported format. It may be a STRING with encoding other than UTF8, "
            "or some other format.")
_MAGIC = 0


class _Unreadable(Exception):
    pass


def _registered(data: bytes, schema_type: str):
    """The registry's schema text for a Confluent-framed record of this type, and its body."""
    from ksql.runtime.formats import schema_registry

    if len(data) < 5 or data[0] != _MAGIC:
        raise _Unreadable()
    try:
        found_type, text = schema_registry.current().schema(int.from_bytes(data[1:5], "big"))
    except Exception:  # noqa: BLE001 - an unknown id: not this format
        raise _Unreadable() from None
    if found_type != schema_type:
        raise _Unreadable()
    return text, data[5:]


def _avro(data: bytes) -> str:
    import fastavro

    text, body = _registered(data, "AVRO")
    try:
        value = fastavro.schemaless_reader(io.BytesIO(body), fastavro.parse_schema(json.loads(text)))
    except Exception:  # noqa: BLE001
        raise _Unreadable() from None
    return _avro_text(value)


def _avro_text(value) -> str:
    """A value as Avro's GenericData prints it: JSON-like, with spaces after ':' and ','."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_avro_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_avro_text(v) for v in value) + "]"
    if isinstance(value, float):
        return java_double(value)
    return json.dumps(value, default=str)


def _protobuf(data: bytes) -> str:
    from google.protobuf import text_format

    from ksql.runtime.formats import schema_registry
    from ksql.runtime.formats.proto_schema import Schema
    from ksql.runtime.formats.protobuf import _read_indexes

    text, body = _registered(data, "PROTOBUF")
    try:
        indexes, position = _read_indexes(body, 0)
        registry = schema_registry.current()
        schema = Schema(text, schema_registry.imported_schemas(registry, int.from_bytes(data[1:5], "big")))
        message = schema.message(tuple(indexes or [0]))()
        message.ParseFromString(body[position:])
    except Exception:  # noqa: BLE001
        raise _Unreadable() from None
    return text_format.MessageToString(message, as_one_line=True)


def _json_sr(data: bytes) -> str:
    _, body = _registered(data, "JSON")
    try:
        return json.dumps(json.loads(body), separators=(",", ":"))
    except ValueError:
        raise _Unreadable() from None


def _text(data: bytes) -> str:
    """UTF-8 text (what Java decodes without a replacement character)."""
    if not data:
        raise _Unreadable()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unreadable() from None
    if "\ufffd" in text:
        raise _Unreadable()
    return text


def _json(data: bytes) -> str:
    text = _text(data)
    try:
        json.loads(text)
    except ValueError:
        raise _Unreadable() from None
    return text


def _fixed(size: int, unpack: str, show):
    def read(data: bytes) -> str:
        if len(data) != size:
            raise _Unreadable()
        return show(struct.unpack(unpack, data)[0])
    return read


def _bytes(data: bytes) -> str:
    """Kafka's Bytes.toString: printable ASCII as it is, other bytes as \\xNN."""
    return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02X}" for b in data)


_FORMATS = [("AVRO", _avro), ("PROTOBUF", _protobuf), ("JSON", _json), ("JSON_SR", _json_sr),
            ("KAFKA_INT", _fixed(4, ">i", str)), ("KAFKA_BIGINT", _fixed(8, ">q", str)),
            ("KAFKA_DOUBLE", _fixed(8, ">d", java_double)), ("KAFKA_STRING", _text)]
_UNRECOGNISED = "UNRECOGNISED_BYTES"


def _time_windowed(read):
    """A key followed by its window's start (8 bytes): tumbling and hopping windows."""
    def windowed(data: bytes) -> str:
        if len(data) < 8:
            raise _Unreadable()
        return f"[{read(data[:-8])}@{struct.unpack('>q', data[-8:])[0]}/-]"
    return windowed


def _session_windowed(read):
    """A key followed by its session's end and start (8 bytes each)."""
    def windowed(data: bytes) -> str:
        if len(data) < 16:
            raise _Unreadable()
        end, start = struct.unpack(">qq", data[-16:])
        return f"[{read(data[:-16])}@{start}/{end}]"
    return windowed


class FormatGuess:
    """The formats still able to read every key (or value) seen, and each one shown."""

    def __init__(self, key: bool):
        candidates = []
        for name, read in _FORMATS:
            if key:
                candidates += [(f"SESSION({name})", _session_windowed(read)), (f"HOPPING({name})", _time_windowed(read)),
                               (f"TUMBLING({name})", _time_windowed(read))]
            candidates.append((name, read))
        self.candidates = candidates
        self.seen = False

    def show(self, data: bytes | None) -> str:
        if data is None:
            return "<null>"
        self.seen = True
        first, kept = None, []
        for name, read in self.candidates:
            try:
                shown = read(data)
            except _Unreadable:
                continue
            except Exception:  # noqa: BLE001 - a reader that fails in any way: not this format
                continue
            kept.append((name, read))
            if first is None:
                first = shown
        self.candidates = kept
        return first if first is not None else _bytes(data)

    def possible(self) -> list[str]:
        return [name for name, _ in self.candidates] if self.seen else [NO_DATA]


class FormatsLines:
    """The 'Key format: ...' and 'Value format: ...' lines, each when its list changes."""

    def __init__(self):
        self.keys = FormatGuess(key=True)
        self.values = FormatGuess(key=False)
        self._shown = {"Key format: ": None, "Value format: ": None}

    def changed(self) -> list[str]:
        lines = []
        for prefix, guess in (("Key format: ", self.keys), ("Value format: ", self.values)):
            now = guess.possible()
            if now != self._shown[prefix]:
                self._shown[prefix] = now
                lines.append(prefix + (" or ".join(now) if now else NO_MATCH))  # (two spaces before NO_MATCH, as ksqlDB)
        return lines
