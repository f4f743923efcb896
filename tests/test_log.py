import os

import numpy as np

from ksql.runtime.log import EmbeddedLog, make_records
from ksql.runtime.murmur2 import murmur2, partitions_for


def records(*values, keys=None, start_ts=1):
    keys = keys or [None] * len(values)
    return make_records(keys, list(values), list(range(start_ts, start_ts + len(values))))


def values_of(log, topic, partition=0, offset=0):
    batch, _ = log.read(topic, partition, offset)
    return [] if batch is None else batch.column(3).to_pylist()


def test_append_and_read_from_offset(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 2)
    assert log.append("t", 1, records(b"a", b"b")) == 0
    assert log.append("t", 1, records(b"c")) == 2
    batch, next_offset = log.read("t", 1, 1)
    assert batch.column(0).to_pylist() == [1, 2]
    assert batch.column(3).to_pylist() == [b"b", b"c"]
    assert next_offset == 3
    assert log.read("t", 0, 0) == (None, 0)


def test_data_survives_reopen(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a", b"b"))
    log.close()
    log = EmbeddedLog(tmp_path)
    assert values_of(log, "t") == [b"a", b"b"]
    assert log.topic("t").partitions == 1


def test_torn_tail_is_cut_back_to_last_whole_frame(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a"))
    log.append("t", 0, records(b"b"))
    log.close()
    path = tmp_path / "topics" / "t" / "0.log"
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 5)
    log = EmbeddedLog(tmp_path)
    assert values_of(log, "t") == [b"a"]
    log.append("t", 0, records(b"c"))
    assert values_of(log, "t") == [b"a", b"c"]


def test_garbage_tail_is_cut(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a"))
    log.close()
    with open(tmp_path / "topics" / "t" / "0.log", "ab") as f:
        f.write(b"\x00garbage that is not a frame")
    assert values_of(EmbeddedLog(tmp_path), "t") == [b"a"]


def test_uncommitted_transaction_is_invisible_then_dropped_at_restart(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    txn = log.begin("q")
    txn.append("t", 0, records(b"x"))
    assert values_of(log, "t") == []
    log.close()  # crash before commit
    log = EmbeddedLog(tmp_path)
    assert values_of(log, "t") == []
    assert log.committed("q") == {}


def test_commit_makes_output_and_offsets_visible_together(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    txn = log.begin("q")
    txn.append("t", 0, records(b"x"))
    txn.commit({("src", 0): 7})
    assert values_of(log, "t") == [b"x"]
    assert log.committed("q") == {("src", 0): 7}
    log.close()
    log = EmbeddedLog(tmp_path)
    assert values_of(log, "t") == [b"x"]
    assert log.committed("q") == {("src", 0): 7}


def test_open_transaction_blocks_readers_at_its_first_offset(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    txn = log.begin("q")
    txn.append("t", 0, records(b"x"))
    log.append("t", 0, records(b"y"))
    assert values_of(log, "t") == []
    txn.abort()
    assert values_of(log, "t") == [b"y"]


def test_compaction_keeps_newest_record_per_key(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1, cleanup_policy="compact")
    log.append("t", 0, records(b"1", b"2", b"3", keys=[b"a", b"b", b"a"]))
    log.compact("t")
    batch, _ = log.read("t", 0, 0)
    assert batch.column(2).to_pylist() == [b"b", b"a"]
    assert batch.column(3).to_pylist() == [b"2", b"3"]
    assert batch.column(0).to_pylist() == [1, 2]


def test_murmur2_matches_kafka():
    # Values of Kafka's Utils.murmur2 for these UTF-8 strings.
    expected = {"1": -1993445489, "12": 126087238, "123": -267702483, "1234": -1614185708,
                "12345": -1188365604}
    hashes = murmur2([k.encode() for k in expected])
    assert [int(np.uint32(h).astype(np.int32)) for h in hashes] == list(expected.values())


def test_partitions_match_kafka_default_partitioner():
    parts = partitions_for([b"1", b"12", b"123"], 6)
    # (murmur2 & 0x7fffffff) % 6
    assert list(parts) == [(-1993445489 & 0x7FFFFFFF) % 6, (126087238 & 0x7FFFFFFF) % 6,
                           (-267702483 & 0x7FFFFFFF) % 6]
