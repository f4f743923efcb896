import os

import numpy as np
import pytest

from ksql.errors import KsqlError
from ksql.runtime.log.embedded import MAX_PARTITIONS, OPEN_FILES, EmbeddedLog, TopicError, make_records
from ksql.runtime.log.names import topic_name_problem

from conftest import flip_byte
from ksql.runtime.log.murmur2 import murmur2, partitions_for


def records(*values, keys=None, start_ts=1):
    keys = keys or [None] * len(values)
    return make_records(keys, list(values), list(range(start_ts, start_ts + len(values))))


def values_of(log, topic, partition=0, offset=0):
    batch, _ = log.read(topic, partition, offset)
    return [] if batch is None else batch.column(3).to_pylist()


def all_values(log, topic, partition=0):
    out, offset = [], 0
    while True:
        batch, offset = log.read(topic, partition, offset)
        if batch is None:
            return out
        out += batch.column(3).to_pylist()


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


def test_the_end_offset_is_not_waited_for_while_a_writer_holds_the_partition(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a", b"b"))
    assert log.end_offset("t", 0, wait=False) == 2
    with log._partition("t", 0).lock:  # as an append waiting for the disk holds it
        assert log.end_offset("t", 0, wait=False) is None
    assert log.end_offset("t", 0) == 2


def test_data_survives_reopen(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a", b"b"))
    log.close()
    log = EmbeddedLog(tmp_path)
    assert values_of(log, "t") == [b"a", b"b"]
    assert log.topic("t").partitions == 1


def partition_file(root, topic="t", partition=0):
    return root / "topics" / topic / f"{partition}.log"


def crash(log):
    """Stop without the orderly stop's record of how far each partition was written."""
    log.close(record_ends=False)


def test_a_torn_tail_after_a_crash_is_cut_back_to_the_last_whole_frame(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a"))
    log.append("t", 0, records(b"b"))
    crash(log)
    path = partition_file(tmp_path)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 5)
    log = EmbeddedLog(tmp_path)
    assert values_of(log, "t") == [b"a"]
    log.append("t", 0, records(b"c"))
    assert values_of(log, "t") == [b"a", b"c"]


def test_a_garbage_tail_after_a_crash_is_cut(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a"))
    crash(log)
    with open(partition_file(tmp_path), "ab") as f:
        f.write(b"\x00garbage that is not a frame")
    assert values_of(EmbeddedLog(tmp_path), "t") == [b"a"]


def test_a_cut_tail_never_gives_a_consumed_offset_again(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a"))
    log.append("t", 0, records(b"b"))
    log.commit_offsets("q", {("t", 0): 2})  # a consumer read both
    crash(log)
    path = partition_file(tmp_path)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 10)
    log = EmbeddedLog(tmp_path)
    assert log.append("t", 0, records(b"c")) == 2  # not 1: the consumer is past it
    assert values_of(log, "t", offset=2) == [b"c"]


def test_a_tail_cut_from_durable_data_is_damage_not_a_crash(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    for value in (b"a", b"b", b"c"):
        log.append("t", 0, records(value))
    log.close()  # an orderly stop records how far the partition was written
    path = partition_file(tmp_path)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - 10)
    log = EmbeddedLog(tmp_path)
    assert os.path.getsize(path) == size - 10  # nothing cut
    [reason] = log.damaged()
    frame = size // 3
    assert reason.startswith(f"topic 't' partition 0 is damaged: bytes {2 * frame} to {size - 10} of {path} "
                             f"are not whole frames with good checksums (offset 2 cannot be read).")
    with pytest.raises(TopicError, match="is damaged"):
        log.read("t", 0, 0)
    with pytest.raises(TopicError, match="ksql repair --data-dir"):
        log.append("t", 0, records(b"d"))
    assert log.repair() == [f"topic 't' partition 0: cut bytes {2 * frame} to {size - 10} of "
                            f"{path} (offsets lost: 2); its next offset stays 3"]
    assert values_of(log, "t") == [b"a", b"b"]
    assert log.append("t", 0, records(b"d")) == 3
    log.close()
    log = EmbeddedLog(tmp_path)
    assert log.damaged() == []
    assert values_of(log, "t") == [b"a", b"b", b"d"]


@pytest.mark.parametrize("orderly_stop", [True, False], ids=["stopped", "crashed"])
def test_a_flipped_byte_in_the_middle_refuses_the_partition_until_repaired(tmp_path, orderly_stop):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 2)
    for n in range(100):
        log.append("t", 0, records(str(n).encode()))
    log.append("t", 1, records(b"other"))
    log.commit_offsets("q", {("t", 0): 100})
    log.close() if orderly_stop else crash(log)
    path = partition_file(tmp_path)
    size = os.path.getsize(path)
    frame = size // 100
    flip_byte(path, 33 * frame + frame // 2)  # inside the frame of offset 33

    log = EmbeddedLog(tmp_path)
    assert os.path.getsize(path) == size  # nothing thrown away
    [reason] = log.damaged()
    assert f"bytes {33 * frame} to {34 * frame} of {path} are not whole frames" in reason
    assert "(offset 33 cannot be read)" in reason
    with pytest.raises(TopicError, match="partition 0 is damaged"):
        log.read("t", 0, 0)
    assert values_of(log, "t", partition=1) == [b"other"]  # the other partition is fine
    log.close()

    log = EmbeddedLog(tmp_path)
    [cut] = log.repair()
    assert cut.endswith("(offsets lost: 33); its next offset stays 100")
    assert all_values(log, "t") == [str(n).encode() for n in range(100) if n != 33]
    assert log.append("t", 0, records(b"new")) == 100  # offsets never go backwards
    log.close()
    log = EmbeddedLog(tmp_path)
    assert log.damaged() == []
    assert values_of(log, "t", offset=100) == [b"new"]


def test_damage_in_frames_of_an_uncommitted_transaction_is_a_crash_artefact(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a"))
    txn = log.begin("q")
    txn.append("t", 0, records(b"x"))
    txn.append("t", 0, records(b"y"))
    crash(log)  # before the commit: a crash may leave any of the transaction's bytes unwritten
    path = partition_file(tmp_path)
    first = os.path.getsize(path) // 3
    flip_byte(path, first + first // 2)
    log = EmbeddedLog(tmp_path)
    assert log.damaged() == []
    assert values_of(log, "t") == [b"a"]
    assert log.append("t", 0, records(b"b")) >= 1


@pytest.mark.parametrize("name", ["..", ".", "", "/tmp/elsewhere", "../x", "a/b", "x" * 250, "caf\u00e9"])
def test_topic_names_follow_kafkas_rules_and_never_leave_the_data_directory(tmp_path, name):
    data = tmp_path / "data"
    log = EmbeddedLog(data)
    with pytest.raises(KsqlError, match="^Topic name is invalid: "):
        log.create_topic(name, 1)
    with pytest.raises(KsqlError):
        log.delete_topic(name)
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert sorted(p.name for p in data.iterdir()) == [".lock", "commits.log", "topics"]
    assert list((data / "topics").iterdir()) == []


def test_kafkas_words_for_bad_topic_names():
    assert topic_name_problem("ok.name_1-2") is None
    assert topic_name_problem("..") == "'..' is not allowed"
    assert topic_name_problem("") == "the empty string is not allowed"
    assert topic_name_problem("a/b") == ("'a/b' contains one or more characters other than ASCII "
                                         "alphanumerics, '.', '_' and '-'")
    assert topic_name_problem("x" * 250) == f"the length of '{'x' * 250}' is longer than the max allowed length 249"


def test_a_huge_partition_count_is_refused_before_anything_is_written(tmp_path):
    log = EmbeddedLog(tmp_path)
    with pytest.raises(TopicError, match="cannot have 1000000000 partitions: the embedded log allows at most 10000"):
        log.create_topic("big", 1_000_000_000)
    assert list((tmp_path / "topics").iterdir()) == []
    log.close()
    EmbeddedLog(tmp_path).close()  # and the data directory still opens


def test_partition_files_open_lazily_and_only_so_many_at_once(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("wide", MAX_PARTITIONS)
    assert sorted(p.name for p in (tmp_path / "topics" / "wide").iterdir()) == ["meta.json"]
    for p in range(0, 2000, 3):
        log.append("wide", p, records(str(p).encode()))
    assert log.open_files <= OPEN_FILES
    assert all(values_of(log, "wide", partition=p) == [str(p).encode()] for p in range(0, 2000, 3))
    log.close()
    log = EmbeddedLog(tmp_path)
    assert values_of(log, "wide", partition=1998) == [b"1998"]
    assert log.open_files <= OPEN_FILES


def test_a_topic_deleted_and_created_again_starts_at_offset_zero(tmp_path):
    log = EmbeddedLog(tmp_path)
    log.create_topic("t", 1)
    log.append("t", 0, records(b"a", b"b"))
    log.commit_offsets("q", {("t", 0): 2})
    log.close()
    log = EmbeddedLog(tmp_path)
    log.delete_topic("t")
    log.create_topic("t", 1)
    assert log.append("t", 0, records(b"new")) == 0
    log.close()
    log = EmbeddedLog(tmp_path)
    assert log.damaged() == []
    assert values_of(log, "t") == [b"new"]


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


def test_a_write_cut_short_goes_on_from_where_it_stopped(tmp_path, monkeypatch):
    # The kernel may write less than asked (a signal, a nearly full disk): the rest follows.
    from ksql.runtime.log import partition_file

    real = os.pwritev
    calls = []

    def a_few_bytes_at_a_time(fd, buffers, offset):
        calls.append(offset)
        return real(fd, [bytes(buffers[0])[:3]], offset)

    monkeypatch.setattr(partition_file.os, "pwritev", a_few_bytes_at_a_time)
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    try:
        os.write(fd, b"head:")
        assert partition_file.append_all(fd, [b"abcd", b"", b"efghij", memoryview(b"k")], sync=False) == 5
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == b"head:abcdefghijk"
    assert calls == [5, 8, 9, 12, 15]
