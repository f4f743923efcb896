"""Reading a stream or table: raw log records -> the engine's row batches.

A row batch has the pseudo columns (ROWTIME, ROWPARTITION, ROWOFFSET), the key, value and
header columns of the source, and a flag telling which records had a null value.
Records that cannot be deserialized are left out and reported for the processing log.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner import types as T
from ksql.planner.metastore import DataSource
from ksql.planner.plan import NULL_VALUE
from ksql.planner.schema import HEADER, ROWOFFSET, ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime import processing_log
from ksql.runtime.formats.make import make_format
from ksql.runtime.sink import split_window_keys
from ksql.runtime.timestamps import parse_timestamps


@dataclass
class Decoded:
    batch: pa.RecordBatch
    log_entries: list[bytes] = field(default_factory=list)


class SourceDecoder:
    def __init__(self, source: DataSource, query_id: str):
        self.source = source
        self.query_id = query_id
        schema = source.schema
        self.key_format = make_format(source.key_format, schema.key, key=True,
                                      options=source.key_options())
        self.value_format = make_format(source.value_format, schema.value, key=False,
                                        options=source.value_options())
        self.names = ([ROWTIME, ROWPARTITION, ROWOFFSET] + [c.name for c in schema.key]
                      + [c.name for c in schema.value] + [c.name for c in schema.headers] + [NULL_VALUE])
        self.arrow_types = {c.name: T.to_arrow(c.type) for c in schema.columns}

    def read_only(self, columns) -> None:
        """Told the columns the query reads (None: all): the others' values are still checked,
        but may come back as NULLs (the value format decides)."""
        if columns is None:
            return
        self.value_format.unread([c.name for c in self.source.schema.value
                                  if c.name not in columns and c.name != self.source.timestamp_column])

    def decode(self, records: pa.RecordBatch, partition: int) -> Decoded:
        window = None
        if self.source.window_type is not None:
            records, starts, ends = split_window_keys(records, self.source)
            window = (starts, ends)
        decoded, kept = self._decode(records, partition)
        if window is not None:
            starts, ends = window
            if kept is not None:
                mask = pa.array(kept)
                starts, ends = starts.filter(mask), ends.filter(mask)
            decoded.batch = decoded.batch.append_column(WINDOWSTART, starts).append_column(WINDOWEND, ends)
        return decoded

    def _decode(self, records: pa.RecordBatch, partition: int):
        """(decoded rows, the mask of kept records or None when all were kept)."""
        n = records.num_rows
        keys, values = records.column(2), records.column(3)
        key_columns, key_errors = self.key_format.decode_array(keys)
        value_columns, value_errors = self.value_format.decode_array(values)
        entries = []
        if key_errors or value_errors:
            offsets = records.column(0).to_pylist()
            if key_errors:
                entries += processing_log.deserialization_errors(
                    self.query_id, self.source.topic, "key", key_errors, keys.to_pylist(), partition, offsets)
            if value_errors:
                entries += processing_log.deserialization_errors(
                    self.query_id, self.source.topic, "value", value_errors, values.to_pylist(), partition,
                    offsets)

        timestamps = records.column(1)
        null_value = pc.is_null(records.column(3))
        arrays = [timestamps, pa.array(np.full(n, partition, dtype=np.int32)), records.column(0)]
        arrays += key_columns + value_columns
        arrays += [self._header_column(records.column(4), c) for c in self.source.schema.headers]
        arrays.append(null_value)
        batch = pa.RecordBatch.from_arrays(arrays, names=self.names)

        keep = np.ones(n, dtype=bool)
        for row in list(key_errors) + list(value_errors):
            keep[row] = False
        if self.source.timestamp_column:
            batch, entries = self._event_time(batch, keep, entries)
        if self.source.is_table and self.source.schema.key:
            # Tables ignore records whose key is null (every key column null).
            present = np.zeros(n, dtype=bool)
            for column in self.source.schema.key:
                present |= batch.column(column.name).is_valid().to_numpy(zero_copy_only=False)
            keep &= present
        if not keep.all():
            return Decoded(batch.filter(pa.array(keep)), entries), keep
        return Decoded(batch, entries), None

    def _event_time(self, batch, keep, entries):
        """ROWTIME from the TIMESTAMP column; rows without a valid one are skipped."""
        values = batch.column(self.source.timestamp_column)
        if pa.types.is_timestamp(values.type):
            values = values.cast(pa.int64())
        elif pa.types.is_string(values.type):
            values = parse_timestamps(values, self.source.timestamp_format)
        else:
            values = values.cast(pa.int64())
        keep &= values.is_valid().to_numpy(zero_copy_only=False) | batch.column(NULL_VALUE).to_numpy(
            zero_copy_only=False)
        index = self.names.index(ROWTIME)
        rowtime = pc.coalesce(values, batch.column(ROWTIME))
        return batch.set_column(index, ROWTIME, rowtime), entries

    def _header_column(self, headers: pa.Array, column) -> pa.Array:
        rows = headers.to_pylist()
        if column.header_key is None:  # every header, as the column's STRUCT<KEY, VALUE> (any case)
            arrow_type = self.arrow_types[column.name]
            key_name, value_name = (f.name for f in arrow_type.value_type)
            return pa.array([[{key_name: item["key"], value_name: item["value"]} for item in h or ()]
                             for h in rows], arrow_type)
        out = []
        for h in rows:
            value = None
            for item in h or ():
                if item["key"] == column.header_key:
                    value = item["value"]
            out.append(value)
        return pa.array(out, pa.binary())


__all__ = ["SourceDecoder", "Decoded", "HEADER"]
