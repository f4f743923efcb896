"""Materialized tables: the current row of every key of a table, for pull queries.

A CTAS query feeds its table's view with each batch it commits; a source table's view is
read from its topic. A pull query reads a snapshot of the view as one Arrow batch in the
layout of a source batch (pseudo columns, key, value, window bounds), so the ordinary
filter and projection operators answer it.
"""
from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa

from ksql.planner import types as T
from ksql.planner.metastore import DataSource
from ksql.planner.plan import NULL_VALUE, OUTPUT_TIME
from ksql.planner.schema import ROWOFFSET, ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime.source import SourceDecoder
from ksql.runtime.state import freeze, thaw


class MaterializedTable:
    """Keeps one row per key (and window): {key: (rowtime, window start, window end, values)}."""

    def __init__(self, table: DataSource):
        self.table = table
        self.rows: dict = {}
        self.lock = threading.RLock()
        self.key_names = [c.name for c in table.schema.key]
        self.value_names = [c.name for c in table.schema.value]

    def apply(self, batch: pa.RecordBatch, window_columns: tuple[str, str] | None = None,
              time_column: str = OUTPUT_TIME) -> None:
        """Upsert rows from a batch holding the table's key and value columns (tombstones delete)."""
        if batch.num_rows == 0:
            return
        keys = [batch.column(n).to_pylist() for n in self.key_names]
        values = [batch.column(n).to_pylist() for n in self.value_names]
        times = batch.column(time_column).to_pylist()
        nulls = batch.column(NULL_VALUE).to_pylist()
        starts = ends = [None] * batch.num_rows
        if window_columns and window_columns[0] in batch.schema.names:
            starts = batch.column(window_columns[0]).to_pylist()
            ends = batch.column(window_columns[1]).to_pylist()
        with self.lock:
            for i in range(batch.num_rows):
                key = (tuple(freeze(k[i]) for k in keys), starts[i], ends[i])
                if nulls[i]:
                    self.rows.pop(key, None)
                else:
                    self.rows[key] = (times[i], tuple(v[i] for v in values))

    def load_topic(self, log) -> None:
        """Rebuild from the table's topic (every committed record, in order)."""
        decoder = SourceDecoder(self.table, "materialize")
        info = log.topic(self.table.topic)
        if info is None:
            return
        for partition in range(info.partitions):
            offset = 0
            while True:
                records, offset = log.read(self.table.topic, partition, offset)
                if records is None:
                    break
                batch = decoder.decode(records, partition).batch  # windowed keys come with their bounds
                self.apply(batch, (WINDOWSTART, WINDOWEND) if self.table.window_type else None, ROWTIME)

    def lookup(self, key: tuple) -> list:
        """The rows of one key: every window of it for a windowed table, else at most one row."""
        key = tuple(freeze(k) for k in key)
        with self.lock:
            if self.table.window_type:
                return [(k, v) for k, v in self.rows.items() if k[0] == key]
            row = self.rows.get((key, None, None))
            return [((key, None, None), row)] if row is not None else []

    def snapshot(self, only_key: tuple | None = None) -> pa.RecordBatch:
        """The current rows as a batch in the layout of a decoded source batch."""
        with self.lock:
            items = self.lookup(only_key) if only_key is not None else list(self.rows.items())
        schema = self.table.schema
        n = len(items)
        arrays = {
            ROWTIME: pa.array([v[0] for _, v in items], pa.int64()),
            ROWPARTITION: pa.array(np.zeros(n, dtype=np.int32)),
            ROWOFFSET: pa.nulls(n, pa.int64()),
        }
        for i, column in enumerate(schema.key):
            arrays[column.name] = pa.array([thaw(k[0][i]) for k, _ in items], T.to_arrow(column.type))
        for i, column in enumerate(schema.value):
            arrays[column.name] = pa.array([v[1][i] for _, v in items], T.to_arrow(column.type))
        if self.table.window_type is not None:
            arrays[WINDOWSTART] = pa.array([k[1] for k, _ in items], pa.int64())
            arrays[WINDOWEND] = pa.array([k[2] for k, _ in items], pa.int64())
        arrays[NULL_VALUE] = pa.array(np.zeros(n, dtype=bool))
        return pa.RecordBatch.from_arrays(list(arrays.values()), names=list(arrays))
