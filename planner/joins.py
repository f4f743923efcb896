"""Planning joins: stream-stream (windowed), stream-table and table-table, chained left to right.

Each source's columns are carried under a field of their own (`ALIAS__COL`), so equal names
on both sides stay apart. The join tree is left-deep: the first join reads the first two
sources; each further join reads the previous join's output on its left and one more source
on its right. After the joins come WHERE and the projection, over the joined fields.
"""
from __future__ import annotations

from dataclasses import dataclass

from ksql.errors import KsqlStatementError
from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.expressions import Compiled, Scope, compile_expression
from ksql.planner.format import format_expression
from ksql.planner.metastore import DataSource, MetaStore
from ksql.planner.schema import KEY, PSEUDO_COLUMNS, ROWTIME, VALUE, Column

DEFAULT_JOIN_GRACE_MS = 24 * 3600 * 1000


def field_name(alias: str, column: str) -> str:
    return f"{alias}__{column}"


@dataclass(frozen=True)
class JoinInput:
    source: DataSource
    alias: str

    @property
    def is_table(self) -> bool:
        return self.source.is_table

    def columns(self) -> list[tuple[str, T.SqlType]]:
        """(column, type) of every column carried through the join, pseudo columns included."""
        own = [(c.name, c.type) for c in self.source.schema.key + self.source.schema.value]
        return own + [(ROWTIME, T.BIGINT)]


@dataclass(frozen=True)
class JoinNode:
    kind: str  # INNER | LEFT | RIGHT | FULL
    left_table: bool  # the left input is a table (else a stream)
    right: int  # index of the right source
    right_table: bool
    left_key: Compiled  # over the joined batch so far
    right_key: Compiled  # over the right source's batch
    within: tuple[int, int] | None  # stream-stream: (before, after) ms
    grace: int
    text: str
    left_field: str | None = None  # the joined field holding the left key, when it is a plain column
    right_field: str | None = None
    eager: bool = True  # stream-stream outer joins without GRACE PERIOD emit unmatched rows at once
    foreign_key: bool = False  # table-table join from a left column to the right table's key
    left_pk_field: str | None = None  # the left table's key field (foreign-key joins key their output by it)

    def describe(self) -> str:
        sides = f"{'TABLE' if self.left_table else 'STREAM'}-{'TABLE' if self.right_table else 'STREAM'}"
        if self.within:
            state = (f"keeps each side's rows for {self.within[0]} ms before / {self.within[1]} ms after, "
                     f"plus {self.grace} ms grace")
        elif self.foreign_key:
            state = "keeps every row of both tables (left rows by key and by foreign key)"
        elif self.left_table:
            state = "keeps the current row of each key of both tables"
        else:
            state = "keeps the current row of each key of the table"
        return f"Join {self.kind} {sides}{' (foreign key)' if self.foreign_key else ''} ON {self.text} [{state}]"


@dataclass(frozen=True)
class JoinPlan:
    inputs: tuple[JoinInput, ...]
    joins: tuple[JoinNode, ...]
    fields: tuple[tuple[str, T.SqlType], ...]  # every field of the joined rows

    @property
    def produces_table(self) -> bool:
        return all(i.is_table for i in self.inputs)

    def describe(self) -> str:
        return " -> ".join(node.describe() for node in self.joins)


def joined_scope(inputs: list[JoinInput], custom_types: dict) -> Scope:
    scope = Scope()
    scope.custom_types = custom_types
    counts: dict[str, int] = {}
    for join_input in inputs:
        for name, _ in join_input.columns():
            counts[name] = counts.get(name, 0) + 1
    for join_input in inputs:
        for name, sql_type in join_input.columns():
            field = field_name(join_input.alias, name)
            if counts[name] == 1 and name != ROWTIME:
                scope.add(None, name, field, sql_type)
            scope._columns[(join_input.alias, name)] = scope_column(field, sql_type)
            scope.sources.add(join_input.alias)
            scope.sources.add(join_input.source.name)
            scope._columns[(join_input.source.name, name)] = scope_column(field, sql_type)
        for name in counts:
            if counts[name] > 1 and name != ROWTIME:
                scope._ambiguous.add(name)
    scope.add(None, ROWTIME, ROWTIME, T.BIGINT)
    for name, sql_type in PSEUDO_COLUMNS.items():
        if name != ROWTIME:
            scope.add(None, name, name, sql_type)
    return scope


def scope_column(field, sql_type):
    from ksql.planner.expressions import ScopeColumn

    return ScopeColumn(field, sql_type)


def plan_joins(query: ast.Query, metastore: MetaStore) -> tuple[JoinPlan, Scope]:
    inputs = [_input(query.source, metastore)]
    for join in query.joins:
        inputs.append(_input(join.relation, metastore))
    aliases = [i.alias for i in inputs]
    duplicate = next((a for a in aliases if aliases.count(a) > 1), None)
    if duplicate:
        raise KsqlStatementError(f"Can not join '{duplicate}' to '{duplicate}': self joins need an alias on "
                                 f"each side (FROM s a JOIN s b ...).")
    scope = joined_scope(inputs, metastore.types)
    nodes = []
    for index, join in enumerate(query.joins, start=1):
        nodes.append(_join_node(join, index, inputs, scope, nodes))
    fields = []
    for join_input in inputs:
        fields += [(field_name(join_input.alias, n), t) for n, t in join_input.columns()]
    return JoinPlan(tuple(inputs), tuple(nodes), tuple(fields)), scope


def _input(relation: ast.Relation, metastore: MetaStore) -> JoinInput:
    source = metastore.get(relation.name)
    if source is None:
        raise KsqlStatementError(f"{relation.name} does not exist.")
    return JoinInput(source, relation.alias or source.name)


# how ksqlDB spells each join kind in its messages
_JOIN_TEXT = {"INNER": "[INNER] JOIN", "LEFT": "LEFT [OUTER] JOIN", "RIGHT": "RIGHT [OUTER] JOIN",
              "FULL": "[FULL] OUTER JOIN"}


def _join_node(join: ast.Join, index: int, inputs: list[JoinInput], scope: Scope, previous) -> JoinNode:
    right = inputs[index]
    left_inputs = inputs[:index]
    left_table = all(i.is_table for i in left_inputs) if index == 1 else (
        previous[-1].left_table and previous[-1].right_table)
    criteria = join.criteria
    if isinstance(criteria, ast.LogicalOp) and criteria.op == "AND":
        raise KsqlStatementError(f"Invalid join condition: joins on multiple conditions are not yet supported. "
                                 f"Got {format_expression(criteria)}.")
    if not (isinstance(criteria, ast.BinaryOp) and criteria.op == "="):
        raise KsqlStatementError(f"Unsupported join expression: {format_expression(criteria)}. Only equality "
                                 f"joins are supported (ON a.x = b.y).")
    sides = [criteria.left, criteria.right]
    right_names = {right.alias, right.source.name}
    on_right = [_refers_to(e, right_names, right) for e in sides]
    for side in sides:
        if not _has_columns(side):
            raise KsqlStatementError(
                f"Invalid comparison expression '{format_expression(side)}' in join '{format_expression(criteria)}'. "
                f"Each side of the join comparision must contain references from exactly one source.")
    if on_right[0] == on_right[1]:
        raise KsqlStatementError(
            f"Invalid comparison expression '{format_expression(criteria)}' in join "
            f"'{format_expression(criteria)}'. Each side of the join comparision must contain references from "
            f"exactly one source.")
    right_expr = sides[on_right.index(True)]
    left_expr = sides[on_right.index(False)]
    left_key = compile_expression(left_expr, scope)
    right_key = compile_expression(right_expr, scope)
    if left_key.type != right_key.type and not (left_key.type and right_key.type and left_key.type.is_numeric
                                                 and right_key.type.is_numeric):
        raise KsqlStatementError(
            f"Invalid join condition: types don't match. Got {format_expression(left_expr)}{{{left_key.type}}} = "
            f"{format_expression(right_expr)}{{{right_key.type}}}.")
    if not left_table and right.is_table and join.kind in ("RIGHT", "FULL"):
        raise KsqlStatementError(f"Invalid join type: {join.kind.lower()}-outer join not supported for stream-table "
                                 f"join. Got {left_inputs[-1].source.name} {_JOIN_TEXT[join.kind]} "
                                 f"{right.source.name}.")
    if left_table and not right.is_table:
        raise KsqlStatementError("Invalid join order: table-stream joins are not supported; only stream-table "
                                 "joins. Got " + f"{left_inputs[-1].source.name} {_JOIN_TEXT[join.kind]} {right.source.name}.")
    if not left_table and not right.is_table and join.within is None:
        raise KsqlStatementError("Stream-Stream joins must have a WITHIN clause specified. None was provided. "
                                 "To learn about how to specify a WITHIN clause with a stream-stream join, please "
                                 "visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html"
                                 "#create-stream-as-select")
    if right.is_table and join.within is not None:
        raise KsqlStatementError("A window definition was provided for a Stream-Table join. These joins are not "
                                 "windowed. Please drop the window definition (ie. the WITHIN clause) and try "
                                 "to execute your join again.")
    foreign_key = left_table and right.is_table and index == 1 and not _is_primary_key(left_expr, left_inputs[0])
    if right.is_table and not _is_primary_key(right_expr, right):
        written = " = ".join(format_expression(_qualified(e, inputs)) for e in sides)
        if left_table:
            raise KsqlStatementError(f"Invalid join condition: table-table joins require to join on the primary key "
                                     f"of the right input table. Got {written}.")
        raise KsqlStatementError(f"Invalid join condition: stream-table joins require to join on the table's "
                                 f"primary key. Got {written}.")
    grace = join.grace if join.grace is not None else DEFAULT_JOIN_GRACE_MS
    if foreign_key and join.kind in ("RIGHT", "FULL"):
        raise KsqlStatementError(f"{join.kind} OUTER JOIN on a foreign key is not supported")
    left_pk = left_inputs[0].source.schema.key
    left_pk_field = field_name(left_inputs[0].alias, left_pk[0].name) if foreign_key and left_pk else None
    return JoinNode(join.kind, left_table, index, right.is_table, left_key, right_key, join.within, grace,
                    format_expression(criteria), _field(left_expr, scope), _field(right_expr, scope),
                    eager=join.grace is None, foreign_key=foreign_key, left_pk_field=left_pk_field)


def _field(expr, scope: Scope) -> str | None:
    return scope.resolve(expr).field if isinstance(expr, ast.ColumnRef) else None


def _refers_to(expr, names: set[str], join_input: JoinInput) -> bool:
    from ksql.planner.aggregation import walk

    refs = []
    walk(expr, lambda e: refs.append(e) if isinstance(e, ast.ColumnRef) else None)
    for ref in refs:
        if ref.source is not None:
            if ref.source in names:
                return True
        elif join_input.source.schema.find(ref.name) is not None:
            return True
    return False


def _qualified(expr, inputs: list[JoinInput]):
    """The expression with each unqualified column named by the source that has it."""
    from ksql.planner.aggregation import rewrite

    def qualify(e):
        if isinstance(e, ast.ColumnRef) and e.source is None:
            owner = next((i for i in inputs if i.source.schema.find(e.name) is not None), None)
            return ast.ColumnRef(e.name, owner.source.name) if owner else None
        return None

    return rewrite(expr, qualify)


def _has_columns(expr) -> bool:
    from ksql.planner.aggregation import walk

    refs = []
    walk(expr, lambda e: refs.append(e) if isinstance(e, ast.ColumnRef) else None)
    return bool(refs)


def _is_primary_key(expr, join_input: JoinInput) -> bool:
    key = join_input.source.schema.key
    return isinstance(expr, ast.ColumnRef) and len(key) == 1 and expr.name == key[0].name


def output_name(expr, inputs: list[JoinInput], scope: Scope) -> str | None:
    """ksqlDB's name for a selected column of a join: COL when unique, ALIAS_COL otherwise."""
    if not isinstance(expr, ast.ColumnRef):
        return None
    if expr.source is None or expr.name not in scope._ambiguous:
        return expr.name
    alias = next((i.alias for i in inputs if expr.source in (i.alias, i.source.name)), expr.source)
    return f"{alias}_{expr.name}"


def expand_star(item: ast.SelectAll, inputs: list[JoinInput]) -> list[tuple[str, ast.ColumnRef]]:
    chosen = inputs if item.source is None else [i for i in inputs if item.source in (i.alias, i.source.name)]
    if not chosen:
        raise KsqlStatementError(f"'{item.source}' is not a valid stream/table name or alias.")
    out = []
    for join_input in chosen:
        for column in join_input.source.schema.key + join_input.source.schema.value:
            out.append((f"{join_input.alias}_{column.name}", ast.ColumnRef(column.name, join_input.alias)))
    return out


def output_columns(query: ast.Query, plan: JoinPlan, scope: Scope, sink: str | None, persistent: bool):
    """(Column, compiled) for the projection; the join key becomes the key column."""
    items, generated = [], 0
    for item in query.select:
        if isinstance(item, ast.SelectAll):
            items += expand_star(item, list(plan.inputs))
            continue
        if isinstance(item, ast.SelectStructAll):
            raise KsqlStatementError("'->*' is not supported in joins yet.")
        name = item.alias or output_name(item.expression, list(plan.inputs), scope)
        if name is None:
            name = f"KSQL_COL_{generated}"
            generated += 1
        items.append((name, item.expression))
    if plan.joins[0].foreign_key:
        left = plan.inputs[0]
        key_exprs = [ast.ColumnRef(c.name, left.alias) for c in left.source.schema.key]
    else:
        key_exprs = [query.joins[0].criteria.left, query.joins[0].criteria.right]
    columns, key_found = [], False
    for name, expr in items:
        compiled = compile_expression(expr, scope)
        namespace = VALUE
        if persistent and not key_found and _same_field(expr, key_exprs, scope):
            namespace, key_found = KEY, True
        columns.append((Column(name, compiled.type or T.STRING, namespace), compiled))
    if persistent and not key_found:
        if plan.joins[0].foreign_key:
            raise KsqlStatementError(
                "Primary key column missing in projection. For foreign-key table-table joins, the projection "
                "must include all primary key columns from the left input table "
                f"({', '.join('`' + format_expression(e).split('.')[-1] + '`' for e in key_exprs)}).")
        shown = [format_expression(e) for e in key_exprs if isinstance(e, ast.ColumnRef)]
        plural = len(shown) > 1
        raise KsqlStatementError(
            f"The query used to build `{sink}` must include the join expression{'s' if plural else ''} "
            f"{' or '.join(shown)} in its projection (eg, SELECT {shown[0] if shown else 'ROWKEY'}...).")
    keys = [c for c in columns if c[0].namespace == KEY]
    return keys + [c for c in columns if c[0].namespace == VALUE]


def _same_field(expr, key_exprs, scope: Scope) -> bool:
    if not isinstance(expr, ast.ColumnRef):
        return False
    try:
        field = scope.resolve(expr).field
    except KsqlStatementError:
        return False
    for key in key_exprs:
        if isinstance(key, ast.ColumnRef):
            try:
                if scope.resolve(key).field == field:
                    return True
            except KsqlStatementError:
                continue
    return False
