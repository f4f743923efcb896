"""Damage to the embedded log's files found at start-up: the partition is refused with where
the damage is, its queries stop in ERROR with the reason, nothing is thrown away, and
`ksql repair` cuts the damaged bytes out explicitly; offsets never go backwards."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ksql.engine import KsqlEngine, StatementFailed

from conftest import flip_byte, topic_records, wait_for

SETUP = """
SET 'auto.offset.reset'='earliest';
CREATE STREAM src (id INT KEY, n INT) WITH (kafka_topic='src', value_format='JSON', partitions=1);
CREATE STREAM copy AS SELECT id, n FROM src;
"""


def copied(log) -> list[int]:
    return [json.loads(value)["N"] for _, _, value, _ in topic_records(log, "COPY")]


def ksql(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ksql.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def hundred_rows_copied(tmp_path):
    data = str(tmp_path / "data")
    engine = KsqlEngine(data)
    engine.execute(SETUP)
    for n in range(100):
        engine.execute(f"INSERT INTO src (id, n) VALUES ({n}, {n});")
    wait_for(lambda: len(copied(engine.log)) == 100)
    engine.close()
    return data


def test_a_damaged_source_stops_its_query_with_the_reason_until_repaired(hundred_rows_copied):
    data = hundred_rows_copied
    path = os.path.join(data, "topics", "src", "0.log")
    size = os.path.getsize(path)
    frame = size // 100  # one frame per INSERT, all of one size
    flip_byte(path, 33 * frame + frame // 2)

    engine = KsqlEngine(data)
    try:
        query = engine.queries["CSAS_COPY_1"]
        wait_for(lambda: query.state == "ERROR")
        assert query.error.startswith(f"topic 'src' partition 0 is damaged: bytes {33 * frame} to {34 * frame} "
                                      f"of {path} are not whole frames with good checksums (offset 33 cannot be read)")
        assert query.error.endswith(f"run `ksql repair --data-dir {data}`.")
        [shown] = [q for q in engine.execute("SHOW QUERIES;")[0].rows if q[0] == "CSAS_COPY_1"]
        assert "ERROR" in shown
        with pytest.raises(StatementFailed, match="partition 0 is damaged"):
            engine.execute("INSERT INTO src (id, n) VALUES (100, 100);")
    finally:
        engine.close()
    assert os.path.getsize(path) == size  # nothing was cut at start-up

    listed = ksql("repair", "--data-dir", data, "--dry-run")
    assert listed.returncode == 1 and "topic 'src' partition 0 is damaged" in listed.stdout
    repaired = ksql("repair", "--data-dir", data)
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.strip() == (f"topic 'src' partition 0: cut bytes {33 * frame} to {34 * frame} of {path} "
                                       f"(offsets lost: 33); its next offset stays 100")
    assert ksql("repair", "--data-dir", data).stdout.strip() == f"No damaged partitions in {data}."

    engine = KsqlEngine(data)
    try:
        engine.execute("INSERT INTO src (id, n) VALUES (100, 100);")  # offset 100: the query is there
        wait_for(lambda: copied(engine.log) == list(range(101)))
        assert engine.queries["CSAS_COPY_1"].state == "RUNNING"
    finally:
        engine.close()


def test_a_cut_tail_of_a_consumed_source_is_found_after_an_orderly_stop(hundred_rows_copied):
    data = hundred_rows_copied
    path = os.path.join(data, "topics", "src", "0.log")
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 10)
    engine = KsqlEngine(data)
    try:
        query = engine.queries["CSAS_COPY_1"]
        wait_for(lambda: query.state == "ERROR")
        assert "(offset 99 cannot be read)" in query.error
    finally:
        engine.close()
    assert ksql("repair", "--data-dir", data).returncode == 0
    engine = KsqlEngine(data)
    try:
        engine.execute("INSERT INTO src (id, n) VALUES (100, 100);")
        wait_for(lambda: copied(engine.log) == list(range(101)))  # offset 100, not a reused 99
    finally:
        engine.close()
