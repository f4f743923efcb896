"""Kill the engine with SIGKILL at random moments while it runs a filter, a windowed
aggregation, a stream-table join and a table-table join over a generated stream; restart it
each time; at the end its sinks must equal those of a run that never crashed: nothing lost,
nothing duplicated, the same final table rows.

`make test` kills 3 times per backend; `make soak` sets KSQL_CRASH_KILLS (and more records)."""
from __future__ import annotations

import os
import random

from ksql.engine import KsqlEngine

import crashloop
from crashloop import STREAM_SINKS, TABLE_SINKS
from conftest import wait_for

KILLS = int(os.environ.get("KSQL_CRASH_KILLS", "3"))
RECORDS = int(os.environ.get("KSQL_CRASH_RECORDS", str(500 * KILLS)))


def caught_up(engine) -> bool:
    queries = engine.queries.values()
    return len(queries) == 4 and all(q.state == "RUNNING" and q.lag == 0 and q.positions for q in queries)


def test_sigkill_loop_matches_an_uninterrupted_run(tmp_path, backend):
    seed = int(os.environ.get("KSQL_CRASH_SEED", random.randrange(1 << 30)))
    data = crashloop.generate(RECORDS, seed)

    reference = KsqlEngine(str(tmp_path / "reference"), background=False)
    reference.execute(crashloop.setup_sql())
    crashloop.feed(reference.log, data, chunk=1000)
    reference.drain()
    expected = crashloop.outputs(reference.log)
    reference.close()
    assert expected["BIG_ORDERS"] and expected["NAMED_ORDERS"] and expected["PROFILES"]

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
            assert got[sink] == expected[sink], f"sink {sink} differs (seed {seed})"
    finally:
        engine.close()
