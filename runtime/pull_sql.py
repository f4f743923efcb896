"""Pull queries past ksqlDB's, run: DuckDB runs the statement planned by planner/pull_sql.py over
Arrow snapshots of the tables, taken all under the tables' locks together so a query sees one
consistent cut of the state. KSQL's scalar functions run inside DuckDB as Arrow functions (the
engine's own implementations, so results match push queries).
"""
from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass

import pyarrow as pa

from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.metastore import DataSource
from ksql.planner.pull_sql import SqlPullPlan
from ksql.planner.types import SqlType

_local = threading.local()


@dataclass
class Table:
    """One source of the query: its alias, definition and current rows."""
    alias: str
    source: DataSource
    rows: pa.Table


def run(plan: SqlPullPlan, tables: list[Table]) -> tuple[list[str], list[SqlType], pa.Table]:
    """The query's result: column names, their SQL types and the rows."""
    import duckdb  # loaded when the first such pull query comes, not at start-up

    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
    registered = []
    try:
        for table in tables:
            con.register(plan.table_names[table.alias], table.rows)
            registered.append(plan.table_names[table.alias])
        for name, f in plan.functions.items():
            con.create_function(name, _arrow_function(f.evaluate, f.return_type, len(f.params)), list(f.params),
                                f.returns, type="arrow", null_handling="special")
        try:
            result = con.sql(plan.sql).to_arrow_table()
        except duckdb.Error as error:
            raise KsqlStatementError(f"Pull query failed: {str(error).splitlines()[0]}") from None
    finally:
        for name in registered:
            con.unregister(name)
        for name in plan.functions:
            try:
                con.remove_function(name)
            except duckdb.Error:
                pass
    types = [T.from_arrow(field.type) for field in result.schema]
    return list(plan.output_names), types, result


def _arrow_function(evaluate, return_type: SqlType, arity: int):
    """A KSQL function as a DuckDB Arrow function: whole columns in, a column out."""
    arrow_type = T.to_arrow(return_type)

    def run(*columns):
        arrays = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
        n = len(arrays[0]) if arrays else 1
        result = evaluate(arrays, n)
        if isinstance(result, list):
            return pa.array(result, arrow_type)
        if isinstance(result, pa.Scalar):
            result = broadcast(result, n)
        return result.cast(arrow_type) if result.type != arrow_type else result
    # DuckDB counts a function's parameters from its signature
    run.__signature__ = inspect.Signature(
        [inspect.Parameter(f"a{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)])
    return run
