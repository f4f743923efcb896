"""The names ksqlDB gives to selected columns."""
from __future__ import annotations

from ksql.parser import ast


class ColumnNamer:
    """ksqlDB's names for selected columns: the alias, else the column or struct field name,
    else KSQL_COL_0, KSQL_COL_1, ... counted over the unnamed expressions."""

    def __init__(self, taken=()):
        self.generated = 0
        # the source's column names and the names given so far: a struct field named like one
        # of them is named FIELD_1, FIELD_2, ... as ksqlDB names it
        self.taken = set(taken)

    def name(self, expr, alias: str | None) -> str:
        if alias is not None:
            name = alias
        elif isinstance(expr, ast.ColumnRef):
            name = expr.name
        elif isinstance(expr, ast.Dereference):
            name, n = expr.field, 0
            while name in self.taken:
                n += 1
                name = f"{expr.field}_{n}"
        else:
            name = f"KSQL_COL_{self.generated}"
            self.generated += 1
        self.taken.add(name)
        return name
