"""Aggregations and joins over random multi-partition input, killed (SIGKILL of a real process)
and restarted at random moments, end with what DuckDB computes from the same rows."""
from __future__ import annotations

import json
import os
import struct
from collections import Counter

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ksql.testing.case import Record
from ksql.testing.differential import Plan, Variant, isolated, run_variant

EXAMPLES = int(os.environ.get("KSQL_PROPERTY_EXAMPLES", "15"))
BASE = 1_700_000_000_000


@st.composite
def orders(draw, max_rows=40):
    """Rows (id, k, amount, ts) with distinct, increasing timestamps (so nothing is late and
    no two rows tie), and where to kill the run."""
    n = draw(st.integers(1, max_rows))
    gaps = draw(st.lists(st.integers(1, 4000), min_size=n, max_size=n))
    rows, ts = [], BASE
    for i, gap in enumerate(gaps):
        ts += gap
        rows.append((draw(st.integers(0, 9)), draw(st.sampled_from("abc")), draw(st.integers(-50, 100)), ts))
    partitions = draw(st.integers(1, 4))
    cuts = tuple(sorted(set(draw(st.lists(st.integers(1, n + 2), max_size=3)))))
    return rows, partitions, cuts


def source(partitions: int) -> str:
    return (f"CREATE STREAM o (id INT KEY, k STRING, amount INT) WITH (kafka_topic='o', key_format='JSON', "
            f"value_format='JSON', partitions={partitions});")


def order_records(rows) -> list[Record]:
    return [Record("o", i, {"K": k, "AMOUNT": a}, ts) for i, k, a, ts in rows]


def run(statements, records, cuts) -> dict:
    # forked from a process of its own: this one may have a Kafka client's threads
    outcome = isolated().submit(run_variant, Plan("property", statements, records), Variant("killed", cuts=cuts),
                                len(records)).result()
    assert "sinks" in outcome, outcome
    assert outcome["errors"] == []
    return outcome["sinks"]


def table_rows(sinks, topic, window_bytes=0) -> set:
    """A table sink's final rows as (key..., window..., value columns...) tuples."""
    out = set()
    for key_hex, value_hex in sinks[topic]["table"].items():
        key = bytes.fromhex(key_hex)
        window = ()
        if window_bytes == 8:
            key, window = key[:-8], struct.unpack(">q", key[-8:])
        elif window_bytes == 16:
            key, (end, start) = key[:-16], struct.unpack(">qq", key[-16:])
            window = (start, end)
        value = json.loads(bytes.fromhex(value_hex))
        out.add((json.loads(key), *window, *value.values()))
    return out


def duck(rows, sql: str, multiset: bool = False):
    db = duckdb.connect()
    db.execute("CREATE TABLE o (id INT, k VARCHAR, amount INT, ts BIGINT)")
    if rows:
        db.executemany("INSERT INTO o VALUES (?, ?, ?, ?)", rows)
    found = [tuple(r) for r in db.execute(sql).fetchall()]
    return Counter(found) if multiset else set(found)


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(orders())
def test_group_by_another_column(case):
    rows, partitions, cuts = case
    sinks = run([source(partitions), "CREATE TABLE t AS SELECT k, COUNT(*) AS n, SUM(amount) AS total "
                                     "FROM o GROUP BY k;"], order_records(rows), cuts)
    assert table_rows(sinks, "T") == duck(rows, "SELECT k, COUNT(*), SUM(amount) FROM o GROUP BY k")


@SETTINGS
@given(orders())
def test_tumbling_window(case):
    rows, partitions, cuts = case
    sinks = run([source(partitions), "CREATE TABLE t AS SELECT k, COUNT(*) AS n, MAX(amount) AS top FROM o "
                                     "WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 1 DAY) GROUP BY k;"],
                order_records(rows), cuts)
    assert table_rows(sinks, "T", window_bytes=8) == duck(
        rows, "SELECT k, ts // 10000 * 10000 AS ws, COUNT(*), MAX(amount) FROM o GROUP BY k, ws")


@SETTINGS
@given(orders())
def test_session_window(case):
    rows, partitions, cuts = case
    sinks = run([source(partitions), "CREATE TABLE t AS SELECT k, COUNT(*) AS n, SUM(amount) AS total FROM o "
                                     "WINDOW SESSION (5 SECONDS, GRACE PERIOD 1 DAY) GROUP BY k;"],
                order_records(rows), cuts)
    # a record more than 5 s after the last one of its group starts a new session
    expected = duck(rows, """
        WITH marked AS (SELECT *, CASE WHEN ts - LAG(ts) OVER (PARTITION BY k ORDER BY ts) <= 5000
                                       THEN 0 ELSE 1 END AS starts FROM o),
             numbered AS (SELECT *, SUM(starts) OVER (PARTITION BY k ORDER BY ts) AS session FROM marked)
        SELECT k, MIN(ts), MAX(ts), COUNT(*), SUM(amount) FROM numbered GROUP BY k, session""")
    assert table_rows(sinks, "T", window_bytes=16) == expected


@SETTINGS
@given(orders(), st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["ann", "bob", "cy"])), max_size=15))
def test_stream_table_join(case, users):
    rows, partitions, cuts = case
    # user updates at timestamps between the orders' (distinct from theirs)
    updates = [(uid, name, BASE + 1 + 2 * i * 997 + 1) for i, (uid, name) in enumerate(users)]
    stamps = {ts for *_, ts in rows}
    updates = [(uid, name, ts) for uid, name, ts in updates if ts not in stamps]
    statements = [source(partitions),
                  f"CREATE TABLE u (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='u', key_format='JSON', "
                  f"value_format='JSON', partitions={partitions});",
                  "CREATE STREAM j AS SELECT o.id AS id, o.amount AS amount, u.name AS name "
                  "FROM o LEFT JOIN u ON o.id = u.id;"]
    records = sorted(order_records(rows) + [Record("u", uid, {"NAME": name}, ts) for uid, name, ts in updates],
                     key=lambda r: r.timestamp)
    sinks = run(statements, records, cuts)
    got = Counter()
    for key_hex, records_of_key in sinks["J"]["stream"].items():
        for value_hex, ts in records_of_key:
            value = json.loads(bytes.fromhex(value_hex))
            got[(json.loads(bytes.fromhex(key_hex)), value["AMOUNT"], value["NAME"], ts)] += 1
    db = duckdb.connect()
    db.execute("CREATE TABLE o (id INT, k VARCHAR, amount INT, ts BIGINT)")
    db.execute("CREATE TABLE u (id INT, name VARCHAR, ts BIGINT)")
    if rows:
        db.executemany("INSERT INTO o VALUES (?, ?, ?, ?)", rows)
    if updates:
        db.executemany("INSERT INTO u VALUES (?, ?, ?)", updates)
    expected = Counter(tuple(r) for r in db.execute(
        "SELECT o.id, o.amount, u.name, o.ts FROM o ASOF LEFT JOIN u ON o.id = u.id AND o.ts >= u.ts").fetchall())
    assert got == expected


@SETTINGS
@given(orders(max_rows=25))
def test_stream_stream_join(case):
    rows, partitions, cuts = case
    statements = [source(partitions),
                  "CREATE STREAM o2 AS SELECT id, k, amount FROM o;",
                  "CREATE STREAM j AS SELECT a.id AS id, a.amount AS left_amount, b.amount AS right_amount "
                  "FROM o a JOIN o2 b WITHIN 3 SECONDS GRACE PERIOD 1 DAY ON a.id = b.id;"]
    sinks = run(statements, order_records(rows), cuts)
    got = Counter((json.loads(bytes.fromhex(key)), *json.loads(bytes.fromhex(v)).values(), ts)
                  for key, records_of_key in sinks["J"]["stream"].items() for v, ts in records_of_key)
    expected = duck(rows, "SELECT a.id, a.amount, b.amount, GREATEST(a.ts, b.ts) FROM o a JOIN o b "
                          "ON a.id = b.id AND b.ts BETWEEN a.ts - 3000 AND a.ts + 3000", multiset=True)
    assert got == expected
