"""State stores keep a bounded number of entries in memory and spill the rest to disk,
without changing what a query computes or what its changelog holds."""
from __future__ import annotations

import pytest

from ksql.runtime.log.embedded import EmbeddedLog
from ksql.runtime.state import StateLimits, StateStore


def test_entries_past_the_limit_spill_and_come_back(tmp_path):
    log = EmbeddedLog(tmp_path / "log")
    log.create_topic("changelog", 1, "compact")
    store = StateStore(log, "changelog", StateLimits(100, str(tmp_path / "spill")))
    for i in range(1_000):
        store.put(("G", (f"k{i}",)), [i, {"nested": [i]}])
    assert len(store.hot) <= 100 and len(store) == 1_000
    store.delete(("G", ("k3",)))           # a spilled entry
    store.put(("G", ("k4",)), "changed")    # another, updated
    assert store.get(("G", ("k5",))) == [5, {"nested": [5]}]
    assert store.get(("G", ("k3",))) is None and len(store) == 999
    txn = log.begin("p")
    store.flush(txn)
    txn.commit({})
    store.close()

    restored = StateStore(log, "changelog", StateLimits(10, str(tmp_path / "spill2")))
    restored.restore()
    assert len(restored) == 999 and len(restored.hot) <= 10
    assert restored.get(("G", ("k4",))) == "changed"
    assert sorted(restored.data) == sorted(k for k in store_keys(1_000) if k != ("G", ("k3",)))
    restored.close()


def store_keys(n):
    return [("G", (f"k{i}",)) for i in range(n)]


@pytest.mark.parametrize("limit", [None, 20])
def test_an_aggregation_gives_the_same_answer_when_its_state_spills(make_engine, limit):
    properties = {"ksql.state.max.entries": limit} if limit else {}
    engine = make_engine(properties=properties, background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    engine.execute("CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=2);"
                   "CREATE TABLE t AS SELECT k, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY k;")
    for i in range(300):
        engine.execute(f"INSERT INTO s (k, v) VALUES ('key{i % 97}', {i});")
    engine.drain()
    rows = sorted(tuple(r) for r in engine.execute("SELECT k, n, total FROM t;")[0])
    expected = sorted((f"key{j}", len(range(j, 300, 97)), sum(range(j, 300, 97))) for j in range(97))
    assert rows == expected
    store = next(iter(engine.queries.values())).pipeline.store
    if limit:
        assert len(store.hot) <= limit < len(store)
