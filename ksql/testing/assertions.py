"""ASSERT statements of SQL test files (ASSERT VALUES, ASSERT NULL VALUES, ASSERT STREAM|TABLE),
checked against the engine's topics and metastore."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from ksql.errors import KsqlError
from ksql.parser import ast, parse_statement
from ksql.planner import types as T
from ksql.planner.binder import bind, cast
from ksql.planner.scope import Scope
from ksql.runtime.expressions.compile import compile_expr
from ksql.planner.schema import KEY, ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime.formats.make import make_format
from ksql.testing.topics import _split_window, read_topic, values_equal


class AssertionFailed(KsqlError):
    pass


_IS_ASSERT = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*ASSERT\s+(VALUES|NULL|STREAM|TABLE)\b",
                        re.IGNORECASE | re.DOTALL)


class Assertions:
    """Runs ASSERT statements against an engine driven without background threads."""

    def __init__(self, engine):
        self.engine = engine
        self.cursors: dict[str, int] = {}  # topic -> records already asserted

    def handle(self, text: str) -> bool:
        if not _IS_ASSERT.match(text):
            return False
        statement = parse_statement(text)
        self.engine.drain()
        if isinstance(statement, ast.AssertValues):
            self._assert_values(statement)
        else:
            self._assert_source(statement)
        return True

    def _assert_values(self, stmt: ast.AssertValues) -> None:
        source = self.engine.metastore.get(stmt.target)
        if source is None:
            raise AssertionFailed(f"{stmt.target} does not exist.")
        records = read_topic(self.engine, source.topic)
        index = self.cursors.get(source.topic, 0)
        expected = self._expected_row(source, stmt)
        if index >= len(records):
            raise AssertionFailed(f"Expected another record ({expected}) for {stmt.target} but already read "
                                  f"all records: {index}")
        self.cursors[source.topic] = index + 1
        key, value, timestamp = records[index]
        actual = self._decode(source, key, value)
        actual[ROWTIME] = timestamp
        # expected TIMESTAMPs are epoch millis (_expected_row); so are the actual ones
        actual = {n: _millis(v) if isinstance(v, datetime) else v for n, v in actual.items()}
        if stmt.null_value and value is not None:
            raise AssertionFailed(f"Expected record does not match actual. Expected a tombstone, got {actual}")
        for name, want in expected.items():
            if not values_equal(want, actual.get(name)):
                raise AssertionFailed(f"Expected record does not match actual. Expected: {expected} vs. "
                                      f"Actual: { {n: actual.get(n) for n in expected} }")

    def _expected_row(self, source, stmt) -> dict:
        names = list(stmt.columns) or [c.name for c in source.schema.columns]
        batch_scope = Scope()
        import pyarrow as pa

        one = pa.RecordBatch.from_arrays([pa.array([0])], names=["__ROW"])
        row = {}
        for name, expr in zip(names, stmt.values):
            column = source.schema.find(name)
            if column is None and name not in (ROWTIME, WINDOWSTART, WINDOWEND):
                raise AssertionFailed(f"Column name `{name}` does not exist.")
            bound = bind(expr, batch_scope)
            target = T.BIGINT if name == ROWTIME else (column.type if column else bound.type)
            if target is not None:
                bound = cast(bound, target)
            row[name] = compile_expr(bound).column(one).to_pylist()[0]
            if isinstance(row[name], object) and target is not None and target.base in ("TIMESTAMP",):
                row[name] = pa.array([row[name]], T.to_arrow(target)).cast(pa.int64())[0].as_py()
        return row

    def _decode(self, source, key: bytes | None, value: bytes | None) -> dict:
        row = {}
        # a windowed key carries the window's bounds after the key itself
        key, window = _split_window(key, source)
        if window is not None:
            row[WINDOWSTART], row[WINDOWEND] = window["start"], window["end"]
        for columns, payload, is_key in ((source.schema.key, key, True), (source.schema.value, value, False)):
            fmt_name = source.key_format if is_key else source.value_format
            options = source.key_options() if is_key else source.value_options()
            fmt = make_format(fmt_name, columns, key=is_key, options=options)
            arrays, _ = fmt.decode([payload])
            for column, array in zip(columns, arrays):
                row[column.name] = array.to_pylist()[0]
        return row

    def _assert_source(self, stmt: ast.AssertSource) -> None:
        source = self.engine.metastore.get(stmt.name)
        if source is None:
            raise AssertionFailed(f"Expected source {stmt.name} does not exist.")
        if source.kind != stmt.kind:
            raise AssertionFailed(f"Expected type does not match actual for source {stmt.name}: "
                                  f"expected {stmt.kind}, actual {source.kind}")
        if stmt.columns:
            expected = [(c.name, str(T.from_ref(c.type)), c.constraint in ("KEY", "PRIMARY KEY"))
                        for c in stmt.columns]
            actual = [(c.name, str(c.type), c.namespace == KEY) for c in source.schema.columns]
            if expected != actual:
                raise AssertionFailed(f"Expected schema does not match actual for source {stmt.name}. "
                                      f"Expected: {expected}, actual: {actual}")
        props = {k.upper(): v for k, v in stmt.properties.items()}
        if "KAFKA_TOPIC" in props and props["KAFKA_TOPIC"] != source.topic:
            raise AssertionFailed(f"Expected kafka topic does not match actual for source {stmt.name}: "
                                  f"expected {props['KAFKA_TOPIC']}, actual {source.topic}")
        both = props.get("FORMAT")
        key_format = props.get("KEY_FORMAT", both)
        value_format = props.get("VALUE_FORMAT", both)
        if key_format and str(key_format).upper() != source.key_format:
            raise AssertionFailed(f"Expected key format does not match actual for source {stmt.name}: "
                                  f"expected {key_format}, actual {source.key_format}")
        if value_format and str(value_format).upper() != source.value_format:
            raise AssertionFailed(f"Expected value format does not match actual for source {stmt.name}: "
                                  f"expected {value_format}, actual {source.value_format}")
        if "TIMESTAMP" in props and str(props["TIMESTAMP"]).upper() != (source.timestamp_column or "").upper():
            raise AssertionFailed(f"Expected timestamp column does not match actual for source {stmt.name}.")
        if "TIMESTAMP_FORMAT" in props and props["TIMESTAMP_FORMAT"] != source.timestamp_format:
            raise AssertionFailed(f"Expected timestamp format does not match actual for source {stmt.name}.")
        if "WRAP_SINGLE_VALUE" in props:
            wanted = str(props["WRAP_SINGLE_VALUE"]).lower() == "true"
            if source.wrap_single_value is None or source.wrap_single_value != wanted:
                raise AssertionFailed(f"Expected value serde features does not match actual for source {stmt.name}.")


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
