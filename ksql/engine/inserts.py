"""INSERT INTO ... VALUES: one row checked against the target's columns, encoded and appended
to its topic."""
from __future__ import annotations

import decimal
import time

import pyarrow as pa

from ksql.errors import KsqlStatementError
from ksql.parser import (ast)
from ksql.planner import types as T
from ksql.planner.binder import bind, cast
from ksql.planner.scope import Scope
from ksql.runtime.expressions.compile import compile_expr
from ksql.planner.schema import HEADER, ROWOFFSET, ROWPARTITION, ROWTIME, Column
from ksql.results import StatusResult
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.murmur2 import partitions_for
from ksql.runtime.formats.make import make_format
from ksql.engine import clock
from ksql.engine.session import Session
from ksql.runtime.formats.serdes import _json_reader


# Numbers coerce to a wider type only (type-coercion.md): INTEGER, BIGINT, DECIMAL, DOUBLE.
_NUMERIC_WIDTH = {"INTEGER": 0, "BIGINT": 1, "DECIMAL": 2, "DOUBLE": 3}


def _assignable(source: T.SqlType, target: T.SqlType) -> bool:
    if source.is_numeric and target.is_numeric:
        return _NUMERIC_WIDTH[source.base] <= _NUMERIC_WIDTH[target.base]
    if source.base == "STRING" and target.base in ("TIMESTAMP", "DATE", "TIME", "BYTES"):
        return True
    return source.base == target.base


def _insert_value(name: str, target: T.SqlType, expr, empty: pa.RecordBatch) -> pa.Array:
    """An INSERT VALUES expression's value as the column's type, refused as ksqlDB refuses it:
    a narrower number type (99999999999 is a BIGINT), or a decimal that does not fit."""
    value = compile_expr(expr).column(empty)
    if expr.type is not None and expr.type != target and not _assignable(expr.type, target):
        raise KsqlStatementError(f"Expected type {target} for field {name} but got "
                                 f"{expr.type.base}({_java_text(value[0].as_py())})")
    if target.base == "DECIMAL" and expr.type is not None and expr.type.base in ("INTEGER", "BIGINT", "DECIMAL"):
        _ensure_decimal_fits(value[0].as_py(), target)
    return compile_expr(cast(expr, target)).column(empty)


def _ensure_decimal_fits(value, target: T.SqlType) -> None:
    """ksqlDB's DecimalUtil.ensureFit: no overflow, no rounding."""
    if value is None:
        return
    number = decimal.Decimal(value)
    digits = target.precision - target.scale
    if abs(number) >= decimal.Decimal(10) ** digits:
        raise KsqlStatementError(
            f"Numeric field overflow: A field with precision {target.precision} and scale {target.scale} "
            f"must round to an absolute value less than 10^{digits}. Got {_java_text(number)}")
    scale = max(-number.as_tuple().exponent, 0)
    if scale > target.scale and number != number.quantize(decimal.Decimal(1).scaleb(-target.scale)):
        precision = max(len(number.as_tuple().digits), scale)
        raise KsqlStatementError(
            f"Cannot fit decimal '{_java_text(number)}' into DECIMAL({target.precision}, {target.scale}) "
            f"without rounding. (Requires {precision},{scale})")


def _java_text(value) -> str:
    """A value as Java's toString shows it in ksqlDB's messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value) if "e" not in repr(value) else f"{value:E}".replace("E+", "E")
    return str(value)


class Inserts:
    """INSERT VALUES, as part of KsqlEngine (a mixin)."""

    def _exec_InsertValues(self, stmt: ast.InsertValues, text: str, session: Session):
        target = self.metastore.get(stmt.target)
        if target is None:
            raise self._unknown_target(stmt.target)
        if target.is_source:
            raise KsqlStatementError(f"Cannot insert values into read-only {target.kind.lower()}: {stmt.target}")
        schema = target.schema
        # header columns are read-only: named, or implied by leaving the column list out
        names = list(stmt.columns) or [c.name for c in schema.columns]
        header_names = {c.name for c in schema.columns if c.namespace == HEADER}
        headers = [name for name in names if name in header_names]
        if headers:
            raise KsqlStatementError(f"Cannot insert into HEADER columns: {', '.join(headers)}")
        if len(names) != len(stmt.values):
            raise KsqlStatementError(
                f"Failed to prepare statement: Expected number columns and values to match: "
                f"{len(names)}, {len(stmt.values)}")
        values = {}
        empty = pa.RecordBatch.from_arrays([pa.array([0])], names=["__ROW"])
        scope = Scope()
        for name, expr in zip(names, stmt.values):
            column = schema.find(name)
            if name == ROWTIME:
                column = Column(ROWTIME, T.BIGINT)
            if name in (ROWPARTITION, ROWOFFSET):
                raise KsqlStatementError(f"Inserting into column `{name}` is not allowed.")
            if column is None:
                raise KsqlStatementError(f"Column name {name} does not exist.")
            values[name] = _insert_value(name, column.type, bind(expr, scope), empty)
        key_columns, value_columns = schema.key, schema.value
        if target.is_table:
            for column in key_columns:
                if column.name not in values or values[column.name][0].as_py() is None:
                    raise KsqlStatementError(f"Failed to insert values into '{target.name}'. "
                                             f"Value for primary key column(s) {column.name} is required for tables")
        key_format = make_format(target.key_format, key_columns, key=True, options=target.key_options())
        value_format = make_format(target.value_format, value_columns, key=False, options=target.value_options())

        def column_array(c):
            return values[c.name] if c.name in values else pa.nulls(1, T.to_arrow(c.type))

        keys = key_format.encode([column_array(c) for c in key_columns], 1)
        payloads = value_format.encode([column_array(c) for c in value_columns], 1)
        rowtime = values[ROWTIME][0].as_py() if ROWTIME in values else clock.now()
        partition = int(partitions_for(keys, target.partitions, int(time.time_ns()))[0])
        self.log.append(target.topic, partition, make_records(keys, payloads, [rowtime]))
        return StatusResult(text, "Inserted", None)

    def _unknown_target(self, name: str) -> KsqlStatementError:
        """The error for a missing target, with ksqlDB's hint when a source's name differs from
        it only in case (the quotes around a name keep its case; without them it is upper case)."""
        message = f"Cannot insert values into an unknown stream/table: `{name}`"
        other = next((s.name for s in self.metastore.sources() if s.name.upper() == name.upper()), None)
        if other is None:
            return KsqlStatementError(message)
        if other == other.upper():
            return KsqlStatementError(f"{message}\nDid you mean {other}? Hint: try removing double quotes from the "
                                      f"source name.")
        return KsqlStatementError(f'{message}\nDid you mean "{other}"? Hint: wrap the source name in double quotes '
                                  f'to make it case-sensitive.')

    def insert_row(self, target: str, row: dict) -> None:
        """Insert one row given as JSON-like values by column name (REST /inserts-stream)."""
        with self._lock:
            source = self.metastore.get(target)
            if source is None:
                raise self._unknown_target(target)
            if source.is_source:
                raise KsqlStatementError(f"Cannot insert values into read-only {source.kind.lower()}: {target}")
            by_name = {k.upper(): v for k, v in row.items()}
            unknown = [k for k in by_name if source.schema.find(k) is None and k != ROWTIME]
            if unknown:
                raise KsqlStatementError(f"Column name {unknown[0]} does not exist.")

            def array(column):
                value = _json_reader(column.type)(by_name.get(column.name.upper()))
                return pa.array([value], T.to_arrow(column.type))

            key_columns, value_columns = source.schema.key, source.schema.value
            key_format = make_format(source.key_format, key_columns, key=True, options=source.key_options())
            value_format = make_format(source.value_format, value_columns, key=False, options=source.value_options())
            keys = key_format.encode([array(c) for c in key_columns], 1)
            values = value_format.encode([array(c) for c in value_columns], 1)
            rowtime = int(by_name.get(ROWTIME) or clock.now())
            partition = int(partitions_for(keys, source.partitions, int(time.time_ns()))[0])
            self.log.append(source.topic, partition, make_records(keys, values, [rowtime]))
