"""The operator protocol, and the one table that builds each operator from its plan node.

Every operator is built as `Op(node, store)` and implements `process(batch) -> batch` over
the query's Arrow batches. What it keeps between batches (its state cost, in each module's
docstring) lives in the query's StateStore under a key prefix of its own, so it is written to
the changelog inside the query's transaction and comes back from it at start-up: no operator
holds state the store does not know about.
"""
from __future__ import annotations

from typing import Protocol

import pyarrow as pa

from ksql.planner.aggregation import AggregateNode
from ksql.planner.joins import JoinPlan
from ksql.planner.plan import FilterNode, ProjectNode, PartitionByNode, TableFunctionNode
from ksql.runtime.operators.aggregate import AggregateOp
from ksql.runtime.operators.filter import FilterOp
from ksql.runtime.operators.project import ProjectOp
from ksql.runtime.operators.table_function import TableFunctionOp
from ksql.runtime.state import StateStore


class Operator(Protocol):
    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The rows that come out of this batch of rows, in order."""


# Plan node -> operator. PartitionByNode has none: the sink partitions its rows by the new key.
# JoinPlan has none here: the pipeline builds its JoinOp, which takes rows from several sources.
OPERATORS: dict[type, type | None] = {
    JoinPlan: None,
    FilterNode: FilterOp,
    ProjectNode: ProjectOp,
    TableFunctionNode: TableFunctionOp,
    AggregateNode: AggregateOp,
    PartitionByNode: None,
}


def build_operators(steps, store: StateStore) -> list[Operator]:
    """The operators of a plan's steps, in order."""
    operators = []
    for step in steps:
        if type(step) not in OPERATORS:
            raise TypeError(f"no operator for {type(step).__name__}")
        op = OPERATORS[type(step)]
        if op is not None:
            operators.append(op(step, store))
    return operators
