"""Windows past their retention leave the aggregation's state and its pull-query view, and
records for them are dropped as late; EMIT FINAL emits each window once it closes."""
from __future__ import annotations

import pytest

from ksql.runtime.operators.aggregate import AggregateOp


@pytest.fixture
def engine(make_engine):
    eng = make_engine(background=False)
    eng.session.properties["auto.offset.reset"] = "earliest"
    eng.execute("CREATE STREAM clicks (user STRING KEY, page STRING) "
                "WITH (kafka_topic='clicks', value_format='JSON', partitions=1);")
    return eng


def click(engine, user, at):
    engine.execute(f"INSERT INTO clicks (ROWTIME, user, page) VALUES ({at}, '{user}', 'p');")


def windows(engine, table):
    return sorted(tuple(r) for r in engine.execute(f"SELECT user, WINDOWSTART, n FROM {table};")[0])


def test_windows_past_retention_are_dropped(engine):
    engine.execute("CREATE TABLE counts AS SELECT user, COUNT(*) AS n FROM clicks "
                   "WINDOW TUMBLING (SIZE 1 SECOND, RETENTION 3 SECONDS, GRACE PERIOD 1 SECOND) GROUP BY user;")
    click(engine, "a", 100)
    click(engine, "b", 1_500)
    engine.drain()
    assert windows(engine, "counts") == [("a", 0, 1), ("b", 1000, 1)]
    click(engine, "c", 3_200)   # stream time 3.2 s: window [0, 1 s) is past its 3 s retention
    engine.drain()
    assert windows(engine, "counts") == [("b", 1000, 1), ("c", 3000, 1)]
    query = next(iter(engine.queries.values()))
    aggregate = next(op for op in query.pipeline.operators if isinstance(op, AggregateOp))
    assert not [k for k in aggregate.snapshot() if k[0] == "G" and k[2] == 0]  # gone from the state too
    click(engine, "a", 200)     # for the dropped window: late, not counted
    engine.drain()
    assert windows(engine, "counts") == [("b", 1000, 1), ("c", 3000, 1)]


def test_emit_final_emits_each_window_once_closed(engine):
    engine.execute("CREATE TABLE finals AS SELECT user, COUNT(*) AS n FROM clicks "
                   "WINDOW TUMBLING (SIZE 1 SECOND, RETENTION 10 SECONDS, GRACE PERIOD 0 SECONDS) "
                   "GROUP BY user EMIT FINAL;")
    for user, at in (("a", 100), ("a", 300), ("b", 900), ("a", 1_200), ("b", 2_500)):
        click(engine, user, at)
    engine.drain()
    assert windows(engine, "finals") == [("a", 0, 2), ("a", 1000, 1), ("b", 0, 1)]


def test_emit_final_drops_windows_that_expire_before_stream_time_reaches_their_close(engine):
    # Default retention is size + grace, as in Kafka Streams: a jump in stream time past a
    # window's retention drops it unemitted (what ksqlDB's own suppress tests expect).
    engine.execute("CREATE TABLE finals AS SELECT user, COUNT(*) AS n FROM clicks "
                   "WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY user EMIT FINAL;")
    for user, at in (("a", 100), ("a", 1_000), ("a", 5_000)):
        click(engine, user, at)
    engine.drain()
    assert windows(engine, "finals") == [("a", 0, 1)]


def test_late_records_are_counted(engine):
    engine.execute("CREATE TABLE counts AS SELECT user, COUNT(*) AS n FROM clicks "
                   "WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY user;")
    for at in (5000, 1000, 5500, 2000):
        click(engine, "ann", at)
    engine.drain()
    query = engine.queries["CTAS_COUNTS_1"]
    assert (query.late_records, query.records_in, query.errors, query.lag) == (2, 4, 0, 0)
    assert windows(engine, "counts") == [("ann", 5000, 2)]

