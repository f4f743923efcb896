"""Kill the engine with SIGKILL at random moments while it runs a filter, tumbling and session
window aggregations, GROUP BYs on other columns than the key (of a stream and of a table), and
stream-table, stream-stream, table-table and foreign-key joins over generated streams in two
partitions; restart it each time; at the end its sinks must equal those of a run that never crashed: nothing lost,
nothing duplicated, the same final table rows.

`make test` kills 3 times per backend; `make soak` sets KSQL_CRASH_KILLS (and more records)."""
from __future__ import annotations

import os
import random

from ksql.engine import KsqlEngine

import crashloop
from crashloop import QUERIES, STREAM_SINKS, TABLE_SINKS
from conftest import wait_for

KILLS = int(os.environ.get("KSQL_CRASH_KILLS", "3"))
RECORDS = int(os.environ.get("KSQL_CRASH_RECORDS", str(500 * KILLS)))


def caught_up(engine) -> bool:
    """Every query runs, has read all its input, and reads every partition: on Kafka a killed
    engine's member of a query's group keeps its partitions until its session times out, and
    a query's lag counts only the partitions it has."""
    queries = engine.queries.values()
    return len(queries) == QUERIES and all(
        q.state == "RUNNING" and q.lag == 0 and set(q.positions) == set(q.source_partitions()) for q in queries)


def first_difference(got: dict, expected: dict) -> str:
    for key in sorted(set(got) | set(expected), key=repr):
        mine, want = got.get(key), expected.get(key)
        if mine != want:
            if not isinstance(mine, list) or not isinstance(want, list):
                return f"key {key!r}: {mine!r} / expected {want!r}"
            at = next((i for i, (a, b) in enumerate(zip(mine, want)) if a != b), min(len(mine), len(want)))
            return (f"key {key!r}: {len(mine)} records, expected {len(want)}; from record {at}: "
                    f"{mine[at:at + 3]!r} / expected {want[at:at + 3]!r}")
    return "equal"


def test_sigkill_loop_matches_an_uninterrupted_run(tmp_path, backend):
    seed = int(os.environ.get("KSQL_CRASH_SEED", random.randrange(1 << 30)))
    data = crashloop.generate(RECORDS, seed)

    reference = KsqlEngine(str(tmp_path / "reference"), background=False)
    reference.execute(crashloop.setup_sql())
    crashloop.feed(reference.log, data, chunk=1000)
    reference.drain()
    expected = crashloop.outputs(reference.log)
    reference.close()
    assert all(expected[sink] for sink in expected), [sink for sink in expected if not expected[sink]]

    properties = {**backend, "processing.guarantee": "exactly_once_v2"} if backend else {}
    folder = str(tmp_path / "data")
    moments = crashloop.kill_loop(folder, properties, RECORDS, seed, KILLS)

    engine = KsqlEngine(folder, properties)
    try:
        crashloop.feed(engine.log, data)
        wait_for(lambda: caught_up(engine), timeout=120)
        got = crashloop.outputs(engine.log)
        compared = sum(len(records) for sink in STREAM_SINKS for records in got[sink].values()) + sum(
            len(got[sink]) for sink in TABLE_SINKS)
        print(f"crash loop ({'kafka' if backend else 'embedded'}, seed {seed}): {len(moments)} kills at "
              f"{', '.join(f'{m:.2f}' for m in moments)} s; {RECORDS} input records; {compared} output "
              f"records compared")
        for sink in expected:
            assert got[sink] == expected[sink], f"sink {sink} differs (seed {seed}): " + first_difference(
                got[sink], expected[sink])
    finally:
        engine.close()
