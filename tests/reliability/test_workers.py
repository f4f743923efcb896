"""A query that keeps no state, run with ksql.streams.num.stream.threads > 1, computes its
batches in worker processes (runtime/workers.py): its sink and processing log hold exactly
what the query's own thread writes, in the same order, and a kill of the server or of a
worker loses and repeats nothing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import ksql.runtime.query as query_module
from ksql.engine import KsqlEngine
from ksql.runtime import processing_log
from ksql.runtime.log.embedded import make_records

from conftest import topic_records, wait_for

SETUP = """
CREATE STREAM src (id INT KEY, n INT, s STRING) WITH (kafka_topic='src', value_format='JSON', partitions=2);
CREATE STREAM out AS SELECT n AS id, id AS source_id, UCASE(s) AS s, n * 10 / 4 AS scaled FROM src
  WHERE n % 3 <> 0 PARTITION BY n;
"""


def produce(log, numbers, chunk: int = 40) -> None:
    """Rows n into partition n % 2, a frame per `chunk`; every 50th value is not JSON."""
    for p in (0, 1):
        mine = [n for n in numbers if n % 2 == p]
        for start in range(0, len(mine), chunk):
            part = mine[start:start + chunk]
            values = [b"{not json" if n % 50 == 49 else json.dumps({"N": n, "S": f"s{n}"}).encode() for n in part]
            log.append("src", p, make_records([(n % 7).to_bytes(4, "big") for n in part], values,
                                              [1_000 + n for n in part]))


def processing_errors(log) -> list[str]:
    """Where each record that could not be read was (partition and offset), as the log says."""
    return sorted(json.loads(v)["MESSAGE"]["DESERIALIZATIONERROR"]["CAUSE"][-1]
                  for _, _, v, _ in topic_records(log, processing_log.TOPIC))


def in_order(records) -> dict:
    """Each sink partition's records from each source partition, in order: what a query keeps
    (how the two source partitions' batches interleave depends on where batches start)."""
    out = {}
    for partition, key, value, timestamp in records:
        n = int.from_bytes(key, "big")
        out.setdefault((partition, n % 2), []).append((key, value, timestamp))
    return out


def run(data: str, threads: int, numbers) -> tuple[list, list, int]:
    """(the sink's records, the processing log's errors, batches the workers computed)."""
    engine = KsqlEngine(data, {"ksql.streams.num.stream.threads": threads}, background=False)
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        engine.execute(SETUP)
        query = engine.queries["CSAS_OUT_1"]
        if threads > 1:  # (until they are, the query's own thread computes its batches)
            wait_for(lambda: query.workers.ready)
        produce(engine.log, numbers)
        engine.drain()
        assert query.state == "RUNNING", query.error
        return (topic_records(engine.log, "OUT"), processing_errors(engine.log),
                query.workers.computed if query.workers else 0)
    finally:
        engine.close()


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 100 records, so a few thousand make many batches under way at once."""
    monkeypatch.setattr(query_module, "MAX_BATCH", 100)


def test_worker_processes_write_what_the_query_thread_writes(tmp_path, small_batches):
    numbers = range(4_000)
    expected, expected_errors, _ = run(str(tmp_path / "thread"), 1, numbers)
    assert len(expected) == len([n for n in numbers if n % 3 and n % 50 != 49])
    assert len(expected_errors) == 80

    records, errors, computed = run(str(tmp_path / "workers"), 2, numbers)
    assert computed >= 30  # 4,000 records, about 100 at a time (whole frames of 40)
    assert in_order(records) == in_order(expected)
    assert errors == expected_errors


def test_terminate_stops_the_worker_processes(tmp_path):
    engine = KsqlEngine(str(tmp_path / "data"), {"ksql.streams.num.stream.threads": 2}, background=False)
    try:
        engine.execute(SETUP)
        workers = engine.queries["CSAS_OUT_1"].workers
        wait_for(lambda: workers.ready)
        pids = workers.pids
        assert len(pids) == 2
        engine.execute("TERMINATE CSAS_OUT_1;")
        for pid in pids:
            wait_for(lambda: not _alive(pid))
    finally:
        engine.close()


def test_a_query_whose_worker_dies_restarts_and_loses_nothing(tmp_path, small_batches):
    numbers = range(2_000)
    expected, _, _ = run(str(tmp_path / "thread"), 1, numbers)

    engine = KsqlEngine(str(tmp_path / "data"), {"ksql.streams.num.stream.threads": 2,
                                                 "ksql.query.retry.backoff.initial.ms": 50}, background=False)
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        engine.execute(SETUP)
        query = engine.queries["CSAS_OUT_1"]
        wait_for(lambda: query.workers.ready)
        produce(engine.log, range(1_000))
        engine.drain()
        os.kill(query.workers.pids[0], signal.SIGKILL)
        produce(engine.log, range(1_000, 2_000))
        wait_for(lambda: not query.step() and query.state == "ERROR")  # the dead worker's batch fails the query
        query._restart()  # (what the query's thread does after the back-off)
        assert query.state == "RUNNING", query.error
        engine.drain()
        assert sorted(topic_records(engine.log, "OUT")) == sorted(expected)
        wait_for(lambda: query.workers.ready)  # new ones in place of the two
    finally:
        engine.close()


# A server with worker processes: sets up (first run) or resumes, writes rows [first, last),
# says so, then goes on until killed.
CHILD = textwrap.dedent("""
    import json, sys, time
    import ksql.runtime.query as query_module
    query_module.MAX_BATCH = 100
    from ksql.engine import KsqlEngine
    sys.path.insert(0, sys.argv[4])
    from test_workers import SETUP, produce
    engine = KsqlEngine(sys.argv[1], {"ksql.streams.num.stream.threads": 2})
    if sys.argv[2] == "setup":
        engine.execute("SET 'auto.offset.reset'='earliest';" + SETUP)
    query = engine.queries["CSAS_OUT_1"]
    deadline = time.monotonic() + 60
    while not (query.workers.ready or query.workers.pending) and time.monotonic() < deadline:
        time.sleep(0.01)
    first, last = map(int, sys.argv[3].split(":"))
    produce(engine.log, range(first, last))
    while query.workers.computed < 5 and time.monotonic() < deadline:
        time.sleep(0.001)
    print("COMPUTING", flush=True)
    time.sleep(600)
""")


def test_sigkill_of_a_server_with_worker_processes_loses_and_duplicates_nothing(tmp_path):
    numbers = range(6_000)
    expected, _, _ = run(str(tmp_path / "thread"), 1, numbers)

    data = str(tmp_path / "data")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    here = os.path.dirname(__file__)
    for i, (first, last) in enumerate([(0, 3_000), (3_000, 6_000)]):
        child = subprocess.Popen([sys.executable, "-c", CHILD, data, "setup" if i == 0 else "resume",
                                  f"{first}:{last}", here], stdout=subprocess.PIPE, env=env, text=True)
        assert child.stdout.readline().strip() == "COMPUTING"
        child.send_signal(signal.SIGKILL)  # in the middle of its batches, with some under way
        child.wait()

    engine = KsqlEngine(data, {"ksql.streams.num.stream.threads": 2})
    try:
        wait_for(lambda: len(topic_records(engine.log, "OUT")) >= len(expected), timeout=120)
        assert sorted(topic_records(engine.log, "OUT")) == sorted(expected)
    finally:
        engine.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child not yet reaped is a zombie: gone for our purposes
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"


def test_a_query_calling_a_python_function_stays_in_its_own_thread(tmp_path):
    """A function defined in Python in the server (ksql/udf.py) may not exist in a worker, or
    may stand for a built-in of the same name there: the query computes its batches itself."""
    from ksql.udf import udf

    @udf("worker_test_shout", "STRING", ["STRING"])
    def shout(s):
        return s + "!"

    engine = KsqlEngine(str(tmp_path / "data"), {"ksql.streams.num.stream.threads": 2}, background=False)
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        engine.execute("CREATE STREAM src (id INT KEY, s STRING) WITH (kafka_topic='src', value_format='JSON', "
                       "partitions=2);"
                       "CREATE STREAM out AS SELECT id, WORKER_TEST_SHOUT(s) AS s FROM src;")
        assert engine.queries["CSAS_OUT_1"].workers is None
        engine.execute("INSERT INTO src (id, s) VALUES (1, 'a');")
        engine.drain()
        assert [json.loads(v)["S"] for _, _, v, _ in topic_records(engine.log, "OUT")] == ["a!"]
    finally:
        engine.close()
