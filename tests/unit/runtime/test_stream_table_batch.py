"""A stream-table join takes a batch at once: each stream row must meet its key's table row as
the rows before it left the table, exactly as when the rows meet the join one at a time."""
from __future__ import annotations

import json
import random

import pytest

from conftest import topic_records
from ksql.engine import KsqlEngine
from ksql.runtime.log.embedded import make_records
from ksql.runtime.operators import join as join_module

QUERIES = {
    "inner": "CREATE STREAM out_{tag} AS SELECT s.k AS k, s.x AS sx, t.y AS ty FROM s_{tag} s JOIN t_{tag} t ON s.k = t.k;",
    "left": "CREATE STREAM out_{tag} AS SELECT s.k AS k, s.x AS sx, t.y AS ty, t.ROWTIME AS tt FROM s_{tag} s "
            "LEFT JOIN t_{tag} t ON s.k = t.k;",
    "left, on an expression": "CREATE STREAM out_{tag} AS SELECT t.k, s.x AS sx, t.y AS ty FROM s_{tag} s "
                              "LEFT JOIN t_{tag} t ON CONCAT(s.k, '') = t.k;",
    # the stream's own conjuncts (not the arithmetic one) are tested before the table is read
    "inner, filtered": "CREATE STREAM out_{tag} AS SELECT s.k AS k, s.x AS sx, t.y AS ty FROM s_{tag} s "
                       "JOIN t_{tag} t ON s.k = t.k WHERE s.x % 3 <> 0 AND s.x > 100 AND t.y > 500;",
    "left, filtered": "CREATE STREAM out_{tag} AS SELECT s.k AS k, s.x AS sx, t.y AS ty FROM s_{tag} s "
                      "LEFT JOIN t_{tag} t ON s.k = t.k WHERE (s.x < 200 OR s.x > 400) AND NOT (s.k = 'b');",
}


@pytest.fixture
def make_engine(tmp_path):
    """Engines on the embedded log only: the join's batch path is the same over any log."""
    engines = []

    def make(folder: str, properties: dict, background: bool) -> KsqlEngine:
        engines.append(KsqlEngine(str(tmp_path / folder), properties, background=background))
        return engines[-1]

    yield make
    for engine in engines:
        engine.close()


def timeline(seed: int, n: int = 600) -> list[tuple]:
    """(topic, key, value, timestamp): stream and table records interleaved, some keys null,
    some table records tombstones, a few keys met often."""
    rng = random.Random(seed)
    events = []
    for at in range(n):
        key = rng.choice([None, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
        if rng.random() < 0.5:
            events.append(("s", key, {"X": at}, at))
        else:
            events.append(("t", key, None if rng.random() < 0.15 else {"Y": at * 10, "Z": f"z{at}"}, at))
    return events


def run(make_engine, query: str, tag: str, events: list[tuple]) -> list:
    engine = make_engine(tag, {"ksql.service.id": f"{tag}_"}, background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    engine.execute(f"CREATE STREAM s_{tag} (k STRING KEY, x INT) WITH (kafka_topic='s_{tag}', value_format='JSON', partitions=1);")
    # (the queries read no Z: the join keeps the table's rows without it)
    engine.execute(f"CREATE TABLE t_{tag} (k STRING PRIMARY KEY, y INT, z STRING) WITH (kafka_topic='t_{tag}', value_format='JSON', partitions=1);")
    for name in ("s", "t"):
        mine = [e for e in events if e[0] == name]
        engine.log.append(f"{name}_{tag}", 0, make_records(
            [None if k is None else k.encode() for _, k, _, _ in mine],
            [None if v is None else json.dumps(v).encode() for _, _, v, _ in mine],
            [at for _, _, _, at in mine]))
    engine.execute(query.format(tag=tag))
    engine.drain()
    return [(k, None if v is None else json.loads(v), ts) for k, v, ts in
            ((k, v, ts) for _, k, v, ts in topic_records(engine.log, f"OUT_{tag}".upper()))]


@pytest.mark.parametrize("name", list(QUERIES))
@pytest.mark.parametrize("seed", [1, 2])
def test_a_batch_joins_as_rows_one_at_a_time(make_engine, monkeypatch, name, seed):
    events = timeline(seed)
    monkeypatch.setattr(join_module, "MIN_PROBE_ROWS", 10**9)  # every row on its own
    one_at_a_time = run(make_engine, QUERIES[name], f"one{seed}", events)
    monkeypatch.setattr(join_module, "MIN_PROBE_ROWS", 1)  # the whole batch at once
    batch = run(make_engine, QUERIES[name], f"all{seed}", events)
    assert len(one_at_a_time) > 100
    assert batch == one_at_a_time
    assert sum(value is not None and value["TY"] is not None for _, value, _ in batch) > 20


@pytest.mark.parametrize("side", ["s", "t"])
def test_a_batch_of_one_side_only(make_engine, monkeypatch, side):
    # the batch then has no columns of the other side: a LEFT join gives its stream rows with
    # NULLs, table rows alone give nothing
    events = [e for e in timeline(3) if e[0] == side]
    monkeypatch.setattr(join_module, "MIN_PROBE_ROWS", 10**9)
    one_at_a_time = run(make_engine, QUERIES["left"], f"one{side}", events)
    monkeypatch.setattr(join_module, "MIN_PROBE_ROWS", 1)
    batch = run(make_engine, QUERIES["left"], f"all{side}", events)
    assert batch == one_at_a_time
    assert (len(batch) > 100) == (side == "s")


def test_only_the_stream_conjuncts_that_cannot_fail_are_tested_before_the_join(make_engine):
    engine = make_engine("pushed", {}, background=False)
    engine.execute("CREATE STREAM s (k STRING KEY, x INT, name STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);")
    engine.execute("CREATE TABLE t (k STRING PRIMARY KEY, y INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);")
    engine.execute("CREATE STREAM out AS SELECT s.k AS k, s.x AS sx, t.y AS ty FROM s JOIN t ON s.k = t.k "
                   "WHERE s.x > 1 AND s.x / 0 = 1 AND t.y > 2 AND s.name IS NOT NULL AND UCASE(s.name) = 'A';")
    (query,) = engine.queries.values()
    pushed = query.pipeline.join.stream_filter
    assert pushed is not None
    assert str(pushed) == "((S__X > 1) AND (S__NAME IS NOT NULL))"
