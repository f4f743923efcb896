"""FilterOp: keeps the rows whose predicate is true. Stateless: keeps nothing between batches."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.expressions import Compiled, broadcast
from ksql.planner.plan import NULL_VALUE


class FilterOp:
    """On a stream, drops the rows that do not match. On a table, a row that does not
    match becomes a tombstone for its key, so a row that stops matching is deleted downstream."""

    def __init__(self, predicate: Compiled, table: bool = False):
        self.predicate = predicate
        self.table = table

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
            return batch.set_column(index, NULL_VALUE, pc.invert(mask))
        return batch.filter(mask)
