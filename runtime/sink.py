"""Writing a query's output: output rows -> key and value payloads -> sink partitions."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.metastore import DataSource
from ksql.planner.plan import NULL_VALUE, OUTPUT_TIME
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.murmur2 import partitions_for
from ksql.runtime.formats.make import make_format
from ksql.runtime.timestamps import parse_timestamps


class SinkEncoder:
    def __init__(self, sink: DataSource, partitions: int, source_keys: bool = False):
        """source_keys: the output keeps its input's keys (no re-keying), so an input record
        without a key gives an output record without one, though it has several key columns."""
        schema = sink.schema
        self.null_empty_keys = source_keys and len(schema.key) > 1
        self.partitions = partitions
        self.key_names = [c.name for c in schema.key]
        self.value_names = [c.name for c in schema.value]
        self.key_format = make_format(sink.key_format, schema.key, key=True, options=sink.key_options())
        self.value_format = make_format(sink.value_format, schema.value, key=False,
                                        options=sink.value_options())
        self._round_robin = 0
        # Registry formats register the sink's schemas now, as ksqlDB does when the query is
        # created, so readers find them before the first record.
        for fmt in (self.key_format, self.value_format):
            if hasattr(fmt, "register"):
                fmt.register()
        self.window_type = sink.window_type
        self.timestamp_column = sink.timestamp_column
        self.timestamp_format = sink.timestamp_format

    def encode(self, rows: pa.RecordBatch) -> dict[int, pa.RecordBatch]:
        """Output rows, split into one record batch per sink partition."""
        n = rows.num_rows
        if n == 0:
            return {}
        keys = self.key_format.encode_array([rows.column(c) for c in self.key_names], n)
        if self.null_empty_keys:
            empty = np.ones(n, dtype=bool)
            for name in self.key_names:
                empty &= rows.column(name).is_null().to_numpy(zero_copy_only=False)
            keys = pc.if_else(pa.array(empty), pa.scalar(None, pa.binary()), keys)
        if self.window_type is not None and "__WINDOW_START" in rows.schema.names:
            keys = pa.array(window_keys(keys.to_pylist(), rows.column("__WINDOW_START").to_pylist(),
                                        rows.column("__WINDOW_END").to_pylist(), self.window_type == "SESSION"),
                            pa.binary())
        values = self.value_format.encode_array([rows.column(c) for c in self.value_names], n)
        null_value = rows.column(NULL_VALUE)
        if pc.any(null_value).as_py():
            values = pc.if_else(null_value, pa.scalar(None, pa.binary()), values)
        timestamps = rows.column(OUTPUT_TIME)
        if self.timestamp_column:
            timestamps = self._event_time(rows, timestamps)
        records = make_records(keys, values, timestamps)
        if self.partitions == 1:
            return {0: records}
        key_list = keys.to_pylist()
        parts = partitions_for(key_list, self.partitions, self._round_robin)
        self._round_robin += sum(1 for k in key_list if k is None)
        out = {}
        for p in np.unique(parts):
            out[int(p)] = records.filter(pa.array(parts == p))
        return out

    def _event_time(self, rows, fallback):
        """The sink's TIMESTAMP column sets the records' timestamps (kept where it is null)."""
        values = rows.column(self.timestamp_column)
        if pa.types.is_string(values.type):
            values = parse_timestamps(values, self.timestamp_format)
        return pc.coalesce(values.cast(pa.int64()), fallback)


def window_keys(keys: list, starts: list, ends: list, session: bool) -> list[bytes]:
    """Kafka Streams' windowed key layout: key + start (time windows) or key + end + start (sessions)."""
    import struct

    if session:
        return [(k or b"") + struct.pack(">qq", e, s) for k, s, e in zip(keys, starts, ends)]
    return [(k or b"") + struct.pack(">q", s) for k, s in zip(keys, starts)]


def split_window_keys(records: pa.RecordBatch, source) -> tuple[pa.RecordBatch, list, list]:
    """The records with their windowed keys cut back to the inner key, and each window's bounds."""
    import struct

    keys = records.column(2).to_pylist()
    inner, starts, ends = [], [], []
    for key in keys:
        if key is None:
            inner.append(None)
            starts.append(None)
            ends.append(None)
        elif source.window_type == "SESSION":
            end, start = struct.unpack(">qq", key[-16:])
            inner.append(key[:-16])
            starts.append(start)
            ends.append(end)
        else:
            (start,) = struct.unpack(">q", key[-8:])
            inner.append(key[:-8])
            starts.append(start)
            ends.append(start + (source.window_size or 0))
    return records.set_column(2, "key", pa.array(inner, pa.binary())), starts, ends
