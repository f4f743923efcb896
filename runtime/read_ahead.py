"""Reading a persistent query's next batch while it processes the one before.

Decoding a batch (JSON, Avro) and processing and committing the batch before it are both
mostly native code that lets go of the GIL: pyarrow's and polars' readers, the writers of the
sink's values, the log's writes and fsyncs. So while the query's thread runs batch N, a thread
of its own decodes batch N+1 of the same partition, and the two cores share the work.

Decoding is pure: the same records always give the same rows and processing-log entries, so a
batch decoded ahead is exactly what the query would have decoded itself. Nothing is committed
here; a read ahead that is not wanted (the query restarted, or its partitions moved) is dropped.
A Kafka consumer is not shared between threads, so a Kafka topic is read on the query's own
thread. An embedded topic whose files only grow is located there (which frames hold the
records: the log's bookkeeping) and its frames are read from the file on the decoding thread.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from ksql.runtime.source import Decoded


class ReadAhead:
    """Batches of source partitions, each handed out decoded, with the next one read and
    being decoded behind it."""

    def __init__(self, log, max_records: int, max_bytes: int, name: str, located=lambda topic: False):
        self.log = log
        self.located = located  # topic -> whether its frames may be read off the query's thread
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        # (topic, partition) -> (its position, the offset after its records, (how many records, their decoding))
        self._ahead: dict[tuple[str, int], tuple[int, int, Future]] = {}

    def read(self, topic: str, partition: int, position: int, decode) -> tuple[Decoded | None, int, int]:
        """(the decoded batch at `position` or None when nothing is readable, how many records
        it came from, the offset after them). `decode(records, partition)` decodes a batch."""
        ahead = self._ahead.pop((topic, partition), None)
        if ahead is not None and ahead[0] == position:
            _, next_offset, decoding = ahead
        else:
            next_offset, decoding = self._start(topic, partition, position, decode)
            if decoding is None:
                return None, 0, next_offset
        count, decoded = decoding.result()
        return decoded, count, next_offset

    def ahead(self, topic: str, partition: int, position: int, decode) -> None:
        """Start decoding the batch at `position`, if there is one and it is not under way.
        A query asks twice per batch: when it has taken one (in a backlog the next is there),
        and again before writing its output, when records may have come in meanwhile (a query
        that keeps up finds nothing the first time)."""
        if (topic, partition) in self._ahead:
            return
        next_offset, decoding = self._start(topic, partition, position, decode)
        if decoding is not None:
            self._ahead[(topic, partition)] = (position, next_offset, decoding)

    def _start(self, topic: str, partition: int, position: int, decode) -> tuple[int, Future | None]:
        """(the offset after the records at `position`, their reading and decoding under way,
        or None when nothing is readable)."""
        if self.located(topic):
            where, next_offset = self.log.find(topic, partition, position, self.max_records, self.max_bytes)
            if where is None:
                return next_offset, None
            return next_offset, self._submit(self._read_and_decode, where, decode, partition)
        records, next_offset = self.log.read(topic, partition, position, self.max_records, self.max_bytes)
        if records is None:
            return next_offset, None
        return next_offset, self._submit(self._decode, records, decode, partition)

    def _read_and_decode(self, where, decode, partition: int) -> tuple[int, Decoded | None]:
        records = self.log.read_found(where)
        if records is None:  # (the frames' records in range were compacted away)
            return 0, None
        return self._decode(records, decode, partition)

    @staticmethod
    def _decode(records: pa.RecordBatch, decode, partition: int) -> tuple[int, Decoded]:
        return records.num_rows, decode(records, partition)

    def _submit(self, work, *args) -> Future:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"decode-{self._name}")
        return self._pool.submit(work, *args)

    def forget(self) -> None:
        """Drop what was read ahead (the query starts over from its committed positions)."""
        for _, _, _, decoding in self._ahead.values():
            decoding.cancel()
        self._ahead.clear()

    def close(self) -> None:
        self.forget()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
