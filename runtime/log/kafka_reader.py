"""Reading a Kafka cluster: one consumer per thread, any partition from any offset, as the
log's Arrow record batches (read_committed, so a reader never sees an aborted transaction)."""
from __future__ import annotations

import time
import uuid

import pyarrow as pa
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from ksql.runtime.log.embedded import HEADER_TYPE, RECORD_SCHEMA, TopicError
from ksql.runtime.log.partition_file import BrokerError

# How long an admin request or a metadata query may take.
ADMIN_TIMEOUT = 30.0
NO_LEADER_YET = (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE)


# How long a read waits for records the broker says are there (a fetch round trip, normally).
READ_TIMEOUT = 5.0


# Records a reader keeps of a partition before it pauses fetching it (until they are read).
_BUFFERED = 20_000


class Reader:
    """One thread's consumer: records of any partition, from any offset, as Arrow batches."""

    def __init__(self, config: dict):
        self.consumer = Consumer({
            **config,
            "group.id": f"ksql-reader-{uuid.uuid4().hex}",  # never joins, never commits
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",  # an offset gone to retention reads from the oldest kept
            "fetch.wait.max.ms": 10,
            "queued.max.messages.kbytes": 16384,
        })
        self.next: dict[tuple[str, int], int] = {}  # where each assigned partition's fetch stands
        self.buffer: dict[tuple[str, int], list] = {}
        self.eof: dict[tuple[str, int], int] = {}  # the furthest end offset the fetch has reached
        self.paused: set[tuple[str, int]] = set()

    def watermarks(self, topic: str, partition: int) -> tuple[int, int]:
        deadline = time.monotonic() + ADMIN_TIMEOUT
        while True:
            try:
                return self.consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=ADMIN_TIMEOUT,
                                                           cached=False)
            except KafkaException as error:
                # a partition just created, or moving, has no leader for a moment: ask again
                if error.args[0].code() not in NO_LEADER_YET or time.monotonic() > deadline:
                    raise TopicError(f"Topic '{topic}' has no partition {partition}: {error.args[0].str()}") from None
                time.sleep(0.1)

    def read(self, topic: str, partition: int, offset: int, max_records: int, max_bytes: int | None = None):
        """Records from `offset` on: everything committed when the read began, up to max_records
        and about max_bytes of keys and values (like the embedded log, so a query sees all its
        sources have, not what a fetch brought)."""
        tp = (topic, partition)
        self._position(tp, offset)
        end = self.watermarks(topic, partition)[1]
        kept = self.buffer[tp]
        if not kept and offset >= end:
            return None, offset
        if len(kept) < max_records and (kept[-1].offset() + 1 if kept else offset) < end:
            self._fill(tp, end, max_records)
        if not kept:
            # only transaction markers or aborted records lay between: skip past them
            reached = self.eof.get(tp, offset)
            self.next[tp] = reached if reached >= end else offset
            return None, self.next[tp]
        take = max_records
        if max_bytes is not None:
            total = 0
            for i, message in enumerate(kept[:max_records]):
                total += len(message.key() or b"") + len(message.value() or b"")
                if total > max_bytes and i:
                    take = i
                    break
        messages = kept[:take]
        del kept[:take]
        if tp in self.paused and len(kept) < _BUFFERED:
            self.consumer.resume([TopicPartition(*tp)])
            self.paused.discard(tp)
        self.next[tp] = messages[-1].offset() + 1
        return _records(messages), self.next[tp]

    def _position(self, tp: tuple[str, int], offset: int) -> None:
        if tp not in self.next:
            self.consumer.incremental_assign([TopicPartition(*tp, offset)])
        elif self.next[tp] != offset:
            try:
                self.consumer.seek(TopicPartition(*tp, offset))
            except KafkaException:  # not fetching yet: assign again at the new offset
                self.consumer.incremental_unassign([TopicPartition(*tp)])
                self.consumer.incremental_assign([TopicPartition(*tp, offset)])
            if tp in self.paused:
                self.consumer.resume([TopicPartition(*tp)])
                self.paused.discard(tp)
        else:
            return
        self.next[tp] = offset
        self.buffer[tp] = []
        self.eof.pop(tp, None)

    def _fill(self, tp: tuple[str, int], end: int, max_records: int) -> None:
        """Consume until `tp` has max_records kept or its fetch has reached `end`. Records of
        other partitions are kept for their reads; a partition with many kept records is
        paused until they are read."""
        kept = self.buffer[tp]
        deadline = time.monotonic() + READ_TIMEOUT
        while (len(kept) < max_records and self.eof.get(tp, -1) < end
               and not (kept and kept[-1].offset() + 1 >= end) and time.monotonic() < deadline):
            first = self.consumer.consume(1, 0.1)
            messages = first + self.consumer.consume(10_000, 0) if first else first
            for message in messages:
                key = (message.topic(), message.partition())
                error = message.error()
                if error is None:
                    others = self.buffer.get(key)
                    if others is not None:
                        others.append(message)
                        if len(others) >= _BUFFERED and key not in self.paused:
                            self.consumer.pause([TopicPartition(*key)])
                            self.paused.add(key)
                elif error.code() == KafkaError._PARTITION_EOF:
                    if key in self.next:
                        self.eof[key] = max(self.eof.get(key, -1), message.offset())
                else:
                    raise BrokerError(f"Could not read topic '{key[0]}': {error.str()}")

    def close(self) -> None:
        try:
            self.consumer.close()
        except RuntimeError:
            pass  # already closed


def _records(messages: list) -> pa.RecordBatch:
    headers = []
    for message in messages:
        pairs = message.headers()
        headers.append([{"key": k, "value": v} for k, v in pairs] if pairs else None)
    return pa.RecordBatch.from_arrays([
        pa.array([m.offset() for m in messages], pa.int64()),
        pa.array([m.timestamp()[1] for m in messages], pa.int64()),
        pa.array([m.key() for m in messages], pa.binary()),
        pa.array([m.value() for m in messages], pa.binary()),
        pa.array(headers, HEADER_TYPE),
    ], schema=RECORD_SCHEMA)
