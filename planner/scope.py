"""The columns an expression may name (Scope): each name's batch column and SQL type, with
optional source qualifiers. Binding (binder.py) resolves names against it."""
from __future__ import annotations

from dataclasses import dataclass

from ksql.parser import ast
from ksql.parser.errors import KsqlPreparationError, KsqlStatementError
from ksql.planner.types import SqlType


@dataclass(frozen=True)
class ScopeColumn:
    field: str  # the batch column that holds it
    type: SqlType


class Scope:
    """The columns an expression may name, with optional source qualifiers."""

    def __init__(self):
        self._columns: dict[tuple[str | None, str], ScopeColumn] = {}
        self._ambiguous: set[str] = set()
        self.candidates: dict[str, list[str]] = {}  # an ambiguous name -> the sources that have it
        self.sources: set[str] = set()
        self.custom_types: dict = {}  # CREATE TYPE names usable in CAST
        self.lambda_depth = 0  # how many lambdas' parameters are in scope

    def copy(self) -> "Scope":
        other = Scope()
        other._columns = dict(self._columns)
        other._ambiguous = set(self._ambiguous)
        other.candidates = dict(self.candidates)
        other.sources = set(self.sources)
        other.custom_types = self.custom_types
        other.lambda_depth = self.lambda_depth
        return other

    def add(self, source: str | None, name: str, field: str, sql_type: SqlType) -> None:
        column = ScopeColumn(field, sql_type)
        if source is not None:
            self.sources.add(source)
            self._columns[(source, name)] = column
        existing = self._columns.get((None, name))
        if existing is not None and existing.field != field:
            self._ambiguous.add(name)
        self._columns[(None, name)] = column

    def resolve(self, ref: ast.ColumnRef) -> ScopeColumn:
        if ref.source is not None:
            if ref.source not in self.sources:
                raise KsqlStatementError(
                    f"'{ref.source}' is not a valid stream/table name or alias.")
            column = self._columns.get((ref.source, ref.name))
            if column is None:
                raise KsqlStatementError(f"Column '{ref.source}.{ref.name}' cannot be resolved.", ref.position)
            return column
        if ref.name in self._ambiguous:
            owners = self.candidates.get(ref.name)
            hint = f" Could be {' or '.join(f'{o}.{ref.name}' for o in owners)}." if owners else ""
            raise KsqlPreparationError(f"Column '{ref.name}' is ambiguous.{hint}", ref.position)
        column = self._columns.get((None, ref.name))
        if column is None:
            raise KsqlStatementError(f"Column '{ref.name}' cannot be resolved.", ref.position)
        return column
