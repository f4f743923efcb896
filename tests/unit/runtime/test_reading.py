"""Reading to a partition's end does not take a read that came back empty for the end: on
Kafka a fetch still on its way looks the same (a read waits a few seconds; a busy broker can
take longer). State restored from part of its changelog, or a table loaded from part of its
topic, would be wrong without a word."""
from __future__ import annotations

import pytest

from ksql.runtime.log import reading
from ksql.runtime.log.embedded import EmbeddedLog, make_records
from ksql.runtime.log.partition_file import BrokerError
from ksql.runtime.state import StateStore


class SlowFetches:
    """The embedded log, but a read comes back empty the first `misses` times it is asked for
    an offset, as a Kafka read does while its fetch has not arrived."""

    def __init__(self, log: EmbeddedLog, misses: int):
        self.log, self.misses, self.asked = log, misses, {}

    def read(self, topic, partition, offset, *args, **kwargs):
        asked = self.asked[(topic, partition, offset)] = self.asked.get((topic, partition, offset), 0) + 1
        if asked <= self.misses:
            return None, offset
        return self.log.read(topic, partition, offset, *args, max_records=2)

    def __getattr__(self, name):
        return getattr(self.log, name)


@pytest.fixture
def log(tmp_path):
    log = EmbeddedLog(tmp_path / "log")
    log.create_topic("t", 1)
    for i in range(5):
        log.append("t", 0, make_records([b"k%d" % i], [b"v%d" % i], [i]))
    return log


def values(reads):
    return [v for records, _ in reads if records is not None for v in records.column(3).to_pylist()]


def test_reading_to_the_end_asks_again_after_an_empty_read(log):
    slow = SlowFetches(log, misses=2)
    assert values(reading.read_available(slow, "t", 0, 0)) == []  # what is there now: it took nothing
    assert values(reading.read_to_end(slow, "t", 0, 0)) == [b"v0", b"v1", b"v2", b"v3", b"v4"]


def test_reading_to_the_end_says_when_the_end_cannot_be_reached(log, monkeypatch):
    monkeypatch.setattr(reading, "READ_TO_END_SECONDS", 0.2)
    with pytest.raises(BrokerError, match=r"Could not read topic 't' partition 0 beyond offset 2 \(its end is 5\)"):
        list(reading.read_to_end(_stuck_at(log, 2), "t", 0, 0))


def _stuck_at(log, offset):
    """Reads that stop coming from `offset` on."""
    class Stuck(SlowFetches):
        def read(self, topic, partition, at, *args, **kwargs):
            return (None, at) if at >= offset else self.log.read(topic, partition, at, max_records=offset - at)
    return Stuck(log, 0)


def test_a_changelog_restores_whole_however_slowly_it_is_read(tmp_path):
    log = EmbeddedLog(tmp_path / "log")
    log.create_topic("changelog", 1, "compact")
    store = StateStore(log, "changelog")
    for i in range(10):
        store.put(("G", (f"k{i}",)), i)
    txn = log.begin("p")
    store.flush(txn)
    txn.commit({})
    restored = StateStore(SlowFetches(log, misses=3), "changelog")
    restored.restore()
    assert restored.data == {("G", (f"k{i}",)): i for i in range(10)}


def test_the_registry_finds_what_was_registered_however_slowly_it_is_read(tmp_path):
    from ksql.runtime.formats.schema_registry import EmbeddedRegistry

    log = EmbeddedLog(tmp_path / "log")
    first = EmbeddedRegistry(log)
    schema = '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}'
    schema_id = first.register("t-value", schema)
    other = EmbeddedRegistry(SlowFetches(log, misses=3))  # another server, its fetches slow to come
    assert other.schema(schema_id) == ("AVRO", schema)
    assert other.register("t-value", schema) == schema_id  # found, not registered twice
    assert other.latest("t-value") == (schema_id, 1, "AVRO", schema)
