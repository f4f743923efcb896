"""The order in which a join meets the records of its sources' partitions.

Like Kafka Streams, a join always takes next the record with the lowest timestamp among the
heads of the partitions it reads (a partition's records keep their offset order). Taking the
lowest head is the same as sorting every record by its partition's running maximum timestamp
up to it (its "partition time"), then by partition, then by offset; so it is a sort, done a
batch at a time with numpy.

That order must not depend on how many records a read returns, or the same input would join
differently in small and large batches. So a step joins only the records that certainly come
before whatever the partitions still hold unread: when a read stopped short of a partition's
end, nothing sorting after that partition's last record read may be joined yet; the rest waits
for the next step. Each partition's time so far is kept in the query's state, so a restart goes
on with the same order.

Time costs one state entry per source partition.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass
class PartitionRead:
    """Records read from one partition, and what the order needs to know of them."""
    topic: str
    partition: int
    records: pa.RecordBatch
    next_offset: int  # where the read stopped
    more: bool  # the partition held more records than the read returned
    times: np.ndarray  # each record's timestamp, as the join orders by it


def partition_time_key(topic: str, partition: int) -> tuple:
    return ("PT", topic, partition)


def merge_keys(read: PartitionRead, partition_time: int | None) -> np.ndarray:
    """Each record's running maximum timestamp, starting from the partition's time so far."""
    keys = np.maximum.accumulate(read.times.astype(np.int64)) if len(read.times) else read.times.astype(np.int64)
    if partition_time is not None and len(keys):
        keys = np.maximum(keys, partition_time)
    return keys


def cut(reads: list[PartitionRead], keys: list[np.ndarray]) -> list[int]:
    """How many records of each read this step may join: all those sorting before the last
    record read of every partition the read stopped short of (read i sorts before read j at
    equal keys when i < j)."""
    limits = [(int(k[-1]), i) for i, (read, k) in enumerate(zip(reads, keys)) if read.more and len(k)]
    counts = []
    for i, k in enumerate(keys):
        allowed = len(k)
        for limit_key, j in limits:
            if j == i:
                continue  # a partition's own records all come before its next one
            # records of read i with (key, i) < (limit_key, j)
            side = "right" if i < j else "left"
            allowed = min(allowed, int(np.searchsorted(k, limit_key, side=side)))
        counts.append(allowed)
    return counts


def order_keys(reads: list[PartitionRead], partition_times: list[int | None]):
    """(sort keys of each read's records, how many of each to join now)."""
    keys = [merge_keys(read, time) for read, time in zip(reads, partition_times)]
    return keys, cut(reads, keys)
