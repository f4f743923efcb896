"""What an expression compiles to (Compiled: a SQL type and how to evaluate it on an Arrow
batch) and the columns it may name (Scope). The expression compiler (expressions.py), the
function library and the plan nodes all speak these."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa

from ksql.parser import ast
from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.types import SqlType


Evaluator = Callable[[pa.RecordBatch], "pa.Array | pa.Scalar"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled expression: its SQL type and how to evaluate it on a batch.

    `evaluate` may return a scalar for constant expressions; use `column()` for an array.
    """

    type: SqlType | None  # None only for an untyped NULL literal
    evaluate: Evaluator
    constant: bool = False

    def column(self, batch: pa.RecordBatch) -> pa.Array:
        return broadcast(self.evaluate(batch), batch.num_rows, self.arrow_type)

    @property
    def arrow_type(self) -> pa.DataType:
        return T.to_arrow(self.type) if self.type is not None else pa.null()


def broadcast(value, length: int, arrow_type: pa.DataType | None = None) -> pa.Array:
    """An array of `length` rows from an array or a scalar."""
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        return value
    if not value.is_valid:
        return pa.nulls(length, arrow_type or value.type)
    one = pa.array([value.as_py()], value.type)
    return one.take(pa.array(np.zeros(length, dtype=np.int64)))


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

    def copy(self) -> "Scope":
        other = Scope()
        other._columns = dict(self._columns)
        other._ambiguous = set(self._ambiguous)
        other.candidates = dict(self.candidates)
        other.sources = set(self.sources)
        other.custom_types = self.custom_types
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
                raise KsqlStatementError(f"Column '{ref.source}.{ref.name}' cannot be resolved.")
            return column
        if ref.name in self._ambiguous:
            owners = self.candidates.get(ref.name)
            hint = f" Could be {' or '.join(f'{o}.{ref.name}' for o in owners)}." if owners else ""
            raise KsqlStatementError(f"Column '{ref.name}' is ambiguous.{hint}")
        column = self._columns.get((None, ref.name))
        if column is None:
            raise KsqlStatementError(f"Column '{ref.name}' cannot be resolved.")
        return column
