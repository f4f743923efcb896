"""The operator protocol, and the one table that builds each operator from its plan node.

Every operator is built as `Op(node, state)` and implements `process(batch) -> batch` over
the query's Arrow batches. What it keeps between batches (its state cost, in each module's
docstring) lives in its own StateView of the query's StateStore, so it is written to the
changelog inside the query's transaction and comes back from it at start-up; `snapshot()`
reads it out and `restore(entries)` puts it back, after which the operator carries on as if it
had never stopped: no operator holds state its view does not know about.

Event time: as in Kafka Streams, an operator's stream time moves with the records that reach
it, so `process` advances it record by record (AggregateOp closes EMIT FINAL windows and drops
those past retention, JoinOp expires stream-stream rows and emits the outer rows they owe), and
records dropped before an operator do not move its time. `advance_time(t)` moves it without a
record and returns what that makes due (None from operators where nothing waits on time).
"""
from __future__ import annotations

from typing import Protocol

import pyarrow as pa

from ksql.planner.aggregation import AggregateNode
from ksql.planner.joins import JoinPlan
from ksql.planner.plan import FilterNode, ProjectNode, PartitionByNode, TableFunctionNode
from ksql.runtime.operators.aggregate import AggregateOp
from ksql.runtime.operators.filter import FilterOp
from ksql.runtime.operators.join import JoinOp
from ksql.runtime.operators.project import ProjectOp
from ksql.runtime.operators.table_function import TableFunctionOp
from ksql.runtime.state import StateStore, StateView


class Operator(Protocol):
    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The rows that come out of this batch of rows, in order."""

    def advance_time(self, stream_time: int) -> pa.RecordBatch | None:
        """Move stream time to `stream_time` without a record: the rows that makes due."""

    def snapshot(self) -> dict:
        """Everything the operator keeps between batches, as {key: value}."""

    def restore(self, entries: dict) -> None:
        """Start over from a snapshot (its own, or one taken from another operator of the same
        node): what it keeps becomes `entries`, and what it derives from them is rebuilt."""


# Plan node -> operator. PartitionByNode has none: the sink partitions its rows by the new key.
# A JoinOp takes the rows of several sources, which the pipeline puts in order for it.
OPERATORS: dict[type, type | None] = {
    JoinPlan: JoinOp,
    FilterNode: FilterOp,
    ProjectNode: ProjectOp,
    TableFunctionNode: TableFunctionOp,
    AggregateNode: AggregateOp,
    PartitionByNode: None,
}


def build_operators(steps, store: StateStore, task: int = 0) -> list[Operator]:
    """The operators of a plan's steps, in order: those of a query's one task, or, where a
    query runs a task per partition in one process, of task `task` (their state named apart
    from the other tasks', task 0's as a query's one task names it)."""
    operators, names = [], set()
    for step in steps:
        if type(step) not in OPERATORS:
            raise TypeError(f"no operator for {type(step).__name__}")
        op = OPERATORS[type(step)]
        if op is not None:
            name = _state_name(op, step, names)
            names.add(name)
            operators.append(op(step, StateView(store, name if task == 0 else f"{name}@{task}")))
    return operators


def _state_name(op, step, taken: set) -> str:
    """The name an operator's state is kept under: the same at every start of the query, and
    after an upgrade that adds or removes other operators (CREATE OR REPLACE adding a WHERE
    keeps the aggregate's state). Filters are named by their predicate, so a WHERE and a
    HAVING over tables each keep their own matching keys."""
    name = op.__name__.removesuffix("Op")
    if isinstance(step, FilterNode):
        name = f"{name} {step.text}"
    unique, n = name, 1
    while unique in taken:
        n += 1
        unique = f"{name} #{n}"
    return unique
