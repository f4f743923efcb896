"""Expression throughput: projections of ten functions over 1M rows, evaluated by the engine's
compiled expressions (in 10k-row batches, as queries run) and by DuckDB over the same Arrow
table in the same run (the reference). Two sets: ten typical functions, and ten that need
more than one Arrow kernel (Java patterns, regular expressions, URLs, JSON, hashing).

    python -m benchmarks.functions [--rows N]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute below

from ksql.parser import parse_statement
from ksql.planner import types as T
from ksql.planner.binder import bind
from ksql.planner.scope import Scope
from ksql.runtime.expressions.compile import compile_expr

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

# Each engine function next to DuckDB's nearest equivalent.
PATTERNED = [
    ("REPLACE(name, 'a', 'A')", "replace(name, 'a', 'A')"),
    ("LPAD(name, 8, '*')", "lpad(name, 8, '*')"),
    ("REGEXP_EXTRACT('[a-z]+', url)", "regexp_extract(url, '[a-z]+')"),
    ("REGEXP_REPLACE(name, '[aeiou]', '_')", "regexp_replace(name, '[aeiou]', '_', 'g')"),
    ("SPLIT(url, '/')", "string_split(url, '/')"),
    ("URL_EXTRACT_HOST(url)", "regexp_extract(url, '://([^/:?#]+)', 1)"),
    ("FORMAT_TIMESTAMP(ts, 'yyyy-MM-dd HH:mm:ss.SSS')", "strftime(ts, '%Y-%m-%d %H:%M:%S.%g')"),
    ("PARSE_TIMESTAMP(stamp, 'yyyy-MM-dd HH:mm:ss')", "strptime(stamp, '%Y-%m-%d %H:%M:%S')"),
    ("EXTRACTJSONFIELD(doc, '$.user.name')", "json_extract_string(doc, '$.user.name')"),
    ("MD5(name)", "md5(name)"),
]


def make_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(7)
    names = np.array(["alice", "bob", "carol", "dave", "erin"])
    cities = np.array(["paris", "lima", "oslo", "kyiv", None], dtype=object)
    millis = 1_600_000_000_000 + rng.integers(0, 10**10, rows)
    users = names[rng.integers(0, 5, rows)]
    return pa.table({
        "NAME": pa.array(names[rng.integers(0, 5, rows)]),
        "URL": pa.array(np.char.add(np.char.add("https://", users), ".example.com/a/b?x=1")),
        "TS": pa.array(millis, pa.timestamp("ms")),
        "STAMP": pa.compute.strftime(pa.array(millis // 1000, pa.timestamp("s")), "%Y-%m-%d %H:%M:%S"),
        "DOC": pa.array(np.char.add(np.char.add('{"user": {"name": "', users), '", "n": 1}}')),
        "CITY": pa.array(cities[rng.integers(0, 5, rows)]),
        "PRICE": pa.array(rng.random(rows) * 100),
        "QTY": pa.array(rng.integers(0, 100, rows, dtype=np.int32)),
        "DELTA": pa.array(rng.integers(-50, 50, rows, dtype=np.int64)),
    })


def run_engine(table: pa.Table, batch_size: int, expressions) -> float:
    scope = Scope()
    for field in table.schema:
        scope.add(None, field.name, field.name, T.from_arrow(field.type))
    statement = parse_statement("SELECT " + ", ".join(e for e, _ in expressions) + " FROM X;")
    compiled = [compile_expr(bind(item.expression, scope)) for item in statement.query.select]
    batches = table.to_batches(max_chunksize=batch_size)
    started = time.perf_counter()
    for batch in batches:
        for expression in compiled:
            expression.column(batch)
    return time.perf_counter() - started


def run_duckdb(table: pa.Table, expressions) -> float:
    import duckdb

    connection = duckdb.connect()
    connection.register("t", table)
    sql = "SELECT " + ", ".join(d for _, d in expressions) + " FROM t"
    started = time.perf_counter()
    connection.sql(sql).to_arrow_table()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    table = make_table(args.rows)
    for title, expressions in (("ten typical functions", EXPRESSIONS), ("ten patterned functions", PATTERNED)):
        engine = min(run_engine(table, args.batch, expressions) for _ in range(3))
        duck = min(run_duckdb(table, expressions) for _ in range(3))
        print(f"{title} over {args.rows:,} rows: engine {args.rows / engine:,.0f} rows/s "
              f"({engine:.2f} s, {args.batch:,}-row batches); DuckDB {args.rows / duck:,.0f} rows/s "
              f"({duck:.2f} s); ratio {engine / duck:.1f}x")


if __name__ == "__main__":
    main()
