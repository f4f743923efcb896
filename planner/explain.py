"""EXPLAIN: a query plan drawn as a tree, one node a line, each with what flows out of it.

Every node's line ends with the properties of the records it emits, derived here once from the
node and its input: whether they are a stream or a changelog (upserts by key), their key, what
they are partitioned by, and their window. A join has its two inputs as children; a persistent
query has its sink on top.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ksql.planner.aggregation import AggregateNode
from ksql.planner.format import format_expression
from ksql.planner.joins import JoinInput, JoinNode, JoinPlan
from ksql.planner.metastore import DataSource
from ksql.planner.partitioning import aggregate_index, needs_repartition
from ksql.planner.plan import FilterNode, ProjectNode, QueryPlan, PartitionByNode, TableFunctionNode
from ksql.planner.schema import WINDOWEND, WINDOWSTART
from ksql.planner.windows import WindowSpec, duration


@dataclass(frozen=True, slots=True)
class StreamProperties:
    """What a node's output records are."""

    changelog: bool  # upserts by key (a table's changes), else a stream of events
    key: tuple[str, ...]  # the key columns ((): no key)
    partitioning: tuple[str, ...]  # what records are partitioned by ((): no key to hash)
    window: str | None = None  # the window of the key, when windowed

    def describe(self) -> str:
        parts = ["changelog" if self.changelog else "stream", "key " + (", ".join(self.key) or "none"),
                 "partitioned by " + (", ".join(self.partitioning) or "nothing")]
        if self.window:
            parts.append("window " + self.window)
        return "; ".join(parts)


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
    node = _source(plan.source.source)
    for step in plan.steps:
        node = _step(step, node, plan)
    if sink is not None:
        # the sink's records are partitioned by their key again as they are written
        key = node.properties.key
        node = ExplainedNode(SinkNode.of(sink).describe(), replace(node.properties, changelog=sink.is_table,
                                                                  partitioning=key), (node,))
    return node


def _source(source: DataSource) -> ExplainedNode:
    key = tuple(c.name for c in source.schema.key)
    window = source.window_type
    text = f"Source {source.name} [{source.kind}, topic {source.topic}, {_partitions(source.partitions)}]"
    return ExplainedNode(text, StreamProperties(source.is_table, key, key, window))


def _step(step, below: ExplainedNode, plan: QueryPlan) -> ExplainedNode:
    props = below.properties
    if isinstance(step, JoinPlan):
        return _joins(step)
    if isinstance(step, PartitionByNode):
        texts = tuple(step.texts)
        props = replace(props, key=texts, partitioning=texts)
    elif isinstance(step, AggregateNode):
        keys = tuple(step.key_texts)
        text = step.describe()
        if needs_repartition(plan) and step is plan.steps[aggregate_index(plan)]:
            # runtime/repartition.py: several servers sharing the query regroup through a topic
            text += " (regrouped through a repartition topic when spread over servers)"
        props = StreamProperties(True, keys, keys, _window(step.window))
        return ExplainedNode(text, props, (below,))
    elif isinstance(step, ProjectNode) and step is plan.steps[-1]:
        props = replace(props, changelog=plan.produces_table, key=_output_key(step, plan, props))
    elif not isinstance(step, (FilterNode, TableFunctionNode, ProjectNode)):
        raise TypeError(f"no EXPLAIN for {type(step).__name__}")
    return ExplainedNode(step.describe(), props, (below,))


def _output_key(project: ProjectNode, plan: QueryPlan, below: StreamProperties) -> tuple[str, ...]:
    """The output's key columns: the sink's, else (a push query) the columns of a changelog's
    rows that hold its key, else the input's key columns it selects by name."""
    if plan.schema.key:
        return tuple(c.name for c in plan.schema.key)
    names = [c.name for c, _ in project.columns]
    key_below = below.key
    grouping = tuple(n for n in names if n in project.key_names and n not in (WINDOWSTART, WINDOWEND))
    if grouping and below.changelog:
        return grouping
    # a column selected as it is: KEY, or S.KEY selected as KEY or S_KEY (how joins name it)
    spellings = {spelling for k in key_below for spelling in (k, k.rsplit(".", 1)[-1], k.replace(".", "_"))}
    for join_input in plan.joins.inputs if plan.joins is not None else ():  # a joined field, ALIAS_COL
        spellings |= {k[len(join_input.alias) + 1:] for k in key_below if k.startswith(join_input.alias + "_")}
    selected = tuple(n for n in names if n in spellings)
    return selected or key_below  # not selected: the rows still carry the input's key


def _joins(plan: JoinPlan) -> ExplainedNode:
    """The left-deep join chain: each join's left input is the previous join (or the first
    source), its right input the next source."""
    node = _join_input(plan.inputs[0])
    for join in plan.joins:
        props = _join_properties(join)
        if join is plan.joins[-1] and plan.synthetic_key:  # FULL OUTER: neither side's column is the key
            props = replace(props, key=(plan.synthetic_key,))
        node = ExplainedNode(join.describe(), props, (node, _join_input(plan.inputs[join.right])))
    return node


def _join_input(join_input: JoinInput) -> ExplainedNode:
    node = _source(join_input.source)
    if join_input.alias != join_input.source.name:
        node = replace(node, text=f"{node.text} AS {join_input.alias}")
    return node


def _join_properties(join: JoinNode) -> StreamProperties:
    key = (format_expression(join.left_expr),) if join.left_expr is not None else (join.text,)
    if join.foreign_key:  # keyed by the left table's primary key
        key = tuple(f.replace("__", ".", 1) for f in join.left_pk_fields) or key
    window = None
    if join.within:
        window = f"WITHIN ({duration(join.within[0])} BEFORE, {duration(join.within[1])} AFTER, " \
                 f"GRACE {duration(join.grace)})"
    return StreamProperties(join.left_table and join.right_table, key, key, window)


def _window(window: WindowSpec | None) -> str | None:
    return window.describe() if window is not None else None


def _partitions(n: int) -> str:
    return f"{n} partition" + ("" if n == 1 else "s")


def _draw(node: ExplainedNode, first: str, rest: str, lines: list[str]) -> None:
    lines.append(f"{first}{node.text}  {{{node.properties.describe()}}}")
    for i, child in enumerate(node.inputs):
        last = i == len(node.inputs) - 1
        _draw(child, rest + ("└── " if last else "├── "), rest + ("    " if last else "│   "), lines)
