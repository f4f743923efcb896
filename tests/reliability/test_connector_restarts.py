"""A built-in connector killed mid-stream with the server (SIGKILL) and started again writes
what a run that was never stopped writes: no record lost, none twice."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from ksql.engine import KsqlEngine

from conftest import topic_records, wait_for

CREATE = ("CREATE SOURCE CONNECTOR gen WITH ('connector.class'='DatagenConnector', 'kafka.topic'='orders', "
          "'quickstart'='orders', 'max.interval'='0', 'iterations'='{iterations}');")

# A server that creates the generator (first run) or finds it again, says so once the topic
# has grown by 2,000 records, then goes on until killed.
CHILD = textwrap.dedent("""
    import sys, time
    from ksql.engine import KsqlEngine
    sys.path.insert(0, sys.argv[3])
    from conftest import topic_records
    from test_connector_restarts import CREATE
    engine = KsqlEngine(sys.argv[1])
    before = len(topic_records(engine.log, "orders")) if engine.log.topic("orders") else 0
    if sys.argv[2] == "setup":
        engine.execute(CREATE.format(iterations=-1))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if engine.log.topic("orders") and len(topic_records(engine.log, "orders")) >= before + 2000:
            break
        time.sleep(0.01)
    print("WRITING", flush=True)
    time.sleep(600)
""")


def test_sigkill_mid_stream_loses_and_repeats_nothing(tmp_path):
    data = str(tmp_path / "data")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    here = os.path.dirname(__file__)
    for i in range(2):
        child = subprocess.Popen([sys.executable, "-c", CHILD, data, "setup" if i == 0 else "resume", here],
                                 stdout=subprocess.PIPE, env=env, text=True)
        assert child.stdout.readline().strip() == "WRITING"
        child.send_signal(signal.SIGKILL)  # while it writes
        child.wait()

    engine = KsqlEngine(data)
    try:
        wait_for(lambda: len(topic_records(engine.log, "orders")) >= 6000, timeout=120)
        engine.execute("DROP CONNECTOR gen;")
        killed = topic_records(engine.log, "orders")
    finally:
        engine.close()

    straight = KsqlEngine(str(tmp_path / "straight"), background=False)
    try:
        straight.execute(CREATE.format(iterations=len(killed)))
        straight.connect.tasks["GEN"].drain()
        expected = topic_records(straight.log, "orders")
    finally:
        straight.close()
    assert [key for _, key, _, _ in killed] == [str(i).encode() for i in range(len(killed))]
    assert [value for _, _, value, _ in killed] == [value for _, _, value, _ in expected]
