"""Reading a persistent query's next batch while it processes the one before.

Decoding a batch (JSON, Avro) and processing and committing the batch before it are both
mostly native code that lets go of the GIL: pyarrow's and polars' readers, the writers of the
sink's values, the log's writes and fsyncs. So while the query's thread runs batch N, a thread
of its own decodes batch N+1 of the same partition, and the two cores share the work.

Decoding is pure: the same records always give the same rows and processing-log entries, so a
batch decoded ahead is exactly what the query would have decoded itself. Nothing is committed
here; a read ahead that is not wanted (the query restarted, or its partitions moved) is dropped.
The log is read only on the query's own thread (a Kafka consumer is not shared between threads).
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from ksql.runtime.source import Decoded


class ReadAhead:
    """Batches of source partitions, each handed out decoded, with the next one read and
    being decoded behind it."""

    def __init__(self, log, max_records: int, max_bytes: int, name: str):
        self.log = log
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        # (topic, partition) -> (its position, the records from there, the offset after them, their decoding)
        self._ahead: dict[tuple[str, int], tuple[int, pa.RecordBatch, int, Future]] = {}

    def read(self, topic: str, partition: int, position: int, decode) -> tuple[Decoded | None, int, int]:
        """(the decoded batch at `position` or None when nothing is readable, how many records
        it came from, the offset after them). `decode(records, partition)` decodes a batch."""
        ahead = self._ahead.pop((topic, partition), None)
        if ahead is not None and ahead[0] == position:
            _, records, next_offset, decoding = ahead
        else:
            records, next_offset = self.log.read(topic, partition, position, self.max_records, self.max_bytes)
            if records is None:
                return None, 0, next_offset
            decoding = self._submit(decode, records, partition)
        return decoding.result(), records.num_rows, next_offset

    def ahead(self, topic: str, partition: int, position: int, decode) -> None:
        """Start decoding the batch at `position`, if there is one and it is not under way.
        A query asks twice per batch: when it has taken one (in a backlog the next is there),
        and again before writing its output, when records may have come in meanwhile (a query
        that keeps up finds nothing the first time)."""
        if (topic, partition) in self._ahead:
            return
        records, next_offset = self.log.read(topic, partition, position, self.max_records, self.max_bytes)
        if records is not None:
            self._ahead[(topic, partition)] = (position, records, next_offset,
                                               self._submit(decode, records, partition))

    def _submit(self, decode, records: pa.RecordBatch, partition: int) -> Future:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"decode-{self._name}")
        return self._pool.submit(decode, records, partition)

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
