"""EXPLAIN: a query plan drawn as a tree, one node a line, each with what flows out of it.

Every node's line ends with the properties of the records it emits, which the node carries
from planning (planner/properties.py): whether they are a stream or a changelog (upserts by
key), their key, what they are partitioned by, and their window. A join has its two inputs as
children; a persistent query has its sink on top.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ksql.planner.aggregation import AggregateNode
from ksql.planner.joins import JoinInput, JoinPlan
from ksql.planner.metastore import DataSource
from ksql.planner.partitioning import aggregate_index, co_partitioned, join_repartitions, needs_repartition
from ksql.planner.plan import FilterNode, ProjectNode, QueryPlan, PartitionByNode, TableFunctionNode
from ksql.planner.properties import StreamProperties


@dataclass(frozen=True, slots=True)
class SinkNode:
    """Where a persistent query writes: a stream or table over a topic."""

    name: str
    kind: str
    topic: str
    partitions: int
    key_format: str
    value_format: str

    @classmethod
    def of(cls, sink: DataSource) -> "SinkNode":
        return cls(sink.name, sink.kind, sink.topic, sink.partitions, sink.key_format, sink.value_format)

    def describe(self) -> str:
        return (f"Sink {self.name} [{self.kind}, topic {self.topic}, {_partitions(self.partitions)}, "
                f"{self.key_format} key, {self.value_format} value]")


@dataclass(frozen=True, slots=True)
class ExplainedNode:
    text: str
    properties: StreamProperties
    inputs: tuple["ExplainedNode", ...] = ()


def explain(plan: QueryPlan, sink: DataSource | None = None) -> str:
    """The plan as an indented tree, the output on top."""
    lines: list[str] = []
    _draw(explained(plan, sink), "", "", lines)
    return "\n".join(lines)


def explained(plan: QueryPlan, sink: DataSource | None = None) -> ExplainedNode:
    """The plan's nodes with the properties of each one's output."""
    source = plan.source
    node = ExplainedNode(_source_text(source.source), source.properties)
    for step in plan.steps:
        node = _step(step, node, plan)
    if sink is not None:
        # the sink's records are partitioned by their key again as they are written
        key = node.properties.key
        node = ExplainedNode(SinkNode.of(sink).describe(), replace(node.properties, changelog=sink.is_table,
                                                                  partitioning=key), (node,))
    return node


def _source_text(source: DataSource) -> str:
    return f"Source {source.name} [{source.kind}, topic {source.topic}, {_partitions(source.partitions)}]"


def _step(step, below: ExplainedNode, plan: QueryPlan) -> ExplainedNode:
    if isinstance(step, JoinPlan):
        return _joins(step, plan)
    if not isinstance(step, (FilterNode, TableFunctionNode, ProjectNode, PartitionByNode, AggregateNode)):
        raise TypeError(f"no EXPLAIN for {type(step).__name__}")
    text = step.describe()
    if isinstance(step, AggregateNode) and needs_repartition(plan) and step is plan.steps[aggregate_index(plan)]:
        # runtime/repartition.py: several servers sharing the query regroup through a topic
        text += " (regrouped through a repartition topic when spread over servers)"
    return ExplainedNode(text, step.properties, (below,))


def _joins(plan: JoinPlan, query: QueryPlan) -> ExplainedNode:
    """The left-deep join chain: each join's left input is the previous join (or the first
    source), its right input the next source."""
    node = _join_input(plan.inputs[0])
    for join in plan.joins:
        text = join.describe()
        if join is plan.joins[-1]:
            text += _join_tasks(plan, query)
        node = ExplainedNode(text, join.properties, (node, _join_input(plan.inputs[join.right])))
    return node


def _join_tasks(plan: JoinPlan, query: QueryPlan) -> str:
    """How a join chain runs (planner/partitioning.py)."""
    if co_partitioned(plan):
        return " (a task per partition: servers share them)"
    moved = join_repartitions(query)
    if moved:
        inputs = " and ".join(("left", "right")[i] for i in moved)
        return (f" (one task joins every partition; spread over servers, the {inputs} input goes through a "
                f"repartition topic by its join key first, and the servers share a task per partition)")
    return " (one task joins every partition: rows of a key may be in different partitions)"


def _join_input(join_input: JoinInput) -> ExplainedNode:
    text = _source_text(join_input.source)
    if join_input.alias != join_input.source.name:
        text = f"{text} AS {join_input.alias}"
    return ExplainedNode(text, join_input.properties)


def _partitions(n: int) -> str:
    return f"{n} partition" + ("" if n == 1 else "s")


def _draw(node: ExplainedNode, first: str, rest: str, lines: list[str]) -> None:
    lines.append(f"{first}{node.text}  {{{node.properties.describe()}}}")
    for i, child in enumerate(node.inputs):
        last = i == len(node.inputs) - 1
        _draw(child, rest + ("└── " if last else "├── "), rest + ("    " if last else "│   "), lines)
