"""Writing a query's output: output rows -> key and value payloads -> sink partitions."""
from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.metastore import DataSource
from ksql.planner.plan import NULL_VALUE, OUTPUT_TIME
from ksql.parser.errors import KsqlError
from ksql.runtime import processing_log
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.murmur2 import partitions_for
from ksql.runtime.formats.make import make_format
from ksql.runtime.timestamps import parse_timestamps

LOG = logging.getLogger("ksql.query")


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
        inner_keys = keys  # Kafka Streams partitions a windowed key by the key alone
        if self.window_type is not None and "__WINDOW_START" in rows.schema.names:
            keys = window_keys(keys, rows.column("__WINDOW_START"), rows.column("__WINDOW_END"),
                               self.window_type == "SESSION")
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
        key_list = inner_keys.to_pylist()
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


def encode_or_log(encoder: SinkEncoder, rows: pa.RecordBatch, entries: list, query_id: str,
                  topic: str) -> tuple[dict[int, pa.RecordBatch], pa.RecordBatch]:
    """The sink's records of the rows, and the rows written; a row its format cannot write goes
    to the processing log instead (added to `entries`; found row by row only when the batch fails)."""
    try:
        return encoder.encode(rows), rows
    except (KsqlError, ValueError, TypeError, ArithmeticError, pa.ArrowException) as error:
        LOG.warning("query %s: output batch could not be written (%s); retrying row by row", query_id, error)
    good = []
    for i in range(rows.num_rows):
        row = rows.slice(i, 1)
        try:
            encoder.encode(row)
            good.append(i)
        except (KsqlError, ValueError, TypeError, ArithmeticError, pa.ArrowException) as error:
            entries.append(processing_log.serialization_error(query_id, str(error), row, topic))
    rows = rows.take(pa.array(good, pa.int64()))
    return encoder.encode(rows), rows


def window_keys(keys: pa.Array, starts: pa.Array, ends: pa.Array, session: bool) -> pa.Array:
    """Kafka Streams' windowed key layout: key + start (time windows) or key + end + start
    (sessions), each bound a big-endian 64-bit number."""
    bounds = (ends, starts) if session else (starts,)
    return pc.binary_join_element_wise(pc.fill_null(keys, b""), *(_big_endian(b) for b in bounds), b"")


def _big_endian(values: pa.Array) -> pa.Array:
    numbers = values.to_numpy(zero_copy_only=False).astype(">i8")
    return pa.Array.from_buffers(pa.binary(8), len(numbers), [None, pa.py_buffer(numbers.tobytes())]).cast(pa.binary())


def split_window_keys(records: pa.RecordBatch, source) -> tuple[pa.RecordBatch, pa.Array, pa.Array]:
    """The records with their windowed keys cut back to the inner key, and each window's bounds
    (null where the key is)."""
    keys = records.column(2)
    width = 16 if source.window_type == "SESSION" else 8
    if pc.any(pc.less(pc.binary_length(keys), width)).as_py():
        raise ValueError(f"A windowed key is shorter than its window's {width} bytes")
    inner = pc.binary_slice(keys, 0, -width)
    tails = pc.fill_null(pc.binary_slice(keys, -width), bytes(width))
    offsets = np.frombuffer(tails.buffers()[1], dtype=np.int32, count=len(tails) + 1, offset=tails.offset * 4)
    bounds = np.frombuffer(tails.buffers()[2], dtype=">i8", count=len(tails) * width // 8,
                           offset=int(offsets[0])).astype(np.int64).reshape(len(tails), width // 8)
    missing = keys.is_null().to_numpy(zero_copy_only=False)
    if source.window_type == "SESSION":
        ends, starts = bounds[:, 0], bounds[:, 1]
    else:
        starts = bounds[:, 0]
        ends = starts + (source.window_size or 0)
    return (records.set_column(2, "key", inner), pa.array(starts, pa.int64(), mask=missing),
            pa.array(ends, pa.int64(), mask=missing))
