"""State stores keep a bounded number of entries in memory and spill the rest to disk,
without changing what a query computes or what its changelog holds."""
from __future__ import annotations

import datetime
import pickle

import pytest

from ksql.runtime.log.embedded import EmbeddedLog, make_records
from ksql.runtime.log.reading import read_to_end
from ksql.runtime.state import key_partition, StateLimits, StateStore


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


def test_state_written_before_operators_had_names_moves_under_them(tmp_path):
    """A changelog of keys without their operator's name (as earlier versions wrote them):
    the restore moves each under its owner and deletes the old key from the changelog, once."""
    log = EmbeddedLog(tmp_path / "log")
    log.create_topic("changelog", 3, "compact")
    old = StateStore(log, "changelog")
    old.put(("G", ("a",)), [[2], 100])
    old.put(("T", 0), 100)
    old.put(("G", ("gone",)), [[1], 50])
    old.delete(("G", ("gone",)))
    old.put(("PT", "s", 0), 100)  # not an operator's: left as it is
    txn = log.begin("p")
    old.flush(txn)
    txn.commit({})

    def owner_of(key):
        return "Aggregate" if key[0] in ("G", "T") else None

    def restored():
        store = StateStore(log, "changelog")
        store.restore(owner_of=owner_of)
        return store

    first = restored()
    assert first.data == {("Aggregate", ("G", ("a",))): [[2], 100], ("Aggregate", ("T", 0)): 100,
                          ("PT", "s", 0): 100}
    txn = log.begin("p")
    first.flush(txn)
    txn.commit({})
    first.put(("Aggregate", ("G", ("a",))), [[3], 200])  # updated under its name since
    txn = log.begin("p")
    first.flush(txn)
    txn.commit({})
    assert restored().data == {("Aggregate", ("G", ("a",))): [[3], 200], ("Aggregate", ("T", 0)): 100,
                               ("PT", "s", 0): 100}


def test_a_changelog_written_in_pickles_moves_to_the_new_bytes_for_good(tmp_path):
    """Earlier versions pickled every changelog key. A restore rewrites each such key in the
    current bytes, after a tombstone for its old bytes; so even once a broker's compaction has
    dropped every tombstone, a key deleted since stays deleted."""
    log = EmbeddedLog(tmp_path / "log")
    log.create_topic("changelog", 3, "compact")
    old_records = [(("G", ("a",)), [[1], 10]), (("G", ("b",)), [[5], 20]), (("G", ("a",)), [[2], 30]),
                   (("G", ("c",)), [[7], 40]), (("G", ("c",)), None),
                   (("G", ("when",)), [datetime.date(2020, 1, 2)])]  # one marshal cannot write
    for key, value in old_records:
        partition = key_partition(key, 3)
        log.append("changelog", partition, make_records(
            [pickle.dumps(key)], [None if value is None else pickle.dumps(value)], [0]))

    store = StateStore(log, "changelog")
    store.restore()
    assert store.data == {("G", ("a",)): [[2], 30], ("G", ("b",)): [[5], 20],
                          ("G", ("when",)): [datetime.date(2020, 1, 2)]}
    commit(log, store)
    store.delete(("G", ("b",)))
    store.put(("G", ("a",)), [[3], 50])
    commit(log, store)

    compact_dropping_tombstones(log, "changelog", "compacted")
    live = [key for p in range(3) for key in records_of(log, "compacted", p)[0]]
    assert len(live) == 2 and not any(key.startswith(pickle.dumps(None)[:1]) for key in live)  # none pickled
    again = StateStore(log, "compacted")
    again.restore()
    assert again.data == {("G", ("a",)): [[3], 50], ("G", ("when",)): [datetime.date(2020, 1, 2)]}


def commit(log, store):
    txn = log.begin("p")
    store.flush(txn)
    txn.commit({})


def records_of(log, topic, partition):
    keys, values = [], []
    for batch, _ in read_to_end(log, topic, partition, log.start_offset(topic, partition)):
        if batch is not None:
            keys += batch.column(2).to_pylist()
            values += batch.column(3).to_pylist()
    return keys, values


def compact_dropping_tombstones(log, topic, into):
    """What a broker's compaction leaves once the tombstones' retention has passed: the newest
    record of each key, and no tombstones."""
    partitions = log.topic(topic).partitions
    log.create_topic(into, partitions, "compact")
    for p in range(partitions):
        newest = dict(zip(*records_of(log, topic, p)))
        kept = [(k, v) for k, v in newest.items() if v is not None]
        if kept:
            log.append(into, p, make_records([k for k, _ in kept], [v for _, v in kept], [0] * len(kept)))


def test_a_restore_rewrites_nothing_written_in_the_current_bytes(tmp_path):
    """Keys marshal cannot write stay pickled: a restart must not delete and write them again."""
    log = EmbeddedLog(tmp_path / "log")
    log.create_topic("changelog", 1, "compact")
    store = StateStore(log, "changelog")
    store.put(("G", (datetime.date(2020, 1, 2),)), [[1], 10])  # pickled: marshal cannot write a date
    store.put(("G", ("plain",)), [[2], 20])
    commit(log, store)
    written = len(records_of(log, "changelog", 0)[0])

    again = StateStore(log, "changelog")
    again.restore()
    commit(log, again)
    assert len(records_of(log, "changelog", 0)[0]) == written == 2
    assert again.data == {("G", (datetime.date(2020, 1, 2),)): [[1], 10], ("G", ("plain",)): [[2], 20]}
