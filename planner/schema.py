"""Columns and schemas of streams, tables and query results."""
from __future__ import annotations

from dataclasses import dataclass

from ksql.parser.errors import KsqlStatementError

from ksql.planner import types as T
from ksql.planner.types import SqlType

KEY = "KEY"
VALUE = "VALUE"
HEADER = "HEADER"

# Pseudo columns every source row carries (not part of SELECT *).
ROWTIME = "ROWTIME"
ROWPARTITION = "ROWPARTITION"
ROWOFFSET = "ROWOFFSET"
PSEUDO_COLUMNS = {ROWTIME: T.BIGINT, ROWPARTITION: T.INTEGER, ROWOFFSET: T.BIGINT}
WINDOWSTART = "WINDOWSTART"
WINDOWEND = "WINDOWEND"
RESERVED_NAMES = set(PSEUDO_COLUMNS) | {WINDOWSTART, WINDOWEND}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: SqlType
    namespace: str = VALUE  # KEY | VALUE | HEADER
    header_key: str | None = None  # for HEADER('k') columns; None means all headers

    def describe(self, table: bool = False) -> str:
        text = f"`{self.name}` {self.type}"
        if self.namespace == KEY:
            text += " PRIMARY KEY" if table else " KEY"
        elif self.namespace == HEADER:
            text += f" HEADER('{self.header_key}')" if self.header_key else " HEADERS"
        return text


@dataclass(frozen=True, slots=True)
class LogicalSchema:
    columns: tuple[Column, ...]

    @property
    def key(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace == KEY)

    @property
    def value(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace == VALUE)

    @property
    def headers(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace == HEADER)

    def find(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def describe(self, table: bool = False) -> str:
        return ", ".join(c.describe(table) for c in self.columns)

    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def reserved_name_error(name: str, alias) -> KsqlStatementError:
    """ksqlDB's error for a SELECT column named like a pseudo column or window bound."""
    if alias is not None:
        return KsqlStatementError(f"`{name}` is a reserved column name. You cannot use it as an alias for a column.")
    return KsqlStatementError(f"Reserved column name in select: `{name}`. Please remove or alias the column.")


def check_no_map_key(name: str, sql_type) -> None:
    """Maps have no stable serialized form, so a key holding one would not find its partition."""
    if any(T.maps_in(sql_type)):
        raise KsqlStatementError(
            f"Map keys, including types that contain maps, are not supported as they may lead to unexpected "
            f"behavior due to inconsistent serialization. Key column name: `{name}`. Column type: "
            f"{sql_type}. See https://github.com/confluentinc/ksql/issues/6621 for more.")
