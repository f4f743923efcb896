"""FilterOp: keeps the rows whose predicate is true. Stateless: keeps nothing between batches."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.expressions import Compiled, broadcast
from ksql.planner.plan import NULL_VALUE


class FilterOp:
    def __init__(self, predicate: Compiled):
        self.predicate = predicate

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if batch.num_rows == 0:
            return batch
        mask = broadcast(self.predicate.evaluate(batch), batch.num_rows, pa.bool_())
        mask = pc.fill_null(mask, False)
        # A record whose value is null never matches (there is nothing to test).
        mask = pc.and_(mask, pc.invert(batch.column(NULL_VALUE)))
        return batch.filter(mask)
