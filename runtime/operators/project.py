"""ProjectOp: computes the output columns. State: none.

The output batch holds the row's timestamp (OUTPUT_TIME) and the null-value flag, then the
output columns in schema order (key columns first)."""
from __future__ import annotations

import pyarrow as pa

from ksql.planner import types as T
from ksql.planner.plan import NULL_VALUE, OUTPUT_TIME, ProjectNode
from ksql.planner.schema import ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime.expressions.compile import compile_expr


class ProjectOp:
    def __init__(self, node: ProjectNode, store=None):  # stateless: the store is not used
        self.columns = [(column, compile_expr(expr)) for column, expr in node.columns]
        self.names = [OUTPUT_TIME, NULL_VALUE] + [c.name for c, _ in self.columns]

    def advance_time(self, stream_time: int) -> None:
        return None  # nothing here waits on time

    def snapshot(self) -> dict:
        return {}  # stateless

    def restore(self, entries: dict) -> None:
        pass

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays = [batch.column(ROWTIME), batch.column(NULL_VALUE)]
        names = self.names
        if WINDOWSTART in batch.schema.names:  # windowed results keep their window for the sink key
            arrays += [batch.column(WINDOWSTART), batch.column(WINDOWEND)]
            names = [OUTPUT_TIME, NULL_VALUE, "__WINDOW_START", "__WINDOW_END"] + self.names[2:]
        for column, compiled in self.columns:
            array = compiled.column_or_nulls(batch)  # (a row that raises gets NULL, as in ksqlDB)
            if array.type != T.to_arrow(column.type):  # an untyped NULL
                array = array.cast(T.to_arrow(column.type))
            arrays.append(array)
        return pa.RecordBatch.from_arrays(arrays, names=names)
