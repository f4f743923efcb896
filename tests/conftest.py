"""Shared fixtures: a fresh embedded engine in a temporary directory, a real Kafka broker,
and polling helpers."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ksql.engine import KsqlEngine
from ksql.runtime.log.reading import read_to_end

ROOT = Path(__file__).resolve().parent.parent  # the project
TESTS = ROOT / "tests"


BACKENDS = ["embedded", "kafka"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Where the engine keeps its topics: 'embedded' (files in the test's folder) or 'kafka'
    (the session's broker). Returns the engine properties that select it; on Kafka, every
    topic and group a test made is deleted after it, so tests stay independent."""
    if request.param == "embedded":
        yield {}
        return
    broker = request.getfixturevalue("kafka_broker")
    yield {"bootstrap.servers": broker.bootstrap_servers}
    broker.clean()


@pytest.fixture
def make_engine(tmp_path, backend):
    """Engines on the test's backend (several may share it, as after a restart)."""
    engines = []

    def make(folder: str = "data", properties: dict | None = None, background: bool = True) -> KsqlEngine:
        eng = KsqlEngine(str(tmp_path / folder), {**backend, **(properties or {})}, background=background)
        engines.append(eng)
        return eng

    yield make
    for eng in engines:
        eng.close()


@pytest.fixture
def engine(make_engine):
    eng = make_engine()
    eng.session.properties["auto.offset.reset"] = "earliest"
    return eng


@pytest.fixture(scope="session")
def kafka_broker():
    """A single-node Apache Kafka broker for the whole run. Outside CI, a machine without Java
    or Maven skips the tests that need it (saying why); in CI they must run."""
    from ksql.testing.kafka_broker import BrokerUnavailable, KafkaBroker

    broker = started(lambda: KafkaBroker().start(), BrokerUnavailable, "the Kafka broker")
    yield broker
    broker.stop()


def started(start, unavailable: type[Exception], what: str):
    """start(), or, when what it starts cannot run here (`unavailable`), a skip saying why;
    in CI such a test must run, so there it fails instead."""
    try:
        return start()
    except unavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is needed in CI: {error}")
        pytest.skip(f"{what} cannot run here: {error}")


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the whole run, with logical decoding on. Outside CI, a machine
    without PostgreSQL skips the tests that need it (saying why); in CI they must run."""
    from postgres_server import PostgresServer, PostgresUnavailable

    server = started(lambda: PostgresServer().start(), PostgresUnavailable, "PostgreSQL")
    yield server
    server.stop()


@pytest.fixture
def postgres(postgres_server):
    """A database of the test's own: (server, database name); dropped after the test."""
    name = postgres_server.new_database()
    yield postgres_server, name
    postgres_server.drop_database(name)


def wait_for(condition, timeout: float = 60.0, interval: float = 0.05):
    """Poll until condition() returns a truthy value; fail with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    value = condition()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        time.sleep(interval)
        value = condition()
    return value


def topic_records(log, topic: str) -> list[tuple]:
    """Every committed record of a topic as (partition, key, value, timestamp), in log order."""
    out = []
    info = log.topic(topic)
    for p in range(info.partitions):
        # to the end offset, not to the first empty read: on Kafka a read that passes only an
        # aborted transaction's records (a killed engine's) comes back empty before the end
        for batch, _ in read_to_end(log, topic, p, log.start_offset(topic, p)):
            if batch is None:
                continue
            for key, value, ts in zip(batch.column(2).to_pylist(), batch.column(3).to_pylist(),
                                      batch.column(1).to_pylist()):
                out.append((p, key, value, ts))
    return out


def flip_byte(path, position: int) -> None:
    """Damage a file as a failing disk would: one byte inverted in place."""
    with open(path, "r+b") as f:
        f.seek(position)
        byte = f.read(1)
        f.seek(position)
        f.write(bytes([byte[0] ^ 0xFF]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item (item.rep_call...), for fixtures that show more
    when the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def require_input(path, what: str) -> None:
    """Inputs a test reads from beside the project (the corpus, the docs): outside CI a
    machine without them skips the test, saying why; in CI it fails."""
    from pathlib import Path

    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} is needed in CI: {path} is missing")
        pytest.skip(f"no {what} at {path}")
