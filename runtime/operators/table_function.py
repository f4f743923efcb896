"""TableFunctionOp: EXPLODE and CUBE_EXPLODE. State: none.

Each input row becomes as many rows as its longest exploded array; the other columns are
repeated and the shorter arrays padded with NULLs."""
from __future__ import annotations

from itertools import product

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.arrays import broadcast
from ksql.planner.plan import TableFunctionNode
from ksql.runtime.expressions.compile import compile_expr


class TableFunctionOp:
    def __init__(self, node: TableFunctionNode, store=None):  # stateless: the store is not used
        self.node = node
        self.calls = [(name, compile_expr(expr)) for name, expr in node.calls]

    def advance_time(self, stream_time: int) -> None:
        return None  # nothing here waits on time

    def snapshot(self) -> dict:
        return {}  # stateless

    def restore(self, entries: dict) -> None:
        pass

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        n = batch.num_rows
        lists = []
        for name, compiled in self.calls:
            values = broadcast(compiled.evaluate(batch), n)
            lists.append(_cube(values) if name == "CUBE_EXPLODE" else values)
        lengths = np.max([pc.fill_null(pc.list_value_length(v), 0).to_numpy(zero_copy_only=False)
                          for v in lists], axis=0) if n else np.zeros(0, dtype=np.int64)
        parents = np.repeat(np.arange(n), lengths)
        positions = np.arange(len(parents)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        out = batch.take(pa.array(parents, pa.int64()))
        for field, values in zip(self.node.fields, lists):
            out = out.append_column(field, _elements(values, parents, positions))
        return out


def _elements(values: pa.ListArray, parents: np.ndarray, positions: np.ndarray) -> pa.Array:
    """Element `position` of row `parent`'s list, NULL where the list is shorter."""
    lengths = pc.fill_null(pc.list_value_length(values), 0).to_numpy(zero_copy_only=False)
    offsets = pc.subtract(values.offsets, values.offsets[0]).to_numpy()[:-1] if len(values) else np.zeros(0)
    present = positions < lengths[parents] if len(parents) else np.zeros(0, dtype=bool)
    index = np.where(present, offsets[parents] + positions, 0) if len(parents) else np.zeros(0, dtype=np.int64)
    flat = values.flatten()
    if len(flat) == 0:
        return pa.nulls(len(parents), values.type.value_type)
    taken = flat.take(pa.array(index.astype(np.int64)))
    return pc.if_else(pa.array(present), taken, pa.scalar(None, taken.type))


def _cube(values: pa.ListArray) -> pa.ListArray:
    """Every combination of each element or NULL (2^n arrays per row), as ksqlDB's CUBE_EXPLODE."""
    rows = []
    for items in values.to_pylist():
        if items is None:
            rows.append(None)
            continue
        # NULL before the value at each position: the order ksqlDB emits them in
        combos = [list(c) for c in product(*[(None, x) if x is not None else (None,) for x in items])]
        unique = []
        for combo in combos:
            if combo not in unique:
                unique.append(combo)
        rows.append(unique)
    return pa.array(rows, pa.list_(values.type))
