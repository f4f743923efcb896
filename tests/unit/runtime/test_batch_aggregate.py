"""The batch path of aggregation gives exactly what the row-by-row path gives: the same
output rows in the same order, the same late-record count and the same state, on random
streams with NULLs, NaNs, out-of-order and late records, over several partitions."""
from __future__ import annotations

import ast
import math
import random

import pytest

from ksql.engine import KsqlEngine
from ksql.planner.schema import ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime.materialized import MaterializedTable
from ksql.runtime.operators.aggregate import AggregateOp
from ksql.runtime.source import SourceDecoder

from conftest import topic_records

QUERIES = {
    "plain": "SELECT k, COUNT(*) AS n, COUNT(x) AS nx, SUM(x) AS sx, SUM(d) AS sd, AVG(d) AS ad, MIN(x) AS lo, "
             "MAX(d) AS hi FROM s GROUP BY k",
    "tumbling": "SELECT k, COUNT(*) AS n, SUM(x) AS sx, MAX(x) AS hi, MIN(d) AS lo, AVG(x) AS ax FROM s "
                "WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY k",
    "hopping": "SELECT k, COUNT(*) AS n, SUM(d) AS sd, MIN(x) AS lo FROM s "
               "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 3 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY k",
    "retention": "SELECT k, MAX(x) AS hi FROM s WINDOW TUMBLING (SIZE 5 SECONDS, RETENTION 20 SECONDS, "
                 "GRACE PERIOD 0 SECONDS) GROUP BY k",
    "by offset": "SELECT k, LATEST_BY_OFFSET(x) AS lx, EARLIEST_BY_OFFSET(d) AS ed, LATEST_BY_OFFSET(d, false) AS ld, "
                 "EARLIEST_BY_OFFSET(x, false) AS ex, LATEST_BY_OFFSET(STRUCT(a := x, b := k)) AS ls, "
                 "EARLIEST_BY_OFFSET(CAST(x AS DECIMAL(6, 2))) AS ec FROM s GROUP BY k",
    "ordered extremes": "SELECT k, MAX(CAST(x AS STRING)) AS hs, MIN(CAST(x AS DECIMAL(6, 2))) AS lc, "
                        "MAX(FROM_UNIXTIME(x * 1000)) AS ht, MIN(TO_BYTES(CAST(x AS STRING), 'utf8')) AS lb, "
                        "MAX(FROM_DAYS(CAST(x AS INT))) AS hd FROM s GROUP BY k",
    "distinct": "SELECT k, COUNT_DISTINCT(x) AS nx, COUNT_DISTINCT(CAST(x AS STRING)) AS ns, "
                "COUNT_DISTINCT(x > 0) AS nb, COUNT_DISTINCT(CAST(x AS DECIMAL(6, 2))) AS nd FROM s GROUP BY k",
    "final, tumbling": "SELECT k, COUNT(*) AS n, SUM(x) AS sx, AVG(d) AS ad, MAX(CAST(x AS STRING)) AS hs, "
                       "LATEST_BY_OFFSET(d) AS ld FROM s WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) "
                       "GROUP BY k EMIT FINAL",
    "final, hopping": "SELECT k, COUNT(*) AS n, MIN(d) AS lo FROM s "
                      "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 3 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY k EMIT FINAL",
    "final, retention": "SELECT k, MAX(x) AS hi FROM s WINDOW TUMBLING (SIZE 5 SECONDS, RETENTION 20 SECONDS, "
                        "GRACE PERIOD 0 SECONDS) GROUP BY k EMIT FINAL",
    "moments": "SELECT k, STDDEV_SAMP(x) AS vx, STDDEV_SAMPLE(d) AS sd, STDDEV_SAMPLE(x) AS sx, "
               "CORRELATION(x, d) AS cxd, CORRELATION(d, x * 2) AS cdx FROM s GROUP BY k",
    "moments, hopping": "SELECT k, STDDEV_SAMP(d) AS vd, CORRELATION(x, x) AS cxx FROM s "
                        "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 3 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY k",
    "lists": "SELECT k, COLLECT_LIST(x) AS lx, COLLECT_LIST(d) AS ld, COLLECT_LIST(CAST(x AS STRING)) AS ls, "
             "COUNT(*) AS n FROM s GROUP BY k",
    "lists, tumbling": "SELECT k, COLLECT_LIST(x) AS lx FROM s WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) "
                       "GROUP BY k",
    "sets": "SELECT k, COLLECT_SET(x) AS sx, COLLECT_SET(CAST(x AS STRING)) AS ss, COLLECT_SET(x > 0) AS sb, "
            "COLLECT_SET(CAST(x AS DECIMAL(6, 2))) AS sd, COLLECT_SET(FROM_UNIXTIME(x * 1000)) AS st FROM s GROUP BY k",
    "sets, hopping": "SELECT k, COLLECT_SET(x % 7) AS sx, COLLECT_LIST(x) AS lx FROM s "
                     "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 3 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY k",
    "histograms": "SELECT k, HISTOGRAM(CAST(x % 5 AS STRING)) AS hx, HISTOGRAM(CAST(d AS STRING)) AS hd, COUNT(*) AS n "
                  "FROM s GROUP BY k",
    "histograms, tumbling": "SELECT k, HISTOGRAM(CAST(x AS STRING)) AS hx FROM s "
                            "WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) GROUP BY k",
    "top k": "SELECT k, TOPK(x, 3) AS tx, TOPKDISTINCT(x % 10, 2) AS dx, TOPK(CAST(x AS INT), 1) AS t1, "
             "TOPKDISTINCT(x, 64) AS many FROM s GROUP BY k",
    "top k, hopping": "SELECT k, TOPK(x, 2) AS tx, TOPKDISTINCT(x % 4, 3) AS dx FROM s "
                      "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 3 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY k",
    "final, collections": "SELECT k, COLLECT_SET(x % 3) AS sx, HISTOGRAM(CAST(x % 3 AS STRING)) AS hx, "
                          "TOPK(x, 2) AS tx FROM s WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 5 SECONDS) "
                          "GROUP BY k EMIT FINAL",
    "by offset, hopping": "SELECT k, COUNT(*) AS n, LATEST_BY_OFFSET(d) AS ld, EARLIEST_BY_OFFSET(x) AS ex, "
                          "LATEST_BY_OFFSET(x, false) AS lx FROM s "
                          "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 3 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY k",
}


def _without_sequences(value):
    """A stored state with EARLIEST/LATEST_BY_OFFSET's sequence numbers (drawn from a counter
    both paths share, so never equal) replaced by how many there are."""
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[0], list) and isinstance(value[2], list):
        return (value[0], value[1], len(value[2]))
    if isinstance(value, (list, tuple)):
        return type(value)(_without_sequences(v) for v in value)
    return value


def run(tmp_path, name, sql, records, batch_path: bool, drain_every: int | None = None):
    engine = KsqlEngine(str(tmp_path / name), background=False)
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        engine.execute("CREATE STREAM s (id INT KEY, k STRING, x BIGINT, d DOUBLE) "
                       "WITH (kafka_topic='s', value_format='JSON', partitions=3);")
        engine.execute(f"CREATE TABLE t AS {sql};")
        query = next(iter(engine.queries.values()))
        for op in query.pipeline.operators:
            if isinstance(op, AggregateOp):
                assert op.batch_path  # the query is one the batch path takes
                op.batch_path = batch_path
        for i, (rowtime, id_, value) in enumerate(records, start=1):
            engine.execute(f"INSERT INTO s (rowtime, id, k, x, d) VALUES ({rowtime}, {id_}, {value});")
            if drain_every and i % drain_every == 0:  # small batches, over state kept from earlier ones
                engine.drain()
        engine.drain()
        output = topic_records(engine.log, "T")
        late = sum(getattr(op, "late", 0) for op in query.pipeline.operators)
        state = sorted(repr((key, _without_sequences(value))) for key, value in query.pipeline.store.items())
        # the table's view took whole batches (cut to the last row per key); one row at a time
        # must leave it the same
        one_by_one = MaterializedTable(query.view.table)
        decoded = SourceDecoder(query.view.table, "check")
        for partition in range(query.view.table.partitions):
            records, _ = engine.log.read("T", partition, 0)
            if records is None:
                continue
            batch = decoded.decode(records, partition).batch
            for i in range(batch.num_rows):
                window = (WINDOWSTART, WINDOWEND) if query.view.table.window_type else None
                one_by_one.apply(batch.slice(i, 1), window, ROWTIME)
        assert sorted(map(repr, one_by_one.rows.items())) == sorted(map(repr, query.view.rows.items()))
        return output, late, state
    finally:
        engine.close()


def sql_value(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float) and math.isnan(value):
        return "CAST('NaN' AS DOUBLE)"
    return repr(value) if not isinstance(value, str) else f"'{value}'"


def random_records(seed: int) -> list:
    rng = random.Random(seed)
    records, clock = [], 1_000
    for _ in range(300):  # over 64 rows a partition: whole batches take the batch paths
        clock += rng.choice([0, 100, 700, 2_500])
        rowtime = clock - rng.choice([0, 0, 0, 3_000, 30_000])  # some out of order, some late
        key = rng.choice(["a", "b", "c", None])
        x = rng.choice([None, rng.randint(-50, 50), rng.randint(-50, 50)])
        d = rng.choice([None, float("nan"), round(rng.uniform(-10, 10), 2), 0.1, 0.2])
        values = ", ".join(sql_value(v) for v in (key, x, d))
        records.append((max(rowtime, 1), rng.randint(0, 9), values))
    return records


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("query", sorted(QUERIES))
def test_batch_and_row_paths_agree(tmp_path, query, seed):
    records = random_records(seed)
    by_rows = run(tmp_path, "rows", QUERIES[query], records, batch_path=False)
    by_batch = run(tmp_path, "batch", QUERIES[query], records, batch_path=True)
    assert by_batch == by_rows
    assert by_rows[0]  # the query emitted something
    if "WINDOW" in QUERIES[query]:
        assert by_rows[1] > 0  # and dropped late records


@pytest.mark.parametrize("every", [1, 4])
@pytest.mark.parametrize("query", ["plain", "tumbling", "by offset", "ordered extremes", "distinct", "moments", "lists", "sets", "histograms", "top k",
                                   "final, tumbling", "final, hopping"])
def test_small_batches_over_earlier_state(tmp_path, query, every):
    """A batch where a group has only NULLs (or NaNs), after earlier batches gave it a MIN or
    MAX, keeps that value: such rows must not count as a value of the batch's other groups."""
    records = random_records(3)
    by_rows = run(tmp_path, "rows", QUERIES[query], records, batch_path=False, drain_every=every)
    by_batch = run(tmp_path, "batch", QUERIES[query], records, batch_path=True, drain_every=every)
    assert by_batch == by_rows


@pytest.mark.parametrize("with_polars", [True, False])
def test_a_view_keeps_the_last_row_of_each_key(monkeypatch, with_polars):
    """The rows of a batch that decide a table's view: the last of each key, by polars' hashing
    or, where polars may not run (a forked child), by numpy's sort."""
    import numpy as np

    from ksql.runtime import materialized
    if not with_polars:
        monkeypatch.setattr(materialized.native, "polars", lambda: None)
    codes = np.array([5, 3, 5, 9, 3, 3, 7, 5], np.int64)
    assert materialized._last_of_each(codes).tolist() == [False, False, False, True, False, True, True, True]


@pytest.mark.parametrize("every", [None, 300])
def test_histogram_past_its_limit(tmp_path, every):
    """HISTOGRAM keeps 1000 distinct values: past that, new values are ignored and known ones
    still counted, in one batch and over state that reached the limit in an earlier one."""
    records = []
    for i in range(1300):
        if i < 1100:
            key, x = "a", i  # 0 to 999 kept, 1000 to 1099 ignored
        elif i % 2:
            key, x = "b", i
        else:
            key, x = "a", 5000 + i if i % 4 == 0 else 3  # new ones ignored, 3 counted 50 times more
        records.append((1_000 + i, i % 10, f"'{key}', {x}, 0.5"))
    sql = "SELECT k, HISTOGRAM(CAST(x AS STRING)) AS h FROM s GROUP BY k"
    by_rows = run(tmp_path, "rows", sql, records, batch_path=False, drain_every=every)
    by_batch = run(tmp_path, "batch", sql, records, batch_path=True, drain_every=every)
    assert by_batch == by_rows
    states = {entry[0][1][1][0]: entry[1][0][0] for entry in map(ast.literal_eval, by_rows[2])}
    assert {key: len(state) for key, state in states.items()} == {"a": 1000, "b": 100}
    assert states["a"]["3"] == 51
