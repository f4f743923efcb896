"""What a pull query on one table asks for, read from its statement: the keys it looks up
(`key = literal`, `key IN (...)`, ORs of them), so the engine reads those rows and no others,
and the plain columns it selects."""
from __future__ import annotations

from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.metastore import DataSource


def projected_names(query: ast.Query, source: DataSource) -> list[tuple[str, object]]:
    """(output name, expression) of the plain column items, with * expanded."""
    items = []
    for item in query.select:
        if isinstance(item, ast.SelectAll):
            window = ["WINDOWSTART", "WINDOWEND"] if source.window_type is not None else []
            names = [c.name for c in source.schema.key] + window + [c.name for c in source.schema.value]
            items += [(name, ast.ColumnRef(name)) for name in names]
        elif isinstance(item, ast.SelectExpression) and isinstance(item.expression, ast.ColumnRef):
            items.append((item.alias or item.expression.name, item.expression))
    return items


def key_lookup(query: ast.Query, source: DataSource) -> list[tuple] | None:
    """The keys of `key = literal` or `key IN (literals)` (alone or AND-ed with other
    conditions) on a single-key table, in the order written: the rows come back in that order,
    and the full WHERE still filters them."""
    key = source.schema.key
    if len(key) != 1:
        return None
    conditions, pending = [], [query.where]
    while pending:
        condition = pending.pop(0)
        if isinstance(condition, ast.LogicalOp) and condition.op == "AND":
            pending[:0] = [condition.left, condition.right]
        elif condition is not None:
            conditions.append(condition)
    for condition in conditions:
        literals = _key_literals(condition, key[0].name)
        if literals is None:
            continue
        values = [_key_value(literal, key[0].type) for literal in literals]
        if all(v is not None for v in values):
            return [(v,) for v in dict.fromkeys(values)]
    return None


def _key_literals(condition, key_name: str) -> list | None:
    """The literals of `key = x`, `key IN (x, y)` or `key = x OR key = y`, in order."""
    if isinstance(condition, ast.BinaryOp) and condition.op == "=":
        for column, literal in ((condition.left, condition.right), (condition.right, condition.left)):
            if isinstance(column, ast.ColumnRef) and column.name == key_name:
                return [literal]
    if isinstance(condition, ast.InList) and not condition.negated and \
            isinstance(condition.value, ast.ColumnRef) and condition.value.name == key_name:
        return list(condition.items)
    if isinstance(condition, ast.LogicalOp) and condition.op == "OR":
        left, right = _key_literals(condition.left, key_name), _key_literals(condition.right, key_name)
        return left + right if left is not None and right is not None else None
    return None


def _key_value(literal, key_type: T.SqlType):
    """A literal as a value of the key's type, or None when it is not one."""
    if not isinstance(literal, ast.Literal) or literal.value is None or isinstance(literal.value, bool):
        return None
    if key_type.base == "STRING":
        return literal.value if isinstance(literal.value, str) else None
    if isinstance(literal.value, str):
        return None
    if key_type.base in ("INTEGER", "BIGINT"):
        return int(literal.value) if float(literal.value).is_integer() else None
    if key_type.base == "DOUBLE":
        return float(literal.value)
    return None


def written_keys(query: ast.Query, source: DataSource) -> list | None:
    """The key values a direct lookup's WHERE names, in the order written, repeats included."""
    key = source.schema.key[0]
    literals = _key_literals(query.where, key.name) if query.where is not None else None
    return None if not literals else [_key_value(literal, key.type) for literal in literals]


def key_from_value(value: int | str, key_type: T.SqlType):
    """An INTEGER or STRING literal's value as a value of the key's type, or None."""
    return _key_value(ast.Literal(value, "STRING" if isinstance(value, str) else "INTEGER"), key_type)


def direct_lookup(query: ast.Query, source: DataSource) -> tuple[list[tuple], list[tuple[str, int, T.SqlType]]] | None:
    """A pull query that only looks keys up and picks columns (`SELECT *` or columns, `WHERE
    key = x` or `key IN (x, y)` and nothing else), as (keys, [(output name, position in the
    row of key then value columns, type)]): answered from the table's rows without a plan, as
    ksqlDB's key lookups are. None for every other query, which the planner answers."""
    if query.joins or query.group_by is not None or query.having is not None or query.order_by \
            or query.window is not None or query.partition_by or query.emit is not None:
        return None
    if source.window_type is not None or source.schema.headers or len(source.schema.key) != 1:
        return None
    key = source.schema.key[0]
    literals = _key_literals(query.where, key.name) if query.where is not None else None
    if not literals:
        return None
    keys = [_key_value(literal, key.type) for literal in literals]
    if any(k is None for k in keys):
        return None
    row = list(source.schema.key) + list(source.schema.value)
    positions = {c.name: (i, c.type) for i, c in enumerate(row)}
    qualifier = query.source.alias or query.source.name
    columns = []
    for item in query.select:
        if isinstance(item, ast.SelectAll) and item.source is None:
            columns += [(c.name, i, c.type) for i, c in enumerate(row)]
        elif isinstance(item, ast.SelectExpression) and isinstance(item.expression, ast.ColumnRef) \
                and item.expression.name in positions and item.expression.source in (None, qualifier):
            position, sql_type = positions[item.expression.name]
            columns.append((item.alias or item.expression.name, position, sql_type))
        else:
            return None
    if len({name for name, _, _ in columns}) != len(columns):
        return None
    return [(k,) for k in dict.fromkeys(keys)], columns
