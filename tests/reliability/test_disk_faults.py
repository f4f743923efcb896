"""Disk faults on the embedded log: a full disk or a failed fsync stops the query that hit it
with a clear error and leaves no partial record in any topic; the query restarts by itself
once the disk works again, and its sink then holds every record exactly once.

The full disk is real: a small tmpfs mounted for the test (skipped where mounting is not
allowed). A failing fsync cannot be produced on demand, so that test makes the log's one
fsync function raise EIO, as a failing device would."""
from __future__ import annotations

import errno
import json
import os
import subprocess

import pytest

from ksql.engine import KsqlEngine
from ksql.errors import KsqlError
from ksql.runtime.log import partition_file as log_module
from ksql.runtime.log.embedded import make_records

from conftest import topic_records, wait_for

SETUP = """
SET 'auto.offset.reset'='earliest';
CREATE STREAM src (id INT KEY, n INT, pad STRING) WITH (kafka_topic='src', value_format='JSON', partitions=1);
CREATE STREAM copied AS SELECT id, n, pad FROM src;
CREATE TABLE totals AS SELECT id, COUNT(*) AS c FROM src GROUP BY id;
"""
# Restart a failed query soon (ksqlDB's default first wait is 15 s).
FAST_RETRY = {"ksql.query.retry.backoff.initial.ms": 100, "ksql.query.retry.backoff.max.ms": 400}


def append(log, first: int, last: int) -> None:
    """Rows n in [first, last) of src, with enough padding that their output needs new pages."""
    values = [json.dumps({"N": n, "PAD": "x" * 200}).encode() for n in range(first, last)]
    keys = [(n % 3).to_bytes(4, "big") for n in range(first, last)]
    log.append("src", 0, make_records(keys, values, [1000 + n for n in range(first, last)]))


def sink_numbers(log) -> list[int]:
    return sorted(json.loads(value)["N"] for _, _, value, _ in topic_records(log, "COPIED"))


def total_count(engine) -> int:
    return sum(row[1] for row in engine.execute("SELECT id, c FROM totals;")[-1])


def queries(engine):
    return {q.sink.name: q for q in engine.queries.values()}


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MB filesystem, unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(folder) -> str:
    """Fill the filesystem of `folder` to the last byte; returns the filler file's path."""
    path = os.path.join(folder, "filler")
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 16, 1 << 12, 1 << 8, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    return path


def test_a_full_disk_stops_the_query_clearly_and_it_resumes_when_space_returns(small_disk):
    data = str(small_disk / "data")
    engine = KsqlEngine(data, FAST_RETRY)
    try:
        engine.execute(SETUP)
        append(engine.log, 0, 10)
        wait_for(lambda: sink_numbers(engine.log) == list(range(10)))
        copied = queries(engine)["COPIED"]
        engine.execute(f"PAUSE {copied.id};")
        append(engine.log, 10, 200)
        filler = fill(small_disk)

        engine.execute(f"RESUME {copied.id};")
        wait_for(lambda: copied.state == "ERROR" and copied.error)
        assert copied.error == "Could not write to topic 'COPIED' partition 0: No space left on device"
        assert sink_numbers(engine.log) == list(range(10))  # nothing of the failed batch
        described = dict(engine.execute("DESCRIBE copied EXTENDED;")[-1].details)
        assert described["Write query"] == (f"{copied.id} [ERROR] in: 10, out: 10, error: Could not write "
                                            f"to topic 'COPIED' partition 0: No space left on device")
        with pytest.raises(KsqlError, match="Could not write to topic 'src' partition 0: No space left on device"):
            engine.execute(f"INSERT INTO src (id, n, pad) VALUES (1, 999, '{'x' * 10_000}');")

        os.unlink(filler)
        wait_for(lambda: copied.state == "RUNNING" and sink_numbers(engine.log) == list(range(200)))
        assert copied.restarts >= 1
        wait_for(lambda: total_count(engine) == 200)
    finally:
        engine.close()

    # Reopened, the topics hold every record once: no half-written frame was left behind.
    engine = KsqlEngine(data, FAST_RETRY)
    try:
        assert sink_numbers(engine.log) == list(range(200))
        append(engine.log, 200, 210)
        wait_for(lambda: sink_numbers(engine.log) == list(range(210)) and total_count(engine) == 210)
    finally:
        engine.close()


def test_a_failed_fsync_aborts_the_batch_and_the_query_resumes(tmp_path, monkeypatch):
    data = str(tmp_path / "data")
    failing = {"on": False}
    real_fsync = log_module.fsync

    def fsync(fd):
        if failing["on"]:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(log_module, "fsync", fsync)
    # the first restart waits long enough for the failed state to be looked at
    engine = KsqlEngine(data, {**FAST_RETRY, "ksql.query.retry.backoff.initial.ms": 2000})
    try:
        engine.execute(SETUP)
        append(engine.log, 0, 10)
        wait_for(lambda: sink_numbers(engine.log) == list(range(10)) and total_count(engine) == 10)
        copied, totals = queries(engine)["COPIED"], queries(engine)["TOTALS"]
        failing["on"] = True
        engine.log.append("src", 0, make_records([b"\0\0\0\1"], [b'{"N": 10, "PAD": ""}'], [1010]), sync=False)
        wait_for(lambda: copied.state == totals.state == "ERROR")
        assert copied.error.endswith("Input/output error")
        assert sink_numbers(engine.log) == list(range(10))
        assert total_count(engine) == 10  # the table's view dropped the uncommitted count

        failing["on"] = False
        wait_for(lambda: sink_numbers(engine.log) == list(range(11)) and total_count(engine) == 11)
    finally:
        engine.close()
    engine = KsqlEngine(data, FAST_RETRY)
    try:
        assert sink_numbers(engine.log) == list(range(11))
        wait_for(lambda: total_count(engine) == 11)
    finally:
        engine.close()
