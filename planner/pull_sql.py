"""Pull queries past ksqlDB's (joins, GROUP BY, ORDER BY across tables) planned as DuckDB SQL.

The query is checked with KSQL's own rules and types and written as one DuckDB statement over
snapshots of the tables it names; every KSQL scalar function it calls is listed with its
implementation and types, for the runtime to hand to DuckDB (runtime/pull_sql.py runs it).
The aggregates map to DuckDB's equivalents.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ksql.parser import ast
from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.aggregates import AGGREGATES
from ksql.planner.binder import bind
from ksql.planner.scope import Scope
from ksql.planner.format import format_expression
from ksql.planner.library import FUNCTIONS, resolve_call
from ksql.planner.metastore import DataSource
from ksql.planner.naming import ColumnNamer
from ksql.planner.schema import ROWTIME, WINDOWEND, WINDOWSTART
from ksql.planner.tree import rewrite
from ksql.planner.types import SqlType

# KSQL aggregate -> DuckDB aggregate (the ones with the same meaning over a snapshot).
_AGGREGATES = {"COUNT": "count", "SUM": "sum", "AVG": "avg", "MIN": "min", "MAX": "max",
               "COLLECT_LIST": "list", "COUNT_DISTINCT": "count_distinct", "STDDEV_SAMPLE": "stddev_samp",
               "STDDEV_SAMP": "var_samp", "CORRELATION": "corr"}
_counter = itertools.count()


@dataclass(frozen=True)
class PullSource:
    """One table the query reads: its alias and definition."""
    alias: str
    source: DataSource


@dataclass(frozen=True)
class Function:
    """A KSQL function the statement calls, to be registered in DuckDB under its name."""
    evaluate: object  # the library's evaluate: (arrays, n) -> array
    return_type: SqlType
    params: tuple[str, ...]  # DuckDB's parameter types
    returns: str  # DuckDB's return type


@dataclass(frozen=True)
class SqlPullPlan:
    sql: str
    table_names: dict  # alias -> the name its snapshot is registered under
    functions: dict = field(default_factory=dict)  # name -> Function
    output_names: tuple[str, ...] = ()


def plan_sql_pull(query: ast.Query, sources: list[PullSource]) -> SqlPullPlan:
    """The query as DuckDB SQL over its sources' snapshots, or a KSQL error."""
    translator = _Translator(query, sources)
    sql = translator.sql()
    return SqlPullPlan(sql, translator.table_names, translator.udfs, tuple(translator.output_names))


def needs_sql(query: ast.Query) -> bool:
    """Whether a pull query uses what only the SQL path answers."""
    return bool(query.order_by or query.joins or query.group_by is not None)


def columns_of(source: DataSource) -> list[tuple[str, SqlType]]:
    columns = [(c.name, c.type) for c in source.schema.columns]
    if source.window_type is not None:
        columns += [(WINDOWSTART, T.BIGINT), (WINDOWEND, T.BIGINT)]
    return columns + [(ROWTIME, T.BIGINT)]


def _duck_type(sql_type: SqlType) -> str:
    base = sql_type.base
    if base == "DECIMAL":
        return f"DECIMAL({sql_type.precision}, {sql_type.scale})"
    if base == "ARRAY":
        return f"{_duck_type(sql_type.params[0])}[]"
    if base == "MAP":
        return f"MAP({_duck_type(sql_type.params[0])}, {_duck_type(sql_type.params[1])})"
    if base == "STRUCT":
        return "STRUCT(" + ", ".join(f'"{n}" {_duck_type(t)}' for n, t in sql_type.params) + ")"
    return {"STRING": "VARCHAR", "BYTES": "BLOB", "TIME": "TIME", "TIMESTAMP": "TIMESTAMP"}.get(base, base)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# expressions KSQL and DuckDB write alike (once their operands are translated)
_SAME_IN_DUCKDB = (ast.BinaryOp, ast.LogicalOp, ast.Not, ast.Negate, ast.IsNull, ast.Between, ast.InList, ast.Like,
                   ast.IsDistinctFrom, ast.Case, ast.Subscript)


class _Translator:
    """A KSQL query as DuckDB SQL over the registered snapshots."""

    def __init__(self, query: ast.Query, tables: list[PullSource]):
        self.query = query
        self.tables = tables
        self.table_names = {t.alias: f"ksql_snapshot_{next(_counter)}" for t in tables}
        self.udfs: dict[str, tuple] = {}
        self.output_names: list[str] = []
        self.scope = Scope()
        for t in tables:
            for name, sql_type in columns_of(t.source):
                self.scope.add(t.alias, name, f"{t.alias}.{name}", sql_type)
            if t.alias != t.source.name:
                self.scope.sources.add(t.source.name)
        self._aggregate_types: dict[int, SqlType] = {}

    # ---------------------------------------------------------------- statement

    def sql(self) -> str:
        q = self.query
        if q.window is not None:
            raise KsqlStatementError("Pull queries don't support WINDOW clauses.")
        if q.partition_by:
            raise KsqlStatementError("Pull queries don't support PARTITION BY clauses.")
        items = self._select_items()
        first = self.tables[0]
        text = "SELECT " + ", ".join(f"{sql} AS {_quote(name)}" for name, sql in items)
        text += f" FROM {self.table_names[first.alias]} AS {_quote(first.alias)}"
        for join, table in zip(q.joins, self.tables[1:]):
            kind = {"INNER": "JOIN", "LEFT": "LEFT JOIN", "RIGHT": "RIGHT JOIN", "FULL": "FULL JOIN"}[join.kind]
            text += f" {kind} {self.table_names[table.alias]} AS {_quote(table.alias)} ON {self.expr(join.criteria)}"
        if q.where is not None:
            text += " WHERE " + self.expr(q.where)
        if q.group_by is not None:
            text += " GROUP BY " + (", ".join(self.expr(e) for e in q.group_by) or "()")
        if q.having is not None:
            text += " HAVING " + self.expr(q.having)
        if q.order_by:
            outputs = {name for name, _ in items}
            text += " ORDER BY " + ", ".join(
                (_quote(o.expression.name) if isinstance(o.expression, ast.ColumnRef) and o.expression.source is None
                 and o.expression.name in outputs else self.expr(o.expression))
                + (" DESC" if o.descending else " ASC") + " NULLS LAST" for o in q.order_by)
        if q.limit is not None:
            text += f" LIMIT {int(q.limit)}"
        return text

    def _select_items(self) -> list[tuple[str, str]]:
        namer, items = ColumnNamer(), []
        joined = len(self.tables) > 1
        for item in self.query.select:
            if isinstance(item, ast.SelectAll):
                for t in self.tables:
                    if item.source is not None and item.source not in (t.alias, t.source.name):
                        continue
                    for name, _ in columns_of(t.source):
                        if name == ROWTIME:
                            continue
                        shown = f"{t.alias}_{name}" if joined else name
                        items.append((shown, f"{_quote(t.alias)}.{_quote(name)}"))
                continue
            if isinstance(item, ast.SelectStructAll):
                raise KsqlStatementError("'->*' is not supported in pull queries with joins, GROUP BY or ORDER BY.")
            expr = item.expression
            name = namer.name(expr, item.alias)
            if joined and item.alias is None and isinstance(expr, ast.ColumnRef) and expr.source is not None:
                name = f"{expr.source}_{expr.name}" if any(n == expr.name for n, _ in items) else expr.name
            items.append((name, self.expr(expr)))
        seen = set()
        for name, _ in items:
            if name in seen:
                raise KsqlStatementError(f"Duplicate column name: {name}. Use aliases to make names unique.")
            seen.add(name)
        self.output_names = [name for name, _ in items]
        return items

    # ---------------------------------------------------------------- expressions

    def type_of(self, expr) -> SqlType | None:
        """The KSQL type of an expression (aggregates resolved by their own rules)."""
        if isinstance(expr, ast.FunctionCall) and expr.name in AGGREGATES and expr.name not in FUNCTIONS:
            key = id(expr)
            if key not in self._aggregate_types:
                args = () if expr.star else expr.args
                self._aggregate_types[key] = AGGREGATES[expr.name].resolve([self.type_of(a) for a in args])
            return self._aggregate_types[key]
        scope = self.scope.copy()
        rewritten = self._without_aggregates(expr, scope)
        return bind(rewritten, scope).type

    def _without_aggregates(self, expr, scope: Scope):
        """The expression with each aggregate call replaced by a typed placeholder column."""
        def replace(node):
            if isinstance(node, ast.FunctionCall) and node.name in AGGREGATES and node.name not in FUNCTIONS:
                name = f"__AGG_{id(node)}"
                scope.add(None, name, name, self.type_of(node) or T.STRING)
                return ast.ColumnRef(name)
            return None
        return rewrite(expr, replace)

    def expr(self, e) -> str:
        """DuckDB SQL for a KSQL expression: KSQL's printer, with DuckDB's text where it differs."""
        return format_expression(e, self._duckdb)

    def _duckdb(self, e) -> str | None:
        f = self.expr
        if isinstance(e, ast.Literal):
            if e.value is None:
                return "NULL"
            if isinstance(e.value, bool):
                return "TRUE" if e.value else "FALSE"
            if isinstance(e.value, str):
                return _text(e.value)
            if e.kind == "DECIMAL":
                return f"CAST({_text(str(e.value))} AS DECIMAL(38, {max(-e.value.as_tuple().exponent, 0)}))"
            return repr(e.value) if not isinstance(e.value, float) else f"CAST({e.value!r} AS DOUBLE)"
        if isinstance(e, ast.ColumnRef):
            self.scope.resolve(e)  # unknown or ambiguous names: KSQL's own error
            return f"{_quote(e.source)}.{_quote(e.name)}" if e.source else _quote(e.name)
        if isinstance(e, ast.FunctionCall):
            return self._call(e)
        if isinstance(e, ast.BinaryOp) and e.op == "/":
            lt, rt = self.type_of(e.left), self.type_of(e.right)
            if lt and rt and lt.base in ("INTEGER", "BIGINT") and rt.base in ("INTEGER", "BIGINT"):
                return f"({f(e.left)} // {f(e.right)})"  # KSQL divides integers as integers
            return None
        if isinstance(e, ast.Cast):
            return f"CAST({f(e.operand)} AS {_duck_type(T.from_ref(e.type, self.scope.custom_types))})"
        if isinstance(e, ast.Subscript):
            base = self.type_of(e.base)
            if base is not None and base.base == "MAP":
                return f"map_extract({f(e.base)}, {f(e.index)})[1]"
            return None
        if isinstance(e, ast.Dereference):
            return f"struct_extract({f(e.base)}, {_text(e.field)})"
        if not isinstance(e, _SAME_IN_DUCKDB):
            raise KsqlStatementError(f"{type(e).__name__} is not supported in pull queries with joins, "
                                     f"GROUP BY or ORDER BY.")
        return None  # KSQL's text is DuckDB's too

    def _call(self, call: ast.FunctionCall) -> str:
        if call.name in AGGREGATES and call.name not in FUNCTIONS:
            target = _AGGREGATES.get(call.name)
            if target is None:
                raise KsqlStatementError(f"{call.name} is not available in pull queries with joins, "
                                         f"GROUP BY or ORDER BY.")
            self.type_of(call)  # KSQL's argument checks
            if call.star or not call.args:
                return "count(*)"
            args = ", ".join(self.expr(a) for a in call.args)
            if target == "count_distinct":
                return f"count(DISTINCT {args})"
            return f"{target}({args})"
        if any(isinstance(a, ast.Lambda) for a in call.args):
            raise KsqlStatementError("Lambda functions are not supported in pull queries with joins, "
                                     "GROUP BY or ORDER BY.")
        arg_types = [self.type_of(a) for a in call.args]
        return_type, wanted, evaluate = resolve_call(call.name, arg_types)
        params = [w if w is not None else (t or T.STRING) for w, t in zip(wanted, arg_types)]
        name = f"ksql_{call.name.lower()}_{next(_counter)}"
        self.udfs[name] = Function(evaluate, return_type, tuple(_duck_type(p) for p in params),
                                   _duck_type(return_type))
        args = ", ".join(f"CAST({self.expr(a)} AS {_duck_type(p)})" for a, p in zip(call.args, params))
        return f"{name}({args})"
