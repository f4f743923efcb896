"""What executing a statement returns, before it is rendered (REPL tables, JSON, REST entities)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ksql.runtime.rows import TombstoneRow  # noqa: F401 - results carry such rows


@dataclass
class StatusResult:
    """A statement that changed something: CREATE, DROP, TERMINATE, SET, INSERT ..."""

    statement: str
    message: str
    command_id: str | None = None
    query_id: str | None = None
    kind: str = "currentStatus"
    sequence: int = -1  # its offset in the command topic (-1: not a command)


@dataclass
class ListResult:
    """SHOW/LIST output: a title, column headers and rows, plus the structured items."""

    statement: str
    kind: str  # streams | tables | kafka_topics | queries | properties | function_names | variables
    headers: list[str]
    rows: list[list[Any]]
    items: list[dict] | dict = field(default_factory=list)  # (type_list: each type's name -> its schema)
    extra: dict = field(default_factory=dict)  # more fields of the REST entity (properties: its lists)


@dataclass
class DescribeResult:
    statement: str
    kind: str  # sourceDescription | describe_function
    title: str
    headers: list[str]
    rows: list[list[Any]]
    details: list[tuple[str, str]] = field(default_factory=list)
    item: dict = field(default_factory=dict)


@dataclass
class DescriptionsResult:
    """DESCRIBE STREAMS / DESCRIBE TABLES: a description of each one."""

    statement: str
    descriptions: list[DescribeResult]


@dataclass
class TextResult:
    """Free text, such as an EXPLAIN plan."""

    statement: str
    kind: str
    text: str
    item: dict = field(default_factory=dict)


@dataclass
class EntityResult:
    """A REST entity passed on whole (the connector statements', warnings, errors): its fields
    beside @type and statementText; the shell draws it by its kind (repl/render.py)."""

    statement: str
    kind: str  # connector_info | connector_list | connector_description | drop_connector | ...
    entity: dict


def entity_json(result: EntityResult) -> dict:
    """The REST entity: @type, statementText, the entity's fields and its warnings."""
    return {"@type": result.kind, "statementText": result.statement, **result.entity,
            "warnings": result.entity.get("warnings", [])}


@dataclass
class RowStream:
    """Rows of a push query, a stream scan or PRINT; read `rows()` until it ends or close()."""

    statement: str
    query_id: str
    column_names: list[str]
    column_types: list[str]
    rows: Any  # callable returning an iterator of rows (lists), or of lines for PRINT
    close: Any
    is_print: bool = False
    limit: int | None = None
    key_columns: tuple = ()  # pull queries: the result columns that are the table's key
    poll: Any = None  # push queries: () -> (rows available now, ended?) without blocking
    push: bool = False  # EMIT CHANGES: runs until closed (a stream scan also polls, but ends)
    complete: bool = False  # pull queries on tables: every row is in memory, reading never blocks
    schema_text: str | None = None  # the header's schema when it is not the columns' (see schema())

    def schema(self) -> str:
        """ksqlDB's schema text for the header of a query response: the columns', or, for a
        pull query's SELECT * on a source table, that table's schema (header columns after the
        key, marked as such, the order ksqlDB's logical schemas keep)."""
        if self.schema_text is not None:
            return self.schema_text
        return ", ".join(f"`{n}` {t}{' KEY' if n in self.key_columns else ''}"
                         for n, t in zip(self.column_names, self.column_types))

    def __iter__(self) -> Iterator:
        return iter(self.rows())
