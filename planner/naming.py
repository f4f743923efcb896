"""The names ksqlDB gives to selected columns."""
from __future__ import annotations

from ksql.parser import ast


class ColumnNamer:
    """ksqlDB's names for selected columns: the alias, else the column or struct field name,
    else KSQL_COL_0, KSQL_COL_1, ... counted over the unnamed expressions."""

    def __init__(self):
        self.generated = 0

    def name(self, expr, alias: str | None) -> str:
        if alias is not None:
            return alias
        if isinstance(expr, ast.ColumnRef):
            return expr.name
        if isinstance(expr, ast.Dereference):
            return expr.field
        name = f"KSQL_COL_{self.generated}"
        self.generated += 1
        return name
