"""Which changes CREATE OR REPLACE may make to a running query's plan, beyond its output
schema (ksql/engine/queries.py checks that): ksqlDB upgrades filters and projections in place,
but not yet joins, windowed aggregations or table aggregations, and a stream aggregation only
while it reads the same columns (its state holds rows of them). The names in the errors are
those of ksqlDB's plan steps."""
from __future__ import annotations

from ksql.parser import ast
from ksql.parser.errors import KsqlStatementError
from ksql.planner.aggregation import AggregateNode
from ksql.planner.joins import JoinPlan
from ksql.planner.schema import ROWTIME
from ksql.planner.tree import walk


def check_plan_upgrade(old_query: ast.Query, old_plan, new_query: ast.Query, new_plan) -> None:
    """Raise ksqlDB's error when the new query changes a part of the old plan that cannot change."""
    if old_query == new_query:
        return
    step = _fixed_step(old_plan) or _fixed_step(new_plan)
    if step is not None:
        raise KsqlStatementError(f"Upgrades not yet supported for {step}")
    if _stream_aggregate(old_plan) and _stream_aggregate(new_plan):
        old, new = _aggregated_columns(old_query), _aggregated_columns(new_query)
        if old != new:
            raise KsqlStatementError(
                f"StreamAggregate must have matching columns not part of aggregate. Values differ: "
                f"[{', '.join(f'`{c}`' for c in old)}] vs. [{', '.join(f'`{c}`' for c in new)}]")


def _fixed_step(plan) -> str | None:
    """The name ksqlDB gives the plan's step that no upgrade may change, if it has one."""
    for step in plan.steps:
        if isinstance(step, AggregateNode) and step.table_source:
            return "TableAggregate"
        if isinstance(step, AggregateNode) and step.window is not None:
            return "StreamWindowedAggregate"
    for step in plan.steps:
        if isinstance(step, JoinPlan):
            join = step.joins[0]
            if join.foreign_key:
                return "ForeignKeyTableTableJoin"
            if join.left_table:
                return "TableTableJoin"
            return "StreamTableJoin" if join.right_table else "StreamStreamJoin"
    return None


def _stream_aggregate(plan) -> bool:
    return any(isinstance(s, AggregateNode) and not s.table_source and s.window is None for s in plan.steps)


def _aggregated_columns(query: ast.Query) -> list[str]:
    """The source columns an aggregation reads, in the order the query names them (COUNT(*)
    reads ROWTIME)."""
    names: list[str] = []

    def visit(node):
        if isinstance(node, ast.FunctionCall) and node.star and ROWTIME not in names:
            names.append(ROWTIME)
        if isinstance(node, ast.ColumnRef) and node.name not in names:
            names.append(node.name)

    parts = [item for item in query.select] + [query.where] + list(query.group_by or ()) + [query.having]
    for part in parts:
        if part is not None:
            walk(part, visit)
    return names

