"""The rows an aggregation emits, collected column by column and handed on as one batch: shared
by the row path (aggregate.py) and the batch path (batch_aggregate.py)."""
from __future__ import annotations

import pyarrow as pa

from ksql.planner.aggregation import AGG_FIELD, KEY_FIELD
from ksql.planner.plan import NULL_VALUE
from ksql.planner.schema import ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime.state import thaw


class AggregateOutput:
    """Output rows, collected column by column."""

    def __init__(self, keys: int, calls: int, windowed: bool):
        self.keys = [[] for _ in range(keys)]
        self.results = [[] for _ in range(calls)]
        self.times, self.nulls = [], []
        self.windowed = windowed
        self.starts, self.ends = [], []

    def add(self, key, results, ts, window) -> None:
        for column, value in zip(self.keys, key):
            column.append(value)
        for column, value in zip(self.results, results):
            column.append(value)
        self.times.append(ts)
        self.nulls.append(False)
        if self.windowed:
            self.starts.append(window[0])
            self.ends.append(window[1])

    def tombstone(self, key, window, ts) -> None:
        self.add(key, [None] * len(self.results), ts, window)
        self.nulls[-1] = True

    def batch(self, op) -> pa.RecordBatch:
        arrays = [pa.array(self.times, pa.int64()), pa.array(self.nulls, pa.bool_())]
        names = [ROWTIME, NULL_VALUE]
        for i, (values, arrow_type) in enumerate(zip(self.keys, op.key_types)):
            arrays.append(pa.array([thaw(v) for v in values], arrow_type))
            names.append(KEY_FIELD.format(i))
        for i, (values, arrow_type) in enumerate(zip(self.results, op.agg_types)):
            arrays.append(pa.array(values, arrow_type))
            names.append(AGG_FIELD.format(i))
        if self.windowed:
            arrays += [pa.array(self.starts, pa.int64()), pa.array(self.ends, pa.int64())]
            names += [WINDOWSTART, WINDOWEND]
        return pa.RecordBatch.from_arrays(arrays, names=names)
