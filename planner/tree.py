"""Walking and rebuilding the parser's expression trees: what the planner's passes (aggregation,
joins, table functions, pull-query rules) use to find and substitute sub-expressions."""
from __future__ import annotations

import dataclasses

from ksql.parser import ast
from ksql.planner.aggregates import AGGREGATES


def contains_aggregate(expr) -> bool:
    found = []
    walk(expr, lambda e: found.append(e) if isinstance(e, ast.FunctionCall) and e.name in AGGREGATES else None)
    return bool(found)


def walk(node, visit) -> None:
    """Call visit on the node and on every node below it."""
    visit(node)
    if isinstance(node, ast.Node):
        for field in dataclasses.fields(node):
            _walk_value(getattr(node, field.name), visit)


def _walk_value(value, visit):
    if isinstance(value, ast.Node):
        walk(value, visit)
    elif isinstance(value, tuple):
        for item in value:
            _walk_value(item, visit)


def rewrite(node, replace):
    """Rebuild an expression bottom-up; replace(node) returns a substitute or None."""
    substitute = replace(node)
    if substitute is not None:
        return substitute
    if not isinstance(node, ast.Node):
        return node
    changes = {}
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        new = _rewrite_value(value, replace)
        if new is not value:
            changes[field.name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _rewrite_value(value, replace):
    if isinstance(value, ast.Node):
        return rewrite(value, replace)
    if isinstance(value, tuple):
        items = tuple(_rewrite_value(v, replace) for v in value)
        return items if any(a is not b for a, b in zip(items, value)) else value
    return value


def unqualified(expr, names: set[str]):
    """The expression with `alias.col` references written as plain `col` (single source)."""
    return rewrite(expr, lambda e: ast.ColumnRef(e.name) if isinstance(e, ast.ColumnRef) and e.source in names
                   else None)
