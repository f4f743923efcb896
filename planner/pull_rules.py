"""What ksqlDB refuses in a pull query, with its messages.

Table scans are on by default (`ksql.query.pull.table.scan.enabled`), so most WHERE clauses
work; with scans off, a pull query must name its keys the way a key lookup (or, for STRING
keys, a range scan) can answer, and these rules say why when it does not.
"""
from __future__ import annotations

from ksql.parser.errors import KsqlStatementError
from ksql.parser import ast
from ksql.planner.tree import walk
from ksql.planner.format import format_expression
from ksql.planner.metastore import DataSource
from ksql.planner.schema import ROWOFFSET, ROWPARTITION, WINDOWEND, WINDOWSTART

_SCAN_NEEDED = "Query requires table scan to be enabled. Table scans can be enabled by setting " \
               "ksql.query.pull.table.scan.enabled=true"
_COMBINED = "A comparison condition on the key column cannot be combined with other comparisons such as an " \
            "IN predicate"
_RANGE_OPS = ("<", "<=", ">", ">=")
# what ksqlDB adds to every message of a pull query it refuses
SYNTAX_HELP = " See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query."


def check_any(query: ast.Query, source: DataSource | None = None, joined: list = ()) -> None:
    """Raise ksqlDB's error for a pull query on any source (table or stream) that it refuses,
    in the order ksqlDB checks. Over tables, joins and GROUP BY are answered (by DuckDB, past
    what ksqlDB does); over a stream, or joining one, they are refused as ksqlDB refuses them."""
    stream = source is not None and not source.is_table
    if query.joins and (stream or any(s is not None and not s.is_table for s in joined)):
        raise KsqlStatementError("Pull queries don't support JOIN clauses." + SYNTAX_HELP)
    if query.window is not None:
        raise KsqlStatementError("Pull queries don't support WINDOW clauses." + SYNTAX_HELP)
    if stream and query.group_by is not None:
        raise KsqlStatementError("Pull queries don't support GROUP BY clauses." + SYNTAX_HELP)
    if query.partition_by:
        raise KsqlStatementError("Pull queries don't support PARTITION BY clauses." + SYNTAX_HELP)
    if stream and query.having is not None:
        raise KsqlStatementError("Pull queries don't support HAVING clauses." + SYNTAX_HELP)
    _no_pseudo_columns(query)


def check(query: ast.Query, source: DataSource, properties: dict) -> None:
    """Raise ksqlDB's error for a pull query on a table that it would refuse."""
    if query.limit is not None and query.limit < 0:
        raise KsqlStatementError("Pull queries don't support negative integers in the LIMIT clause. "
                                 "See https://cnfl.io/queries for more info.")
    _null_keys(query.where, source)
    if _enabled(properties, "ksql.query.pull.table.scan.enabled", True):
        return
    range_scans = _enabled(properties, "ksql.query.pull.range.scan.enabled", True)
    if query.where is None:
        raise KsqlStatementError(_SCAN_NEEDED)
    disjuncts = _split(query.where, "OR")
    keys = [c.name for c in source.schema.key]
    for disjunct in disjuncts:
        _check_disjunct(disjunct, keys, source, range_scans, len(disjuncts) > 1)


def _enabled(properties: dict, name: str, default: bool) -> bool:
    value = properties.get(name)
    return default if value is None else str(value).lower() == "true"


def _split(expr, op: str) -> list:
    if isinstance(expr, ast.LogicalOp) and expr.op == op:
        return _split(expr.left, op) + _split(expr.right, op)
    return [expr]


def _columns(expr) -> list[str]:
    found = []
    walk(expr, lambda node: found.append(node.name) if isinstance(node, ast.ColumnRef) else None)
    return found


def _no_pseudo_columns(query: ast.Query) -> None:
    for clause, exprs in (("SELECT", [i.expression for i in query.select if isinstance(i, ast.SelectExpression)]),
                          ("WHERE", [query.where] if query.where is not None else [])):
        bad = sorted({c for e in exprs for c in _columns(e) if c in (ROWPARTITION, ROWOFFSET)})
        if bad:
            shown = ", ".join(f"`{c}`" for c in bad)
            raise KsqlStatementError(f"Pull queries don't support the following columns in {clause} clauses: "
                                     f"{shown}\n" + SYNTAX_HELP)


def _null_keys(where, source: DataSource) -> None:
    keys = {c.name for c in source.schema.key}
    for conjunct in (_split(where, "AND") if where is not None else []):
        if isinstance(conjunct, ast.InList) and isinstance(conjunct.value, ast.ColumnRef) \
                and conjunct.value.name in keys:
            key = source.schema.find(conjunct.value.name)
            for item in conjunct.items:
                if isinstance(item, ast.Literal) and item.value is None:
                    raise KsqlStatementError(f"Primary key columns can not be NULL: ({conjunct.value.name} = null)")
                if isinstance(item, ast.Literal) and isinstance(item.value, str) and key.type.base != "STRING":
                    raise KsqlStatementError(f"'{item.value}' can not be converted to the type of the key column: "
                                             f"{key.name} {key.type} KEY")


def _check_disjunct(disjunct, keys: list[str], source: DataSource, range_scans: bool, several: bool) -> None:
    bounds: dict[str, list] = {}
    for conjunct in _split(disjunct, "AND"):
        if isinstance(conjunct, ast.Like):
            raise KsqlStatementError("Like condition must be between strings")
        if isinstance(conjunct, ast.InList):
            if isinstance(conjunct.value, ast.ColumnRef) and conjunct.value.name in keys:
                if any(_columns(item) for item in conjunct.items):
                    raise KsqlStatementError("A comparison must be between a key column and a resolvable expression.")
                bounds.setdefault(conjunct.value.name, []).append("IN")
            continue
        if not isinstance(conjunct, ast.BinaryOp) or conjunct.op not in ("=", "<>", "!=") + _RANGE_OPS:
            continue
        sides = (conjunct.left, conjunct.right)
        named = [s for s in sides if isinstance(s, ast.ColumnRef)]
        key_side = next((s for s in named if s.name in keys), None)
        if key_side is None:
            if any(c in keys for s in sides for c in _columns(s)):
                raise KsqlStatementError("A comparison must directly reference a key column.")
            continue
        other = sides[1] if key_side is sides[0] else sides[0]
        if _columns(other):
            raise KsqlStatementError("A comparison must be between a key column and a resolvable expression.")
        if conjunct.op in ("<>", "!="):
            key = source.schema.find(key_side.name)
            raise KsqlStatementError(f"Bound on key columns '[`{key.name}` {key.type} KEY]' must currently be '='. ")
        bounds.setdefault(key_side.name, []).append(conjunct.op)
    if not bounds:
        if len(keys) > 1 and any(k in _columns(disjunct) for k in keys):
            raise KsqlStatementError("Multi-column sources must specify every key in the WHERE clause.")
        window_only = all(c in (WINDOWSTART, WINDOWEND) for c in _columns(disjunct))
        raise KsqlStatementError("WHERE clause missing key column for disjunct"
                                 + ("" if window_only else f": {format_expression(disjunct)}"))
    if len(keys) > 1 and set(bounds) != set(keys):
        raise KsqlStatementError("Multi-column sources must specify every key in the WHERE clause.")
    for name, ops in bounds.items():
        if len(ops) > 1:
            raise KsqlStatementError(_COMBINED)
        if ops[0] in _RANGE_OPS:
            key = source.schema.find(name)
            if several or not range_scans or key.type.base != "STRING" or len(keys) > 1 \
                    or source.window_type is not None:
                raise KsqlStatementError(_SCAN_NEEDED)
