"""Planning GROUP BY queries: the aggregate node and what is computed after it.

Input rows are grouped by the GROUP BY expressions; each aggregate call keeps a state per
group (and per window). After the aggregate, the SELECT and HAVING expressions are evaluated
on a batch of (group key, aggregate results, window bounds): every sub-expression equal to a
GROUP BY expression is read from the key, every aggregate call from its result.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ksql.parser.errors import KsqlStatementError
from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.aggregates import AGGREGATES, COLLECTION_LIMITS, Aggregate, limited
from ksql.planner.binder import LAMBDA_FUNCTIONS, bind
from ksql.planner.bound import Expr
from ksql.planner.scope import Scope
from ksql.planner.format import format_expression
from ksql.planner.functions import BadArguments
from ksql.planner.metastore import DataSource
from ksql.planner.schema import (KEY, RESERVED_NAMES, ROWTIME, VALUE, WINDOWEND, WINDOWSTART, Column,
                                 reserved_name_error)
from ksql.planner.naming import ColumnNamer
from ksql.planner.properties import StreamProperties
from ksql.planner.tree import contains_aggregate, rewrite, unqualified, walk
from ksql.planner.windows import WindowSpec, resolve_window
from ksql.planner.library import FUNCTIONS

KEY_FIELD = "__KEY_{}"
AGG_FIELD = "__AGG_{}"


@dataclass(frozen=True, slots=True)
class AggregateCall:
    function: Aggregate
    args: tuple[Expr, ...]  # evaluated per input row
    literals: tuple  # trailing constant arguments (TOPK's k, LATEST_BY_OFFSET's n, ...)
    type: T.SqlType
    text: str


@dataclass(frozen=True, slots=True)
class AggregateNode:
    keys: tuple[Expr, ...]
    key_texts: tuple[str, ...]
    calls: tuple[AggregateCall, ...]
    window: WindowSpec | None  # resolved: grace and retention known
    table_source: bool  # input is a table: updates undo the previous row of the same key
    source_key: tuple[str, ...]  # the input table's key columns
    emit_final: bool = False
    key_columns: tuple[str | None, ...] = ()  # each grouping expression's column, when it is one
    properties: StreamProperties | None = None

    def describe(self) -> str:
        window = f" WINDOW {self.window.kind}" if self.window else ""
        calls = ", ".join(c.text for c in self.calls)
        state = "keeps one state per group" + (" and window, for the window's retention" if self.window else "")
        if self.table_source:
            state += ", and the last row of each input key"
        return f"Aggregate by {', '.join(self.key_texts) or '()'}{window} [{calls}; {state}]"

    def derive(self, below: StreamProperties, plan) -> StreamProperties:
        """A changelog keyed by the groups, still partitioned as the input was until a topic
        (the sink or a repartition topic) regroups it: shown keyed and partitioned by the groups,
        as written to the sink."""
        return StreamProperties(True, self.key_texts, self.key_texts,
                                self.window.describe() if self.window is not None else None)

    def groups_by_partitioning(self, partitioning: tuple[str, ...]) -> bool:
        """Whether each group's rows all come from one partition of an input partitioned so:
        it groups by those columns, in their order."""
        return self.key_columns == partitioning


# The aggregate functions whose state ksqlDB keeps as a STRUCT, ARRAY or MAP
COMPLEX_STATE = {"AVG", "CORRELATION", "STDDEV_SAMP", "STDDEV_SAMPLE", "TOPK", "TOPKDISTINCT", "COLLECT_LIST",
                 "COLLECT_SET", "HISTOGRAM", "LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET", "COUNT_DISTINCT"}


def plan_aggregation(query: ast.Query, source: DataSource, alias: str, scope: Scope, sink: str | None,
                     persistent: bool):
    """(AggregateNode, HAVING predicate or None, output columns with their bound expressions)."""
    names = {alias, source.name}
    if query.emit == "FINAL" and query.window is None:
        raise KsqlStatementError("EMIT FINAL is only supported for windowed aggregations.")
    group_by = [unqualified(e, names) for e in (query.group_by or ())]
    if query.group_by and source.value_format == "KAFKA":
        raise KsqlStatementError(f"Source(s) {source.name} are using the 'KAFKA' value format. "
                                 f"This format does not yet support GROUP BY.")
    for i, expr in enumerate(group_by):
        if expr in group_by[:i]:
            shown = f"{source.name}.{expr.name}" if isinstance(expr, ast.ColumnRef) else format_expression(expr)
            raise KsqlStatementError(f"Duplicate GROUP BY expression: {shown}")
    for call in _aggregate_calls(query):
        inner = next((c for a in call.args for c in _calls_in(a)), None)
        if inner is not None:
            raise KsqlStatementError(f"Aggregate functions can not be nested: {format_expression(call)}")
    if persistent and not group_by:
        plain = [format_expression(e) for _, e in _items(query, source, names)
                 if not contains_aggregate(e) and _loose_columns(e)]
        if plain:
            raise KsqlStatementError(f"Non-aggregate SELECT expression(s) not part of GROUP BY: {', '.join(plain)}"
                                     f"\nEither add the column(s) to the GROUP BY or remove them from the SELECT.")
        first = next(_aggregate_calls(query), None)
        text = format_expression(first) if first is not None else "?"
        if first is not None and first.name == "COUNT" and (first.star or not first.args):
            text = "COUNT(ROWTIME)"  # ksqlDB counts rows as COUNT(ROWTIME)
        raise KsqlStatementError(f"CREATE TABLE AS SELECT statement does not support aggregate function [{text}] "
                                 f"without a GROUP BY clause.")
    for expr in group_by:
        if contains_aggregate(expr):
            name = next(c.name for c in _calls_in(expr))
            raise KsqlStatementError(f"GROUP BY does not support aggregate functions: {name} is an aggregate "
                                     f"function.")
    try:
        keys = tuple(bind(e, scope) for e in group_by)
    except KsqlStatementError as error:
        raise KsqlStatementError(str(error).replace("Column '", "GROUP BY column '", 1)) from None

    items = _items(query, source, names)
    for _, expr in items:
        _check_functions_exist(expr)
    calls: list[ast.FunctionCall] = []

    def collect(e):
        if isinstance(e, ast.FunctionCall) and e.name in AGGREGATES and e not in calls:
            calls.append(e)

    for _, expr in items:
        walk(expr, collect)
    having = unqualified(query.having, names) if query.having is not None else None
    if having is not None:
        bounds = [b for b in (WINDOWSTART, WINDOWEND) if b in _columns_named(having)]
        if bounds:  # (before the aggregates' arguments are bound: MIN(WINDOWSTART) names no column)
            raise KsqlStatementError(f"Window bounds column {bounds[0]} can only be used in the SELECT clause of "
                                     f"windowed aggregations")
        walk(having, collect)

    bound_calls = tuple(_bind_call(c, scope, source) for c in calls)
    if source.is_table:
        refused = [c.function.name for c in bound_calls if c.function.undo is None]
        if refused:
            listed = ", ".join(refused[:-1]) + (" and " if len(refused) > 1 else "") + refused[-1]
            raise KsqlStatementError(f"The aggregation functions {listed} cannot be applied to a table source, "
                                     f"only to a stream source.")

    post = Scope()
    post.custom_types = scope.custom_types
    for i, (expr, bound) in enumerate(zip(group_by, keys)):
        post.add(None, KEY_FIELD.format(i), KEY_FIELD.format(i), bound.type or T.STRING)
    for i, call in enumerate(bound_calls):
        post.add(None, AGG_FIELD.format(i), AGG_FIELD.format(i), call.type)
    post.add(None, ROWTIME, ROWTIME, T.BIGINT)
    if source.value_format == "DELIMITED" and any(c.function.name in COMPLEX_STATE for c in bound_calls):
        # ksqlDB keeps aggregation state in the source's value format, which holds no structure
        raise KsqlStatementError("One of the functions used in the statement has an intermediate type that the "
                                 "value format can not handle. Please remove the function or change the format.")
    if query.window is not None and source.is_table and not query.joins:
        raise KsqlStatementError("Windowing not supported for table aggregations.")
    if query.window is not None:
        post.add(None, WINDOWSTART, WINDOWSTART, T.BIGINT)
        post.add(None, WINDOWEND, WINDOWEND, T.BIGINT)

    def to_post(expr):
        def replace(e):
            if isinstance(e, ast.FunctionCall) and e in calls:
                return ast.ColumnRef(AGG_FIELD.format(calls.index(e)))
            if isinstance(e, ast.Expression) and e in group_by:
                return ast.ColumnRef(KEY_FIELD.format(group_by.index(e)))
            return None
        return rewrite(expr, replace)

    columns, key_columns, leftovers = [], {}, []
    for name, expr in items:
        rewritten = to_post(expr)
        loose = _loose_columns(rewritten)
        if loose:
            leftovers.append(format_expression(expr))
            continue
        bound = bind(rewritten, post)
        key_index = group_by.index(expr) if expr in group_by else None
        namespace = KEY if persistent and key_index is not None else VALUE
        if namespace == KEY:
            if key_index in key_columns:
                raise KsqlStatementError(f"The projection contains a key column more than once: "
                                         f"`{key_columns[key_index]}` and `{name}`.")
            key_columns[key_index] = name
        columns.append((Column(name, bound.type or T.STRING, namespace), bound, key_index))
    if leftovers and group_by and not calls:
        raise KsqlStatementError("GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")
    if leftovers:
        raise KsqlStatementError(f"Non-aggregate SELECT expression(s) not part of GROUP BY: "
                                 f"{', '.join(leftovers)}\nEither add the column(s) to the GROUP BY or remove "
                                 f"them from the SELECT.")
    if persistent:
        missing = [format_expression(e) for i, e in enumerate(group_by) if i not in key_columns]
        if missing:
            plural = len(missing) > 1
            listed = ", ".join(missing[:-1]) + " and " + missing[-1] if plural else missing[0]
            raise KsqlStatementError(
                f"The query used to build `{sink}` must include the grouping expression{'s' if plural else ''} "
                f"{listed} in its projection (eg, SELECT {', '.join(missing)}...).")
        if not any(c.namespace == VALUE for c, _, _ in columns):
            raise KsqlStatementError("The projection contains no value columns.")
        values = [c.name for c, _, _ in columns if c.namespace == VALUE]
        duplicate = next((n for n in values if values.count(n) > 1 or n in key_columns.values()), None)
        if duplicate:
            column = next(c for c, _, _ in columns if c.name == duplicate and c.namespace == VALUE)
            raise KsqlStatementError(f"Duplicate value columns found in schema: `{duplicate}` {column.type}")
        ordered_keys = sorted((c for c in columns if c[0].namespace == KEY), key=lambda c: c[2])
        columns = ordered_keys + [c for c in columns if c[0].namespace == VALUE]

    having_bound = None
    if having is not None:
        rewritten = to_post(having)
        loose = _loose_columns(rewritten)
        if loose:
            raise KsqlStatementError(f"Non-aggregate HAVING expression not part of GROUP BY: "
                                     f"{', '.join(dict.fromkeys(loose))}")
        try:
            having_bound = bind(rewritten, post)
        except KsqlStatementError as error:
            message = str(error).replace("Error in WHERE expression", "Error in HAVING expression")
            # name the aggregates and groups as written, not by the fields that hold them
            for i in reversed(range(len(calls))):
                message = message.replace(AGG_FIELD.format(i), format_expression(calls[i]))
            for i in reversed(range(len(group_by))):
                message = message.replace(KEY_FIELD.format(i), format_expression(group_by[i]))
            raise KsqlStatementError(message) from None

    node = AggregateNode(keys, tuple(format_expression(e) for e in group_by), bound_calls,
                         resolve_window(query.window, query.emit == "FINAL"),
                         source.is_table, tuple(c.name for c in source.schema.key), query.emit == "FINAL",
                         tuple(e.name if isinstance(e, ast.ColumnRef) else None for e in group_by))
    return node, having_bound, [(c, bound) for c, bound, _ in columns]


def _check_functions_exist(expr) -> None:
    """An unknown function is reported as such, before any GROUP BY rule about its arguments."""
    def check(e):
        if isinstance(e, ast.FunctionCall) and e.name not in FUNCTIONS and e.name not in AGGREGATES \
                and e.name not in LAMBDA_FUNCTIONS:
            raise KsqlStatementError(f"Can't find any functions with the name '{e.name}'")

    walk(expr, check)


def _calls_in(expr):
    found = []
    walk(expr, lambda e: found.append(e) if isinstance(e, ast.FunctionCall) and e.name in AGGREGATES else None)
    return found


def _aggregate_calls(query):
    found = []
    for item in query.select:
        if isinstance(item, ast.SelectExpression):
            walk(item.expression, lambda e: found.append(e) if isinstance(e, ast.FunctionCall)
                  and e.name in AGGREGATES else None)
    return iter(found)


def _columns_named(expr) -> set[str]:
    found = set()
    walk(expr, lambda e: found.add(e.name) if isinstance(e, ast.ColumnRef) else None)
    return found


def _loose_columns(expr) -> list[str]:
    """Column references that are neither keys, aggregates nor pseudo/window columns."""
    found = []
    allowed = {ROWTIME, WINDOWSTART, WINDOWEND}
    walk(expr, lambda e: found.append(e.name) if isinstance(e, ast.ColumnRef) and not e.name.startswith("__")
          and e.name not in allowed else None)
    return found


def _items(query: ast.Query, source: DataSource, names: set[str]):
    """(output name, unqualified expression) per selected column, with * expanded."""
    items, namer = [], ColumnNamer()
    for item in query.select:
        if isinstance(item, ast.SelectAll):
            for column in source.schema.key + source.schema.value + source.schema.headers:
                items.append((column.name, ast.ColumnRef(column.name)))
            continue
        if isinstance(item, ast.SelectStructAll):
            raise KsqlStatementError("'->*' is not supported with GROUP BY.")
        expr = unqualified(item.expression, names)
        name = namer.name(expr, item.alias)
        if name in RESERVED_NAMES and name not in (WINDOWSTART, WINDOWEND):
            raise reserved_name_error(name, item.alias)
        items.append((name, expr))
    return items


def _bind_call(call: ast.FunctionCall, scope: Scope, source: DataSource) -> AggregateCall:
    function = AGGREGATES[call.name]
    args = list(call.args)
    literals = []
    if function.init_args is not None:  # a user aggregate: its signature says which are init arguments
        try:
            count = function.init_args([bind(a, scope).type for a in args])
        except BadArguments as error:
            raise KsqlStatementError(str(error)) from None
        tail = args[len(args) - count:] if count else []
        if any(not isinstance(a, ast.Literal) for a in tail):
            raise KsqlStatementError(f"The last {count} arguments of {call.name} must be literals: they "
                                     f"initialize the aggregation.")
        literals, args = [a.value for a in tail], args[:len(args) - count]
    while function.literal_args and args and len(literals) < function.literal_args and len(args) > 1 \
            and isinstance(args[-1], ast.Literal):
        literals.insert(0, args.pop().value)
    if call.name in ("EARLIEST_BY_OFFSET", "LATEST_BY_OFFSET") and len(args) > 1:
        raise KsqlStatementError(
            f"Parameter 2 passed to function {call.name} must be a literal constant, "
            f"but was expression: '{format_expression(args[1])}'")
    if call.name in ("TOPK", "TOPKDISTINCT") and not literals:  # k, the last argument, sizes the state
        if len(args) < 2:
            raise KsqlStatementError(f"Function '{call.name.lower()}' requires the number of values to keep, k, "
                                     f"as its last argument.")
        raise KsqlStatementError(
            f"Parameter {len(args)} passed to function {call.name} must be a literal constant, "
            f"but was expression: '{format_expression(args[-1])}'")
    if call.name in ("TOPK", "TOPKDISTINCT") and type(literals[0]) is not int:
        raise KsqlStatementError(f"The last argument of {call.name}, k, must be an INTEGER: "
                                 f"{format_expression(call.args[-1])}")
    bound = tuple(bind(a, scope) for a in args)
    if call.name == "COUNT" and (call.star or not bound):
        bound = ()
    elif call.star or not call.args:  # AVG(*) or AVG(): ksqlDB gives the function ROWTIME
        bound = (bind(ast.ColumnRef(ROWTIME), scope),)
    types = [c.type for c in bound] + [_literal_type(v) for v in literals]
    if function.specialize is not None:
        try:
            function = function.specialize(types)
        except BadArguments as error:
            raise KsqlStatementError(str(error)) from None
    result_type = function.resolve(types)
    return AggregateCall(function, bound, tuple(literals), result_type, format_expression(call))


def _literal_type(value):
    if isinstance(value, bool):
        return T.BOOLEAN
    if isinstance(value, int):
        return T.INTEGER
    return T.STRING


def limit_collections(plan, settings: dict):
    """The plan with COLLECT_LIST and COLLECT_SET keeping at most as many values as the server
    settings ksql.functions.collect_list.limit and collect_set.limit say (when set)."""
    limits = {name: int(settings[key]) for name, key in COLLECTION_LIMITS.items()
              if str(settings.get(key) or "").strip()}
    if not limits:
        return plan
    steps = []
    for step in plan.steps:
        if isinstance(step, AggregateNode):
            step = replace(step, calls=tuple(
                replace(c, function=limited(c.function, limits[c.function.name]))
                if c.function.name in limits and c.function is AGGREGATES.get(c.function.name) else c
                for c in step.calls))
        steps.append(step)
    return replace(plan, steps=tuple(steps))
