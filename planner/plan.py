"""Analyzer and logical plan: a parsed query, checked against the metastore, becomes a chain
of small plan nodes (Source -> Filter -> Project [-> Repartition]) whose expressions are
already bound."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ksql.parser.errors import KsqlPreparationError, KsqlStatementError
from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.binder import bind, struct_fields
from ksql.planner import bound as B
from ksql.planner.bound import Expr
from ksql.planner.scope import Scope
from ksql.planner.format import format_expression
from ksql.planner.metastore import DataSource, MetaStore
from ksql.planner.naming import ColumnNamer
from ksql.planner.schema import (KEY, PSEUDO_COLUMNS, RESERVED_NAMES, VALUE, WINDOWEND, WINDOWSTART, Column,
                                 LogicalSchema, reserved_name_error)
from ksql.planner.aggregation import plan_aggregation
from ksql.planner.join_output import output_columns, output_name
from ksql.planner.joins import JOIN_KEY, JoinPlan, plan_joins
from ksql.planner.properties import StreamProperties
from ksql.planner.tree import contains_aggregate, rewrite, unqualified, walk
from ksql.planner.windows import WindowSpec

NULL_VALUE = "__NULL_VALUE"  # batch column: the record's value was null (a tombstone for tables)
OUTPUT_TIME = "__ROWTIME"  # batch column: the timestamp of a projected output row (ROWTIME may be a column)


@dataclass(frozen=True, slots=True)
class SourceNode:
    source: DataSource
    alias: str
    properties: StreamProperties | None = None  # what it emits: set by with_properties, as on every node

    def describe(self) -> str:
        return f"Source {self.source.name} [{self.source.kind}, topic {self.source.topic}]"


@dataclass(frozen=True, slots=True)
class FilterNode:
    predicate: Expr
    text: str
    table: bool = False  # on a table, a row that stops matching becomes a tombstone
    key_fields: tuple[str, ...] = ()  # on a table: the batch columns that identify a row
    properties: StreamProperties | None = None

    def describe(self) -> str:
        return f"Filter {self.text}"

    def derive(self, below: StreamProperties, plan: "QueryPlan") -> StreamProperties:
        return below


@dataclass(frozen=True, slots=True)
class ProjectNode:
    columns: tuple[tuple[Column, Expr], ...]
    # output columns that hold the row's key or window: a table's deleted row (a tombstone)
    # still shows them in a push query, its other columns are null
    key_names: frozenset = frozenset()
    properties: StreamProperties | None = None

    def describe(self) -> str:
        return "Project " + ", ".join(c.name for c, _ in self.columns)

    def derive(self, below: StreamProperties, plan: "QueryPlan") -> StreamProperties:
        if self is not plan.steps[-1]:
            return below
        return dataclasses.replace(below, changelog=plan.produces_table, key=self._output_key(below, plan))

    def _output_key(self, below: StreamProperties, plan: "QueryPlan") -> tuple[str, ...]:
        """The output's key columns: the sink's, else (a push query) the columns of a changelog's
        rows that hold its key, else the input's key columns it selects by name."""
        if plan.schema.key:
            return tuple(c.name for c in plan.schema.key)
        names = [c.name for c, _ in self.columns]
        grouping = tuple(n for n in names if n in self.key_names and n not in (WINDOWSTART, WINDOWEND))
        if grouping and below.changelog:
            return grouping
        # a column selected as it is: KEY, or S.KEY selected as KEY or S_KEY (how joins name it)
        spellings = {spelling for k in below.key for spelling in (k, k.rsplit(".", 1)[-1], k.replace(".", "_"))}
        for join_input in plan.joins.inputs if plan.joins is not None else ():  # a joined field, ALIAS_COL
            spellings |= {k[len(join_input.alias) + 1:] for k in below.key if k.startswith(join_input.alias + "_")}
        selected = tuple(n for n in names if n in spellings)
        return selected or below.key  # not selected: the rows still carry the input's key


@dataclass(frozen=True, slots=True)
class PartitionByNode:
    """PARTITION BY: the rows re-keyed by these expressions (the sink partitions them by the new
    key). Not the repartition topic a GROUP BY goes through when spread over servers
    (planner/partitioning.py, runtime/repartition.py)."""

    keys: tuple[Expr, ...]
    texts: tuple[str, ...]
    properties: StreamProperties | None = None

    def describe(self) -> str:
        return "PartitionBy " + (", ".join(self.texts) or "NULL")

    def derive(self, below: StreamProperties, plan: "QueryPlan") -> StreamProperties:
        return dataclasses.replace(below, key=self.texts, partitioning=self.texts)


@dataclass(frozen=True, slots=True)
class QueryPlan:
    source: SourceNode
    steps: tuple  # JoinPlan, Filter, TableFunction, Aggregate, Project, PartitionBy nodes, in order
    schema: LogicalSchema  # output columns (KEY / VALUE)
    limit: int | None = None
    emit: str | None = None
    produces_table: bool = False  # the result is a table (a table source, or GROUP BY)
    window: WindowSpec | None = None  # the result is windowed
    joins: object = None  # a JoinPlan when the query joins several sources

    @property
    def sources(self) -> list[DataSource]:
        if self.joins is not None:
            return [i.source for i in self.joins.inputs]
        return [self.source.source]


def with_properties(plan: QueryPlan) -> QueryPlan:
    """The plan with every node carrying what it emits, each derived from its input's."""
    source = dataclasses.replace(plan.source, properties=StreamProperties.of_source(plan.source.source))
    below, steps = source.properties, []
    for step in plan.steps:
        if isinstance(step, JoinPlan):  # its own inputs are sources: it starts over from them
            step = step.with_properties()
        else:
            step = dataclasses.replace(step, properties=step.derive(below, plan))
        below = step.properties
        steps.append(step)
    return dataclasses.replace(plan, source=source, steps=tuple(steps))


def source_scope(source: DataSource, alias: str) -> Scope:
    scope = Scope()
    for name, sql_type in PSEUDO_COLUMNS.items():
        scope.add(alias, name, name, sql_type)
    for column in source.schema.columns:
        scope.add(alias, column.name, column.name, column.type)
    if source.window_type is not None:
        scope.add(alias, WINDOWSTART, WINDOWSTART, T.BIGINT)
        scope.add(alias, WINDOWEND, WINDOWEND, T.BIGINT)
    if alias != source.name:
        scope.sources.add(source.name)
    return scope


def plan_query(query: ast.Query, metastore: MetaStore, sink: str | None = None,
               persistent: bool = False) -> QueryPlan:
    """The plan of a query, checked against the metastore, its nodes carrying their properties."""
    return with_properties(_plan_query(query, metastore, sink, persistent))


def _plan_query(query: ast.Query, metastore: MetaStore, sink: str | None, persistent: bool) -> QueryPlan:
    source = metastore.get(query.source.name)
    if source is None:
        raise KsqlPreparationError(f"{query.source.name} does not exist.")
    alias = query.source.alias or source.name
    if query.joins:
        return _plan_join(query, metastore, sink, persistent)
    scope = source_scope(source, alias)
    scope.custom_types = metastore.types
    steps = []

    if query.where is not None:
        try:
            predicate = bind(query.where, scope)
        except KsqlStatementError as error:
            bound = next((b for b in (WINDOWSTART, WINDOWEND) if f"Column '{b}' cannot be resolved" in str(error)), None)
            if bound is not None and (persistent or query.emit is not None):  # only after windowed aggregations
                raise KsqlStatementError(f"Error in WHERE expression: Unknown column {bound}.") from None
            raise _clause_error(error, "WHERE") from None
        if predicate.type is not None and predicate.type.base != "BOOLEAN":
            raise KsqlStatementError(
                f"Type error in WHERE expression: Should evaluate to boolean but is "
                f"{format_expression(query.where)} ({predicate.type}) instead.")
        steps.append(FilterNode(predicate, format_expression(query.where), table=source.is_table,
                                key_fields=tuple(c.name for c in source.schema.key)))

    if _is_aggregation(query):
        if _table_functions(query):
            raise KsqlStatementError("Table functions cannot be used with aggregations.")
        return _plan_aggregation(query, source, alias, scope, steps, sink, persistent)
    if _table_functions(query):
        if source.is_table:
            raise KsqlStatementError("Table source is not supported with table functions")
        query = _plan_table_functions(query, scope, steps)
    if query.window is not None:
        raise KsqlStatementError("WINDOW clause requires a GROUP BY clause.")
    items = _select_items(query, source, alias, scope, persistent)
    partition_by = query.partition_by
    if partition_by and source.is_table:
        raise KsqlStatementError("Only streams can be repartitioned: PARTITION BY is not allowed on a table.")
    if partition_by:
        key_exprs = [e for e in partition_by if not _is_null_literal(e)]
        if len(partition_by) > 1 and len(key_exprs) != len(partition_by):
            raise KsqlStatementError("Cannot PARTITION BY multiple columns including NULL")
        try:
            keys = tuple(bind(e, scope) for e in key_exprs)
        except KsqlStatementError as error:
            error = _clause_error(error, "PARTITION BY")
            unknown = next((e for e in key_exprs if isinstance(e, ast.ColumnRef)
                            and f"'{e.name}' cannot be resolved" in str(error)), None)
            if unknown is not None:
                error = KsqlStatementError(f"{error} '{unknown.name}' must be a column in the source schema since "
                                           f"PARTITION BY is applied on the input.")
            raise error from None
        steps.append(PartitionByNode(keys, tuple(format_expression(e) for e in key_exprs)))
        key_sources = list(key_exprs)
        if persistent and _is_select_star(query):
            items = _repartitioned_star(source, key_exprs, keys, scope)
    else:
        key_sources = [ast.ColumnRef(c.name) for c in source.schema.key]

    columns = []
    key_found = set()
    for name, expr, bound in items:
        if persistent and bound.type is None:
            raise KsqlStatementError("Can't infer a type of null. Please explicitly cast it to a required type, "
                                     "e.g. CAST(null AS VARCHAR).")
        namespace = VALUE
        if persistent and _matches_key(expr, key_sources, alias, source.name):
            namespace = KEY
            if _key_name(expr) in key_found and partition_by:
                first = next(c.name for c, _ in columns if c.namespace == KEY)
                raise KsqlStatementError(f"The projection contains a key column (`{_key_name(expr)}`) more than "
                                         f"once, aliased as: {first} and {name}.")
            key_found.add(_key_name(expr))
        if namespace == KEY and partition_by:
            bound = _null_for_null_value(bound, source, scope)
        columns.append((Column(name, bound.type or T.STRING, namespace), bound))

    if persistent:
        missing = [_key_name(k) for k in key_sources if _key_name(k) not in key_found]
        # ksqlDB names every key column (or partitioning expression) when any is missing
        if missing and partition_by:
            shown = [format_expression(_qualify(k, source)) for k in key_sources]
            plural = "s" if len(shown) > 1 else ""
            raise KsqlStatementError(
                f"The query used to build `{sink}` must include the partitioning expression{plural} "
                f"{' and '.join(shown)} in its projection (eg, SELECT {', '.join(shown)}...).")
        if missing:
            every = [_key_name(k) for k in key_sources]
            plural = "s" if len(every) > 1 else ""
            raise KsqlStatementError(
                f"The query used to build `{sink}` must include the key column{plural} {' and '.join(every)} in its "
                f"projection (eg, SELECT {', '.join(every)}...).")
        # Key columns come first in the output schema, in the order of the source key.
        order = {n: i for i, n in enumerate(_key_name(k) for k in key_sources)}
        keys = sorted((c for c in columns if c[0].namespace == KEY),
                      key=lambda c: order[_key_name(_expr_of(items, c[0].name))])
        columns = keys + [c for c in columns if c[0].namespace != KEY]

    seen = set()
    for column, _ in columns:
        if column.name in seen:
            kind = "key" if column.namespace == KEY else "value"
            raise KsqlStatementError(f"Duplicate {kind} columns found in schema: `{column.name}` {column.type}")
        seen.add(column.name)
    key_refs = {c.name for c in source.schema.key} | {WINDOWSTART, WINDOWEND}
    key_names = frozenset(name for name, expr, _ in items if isinstance(expr, ast.ColumnRef) and expr.name in key_refs)
    steps.append(ProjectNode(tuple(columns), key_names))
    schema = LogicalSchema(tuple(c for c, _ in columns))
    return QueryPlan(SourceNode(source, alias), tuple(steps), schema, query.limit, query.emit,
                     produces_table=source.is_table)


def _null_for_null_value(bound: Expr, source: DataSource, scope: Scope) -> Expr:
    """A PARTITION BY key read from a record's value (or its ROWTIME) is null when the value
    is: ksqlDB evaluates it over the value, and copies only a key taken from the key alone."""
    key_fields = {bind(ast.ColumnRef(c.name), scope).field for c in source.schema.key}
    fields = set()

    def visit(expr):
        if isinstance(expr, B.Column):
            fields.add(expr.field)
        for child in expr.children():
            visit(child)

    visit(bound)
    if fields <= key_fields:
        return bound
    null_value = B.Column(T.BOOLEAN, NULL_VALUE)
    return B.Case(bound.type, ((null_value, B.Literal(bound.type, None)),), bound)


TABLE_FUNCTIONS = ("EXPLODE", "CUBE_EXPLODE")


@dataclass(frozen=True, slots=True)
class TableFunctionNode:
    """EXPLODE / CUBE_EXPLODE: one output row per element; several table functions in one
    SELECT are zipped (the shorter ones padded with NULLs)."""

    calls: tuple[tuple[str, Expr], ...]  # (function name, bound array argument)
    fields: tuple[str, ...]  # batch columns holding each call's elements
    properties: StreamProperties | None = None

    def describe(self) -> str:
        return "TableFunction " + ", ".join(name for name, _ in self.calls)

    def derive(self, below: StreamProperties, plan: "QueryPlan") -> StreamProperties:
        return below


def _table_functions(query: ast.Query) -> list:
    found = []
    for item in query.select:
        if isinstance(item, ast.SelectExpression):
            walk(item.expression, lambda e: found.append(e) if isinstance(e, ast.FunctionCall)
                  and e.name in TABLE_FUNCTIONS and e not in found else None)
    return found


def _plan_table_functions(query: ast.Query, scope: Scope, steps: list) -> ast.Query:
    """Add a TableFunctionNode and return the query with each call replaced by its element column."""
    calls = _table_functions(query)
    bound, fields = [], []
    for i, call in enumerate(calls):
        if call.name not in ("EXPLODE", "CUBE_EXPLODE"):
            arg = bind(call, scope)  # a user table function: explode what it returns
        elif len(call.args) != 1:
            raise KsqlStatementError(f"Function '{call.name.lower()}' takes one argument.")
        else:
            arg = bind(call.args[0], scope)
        if arg.type is None or arg.type.base != "ARRAY":
            raise KsqlStatementError(
                f"Function '{call.name.lower()}' does not accept parameters ({arg.type}).\nValid alternatives are:"
                f"\nexplode(ARRAY<DECIMAL> input)\nexplode(ARRAY<T> list)")
        field = f"__TF_{i}"
        element = arg.type if call.name == "CUBE_EXPLODE" else arg.type.params[0]
        scope.add(None, field, field, element)
        bound.append((call.name if call.name == "CUBE_EXPLODE" else "EXPLODE", arg))
        fields.append(field)
    steps.append(TableFunctionNode(tuple(bound), tuple(fields)))

    def replace(e):
        if isinstance(e, ast.FunctionCall) and e in calls:
            return ast.ColumnRef(fields[calls.index(e)])
        return None

    select, namer = [], ColumnNamer()
    for item in query.select:
        if isinstance(item, ast.SelectExpression):
            # Names are given from the expressions as written, before the calls are replaced.
            alias = namer.name(item.expression, item.alias)
            item = ast.SelectExpression(rewrite(item.expression, replace), alias)
        select.append(item)
    return dataclasses.replace(query, select=tuple(select))


def _is_select_star(query: ast.Query) -> bool:
    return len(query.select) == 1 and isinstance(query.select[0], ast.SelectAll) and query.select[0].source is None


def _repartitioned_star(source: DataSource, key_exprs, keys, scope: Scope) -> list:
    """SELECT * ... PARTITION BY: the new key first (named after the expression), then the value
    columns (header columns among them), then the old key columns, minus the columns that
    became the key."""
    namer = ColumnNamer()
    items, moved = [], set()
    for expr, bound in zip(key_exprs, keys):
        items.append((namer.name(expr, None), expr, bound))
        if isinstance(expr, ast.ColumnRef):
            moved.add(expr.name)
    for column in source.schema.value + source.schema.headers + source.schema.key:
        if column.name not in moved:
            expr = ast.ColumnRef(column.name)
            items.append((column.name, expr, bind(expr, scope)))
    return items


def _qualify(expr, source: DataSource):
    return rewrite(expr, lambda e: ast.ColumnRef(e.name, source.name)
                   if isinstance(e, ast.ColumnRef) and e.source is None and source.schema.find(e.name) else None)


def _is_aggregation(query: ast.Query) -> bool:
    return query.group_by is not None or query.having is not None or any(
        isinstance(i, ast.SelectExpression) and contains_aggregate(i.expression) for i in query.select)


def _grouping_names(query: ast.Query, columns) -> frozenset:
    """The output columns of an aggregation that are its grouping expressions or window bounds."""
    groups = {format_expression(unqualified(e, {query.source.alias, query.source.name}))
              for e in query.group_by or ()}
    names = set()
    for item, (column, _) in zip([i for i in query.select if isinstance(i, ast.SelectExpression)], columns):
        expr = unqualified(item.expression, {query.source.alias, query.source.name})
        if format_expression(expr) in groups or (isinstance(expr, ast.ColumnRef)
                                                 and expr.name in (WINDOWSTART, WINDOWEND)):
            names.add(item.alias or column.name)
    return frozenset(names)


def _plan_aggregation(query, source, alias, scope, steps, sink, persistent) -> QueryPlan:
    if query.partition_by:
        raise KsqlStatementError("PARTITION BY cannot be used with GROUP BY.")
    node, having, columns = plan_aggregation(query, source, alias, scope, sink, persistent)
    steps.append(node)
    if having is not None:
        window = (WINDOWSTART, WINDOWEND) if query.window is not None else ()
        key_fields = tuple(f"__KEY_{i}" for i in range(len(node.keys))) + window
        steps.append(FilterNode(having, format_expression(query.having), table=True, key_fields=key_fields))
    steps.append(ProjectNode(tuple(columns), _grouping_names(query, columns)))
    schema = LogicalSchema(tuple(c for c, _ in columns))
    return QueryPlan(SourceNode(source, alias), tuple(steps), schema, query.limit, query.emit,
                     produces_table=True, window=node.window)


def _plan_join(query: ast.Query, metastore: MetaStore, sink, persistent) -> QueryPlan:
    if query.group_by is not None or _is_aggregation(query):
        return _plan_join_aggregation(query, metastore, sink, persistent)
    if query.window is not None:
        raise KsqlStatementError("WINDOW clause requires a GROUP BY clause.")
    join_plan, scope = plan_joins(query, metastore)
    if query.partition_by and join_plan.produces_table:
        raise KsqlStatementError("Only streams can be repartitioned: PARTITION BY is not allowed on a table.")
    steps = [join_plan]
    if query.where is not None:
        try:
            predicate = bind(query.where, scope)
        except KsqlStatementError as error:
            message = str(error)
            if not message.startswith("Error in WHERE expression: Cannot compare"):
                raise
            first, _, rest = message.partition("\n")
            for join_input in join_plan.inputs:  # columns named as the join names them
                first = first.replace(f"{join_input.alias}.", f"{join_input.alias}_")
            message = f"{first}\n{rest}" if rest else first
            raise KsqlStatementError(message) from None
        key_fields = tuple(f for f in (join_plan.joins[0].left_field, join_plan.joins[0].right_field) if f)
        steps.append(FilterNode(predicate, format_expression(query.where), table=join_plan.produces_table,
                                key_fields=key_fields[:1]))
    columns = output_columns(query, join_plan, scope, sink, persistent)
    steps.append(ProjectNode(tuple(columns)))
    schema = LogicalSchema(tuple(c for c, _ in columns))
    left = join_plan.inputs[0]
    return QueryPlan(SourceNode(left.source, left.alias), tuple(steps), schema, query.limit, query.emit,
                     produces_table=join_plan.produces_table, joins=join_plan)


def _plan_join_aggregation(query: ast.Query, metastore: MetaStore, sink, persistent) -> QueryPlan:
    """GROUP BY over a join: the joined rows are aggregated as if they came from one source
    whose columns are named as a join names them (ALIAS_COLUMN)."""
    if query.partition_by:
        raise KsqlStatementError("PARTITION BY cannot be used with GROUP BY.")
    join_plan, scope = plan_joins(query, metastore)
    steps: list = [join_plan]
    if query.where is not None:
        steps.append(FilterNode(bind(query.where, scope), format_expression(query.where),
                                table=join_plan.produces_table, key_fields=(JOIN_KEY,)))
    joined = Scope()
    joined.custom_types = scope.custom_types
    columns = [Column(JOIN_KEY, join_plan.key_type, KEY)]
    joined.add(None, JOIN_KEY, JOIN_KEY, join_plan.key_type)
    for field, sql_type in join_plan.fields:
        if field != JOIN_KEY:
            name = field.replace("__", "_", 1)
            joined.add(None, name, field, sql_type)
            columns.append(Column(name, sql_type, VALUE))
    for name, sql_type in PSEUDO_COLUMNS.items():
        joined.add(None, name, name, sql_type)
    inputs = list(join_plan.inputs)

    def to_joined(expr):
        def replace(e):
            if isinstance(e, ast.ColumnRef):
                field = scope.resolve(e).field
                return ast.ColumnRef(field.replace("__", "_", 1) if "__" in field[1:] else field)
            return None
        return rewrite(expr, replace) if expr is not None else None

    select = []
    for item in query.select:
        if isinstance(item, ast.SelectExpression):
            alias = item.alias or output_name(item.expression, inputs, scope)
            try:
                select.append(ast.SelectExpression(to_joined(item.expression), alias))
            except KsqlStatementError as error:
                raise _clause_error(error, "SELECT") from None
        else:
            select.append(item)
    rewritten = dataclasses.replace(query, select=tuple(select), where=None, joins=(),
                                    group_by=tuple(to_joined(e) for e in query.group_by or ()) or None,
                                    having=to_joined(query.having))
    source = DataSource(name="JOINED", kind="TABLE" if join_plan.produces_table else "STREAM",
                        schema=LogicalSchema(tuple(columns)), topic="", key_format="NONE",
                        value_format=join_plan.inputs[0].source.value_format)
    node, having, output = plan_aggregation(rewritten, source, "JOINED", joined, sink, persistent)
    steps.append(node)
    if having is not None:
        window = (WINDOWSTART, WINDOWEND) if query.window is not None else ()
        key_fields = tuple(f"__KEY_{i}" for i in range(len(node.keys))) + window
        steps.append(FilterNode(having, format_expression(query.having), table=True, key_fields=key_fields))
    steps.append(ProjectNode(tuple(output)))
    left = join_plan.inputs[0]
    return QueryPlan(SourceNode(left.source, left.alias), tuple(steps), LogicalSchema(tuple(c for c, _ in output)),
                     query.limit, query.emit, produces_table=True, window=node.window, joins=join_plan)


def _expr_of(items, name):
    for item_name, expr, _ in items:
        if item_name == name:
            return expr
    return None


def _is_null_literal(expr) -> bool:
    return isinstance(expr, ast.Literal) and expr.kind == "NULL"


def _key_name(expr) -> str:
    return expr.name if isinstance(expr, ast.ColumnRef) else format_expression(expr)


def _matches_key(expr, key_sources, alias, source_name) -> bool:
    for key in key_sources:
        if isinstance(key, ast.ColumnRef) and isinstance(expr, ast.ColumnRef):
            if expr.name == key.name and expr.source in (None, alias, source_name):
                return True
        elif expr == key:
            return True
    return False


def _select_items(query: ast.Query, source: DataSource, alias: str, scope: Scope, persistent: bool = True):
    """(output name, expression, bound) for each selected column, with * expanded."""
    items = []
    namer = ColumnNamer(c.name for c in source.schema.columns)
    for item in query.select:
        if isinstance(item, ast.SelectStructAll):
            items += [(name, expr, bind(expr, scope)) for name, expr in struct_fields(item.expression, scope)]
            continue
        if isinstance(item, ast.SelectAll):
            if item.source is not None and item.source not in (alias, source.name):
                raise KsqlStatementError(f"'{item.source}' is not a valid stream/table name or alias.")
            names = [c.name for c in source.schema.key]
            if source.window_type is not None and not persistent:
                names += [WINDOWSTART, WINDOWEND]  # in a sink they stay in the windowed key
            for name in names + [c.name for c in source.schema.value] + [c.name for c in source.schema.headers]:
                expr = ast.ColumnRef(name)
                items.append((name, expr, bind(expr, scope)))
            continue
        expr = item.expression
        try:
            bound = bind(expr, scope)
        except KsqlStatementError as error:
            raise _clause_error(error, "SELECT") from None
        name = namer.name(expr, item.alias)
        if persistent and name in RESERVED_NAMES and not (name in (WINDOWSTART, WINDOWEND) and source.window_type):
            raise reserved_name_error(name, item.alias)
        items.append((name, expr, bound))
    return items


def _clause_error(error: KsqlStatementError, clause: str) -> KsqlStatementError:
    message = str(error)
    if message.startswith("Column '"):
        return KsqlStatementError(f"{clause} column '{message[8:]}", error.position)
    if message.startswith("Error processing expression:"):
        return KsqlStatementError(f"Error in {clause} expression: {message}")
    if message.startswith("Error in WHERE expression: ") and clause != "WHERE":
        # the binder names WHERE, where most comparisons are; elsewhere the check's own words
        return KsqlStatementError(message.removeprefix("Error in WHERE expression: "), error.position)
    return error


def same_columns(a: LogicalSchema, b: LogicalSchema) -> bool:
    """The same columns (names, types, key or value) in the same order."""
    return [(c.name, c.type, c.namespace) for c in a.columns] == [(c.name, c.type, c.namespace) for c in b.columns]


def cast_to_sink(plan: QueryPlan, sink: LogicalSchema) -> QueryPlan | None:
    """The plan of an INSERT INTO whose value columns differ from the sink's only by a numeric
    type they widen to (or a numeric literal, to any DECIMAL), with those columns cast to the
    sink's types, as ksqlDB coerces implicitly; None when some other difference remains."""
    project = plan.steps[-1] if plan.steps else None
    if not isinstance(project, ProjectNode) or len(plan.schema.columns) != len(sink.columns):
        return None
    wanted = {c.name: c for c in sink.columns}
    columns = []
    for column, expr in project.columns:
        target = wanted.get(column.name)
        if target is None or target.namespace != column.namespace:
            return None
        if target.type != column.type:
            literal = isinstance(expr, B.Literal)
            if not (column.type.is_numeric and target.type.is_numeric and column.namespace == VALUE):
                return None
            if not (T.common_numeric(column.type, target.type) == target.type
                    or literal and target.type.base == "DECIMAL"):
                return None
            column, expr = dataclasses.replace(column, type=target.type), B.Cast(target.type, expr)
        columns.append((column, expr))
    by_name = {c.name: c for c, _ in columns}
    schema = LogicalSchema(tuple(by_name.get(c.name, c) for c in plan.schema.columns))
    if not same_columns(schema, sink):
        return None
    project = dataclasses.replace(project, columns=tuple(columns))
    return dataclasses.replace(plan, steps=plan.steps[:-1] + (project,), schema=schema)
