"""A test's records in and out of the engine's topics: inputs encoded in their source's formats
and produced, outputs read back and decoded, values compared as the reference harness does."""
from __future__ import annotations

import math
from decimal import Decimal

import orjson
import pyarrow as pa

from ksql.engine import KsqlEngine
from ksql.planner import types as T
from ksql.planner.metastore import DataSource
from ksql.planner.values import json_default as _json_default
from ksql.runtime.formats.make import make_format
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.murmur2 import partitions_for
from ksql.runtime.log.reading import read_to_end
from ksql.testing import registry_formats
from ksql.testing.case import Record


def _source_for_topic(engine: KsqlEngine, topic: str) -> DataSource | None:
    for source in engine.metastore.sources():
        if source.topic == topic and not source.is_internal:
            return source
    return None


def produce(engine: KsqlEngine, record: Record, new_topic_partitions: int = 1) -> None:
    import struct

    source = _source_for_topic(engine, record.topic)
    info = engine.log.topic(record.topic)
    if info is None:
        info = engine.log.create_topic(record.topic, new_topic_partitions)
    key = inner_key = _encode(record.key, source, key=True, topic=record.topic)
    if record.window is not None:  # Kafka Streams' windowed key layout
        start, end = int(record.window.get("start", 0)), int(record.window.get("end", 0))
        key = (key or b"") + (struct.pack(">qq", end, start) if str(record.window.get("type", "")).lower()
                              == "session" else struct.pack(">q", start))
    value = _encode(record.value, source, key=False, topic=record.topic)
    # a windowed key goes to its key's partition, whatever the window (as Kafka Streams does)
    partition = int(partitions_for([inner_key], info.partitions)[0]) if inner_key is not None else 0
    headers = None
    if record.headers:
        import base64

        def header_value(h):  # base64 text, or null: a header may have no value
            text = h.get("VALUE", h.get("value"))
            return None if text is None else base64.b64decode(text)

        headers = [[{"key": h["KEY"] if "KEY" in h else h["key"], "value": header_value(h)}
                    for h in record.headers]]
    timestamp = record.timestamp if record.timestamp is not None else 0
    engine.log.append(record.topic, partition, make_records([key], [value], [timestamp], headers), sync=False)


def _encode(value, source: DataSource | None, key: bool, topic: str = "") -> bytes | None:
    if value is None:
        return None
    fmt_name = (source.key_format if key else source.value_format) if source else "JSON"
    columns = (source.schema.key if key else source.schema.value) if source else ()
    if fmt_name == "AVRO":
        return registry_formats.encode_avro(value, f"{topic}-{'key' if key else 'value'}", source, key)
    if fmt_name in ("PROTOBUF", "PROTOBUF_NOSR"):
        return registry_formats.encode_protobuf(value, f"{topic}-{'key' if key else 'value'}", columns,
                                              fmt_name == "PROTOBUF", source and (
                                                  source.key_schema_full_name if key else source.value_schema_full_name),
                                              source and (source.key_nullable_representation if key
                                                          else source.value_nullable_representation))
    if fmt_name == "JSON_SR":
        return registry_formats.json_sr_header(f"{topic}-{'key' if key else 'value'}", source, key) + \
            orjson.dumps(value, default=_json_default)
    if fmt_name == "JSON":
        return orjson.dumps(value, default=_json_default)
    if fmt_name == "DELIMITED" and isinstance(value, str):
        return value.encode()
    if fmt_name == "KAFKA" and columns:
        column = columns[0]
        from ksql.runtime.formats.serdes import _json_reader  # the JSON value coerced to the column's type

        fmt = make_format("KAFKA", columns, key=key)
        array = pa.array([_json_reader(column.type)(value)], T.to_arrow(column.type))
        return fmt.encode([array], 1)[0]
    if isinstance(value, str):
        return value.encode()
    return orjson.dumps(value, default=_json_default)


def read_topic(engine: KsqlEngine, topic: str) -> list[tuple]:
    """(key bytes, value bytes, timestamp) of every committed record, partition by partition."""
    return [record for partition in read_partitions(engine, topic) for record in partition]


def read_partitions(engine: KsqlEngine, topic: str) -> list[list[tuple]]:
    """Each partition's (key bytes, value bytes, timestamp) records, in offset order."""
    info = engine.log.topic(topic)
    if info is None:
        return []
    out = []
    for p in range(info.partitions):
        records = []
        # to the end offset: a read passing only aborted records comes back empty before it
        for batch, _ in read_to_end(engine.log, topic, p, engine.log.start_offset(topic, p)):
            if batch is None:
                continue
            records += zip(batch.column(2).to_pylist(), batch.column(3).to_pylist(), batch.column(1).to_pylist())
        out.append(records)
    return out


def _split_window(data: bytes | None, source: DataSource | None):
    """A windowed key's (inner key bytes, window) as Kafka Streams lays them out."""
    import struct

    if data is None or source is None or source.window_type is None:
        return data, None
    if source.window_type == "SESSION":
        end, start = struct.unpack(">qq", data[-16:])
        return data[:-16], {"start": start, "end": end, "type": "session"}
    (start,) = struct.unpack(">q", data[-8:])
    return data[:-8], {"start": start, "end": start + (source.window_size or 0), "type": "time"}


def _decode(data: bytes | None, source: DataSource | None, key: bool):
    if data is None:
        return None
    fmt_name = (source.key_format if key else source.value_format) if source else "JSON"
    columns = (source.schema.key if key else source.schema.value) if source else ()
    if fmt_name == "AVRO":
        return registry_formats.decode_avro(data)
    if fmt_name in ("PROTOBUF", "PROTOBUF_NOSR"):
        return registry_formats.decode_protobuf(data, columns, fmt_name == "PROTOBUF", source and (
            source.key_nullable_representation if key else source.value_nullable_representation))
    if fmt_name == "JSON_SR" and data[:1] == b"\0" and len(data) >= 5:
        data = data[5:]
        fmt_name = "JSON"
    if fmt_name == "JSON":
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return data.decode(errors="replace")
    if fmt_name == "KAFKA" and columns:
        arrays, bad = make_format("KAFKA", columns, key=key).decode([data])
        if bad:
            return data
        value = arrays[0].to_pylist()[0]
        return value
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


def _sink_for_topic(engine: KsqlEngine, topic: str) -> DataSource | None:
    candidates = [s for s in engine.metastore.sources() if s.topic == topic and not s.is_internal]
    # The source written by a query (the sink) decides the format; else the first declared.
    for source in candidates:
        if source.write_queries:
            return source
    return candidates[0] if candidates else None


def values_equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        fa, fb = float(a), float(b)
        return fa == fb or (math.isnan(fa) and math.isnan(fb)) or math.isclose(fa, fb, rel_tol=1e-12)
    if isinstance(a, (int, float, Decimal)) and isinstance(b, str) or isinstance(b, (int, float, Decimal)) and isinstance(a, str):
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        upper = {str(k).upper(): v for k, v in b.items()}
        return len(a) == len(b) and all(values_equal(v, b[k] if k in b else upper.get(str(k).upper(), _MISSING))
                                        for k, v in a.items())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    return a == b


_MISSING = object()
