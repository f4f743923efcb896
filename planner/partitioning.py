"""How a query's work splits over servers, read from its plan: whether its state splits by
source partition (so each server can own some partitions), and where a stream's GROUP BY on
other columns than the key must regroup its rows through a repartition topic first
(runtime/repartition.py runs the two stages)."""
from __future__ import annotations

from dataclasses import replace

from ksql.planner.aggregation import AggregateNode
from ksql.planner.joins import JoinPlan, field_name
from ksql.planner.plan import FilterNode, QueryPlan, PartitionByNode


def keeps_state(plan: QueryPlan) -> bool:
    """Whether the query keeps state between batches: a join, an aggregation, or a filter over
    a table (which remembers the keys that matched, to retract them)."""
    return plan.joins is not None or any(
        isinstance(step, AggregateNode) or isinstance(step, FilterNode) and step.key_fields and step.table
        for step in plan.steps)


def partition_local(plan: QueryPlan) -> bool:
    """Whether the query's state splits by source partition: every stateful step keys its state
    by the columns its input is partitioned by, so a key's state comes from one partition only.
    Such a query's partitions can be spread over servers; others run on one server at a time.
    (A PARTITION BY's rows keep their source partitions until the sink writes them.)"""
    if plan.joins is not None and not co_partitioned(plan.joins):
        return False  # rows of one key may come from different partitions: one server joins them all
    return _steps_split_by_partition(plan)


def _steps_split_by_partition(plan: QueryPlan) -> bool:
    """Whether every aggregation groups by what its input is partitioned by."""
    partitioning = plan.source.properties.partitioning
    for step in plan.steps:
        if isinstance(step, JoinPlan):  # a GROUP BY names the join's A.K as A_K
            partitioning = tuple(c.replace(".", "_", 1) for c in step.properties.partitioning)
        elif isinstance(step, PartitionByNode):
            partitioning = ()
        elif isinstance(step, AggregateNode):
            if not step.groups_by_partitioning(partitioning):
                return False
    return True


# Key formats that write a key's value the same way whatever the source (a registry format's
# bytes name each source's own schema, so equal keys of two sources may land apart).
_SAME_BYTES_KEY_FORMATS = frozenset({"KAFKA", "JSON", "DELIMITED"})


def co_partitioned(joins: JoinPlan) -> bool:
    """Whether a join chain's rows meet only rows of the same partition number: every join is on
    its right source's key and on the key of one of the sources before it (no repartitioning,
    no foreign key), and the sources have as many partitions and write keys alike (equal keys,
    equal bytes, equal partitions). Such a join runs as one task per partition, as Kafka
    Streams runs it: each with its own stream time and state, so servers can share them."""
    inputs = joins.inputs
    if len({i.source.partitions for i in inputs}) != 1 or len({i.source.key_format for i in inputs}) != 1 \
            or inputs[0].source.key_format not in _SAME_BYTES_KEY_FORMATS \
            or any(i.source.window_type or len(i.source.schema.key) != 1 for i in inputs):
        return False
    keys = [field_name(i.alias, i.source.schema.key[0].name) for i in inputs]
    for node in joins.joins:
        if node.foreign_key or node.left_field not in keys[:node.right] or node.right_field != keys[node.right]:
            return False
    return True


def join_repartitions(plan: QueryPlan) -> tuple[int, ...]:
    """The inputs of a join that, run by several servers, go through a repartition topic each,
    as Kafka Streams repartitions them: a stream joined on another expression than its key,
    its records sent to the partition their join key's bytes hash to (in the other input's key
    format), so the join runs a task per partition. () when there is none, or when it cannot
    be done so (a chain of joins, a foreign key, windowed sources, a registry key format, a
    source read on both sides, a GROUP BY on other columns after it): one server runs it."""
    joins = plan.joins
    if joins is None or co_partitioned(joins) or len(joins.joins) != 1:
        return ()
    node = joins.joins[0]
    moved_sides = {side for side, _ in node.repartitioned}
    moved = tuple(i for i, side in enumerate(("left", "right")) if side in moved_sides)
    kept = [joins.inputs[i] for i in range(2) if i not in moved]
    if not moved or node.foreign_key or any(i.source.window_type for i in joins.inputs) \
            or any(joins.inputs[i].is_table for i in moved) \
            or len({joins.inputs[i].source.topic for i in moved}) != len(moved):
        return ()
    if kept and (kept[0].source.key_format not in _SAME_BYTES_KEY_FORMATS or len(kept[0].source.schema.key) != 1
                 or kept[0].source.topic in {joins.inputs[i].source.topic for i in moved}):
        return ()
    return moved if _steps_split_by_partition(plan) else ()


def aggregate_index(plan: QueryPlan) -> int | None:
    """Where a GROUP BY starts, when its rows must be repartitioned to run on several servers
    (the caller knows the query's state does not split by source partition). Over a table,
    only filters may come before it: the repartitioning moves the table's rows themselves."""
    if plan.joins is not None:
        return None
    for index, step in enumerate(plan.steps):
        if isinstance(step, PartitionByNode):
            return None  # PARTITION BY before the aggregation: not handled, one server runs it
        if isinstance(step, AggregateNode):
            if step.table_source and not all(isinstance(s, FilterNode) for s in plan.steps[:index]):
                return None
            return index
    return None


def needs_repartition(plan: QueryPlan) -> bool:
    """Whether the query, run by several servers, goes through a repartition topic."""
    return not partition_local(plan) and aggregate_index(plan) is not None


def stage_one(plan: QueryPlan, index: int) -> QueryPlan:
    """The stateless plan before the aggregation: what writes the repartition topic."""
    return replace(plan, steps=plan.steps[:index])


def stage_two(plan: QueryPlan, index: int) -> QueryPlan:
    """The plan of the aggregation and what follows it."""
    return replace(plan, steps=plan.steps[index:])
