"""A table aggregation taken a batch at a time (batch_aggregate.table_process) gives exactly
what the row-at-a-time path gives: every update and takeback in order, with rows moving between
groups, deletes, NULL groups and NULL values, whatever the batch size."""
from __future__ import annotations

import json
import random

import pytest

from conftest import topic_records
from ksql.engine import KsqlEngine
from ksql.runtime import query as query_module
from ksql.runtime.log.embedded import make_records
from ksql.runtime.operators import aggregate as aggregate_module

QUERY = ("CREATE TABLE out AS SELECT g, COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS total, AVG(v) AS mean, "
         "SUM(d) AS dsum, AVG(d) AS dmean FROM t GROUP BY g;")
MOMENTS = ("CREATE TABLE out AS SELECT g, STDDEV_SAMP(v) AS vv, STDDEV_SAMPLE(d) AS sd, CORRELATION(v, d) AS c, "
           "COUNT(*) AS n FROM t GROUP BY g;")


def changes(seed: int, count: int = 300) -> list[tuple]:
    """(id, value or None for a delete, timestamp)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        value = None if rng.random() < 0.1 else {
            "G": rng.choice(("a", "b", "c", None)), "V": rng.choice((1, 5, -3, 100, None)),
            "D": rng.choice((0.1, 2.5, -1.25, None))}
        out.append((rng.randrange(12), value, 10_000 + i * rng.choice((1, 10))))
    return out


def run(tmp_path, name, rows, batch_path, max_batch, monkeypatch, query=QUERY) -> list:
    monkeypatch.setattr(query_module, "MAX_BATCH", max_batch)
    if not batch_path:
        monkeypatch.setattr(aggregate_module.batch_aggregate, "supported", lambda op: False)
    engine = KsqlEngine(str(tmp_path / name), {}, background=False)
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        engine.execute("CREATE TABLE t (id INT PRIMARY KEY, g STRING, v INT, d DOUBLE) "
                       "WITH (kafka_topic='t', value_format='JSON', key_format='KAFKA', partitions=1);")
        engine.execute(query)
        op = next(iter(engine.queries.values())).pipeline.operators
        assert any(getattr(o, "batch_path", None) for o in op) == batch_path
        engine.log.append("t", 0, make_records(
            [i.to_bytes(4, "big") for i, _, _ in rows],
            [None if v is None else json.dumps(v).encode() for _, v, _ in rows], [ts for _, _, ts in rows]))
        engine.drain()
        return [(k, v, ts) for _, k, v, ts in topic_records(engine.log, "OUT")]
    finally:
        engine.close()
        monkeypatch.undo()


@pytest.mark.parametrize("query", [QUERY, MOMENTS], ids=["sums", "moments"])
@pytest.mark.parametrize("seed", range(4))
def test_batch_and_row_paths_agree(tmp_path, monkeypatch, seed, query):
    rows = changes(seed)
    expected = run(tmp_path, "rows", rows, False, 50_000, monkeypatch, query)
    assert len(expected) > len(rows)  # rows moving between groups emit twice
    assert run(tmp_path, "batches", rows, True, 50_000, monkeypatch, query) == expected
    assert run(tmp_path, "small", rows, True, 5, monkeypatch, query) == expected


def test_a_row_moving_to_another_group_is_taken_back_from_the_first(tmp_path, monkeypatch):
    rows = [(1, {"G": "a", "V": 5, "D": 1.5}, 10_000),
            (2, {"G": "a", "V": 7, "D": None}, 10_001),
            (1, {"G": "b", "V": 5, "D": 1.5}, 10_002),   # leaves a for b: a, then b
            (2, {"G": "a", "V": 8, "D": None}, 10_003),  # stays in a: a once
            (2, None, 10_004)]                           # deleted: a
    out = run(tmp_path, "moves", rows, batch_path=True, max_batch=50_000, monkeypatch=monkeypatch)
    assert [(k, json.loads(v)) for k, v, _ in out] == [
        (b"a", {"N": 1, "NV": 1, "TOTAL": 5, "MEAN": 5.0, "DSUM": 1.5, "DMEAN": 1.5}),
        (b"a", {"N": 2, "NV": 2, "TOTAL": 12, "MEAN": 6.0, "DSUM": 1.5, "DMEAN": 1.5}),
        (b"a", {"N": 1, "NV": 1, "TOTAL": 7, "MEAN": 7.0, "DSUM": 0.0, "DMEAN": None}),
        (b"b", {"N": 1, "NV": 1, "TOTAL": 5, "MEAN": 5.0, "DSUM": 1.5, "DMEAN": 1.5}),
        (b"a", {"N": 1, "NV": 1, "TOTAL": 8, "MEAN": 8.0, "DSUM": 0.0, "DMEAN": None}),
        (b"a", {"N": 0, "NV": 0, "TOTAL": 0, "MEAN": None, "DSUM": 0.0, "DMEAN": None})]
