"""A persistent query stopped between batches, or killed at any moment, resumes where it
left off: its sink holds every input row exactly once. Each test runs on the embedded log
and on Kafka (with processing.guarantee=exactly_once_v2); the uninterrupted reference run
is always on the embedded log."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ksql.engine import KsqlEngine, open_log
from ksql.runtime.log.embedded import make_records

from conftest import topic_records, wait_for

SETUP = """
SET 'auto.offset.reset'='earliest';
CREATE STREAM src (id INT KEY, n INT) WITH (kafka_topic='src', value_format='JSON', partitions=2);
CREATE STREAM evens AS SELECT id, n FROM src WHERE n % 2 = 0;
"""


def sink_values(log) -> list[int]:
    return sorted(json.loads(v)["N"] for _, _, v, _ in topic_records(log, "EVENS"))


def insert(engine, numbers):
    for n in numbers:
        engine.execute(f"INSERT INTO src (id, n) VALUES ({n % 5}, {n});")


@pytest.fixture
def exactly_once(backend):
    """The backend's engine properties, with exactly-once processing on Kafka."""
    return {**backend, "processing.guarantee": "exactly_once_v2"} if backend else {}


def test_query_resumes_after_restart_with_an_uncommitted_transaction(tmp_path, exactly_once):
    data = str(tmp_path / "data")
    engine = KsqlEngine(data, exactly_once)
    engine.execute(SETUP)
    insert(engine, range(10))
    wait_for(lambda: sink_values(engine.log) == [0, 2, 4, 6, 8])
    engine.close()

    # A crash between two batches: output written but not committed.
    log = open_log(data, {"ksql.service.id": "default_", **exactly_once})
    txn = log.begin("CSAS_EVENS_1")
    txn.append("EVENS", 0, make_records([None], [b'{"N": 999}'], [1]))
    log.close()

    engine = KsqlEngine(data, exactly_once)
    try:
        assert list(engine.queries) == ["CSAS_EVENS_1"]
        insert(engine, range(10, 14))
        wait_for(lambda: sink_values(engine.log) == [0, 2, 4, 6, 8, 10, 12])
    finally:
        engine.close()


# Record timestamps start at a recent whole minute: Kafka rolls a segment whose records are
# older than segment.ms (7 days), then deletes it (retention) or compacts it, so a topic written
# with 1970 timestamps soon loses records.
NOW = int(time.time() // 60 * 60 * 1000)

# A child engine: sets up (first run) or resumes, inserts rows n in [first, last) with an
# INSERT template ({n}, {now} = NOW + n * 1000, {id3} = n % 3, {id5} = n % 5), says so, then waits.
CHILD = textwrap.dedent("""
    import json, sys, time
    from ksql.engine import KsqlEngine
    engine = KsqlEngine(sys.argv[1], json.loads(sys.argv[6]))
    if sys.argv[2] == "setup":
        engine.execute(sys.argv[4])
    first, last = map(int, sys.argv[3].split(":"))
    for n in range(first, last):
        engine.execute(sys.argv[5].format(n=n, now=int(sys.argv[7]) + n * 1000, id3=n % 3, id5=n % 5))
    print("INSERTED", flush=True)
    time.sleep(600)
""")


def kill_during_inserts(data: str, setup: str, insert: str, batches, properties: dict) -> None:
    """Run one child per batch of inserts and SIGKILL it right after (mid-query, most likely)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for i, (first, last) in enumerate(batches):
        child = subprocess.Popen([sys.executable, "-c", CHILD, data, "setup" if i == 0 else "resume",
                                  f"{first}:{last}", setup, insert, json.dumps(properties), str(NOW)],
                                 stdout=subprocess.PIPE, env=env, text=True)
        assert child.stdout.readline().strip() == "INSERTED"
        child.send_signal(signal.SIGKILL)
        child.wait()


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path, exactly_once):
    data = str(tmp_path / "data")
    kill_during_inserts(data, SETUP, "INSERT INTO src (id, n) VALUES ({id5}, {n});",
                        [(0, 40), (40, 80), (80, 120)], exactly_once)

    engine = KsqlEngine(data, exactly_once)
    try:
        wait_for(lambda: len(sink_values(engine.log)) >= 60)
        assert sink_values(engine.log) == list(range(0, 120, 2))
    finally:
        engine.close()


WINDOWED = """
SET 'auto.offset.reset'='earliest';
CREATE STREAM src (id INT KEY, n INT) WITH (kafka_topic='src', value_format='JSON', partitions=2);
CREATE TABLE counts AS SELECT id, COUNT(*) AS c, SUM(n) AS total, COLLECT_LIST(n) AS ns
  FROM src WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY id;
"""

def sink_records(log, topic):
    """Each key's records in order. Records of different source partitions may interleave
    differently from run to run; the order per key is what a restart must keep."""
    by_key = {}
    for partition, key, value, ts in topic_records(log, topic):
        by_key.setdefault((partition, key), []).append((value, ts))
    return by_key


def count(by_key) -> int:
    return sum(len(v) for v in by_key.values())


def test_sigkill_during_windowed_aggregation_matches_an_uninterrupted_run(tmp_path, exactly_once):
    reference_dir = str(tmp_path / "reference")
    engine = KsqlEngine(reference_dir, background=False)
    engine.execute(WINDOWED)
    for n in range(0, 90):
        engine.execute(f"INSERT INTO src (rowtime, id, n) VALUES ({NOW + n * 1000}, {n % 3}, {n});")
    engine.drain()
    expected = sink_records(engine.log, "COUNTS")
    engine.close()
    assert count(expected) == 90

    data = str(tmp_path / "data")
    kill_during_inserts(data, WINDOWED, "INSERT INTO src (rowtime, id, n) VALUES ({now}, {id3}, {n});",
                        [(0, 30), (30, 60), (60, 90)], exactly_once)

    engine = KsqlEngine(data, exactly_once)
    try:
        wait_for(lambda: count(sink_records(engine.log, "COUNTS")) >= 90)
        assert sink_records(engine.log, "COUNTS") == expected
    finally:
        engine.close()


JOINS = f"""
SET 'auto.offset.reset'='earliest';
CREATE TABLE users (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=2);
CREATE STREAM orders (id INT KEY, n INT) WITH (kafka_topic='orders', value_format='JSON', partitions=2);
CREATE STREAM clicks (id INT KEY, n INT) WITH (kafka_topic='clicks', value_format='JSON', partitions=2);
INSERT INTO users (rowtime, id, name) VALUES ({NOW}, 0, 'ann');
INSERT INTO users (rowtime, id, name) VALUES ({NOW}, 1, 'bob');
INSERT INTO users (rowtime, id, name) VALUES ({NOW}, 2, 'cy');
CREATE STREAM enriched AS SELECT o.id, o.n, u.name FROM orders o LEFT JOIN users u ON o.id = u.id;
CREATE STREAM pairs AS SELECT o.id, o.n AS ordered, c.n AS clicked FROM orders o
  JOIN clicks c WITHIN 5 SECONDS GRACE PERIOD 1 SECOND ON o.id = c.id;
"""
JOIN_INSERTS = ("INSERT INTO orders (rowtime, id, n) VALUES ({now}, {id5}, {n}); "
                "INSERT INTO clicks (rowtime, id, n) VALUES ({now}, {id5}, {n});")


def sorted_sink(log, topic) -> list:
    """A sink's records, ignoring the order (rows of both join sides may meet in another order)."""
    return sorted((key, value, ts) for _, key, value, ts in topic_records(log, topic))


def test_sigkill_during_joins_matches_an_uninterrupted_run(tmp_path, exactly_once):
    reference_dir = str(tmp_path / "reference")
    engine = KsqlEngine(reference_dir, background=False)
    engine.execute(JOINS)
    for n in range(1, 61):  # orders come after the users (rowtime NOW) they may meet
        engine.execute(JOIN_INSERTS.format(n=n, now=NOW + n * 1000, id5=n % 5))
    engine.drain()
    expected = {topic: sorted_sink(engine.log, topic) for topic in ("ENRICHED", "PAIRS")}
    engine.close()
    assert len(expected["ENRICHED"]) == 60
    assert sum(b'"NAME":null' in value for _, value, _ in expected["ENRICHED"]) == 24  # ids 3 and 4
    assert len(expected["PAIRS"]) > 60  # each order meets the clicks of its key within 5 seconds

    data = str(tmp_path / "data")
    kill_during_inserts(data, JOINS, JOIN_INSERTS, [(1, 20), (20, 40), (40, 61)], exactly_once)

    engine = KsqlEngine(data, exactly_once)
    try:
        wait_for(lambda: len(sorted_sink(engine.log, "ENRICHED")) >= 60
                 and len(sorted_sink(engine.log, "PAIRS")) >= len(expected["PAIRS"]), timeout=120)
        assert {topic: sorted_sink(engine.log, topic) for topic in expected} == expected
    finally:
        engine.close()


# State over several source partitions: each round of inserts goes to one source partition,
# the later rounds to the lower partition, and the engine is closed and opened again between
# rounds. A key's newest state must win at restore whichever partitions its records came from.
MULTI_PARTITION = {
    "group by another column": (
        "CREATE TABLE result AS SELECT k, COUNT(*) AS n, SUM(amount) AS total FROM o GROUP BY k;"),
    "tumbling window": (
        "CREATE TABLE result AS SELECT k, COUNT(*) AS n FROM o WINDOW TUMBLING (SIZE 20 SECONDS) GROUP BY k;"),
    "session window": (
        "CREATE TABLE result AS SELECT k, COUNT(*) AS n, MAX(amount) AS top FROM o "
        "WINDOW SESSION (30 SECONDS) GROUP BY k;"),
    "table aggregation": (
        "CREATE TABLE latest AS SELECT id, LATEST_BY_OFFSET(k) AS k, LATEST_BY_OFFSET(amount) AS amount "
        "FROM o GROUP BY id; "
        "CREATE TABLE result AS SELECT k, COUNT(*) AS n, SUM(amount) AS total FROM latest GROUP BY k;"),
    "stream-stream join": (
        "CREATE STREAM o2 AS SELECT id, k, amount FROM o; "
        "CREATE STREAM result AS SELECT a.k AS k, a.id AS left_id, b.id AS right_id, b.amount AS right_amount "
        "FROM o a JOIN o2 b WITHIN 3 SECONDS GRACE PERIOD 2 SECONDS ON a.k = b.k;"),
}


def _ids_by_partition() -> list[list[str]]:
    from ksql.runtime.log.murmur2 import partitions_for

    ids = [f"u{i}" for i in range(12)]
    targets = partitions_for([i.encode() for i in ids], 2)
    return [[i for i, p in zip(ids, targets) if p == wanted] for wanted in (0, 1)]


def _multi_partition_rounds():
    """Six rounds of ten rows; round r writes only keys of source partition 1 - r % 2."""
    by_partition, n = _ids_by_partition(), 0
    for r in range(6):
        ids = by_partition[1 - r % 2]
        rows = []
        for i in range(10):
            rows.append(f"INSERT INTO o (rowtime, id, k, amount) VALUES "
                        f"({NOW + n * 1000}, '{ids[i % len(ids)]}', '{'ab'[n % 2]}', {n});")
            n += 1
        yield rows


@pytest.mark.parametrize("query", MULTI_PARTITION, ids=list(MULTI_PARTITION))
def test_state_over_several_partitions_survives_restarts(tmp_path, make_engine, query):
    setup = ("SET 'auto.offset.reset'='earliest'; CREATE STREAM o (id STRING KEY, k STRING, amount INT) "
             "WITH (kafka_topic='o', value_format='JSON', partitions=2); " + MULTI_PARTITION[query])

    def outcome(engine):
        table = engine.metastore.get("RESULT").is_table
        final = sorted(map(tuple, engine.execute("SELECT * FROM result;")[0].rows())) if table else None
        return final, sink_records(engine.log, "RESULT")

    reference = KsqlEngine(str(tmp_path / "reference"), background=False)
    reference.execute(setup)
    for rows in _multi_partition_rounds():
        reference.execute(" ".join(rows))
        reference.drain()
    expected = outcome(reference)
    reference.close()
    assert count(expected[1]) >= 30

    engine = make_engine("restarted", background=False)
    engine.execute(setup)
    for rows in _multi_partition_rounds():
        engine.execute(" ".join(rows))
        engine.drain()
        engine.close()
        engine = make_engine("restarted", background=False)
        engine.drain()
    assert outcome(engine) == expected


def test_a_replaced_table_is_built_from_its_own_query_alone(make_engine):
    """DROP TABLE t; CREATE TABLE t AS ... WHERE cost > 0 from earliest: the new table holds the
    new query's rows only, not those the dropped query left in the topic (also after a restart)."""
    engine = make_engine("data", background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    engine.execute("CREATE STREAM s (id INT KEY, cost INT) WITH (kafka_topic='s', value_format='JSON', partitions=2);"
                   "INSERT INTO s (id, cost) VALUES (1, -5); INSERT INTO s (id, cost) VALUES (2, 10);"
                   "CREATE TABLE t AS SELECT id, SUM(cost) AS total FROM s GROUP BY id;")
    engine.drain()

    def pulled(eng):
        return sorted(list(eng.execute("SELECT * FROM t;")[0].rows()))

    assert pulled(engine) == [[1, -5], [2, 10]]
    engine.execute("DROP TABLE t;")
    engine.execute("CREATE TABLE t AS SELECT id, SUM(cost) AS total FROM s WHERE cost > 0 GROUP BY id;")
    engine.drain()
    assert pulled(engine) == [[2, 10]]
    engine.execute("INSERT INTO s (id, cost) VALUES (1, 3);")
    engine.drain()
    assert pulled(engine) == [[1, 3], [2, 10]]
    engine.close()
    restarted = make_engine("data", background=False)
    restarted.drain()
    assert pulled(restarted) == [[1, 3], [2, 10]]
