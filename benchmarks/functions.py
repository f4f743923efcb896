"""Expression throughput: a projection of ten typical functions over 1M rows, evaluated by the
engine's compiled expressions (in 10k-row batches, as queries run) and by DuckDB over the same
Arrow table in the same run (the reference).

    python -m benchmarks.functions [--rows N]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

from ksql.parser import parse_statement
from ksql.planner import types as T
from ksql.planner.expressions import Scope, compile_expression

EXPRESSIONS = [
    ("UCASE(name)", "upper(name)"),
    ("LEN(name)", "length(name)"),
    ("CONCAT(name, '-', city)", "concat(name, '-', city)"),
    ("ABS(delta)", "abs(delta)"),
    ("ROUND(price, 2)", "round(price, 2)"),
    ("SUBSTRING(city, 1, 3)", "substring(city, 1, 3)"),
    ("COALESCE(city, 'none')", "coalesce(city, 'none')"),
    ("CAST(qty AS STRING)", "CAST(qty AS VARCHAR)"),
    ("qty * 2 + delta", "qty * 2 + delta"),
    ("CASE WHEN qty > 50 THEN 'big' ELSE 'small' END", "CASE WHEN qty > 50 THEN 'big' ELSE 'small' END"),
]


def make_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(7)
    names = np.array(["alice", "bob", "carol", "dave", "erin"])
    cities = np.array(["paris", "lima", "oslo", "kyiv", None], dtype=object)
    return pa.table({
        "NAME": pa.array(names[rng.integers(0, 5, rows)]),
        "CITY": pa.array(cities[rng.integers(0, 5, rows)]),
        "PRICE": pa.array(rng.random(rows) * 100),
        "QTY": pa.array(rng.integers(0, 100, rows, dtype=np.int32)),
        "DELTA": pa.array(rng.integers(-50, 50, rows, dtype=np.int64)),
    })


def run_engine(table: pa.Table, batch_size: int) -> float:
    scope = Scope()
    for field in table.schema:
        scope.add(None, field.name, field.name, T.from_arrow(field.type))
    statement = parse_statement("SELECT " + ", ".join(e for e, _ in EXPRESSIONS) + " FROM X;")
    compiled = [compile_expression(item.expression, scope) for item in statement.query.select]
    batches = table.to_batches(max_chunksize=batch_size)
    started = time.perf_counter()
    for batch in batches:
        for expression in compiled:
            expression.column(batch)
    return time.perf_counter() - started


def run_duckdb(table: pa.Table) -> float:
    import duckdb

    connection = duckdb.connect()
    connection.register("t", table)
    sql = "SELECT " + ", ".join(d for _, d in EXPRESSIONS) + " FROM t"
    started = time.perf_counter()
    connection.sql(sql).to_arrow_table()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    table = make_table(args.rows)
    engine = min(run_engine(table, args.batch) for _ in range(3))
    duck = min(run_duckdb(table) for _ in range(3))
    print(f"ten functions over {args.rows:,} rows: engine {args.rows / engine:,.0f} rows/s "
          f"({engine:.2f} s, {args.batch:,}-row batches); DuckDB {args.rows / duck:,.0f} rows/s ({duck:.2f} s); "
          f"ratio {engine / duck:.1f}x")


if __name__ == "__main__":
    main()
