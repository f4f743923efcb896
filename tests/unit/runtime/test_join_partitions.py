"""A join of co-partitioned sources runs a task per partition, as Kafka Streams runs it: each
partition's rows meet in their own order with their own stream time, so whether a row is late
depends on its partition's records only, and each task's state comes back after a restart."""
from __future__ import annotations

import json
import struct

from conftest import topic_records
from ksql.engine import KsqlEngine
from ksql.runtime.log.murmur2 import partitions_for

SETUP = """
CREATE STREAM a (k INT KEY, x INT) WITH (kafka_topic='a', value_format='JSON', partitions=2);
CREATE STREAM b (k INT KEY, y INT) WITH (kafka_topic='b', value_format='JSON', partitions=2);
CREATE STREAM j AS SELECT a.k AS k, a.x AS x, b.y AS y FROM a JOIN b WITHIN 1 SECOND GRACE PERIOD 0 SECONDS
  ON a.k = b.k;
"""


def key_in(partition: int) -> int:
    return next(k for k in range(100) if partitions_for([struct.pack(">i", k)], 2)[0] == partition)


def joined(engine) -> list[tuple]:
    return [(struct.unpack(">i", key)[0], json.loads(value)["X"], json.loads(value)["Y"])
            for _, key, value, _ in topic_records(engine.log, "J")]


def open_engine(folder) -> KsqlEngine:
    engine = KsqlEngine(str(folder), background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    return engine


def run(engine, *statements: str) -> None:
    """Each statement's rows processed before the next statement runs."""
    for statement in statements:
        engine.execute(statement)
        engine.drain()


def test_each_partition_of_a_join_keeps_its_own_stream_time(tmp_path):
    first, second = key_in(0), key_in(1)
    engine = open_engine(tmp_path)
    engine.execute(SETUP)
    run(engine, f"INSERT INTO a (rowtime, k, x) VALUES (10000, {first}, 1);",
        f"INSERT INTO b (rowtime, k, y) VALUES (10000, {first}, 0);")
    # b's rows in the first partition are at 10 s; in the second, b has seen nothing: there, a
    # row at 1 s is kept (a side keeps its rows for the window, 1 s before and after, plus the
    # grace, in its own stream time), and a row of a at 1.5 s finds it
    run(engine, f"INSERT INTO b (rowtime, k, y) VALUES (1000, {second}, 2);",
        f"INSERT INTO a (rowtime, k, x) VALUES (1500, {second}, 3);")
    assert sorted(joined(engine)) == [(first, 1, 0), (second, 3, 2)]
    engine.close()

    engine = open_engine(tmp_path)  # each partition's rows and stream times come back
    run(engine, f"INSERT INTO a (rowtime, k, x) VALUES (1200, {second}, 4);",
        f"INSERT INTO b (rowtime, k, y) VALUES (9500, {first}, 7);")
    assert sorted(joined(engine)) == [(first, 1, 0), (first, 1, 7), (second, 3, 2), (second, 4, 2)]
    # at 5 s, b's rows before 3 s are gone in the second partition too: a row of a at 0.9 s
    # finds nothing, though it lies within a second of the row at 1 s
    run(engine, f"INSERT INTO b (rowtime, k, y) VALUES (5000, {second}, 8);",
        f"INSERT INTO a (rowtime, k, x) VALUES (900, {second}, 9);")
    assert sorted(joined(engine)) == [(first, 1, 0), (first, 1, 7), (second, 3, 2), (second, 4, 2)]
    engine.close()
