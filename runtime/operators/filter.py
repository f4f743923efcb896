"""FilterOp: keeps the rows whose predicate is true.

State: none on a stream; on a table, one entry per key that currently matches (so a row that
stops matching becomes a tombstone, and a key that never matched produces nothing)."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.arrays import broadcast
from ksql.planner.plan import NULL_VALUE, FilterNode
from ksql.runtime.expressions.compile import compile_expr
from ksql.runtime.state import StateStore, StateView, freeze


class FilterOp:
    """On a stream, drops the rows that do not match. On a table, a row that stops matching
    becomes a tombstone for its key, so it is deleted downstream; a key that never matched
    produces nothing. Keeps, on a table, the set of keys that currently match."""

    STATE_KEYS = ("P",)  # what each key of its state starts with

    def __init__(self, node: FilterNode, store: StateView | None = None):
        self.predicate = compile_expr(node.predicate)
        self.table = node.table
        self.key_fields = node.key_fields
        # ("P", key) -> True while it matches
        self.store = store if store is not None else StateView(StateStore(), "Filter")

    def advance_time(self, stream_time: int) -> None:
        return None  # nothing here waits on time

    def snapshot(self) -> dict:
        return self.store.snapshot()

    def restore(self, entries: dict) -> None:
        self.store.restore(entries)

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.num_rows == 0:
            return batch
        mask = broadcast(self.predicate.evaluate(batch), batch.num_rows, pa.bool_())
        mask = pc.fill_null(mask, False)
        null_value = batch.column(NULL_VALUE)
        # A record whose value is null never matches (there is nothing to test).
        mask = pc.and_(mask, pc.invert(null_value))
        if self.table:
            index = batch.schema.get_field_index(NULL_VALUE)
            batch = batch.set_column(index, NULL_VALUE, pc.invert(mask))
            if self.key_fields:
                batch = batch.filter(pa.array(self._changes(batch, mask.to_pylist())))
            return batch
        return batch.filter(mask)

    def _changes(self, batch: pa.RecordBatch, matches: list) -> list[bool]:
        """Which rows to pass on: matching rows, and tombstones for keys that matched before."""
        keys = list(zip(*[batch.column(f).to_pylist() for f in self.key_fields]))
        keep = []
        for key, match in zip(keys, matches):
            key = ("P", freeze(list(key)))
            if match:
                if self.store.get(key) is None:
                    self.store.put(key, True)
                keep.append(True)
            elif self.store.get(key) is not None:
                self.store.delete(key)
                keep.append(True)
            else:
                keep.append(False)
        return keep
