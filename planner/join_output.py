"""A join's output columns: ksqlDB's names for them (COL, or ALIAS_COL when two sources have
COL), stars expanded, and which selected column becomes the result's key (the join key, the
PARTITION BY expressions, or a foreign-key join's left primary key), with ksqlDB's errors when
it is missing or repeated.
"""
from __future__ import annotations

from ksql.parser.errors import KsqlStatementError
from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.binder import bind, cast, struct_fields
from ksql.planner.bound import Column as BoundColumn, Expr
from ksql.planner.scope import Scope
from ksql.planner.format import format_expression
from ksql.planner.joins import JOIN_KEY, JoinInput, JoinPlan, by_source_name, field_of
from ksql.planner.schema import (KEY, PSEUDO_COLUMNS, ROWOFFSET, ROWPARTITION, ROWTIME, VALUE, WINDOWEND,
                                 WINDOWSTART, Column)


def output_name(expr, inputs: list[JoinInput], scope: Scope) -> str | None:
    """ksqlDB's name for a selected column of a join: COL when unique, ALIAS_COL otherwise."""
    if not isinstance(expr, ast.ColumnRef):
        return None
    if expr.source is None or (expr.name not in scope._ambiguous and expr.name not in PSEUDO_COLUMNS):
        return expr.name
    alias = next((i.alias for i in inputs if expr.source in (i.alias, i.source.name)), expr.source)
    return f"{alias}_{expr.name}"


def expand_star(item: ast.SelectAll, inputs: list[JoinInput], repartitioned: bool = False
                ) -> list[tuple[str, ast.ColumnRef]]:
    """Each chosen input's columns, named ALIAS_COLUMN (a windowed input's window bounds after
    its key). Re-keyed by PARTITION BY, a join's rows carry each side's value, its ROWTIME,
    ROWPARTITION and ROWOFFSET, then its key (the schema ksqlDB repartitions), so a star selects
    all of them in that order."""
    chosen = inputs if item.source is None else [i for i in inputs if item.source in (i.alias, i.source.name)]
    if not chosen:
        raise KsqlStatementError(f"'{item.source}' is not a valid stream/table name or alias.")
    out = []
    for join_input in chosen:
        schema = join_input.source.schema
        window = [WINDOWSTART, WINDOWEND] if join_input.source.window_type else []
        values = [c.name for c in schema.value + schema.headers]  # header columns count as values
        names = [c.name for c in schema.key] + window + values
        if repartitioned:
            names = values + [ROWTIME, ROWPARTITION, ROWOFFSET] + [c.name for c in schema.key]
        for name in names:
            out.append((f"{join_input.alias}_{name}", ast.ColumnRef(name, join_input.alias)))
    return out


def output_columns(query: ast.Query, plan: JoinPlan, scope: Scope, sink: str | None, persistent: bool):
    """(Column, bound) for the projection. The first selected key column (one of the
    plan's key columns, or its synthetic key) becomes the result's key, holding the join key
    whichever side it came from. With PARTITION BY, the partitioning expressions are the key."""
    if query.partition_by:
        return _repartitioned_columns(query, plan, scope, sink, persistent)
    items = _select_list(query, plan, scope)
    if plan.joins[-1].foreign_key:
        return _foreign_key_columns(items, plan, scope, persistent)
    # the key is the selected column that comes first among the key columns (the left side's
    # join column before the right side's), whatever its place in the projection
    key_order = [field_of(e, scope) for e in plan.key_columns] + ([JOIN_KEY] if plan.synthetic_key else [])
    selected = [field_of(expr, scope) for _, expr in items]
    key_field = next((f for f in key_order if f in selected), None)
    columns, key_uses = [], []
    for (name, expr), field in zip(items, selected):
        bound = bind(expr, scope)
        namespace = VALUE
        if field is not None and field == key_field:
            key_uses.append((name, field, expr))
            if len(key_uses) == 1:
                namespace = KEY
                bound = _join_key(bound, plan)
        columns.append((Column(name, bound.type or T.STRING, namespace), bound))
    if persistent and len(key_uses) > 1:
        expr = key_uses[0][2]
        owner = next((i.alias for i in plan.inputs if expr.source in (i.alias, i.source.name)), None)
        internal = f"{owner}_{expr.name}" if owner else expr.name
        names = " and ".join(sorted(n for n, _, _ in key_uses))
        raise KsqlStatementError(f"The projection contains a key column (`{internal}`) more than once, "
                                 f"aliased as: {names}.")
    if persistent and not key_uses:
        raise KsqlStatementError(_missing_key_message(plan, sink))
    keys = [c for c in columns if c[0].namespace == KEY]
    return keys + [c for c in columns if c[0].namespace != KEY]


def _select_list(query: ast.Query, plan: JoinPlan, scope: Scope, persistent: bool = False) -> list[tuple[str, object]]:
    """(output name, expression) of each selected column, with stars expanded (an unqualified
    star starts with the synthetic key, if the join has one)."""
    items, generated = [], 0
    for item in query.select:
        if isinstance(item, ast.SelectAll):
            if item.source is None and plan.synthetic_key and not query.partition_by:
                items.append((plan.synthetic_key, ast.ColumnRef(plan.synthetic_key)))
            items += expand_star(item, list(plan.inputs), repartitioned=persistent and bool(query.partition_by))
            continue
        if isinstance(item, ast.SelectStructAll):  # each field of the struct, named as the field
            items += struct_fields(item.expression, scope)
            continue
        name = item.alias or output_name(item.expression, list(plan.inputs), scope)
        if name is None:
            name = f"KSQL_COL_{generated}"
            generated += 1
        items.append((name, item.expression))
    return items


def _repartitioned_columns(query, plan: JoinPlan, scope: Scope, sink, persistent):
    """A join's result re-keyed by PARTITION BY: each partitioning expression must be selected
    (PARTITION BY NULL leaves the result without a key)."""
    key_exprs = [e for e in query.partition_by if not (isinstance(e, ast.Literal) and e.value is None)]
    inputs = list(plan.inputs)
    wanted = [by_source_name(e, inputs) for e in key_exprs]
    for expr in key_exprs:
        try:
            bind(expr, scope)
        except KsqlStatementError as error:
            message = str(error)
            raise (KsqlStatementError(f"PARTITION BY column '{message[8:]}", error.position) if message.startswith("Column '")
                   else error) from None
    columns, found = [], []
    for name, expr in _select_list(query, plan, scope, persistent):
        bound = bind(expr, scope)
        namespace = VALUE
        normalized = by_source_name(expr, inputs)
        if persistent and normalized in wanted and normalized not in found:
            namespace = KEY
            found.append(normalized)
        columns.append((Column(name, bound.type or T.STRING, namespace), bound, normalized))
    if persistent and len(found) != len(wanted):
        shown = [format_expression(e) for e in wanted]
        raise KsqlStatementError(
            f"The query used to build `{sink}` must include the partitioning expression{'s' if len(shown) > 1 else ''} "
            f"{' and '.join(shown)} in its projection (eg, SELECT {', '.join(shown)}...).")
    keys = sorted((c for c in columns if c[0].namespace == KEY), key=lambda c: wanted.index(c[2]))
    return [c[:2] for c in keys] + [c[:2] for c in columns if c[0].namespace != KEY]


def _foreign_key_columns(items, plan: JoinPlan, scope: Scope, persistent: bool):
    """A foreign-key join is keyed by the left table's primary key: every key column must be
    selected, each once."""
    left = plan.inputs[0]
    key_fields = [field_of(e, scope) for e in plan.key_columns]
    columns, uses = [], {}
    for name, expr in items:
        bound = bind(expr, scope)
        field = field_of(expr, scope)
        namespace = VALUE
        if persistent and field in key_fields:
            uses.setdefault(field, []).append(name)
            namespace = KEY if len(uses[field]) == 1 else VALUE
        columns.append((Column(name, bound.type or T.STRING, namespace), bound))
    if not persistent:
        return columns
    for field, names in uses.items():
        if len(names) > 1:
            column = plan.key_columns[key_fields.index(field)].name
            raise KsqlStatementError(f"The projection contains a key column (`{left.source.name}_{column}`) more "
                                     f"than once, aliased as: {' and '.join(sorted(names))}.")
    missing = [e.name for e, f in zip(plan.key_columns, key_fields) if f not in uses]
    if missing:
        plural = len(missing) > 1
        raise KsqlStatementError(
            f"Primary key column{'s' if plural else ''} missing in projection. For foreign-key table-table joins, "
            f"the projection must include all primary key columns from the left input table "
            f"(`{left.source.name}`). Missing column{'s' if plural else ''}: "
            f"{', '.join(f'`{m}`' for m in missing)}.")
    order = {f: i for i, f in enumerate(key_fields)}
    keys = sorted((c for c in columns if c[0].namespace == KEY),
                  key=lambda c: order.get(field_of(_expr_for(items, c[0].name), scope), 0))
    return keys + [c for c in columns if c[0].namespace != KEY]


def _expr_for(items, name):
    return next(expr for item_name, expr in items if item_name == name)


def _join_key(bound: Expr, plan: JoinPlan) -> Expr:
    """The join key field, as the selected key column's type."""
    key = BoundColumn(plan.key_type, JOIN_KEY)
    return cast(key, bound.type) if bound.type and bound.type != plan.key_type else key


def _missing_key_message(plan: JoinPlan, sink: str | None) -> str:
    prefix = "Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\n"
    if plan.synthetic_key:
        name = plan.synthetic_key
        return (f"{prefix}The query used to build `{sink}` must include the join expression {name} in its "
                f"projection (eg, SELECT {name}...).\n{name} was added as a synthetic key column because the "
                f"join criteria did not match any source column. This expression must be included in the "
                f"projection and may be aliased.")
    shown = [format_expression(e) for e in plan.key_columns]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    return (f"{prefix}The query used to build `{sink}` must include the join expression"
            f"{'s' if len(shown) > 1 else ''} {listed} in its projection (eg, SELECT {shown[0]}...).")
