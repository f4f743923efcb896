"""How a query's work splits over servers, read from its plan: whether its state splits by
source partition (so each server can own some partitions), and where a stream's GROUP BY on
other columns than the key must regroup its rows through a repartition topic first
(runtime/repartition.py runs the two stages)."""
from __future__ import annotations

from dataclasses import replace

from ksql.planner.aggregation import AggregateNode
from ksql.planner.plan import QueryPlan, PartitionByNode


def partition_local(plan: QueryPlan) -> bool:
    """Whether the query's state splits by source partition: every stateful step keys its state
    by the columns its input is partitioned by, so a key's state comes from one partition only.
    Such a query's partitions can be spread over servers; others run on one server at a time.
    (A PARTITION BY's rows keep their source partitions until the sink writes them.)"""
    if plan.joins is not None:
        return False  # a join's stream time and expiry span its partitions: one server runs it
    partitioning = plan.source.properties.partitioning
    for step in plan.steps:
        if isinstance(step, PartitionByNode):
            partitioning = ()
        elif isinstance(step, AggregateNode):
            if not step.groups_by_partitioning(partitioning):
                return False
    return True


def aggregate_index(plan: QueryPlan) -> int | None:
    """Where a stream's GROUP BY starts, when its rows must be repartitioned to run on several
    servers (the caller knows the query's state does not split by source partition)."""
    if plan.joins is not None:
        return None
    for index, step in enumerate(plan.steps):
        if isinstance(step, PartitionByNode):
            return None  # PARTITION BY before the aggregation: not handled, one server runs it
        if isinstance(step, AggregateNode):
            return None if step.table_source else index
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
