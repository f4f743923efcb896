"""Reading a partition as far as it goes: what is there now, or everything up to its end.

A read that comes back empty means "nothing more for now". On Kafka that is also what a fetch
still on its way looks like (a read waits a few seconds, and a busy broker can take longer), so
a reader that must have everything up to the end (state restored from a changelog, a table's
rows loaded from its topic, the statements replayed at start-up) reads to the end offset the
partition had when it began, asking again until it gets there.
"""
from __future__ import annotations

import time
from typing import Iterator

import pyarrow as pa

from ksql.runtime.log.partition_file import BrokerError

READ_TO_END_SECONDS = 120.0  # how long reading to the end may go without getting any further


def read_available(log, topic: str, partition: int, offset: int) -> Iterator[tuple[pa.RecordBatch | None, int]]:
    """(records, next offset) from `offset` until a read comes back empty (the last pair has
    no records: its offset may have moved past transaction markers)."""
    while True:
        records, offset = log.read(topic, partition, offset)
        yield records, offset
        if records is None:
            return


def read_to_end(log, topic: str, partition: int, offset: int) -> Iterator[tuple[pa.RecordBatch | None, int]]:
    """(records, next offset) from `offset` until the partition's end offset when this began
    (records may be None where only transaction markers were passed). An empty read before that
    end is asked again; a BrokerError says when the end cannot be reached, rather than letting
    the caller take part of the partition for all of it."""
    end = log.end_offset(topic, partition)
    deadline = time.monotonic() + READ_TO_END_SECONDS
    while offset < end:
        records, next_offset = log.read(topic, partition, offset)
        if records is not None or next_offset > offset:
            deadline = time.monotonic() + READ_TO_END_SECONDS  # it moves: keep going
            offset = next_offset
            yield records, offset
        elif time.monotonic() > deadline:
            raise BrokerError(f"Could not read topic '{topic}' partition {partition} beyond offset {offset} "
                              f"(its end is {end}) in {READ_TO_END_SECONDS:.0f} s")
        else:
            log.wait(0.05)
