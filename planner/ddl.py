"""CREATE STREAM / CREATE TABLE analysed: the declared columns checked against ksqlDB's rules
(reserved names, KEY for streams and PRIMARY KEY for tables, headers, duplicates) and the
source the metastore will hold, built from them and the WITH clause. What needs the runtime
(columns read from a registry schema, a topic name Kafka would accept, a format able to hold
the columns) the engine asks for around this."""
from __future__ import annotations

from ksql.parser import ast
from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.metastore import DataSource
from ksql.planner.schema import HEADER, KEY, VALUE, Column, LogicalSchema
from ksql.planner.with_clause import bool_prop, schema_properties, timestamp_column, window_size

_PSEUDO = ("ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND")
_KEYS_EXPLAINED = ("Tables have PRIMARY KEYs, which are unique and NON NULL.\n"
                   "Streams have KEYs, which have no uniqueness or NON NULL constraints.")


def declared_columns(stmt: ast.CreateSource, types: dict) -> list[Column]:
    """The columns the statement declares, in its order."""
    columns = []
    for element in stmt.columns:
        sql_type = T.from_ref(element.type, types)
        if element.name in _PSEUDO:
            raise KsqlStatementError(f"'{element.name}' is a reserved column name. "
                                     f"You cannot use it as a name for a column.")
        if element.constraint == "PRIMARY KEY" and stmt.kind == "STREAM":
            raise KsqlStatementError(f"Column `{element.name}` is a 'PRIMARY KEY' column: please use 'KEY' for "
                                     f"streams.\n{_KEYS_EXPLAINED}")
        if element.constraint == "KEY" and stmt.kind == "TABLE":
            raise KsqlStatementError(f"Column `{element.name}` is a 'KEY' column: please use 'PRIMARY KEY' for "
                                     f"tables.\n{_KEYS_EXPLAINED}")
        if element.constraint in ("KEY", "PRIMARY KEY"):
            namespace = KEY
        elif element.constraint in ("HEADERS", "HEADER"):
            namespace = HEADER
            _check_header_type(element.header_key, sql_type)
        else:
            namespace = VALUE
        columns.append(Column(element.name, sql_type, namespace, element.header_key))
    return columns


# a HEADERS column holds every header of a record, in order
HEADERS_TYPE = T.array(T.struct([("KEY", T.STRING), ("VALUE", T.BYTES)]))


def _check_header_type(header_key: str | None, sql_type) -> None:
    """ksqlDB's types for header columns: BYTES for HEADER('k'), the list of all for HEADERS."""
    if header_key is not None:
        if sql_type != T.BYTES:
            raise KsqlStatementError(f"Invalid type for HEADER('{header_key}') column: expected BYTES, "
                                     f"got {sql_type}")
    elif str(sql_type) != str(HEADERS_TYPE):
        raise KsqlStatementError(f"Invalid type for HEADERS column: expected {HEADERS_TYPE}, got {sql_type}")


def source_schema(stmt: ast.CreateSource, columns: list[Column]) -> LogicalSchema:
    """The source's schema (key columns first) from every column, declared or read from a
    registry schema; refused for repeated names or headers, or a table without a key."""
    headers = [c for c in columns if c.namespace == HEADER]
    if sum(1 for c in headers if c.header_key is None) and len(headers) > 1:
        raise KsqlStatementError("Schema already contains a HEADERS column.")
    header_keys = [c.header_key for c in headers if c.header_key is not None]
    repeated = next((k for k in header_keys if header_keys.count(k) > 1), None)
    if repeated is not None:
        raise KsqlStatementError(f"Schema already contains a HEADER('{repeated}') column.")
    names = [c.name for c in columns]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise KsqlStatementError(f"Duplicate column names: {duplicate}")
    if stmt.kind == "TABLE" and not any(c.namespace == KEY for c in columns):
        raise KsqlStatementError(
            f"Tables require a PRIMARY KEY. Please define the PRIMARY KEY.\n"
            f"Use a partial schema to define the primary key and still load the value columns from "
            f"the Schema Registry, for example:\n"
            f"\tCREATE TABLE {stmt.name} (ID INT PRIMARY KEY) WITH (...);")
    return LogicalSchema(tuple(sorted(columns, key=lambda c: 0 if c.namespace == KEY else 1)))


def created_source(stmt: ast.CreateSource, text: str, props: dict, schema: LogicalSchema, topic: str,
                   key_format: str, value_format: str) -> DataSource:
    """The source a CREATE STREAM/TABLE declares, its WITH clause (normalized) read."""
    return DataSource(
        name=stmt.name, kind=stmt.kind, schema=schema, topic=topic, key_format=key_format,
        value_format=value_format, sql=text, is_source=stmt.is_source,
        value_delimiter=str(props.get("VALUE_DELIMITER", ",")),
        key_delimiter=str(props.get("KEY_DELIMITER", ",")),
        wrap_single_value=bool_prop(props.get("WRAP_SINGLE_VALUE")),
        **schema_properties(props, key_format, value_format),
        timestamp_column=timestamp_column(props, schema),
        timestamp_format=props.get("TIMESTAMP_FORMAT"),
        window_type=str(props["WINDOW_TYPE"]).upper() if "WINDOW_TYPE" in props else None,
        window_size=window_size(props.get("WINDOW_SIZE")),
    )
