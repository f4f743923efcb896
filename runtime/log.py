"""The embedded partitioned log: topics, partitions, transactions, consumer offsets.

Layout of a data directory:

    topics/<topic>/meta.json        partitions, cleanup.policy
    topics/<topic>/<partition>.log  frames, appended
    commits.log                     transaction commits/aborts and consumer-group offsets

A frame is one appended batch: a fixed header (magic, length, crc32, base offset, count,
transaction number, producer) followed by the batch as Arrow IPC. A torn frame at the
tail (a crash mid-write) fails its length or crc check and is cut off at start-up.

Transactions make a query's output and its input offsets advance together: output frames
are tagged with (producer, txn); readers see them only once the commit record (which also
holds the consumer offsets) is durable. At start-up, frames of transactions that never
committed are removed, so a crash neither loses nor duplicates output.
"""
from __future__ import annotations

import bisect
import fcntl
import json
import os
import shutil
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ksql.errors import KsqlError

HEADER_TYPE = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))
RECORD_SCHEMA = pa.schema([
    ("offset", pa.int64()),
    ("timestamp", pa.int64()),
    ("key", pa.binary()),
    ("value", pa.binary()),
    ("headers", HEADER_TYPE),
])

_MAGIC = b"KSL1"
# magic, payload length, crc32, base offset, record count, txn, producer length
_HEADER = struct.Struct(">4sIIqiqH")


class TopicError(KsqlError):
    pass


def _fsync(fd: int) -> None:
    """Every fsync of the log goes through here (the fault tests make it fail)."""
    os.fsync(fd)


def _append_all(fd: int, data: bytes, sync: bool) -> int:
    """Write data at the end of a file, all of it or none: a write cut short (a full disk)
    or a failed fsync is cut off again, so no half frame or half line is left for the next
    write to follow. Returns where the data starts."""
    position = os.fstat(fd).st_size
    try:
        done = 0
        view = memoryview(data)
        while done < len(data):
            done += os.pwrite(fd, view[done:], position + done)
        if sync:
            _fsync(fd)
    except OSError:
        os.ftruncate(fd, position)  # making a file shorter needs no space
        raise
    return position


def _write_error(what: str, error: OSError) -> TopicError:
    return TopicError(f"Could not write to {what}: {error.strerror or error}")


@dataclass(slots=True)
class _Frame:
    base_offset: int
    count: int
    last_offset: int
    position: int
    length: int  # whole frame, header included
    producer: str
    txn: int


@dataclass
class TopicInfo:
    name: str
    partitions: int
    cleanup_policy: str = "delete"
    config: dict = field(default_factory=dict)


def make_records(keys, values, timestamps, headers=None) -> pa.RecordBatch:
    """A record batch in the log's schema (offsets are assigned on append)."""
    n = len(values)
    if headers is None:
        headers = pa.nulls(n, HEADER_TYPE)
    return pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int64()),
        pa.array(timestamps, pa.int64()),
        pa.array(keys, pa.binary()),
        pa.array(values, pa.binary()),
        headers if isinstance(headers, pa.Array) else pa.array(headers, HEADER_TYPE),
    ], schema=RECORD_SCHEMA)


class _Partition:
    def __init__(self, path: Path):
        self.path = path
        self.name = f"topic '{path.parent.name}' partition {path.stem}"
        self.frames: list[_Frame] = []
        self.bases: list[int] = []
        self.end_offset = 0
        self.lock = threading.Lock()
        self.pending: dict[tuple[str, int], int] = {}  # open txn -> its first offset here
        self.hidden: set[tuple[str, int]] = set()  # aborted during this run
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    # -- opening

    def scan(self, aborted) -> None:
        """Index every whole frame; cut a torn tail; drop frames of aborted transactions."""
        size = os.fstat(self._fd).st_size
        position = 0
        frames = []
        while position + _HEADER.size <= size:
            header = os.pread(self._fd, _HEADER.size, position)
            magic, length, crc, base, count, txn, plen = _HEADER.unpack(header)
            frame_len = _HEADER.size + plen + length
            if magic != _MAGIC or position + frame_len > size:
                break
            rest = os.pread(self._fd, plen + length, position + _HEADER.size)
            body = header[12:] + rest
            if zlib.crc32(body) != crc:
                break
            producer = rest[:plen].decode()
            last = self._last_offset(rest[plen:], base, count)
            frames.append(_Frame(base, count, last, position, frame_len, producer, txn))
            position += frame_len
        if position < size:
            os.ftruncate(self._fd, position)  # torn tail from a crash
            _fsync(self._fd)
        dropped = [f for f in frames if f.txn and aborted(f.producer, f.txn)]
        if dropped:
            frames = self._rewrite_without(frames, dropped)
        for frame in frames:
            self._index(frame)
        if frames:
            self.end_offset = max(self.end_offset, frames[-1].last_offset + 1)

    @staticmethod
    def _last_offset(payload: bytes, base: int, count: int) -> int:
        batch = _decode(payload)
        return batch.column(0)[count - 1].as_py() if count else base - 1

    def _rewrite_without(self, frames, dropped):
        first = min(frames.index(f) for f in dropped)
        keep = [f for f in frames[first:] if f not in dropped]
        start = frames[first].position
        chunks = [os.pread(self._fd, f.length, f.position) for f in keep]
        os.ftruncate(self._fd, start)
        position = start
        rewritten = frames[:first]
        for frame, chunk in zip(keep, chunks):
            os.pwrite(self._fd, chunk, position)
            frame.position = position
            rewritten.append(frame)
            position += frame.length
        _fsync(self._fd)
        # Offsets of dropped frames stay unused, as aborted offsets do in Kafka.
        self.end_offset = max(f.last_offset for f in frames) + 1
        return rewritten

    def _index(self, frame: _Frame) -> None:
        self.frames.append(frame)
        self.bases.append(frame.base_offset)

    # -- writing

    def append(self, batch: pa.RecordBatch, producer: str = "", txn: int = 0, sync: bool = False) -> tuple[int, int]:
        """Append a batch (and wait until it is on disk if sync); returns (first offset, next
        offset). On failure nothing of it is left, and a TopicError says why."""
        with self.lock:
            base = self.end_offset
            count = batch.num_rows
            offsets = pa.array(range(base, base + count), pa.int64())
            batch = batch.set_column(0, "offset", offsets)
            payload = _encode(batch)
            pbytes = producer.encode()
            head = _HEADER.pack(_MAGIC, len(payload), 0, base, count, txn, len(pbytes))
            crc = zlib.crc32(head[12:] + pbytes + payload)
            head = _HEADER.pack(_MAGIC, len(payload), crc, base, count, txn, len(pbytes))
            data = head + pbytes + payload
            try:
                position = _append_all(self._fd, data, sync)
            except OSError as error:
                raise _write_error(self.name, error) from None
            if txn and (producer, txn) not in self.pending:
                self.pending[(producer, txn)] = base
            self._index(_Frame(base, count, base + count - 1, position, len(data), producer, txn))
            self.end_offset = base + count
            return base, self.end_offset

    def sync(self) -> None:
        try:
            _fsync(self._fd)
        except OSError as error:
            raise _write_error(self.name, error) from None

    def finish_txn(self, producer: str, txn: int, committed: bool) -> None:
        with self.lock:
            self.pending.pop((producer, txn), None)
            if not committed:
                self.hidden.add((producer, txn))

    # -- reading

    def stable_end(self) -> int:
        """Offsets below this are readable: no open transaction starts before it."""
        with self.lock:
            return min(self.pending.values(), default=self.end_offset)

    def read(self, offset: int, max_records: int) -> tuple[pa.RecordBatch | None, int]:
        """Records from `offset` up to the stable end; returns (batch, next offset)."""
        end = self.stable_end()
        if offset >= end:
            return None, offset
        with self.lock:
            index = max(bisect.bisect_right(self.bases, offset) - 1, 0)
            frames = self.frames[index:]
            hidden = set(self.hidden)
        parts, total, next_offset = [], 0, offset
        for frame in frames:
            if frame.base_offset >= end or total >= max_records:
                break
            next_offset = min(frame.last_offset + 1, end)
            if frame.last_offset < offset or (frame.producer, frame.txn) in hidden:
                continue
            batch = self._read_frame(frame)
            offsets = batch.column(0)
            lo = _first_at_least(offsets, offset)
            hi = _first_at_least(offsets, end)
            if hi > lo:
                parts.append(batch.slice(lo, hi - lo))
                total += hi - lo
        if not parts:
            return None, next_offset
        batch = pa.concat_batches(parts) if len(parts) > 1 else parts[0]
        return batch, max(next_offset, batch.column(0)[-1].as_py() + 1)

    def _read_frame(self, frame: _Frame) -> pa.RecordBatch:
        data = os.pread(self._fd, frame.length, frame.position)
        plen = _HEADER.unpack(data[: _HEADER.size])[6]
        return _decode(data[_HEADER.size + plen:])

    def compact(self) -> None:
        """Keep only the newest record of each key (offsets are kept, so gaps appear)."""
        with self.lock:
            if self.pending or not self.frames:
                return
            batches = [self._read_frame(f) for f in self.frames
                       if (f.producer, f.txn) not in self.hidden]
        if not batches:
            return
        records = pa.concat_batches(batches)
        keys = records.column(2).to_pylist()
        newest = {}
        for i, key in enumerate(keys):
            newest[key] = i
        keep = sorted(i for k, i in newest.items() if k is not None) + [
            i for i, k in enumerate(keys) if k is None]
        keep.sort()
        if len(keep) == records.num_rows:
            return
        compacted = records.take(pa.array(keep, pa.int64()))
        payload = _encode(compacted)
        head = _HEADER.pack(_MAGIC, len(payload), 0, compacted.column(0)[0].as_py(), compacted.num_rows, 0, 0)
        crc = zlib.crc32(head[12:] + payload)
        head = _HEADER.pack(_MAGIC, len(payload), crc, compacted.column(0)[0].as_py(), compacted.num_rows, 0, 0)
        tmp = self.path.with_suffix(".compact")
        try:
            tmp.write_bytes(head + payload)
            with open(tmp, "rb+") as f:
                _fsync(f.fileno())
        except OSError:
            tmp.unlink(missing_ok=True)  # no room to compact now: the topic stays as it is
            return
        with self.lock:
            os.close(self._fd)
            os.replace(tmp, self.path)
            self._fd = os.open(self.path, os.O_RDWR, 0o644)
            last = compacted.column(0)[-1].as_py()
            frame = _Frame(compacted.column(0)[0].as_py(), compacted.num_rows, last, 0,
                           len(head) + len(payload), "", 0)
            self.frames, self.bases = [], []
            self._index(frame)

    def start_offset(self) -> int:
        with self.lock:
            return self.frames[0].base_offset if self.frames else self.end_offset

    def close(self) -> None:
        os.close(self._fd)


def _first_at_least(offsets: pa.Array, value: int) -> int:
    """Index of the first offset >= value (offsets within a frame are increasing)."""
    return int(np.searchsorted(offsets.to_numpy(), value))


def _encode(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _decode(payload: bytes) -> pa.RecordBatch:
    return pa.ipc.open_stream(payload).read_next_batch()


class ChangeSignal:
    """Lets a query with nothing to read sleep until this process writes to the log."""

    def __init__(self):
        self._changed = threading.Condition(threading.Lock())

    def wait(self, timeout: float) -> None:
        """Block until something is appended or committed here, or the timeout passes."""
        with self._changed:
            self._changed.wait(timeout)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


class EmbeddedLog(ChangeSignal):
    """The default log backend: topics as files under a data directory."""

    shared = False  # one process owns the data directory: no other server shares the topics

    def __init__(self, data_dir: str | os.PathLike):
        super().__init__()
        self.root = Path(data_dir)
        (self.root / "topics").mkdir(parents=True, exist_ok=True)
        # One process per data directory: a second one would corrupt the files.
        self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise TopicError(f"The data directory {self.root} is in use by another ksql process.") from None
        self._lock = threading.RLock()
        self._topics: dict[str, TopicInfo] = {}
        self._partitions: dict[tuple[str, int], _Partition] = {}
        self._group_offsets: dict[str, dict[tuple[str, int], int]] = {}
        self._last_txn: dict[str, int] = {}
        self._unwritten_aborts: list[dict] = []
        self._commits_path = self.root / "commits.log"
        aborted = self._load_commits()
        for meta in sorted((self.root / "topics").glob("*/meta.json")):
            info = TopicInfo(**json.loads(meta.read_text()))
            self._open_topic(info, aborted)
        self._commits_fd = os.open(self._commits_path, os.O_WRONLY | os.O_CREAT, 0o644)

    # -- commits file

    def _load_commits(self):
        committed: dict[str, int] = {}
        explicit_aborts: set[tuple[str, int]] = set()
        if self._commits_path.exists():
            data = self._commits_path.read_bytes()
            good = 0
            for line in data.split(b"\n"):
                if not line:
                    good += 1
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    break  # torn last line
                good += len(line) + 1
                producer, txn = entry.get("producer"), entry.get("txn", 0)
                if entry.get("aborted"):
                    explicit_aborts.add((producer, txn))
                    self._last_txn[producer] = max(self._last_txn.get(producer, 0), txn)
                    continue
                if producer and txn:
                    committed[producer] = max(committed.get(producer, 0), txn)
                    self._last_txn[producer] = max(self._last_txn.get(producer, 0), txn)
                group = entry.get("group")
                if group is not None:
                    offsets = self._group_offsets.setdefault(group, {})
                    for topic, partition, offset in entry.get("offsets", []):
                        offsets[(topic, partition)] = offset
            if good < len(data):
                with open(self._commits_path, "r+b") as f:
                    f.truncate(min(good, len(data)))

        def aborted(producer: str, txn: int) -> bool:
            self._last_txn[producer] = max(self._last_txn.get(producer, 0), txn)
            return (producer, txn) in explicit_aborts or txn > committed.get(producer, 0)

        return aborted

    def _write_commit(self, entry: dict) -> None:
        line = json.dumps(entry, separators=(",", ":")).encode() + b"\n"
        try:
            _append_all(self._commits_fd, line, sync=True)
        except OSError as error:
            raise _write_error("the log's commit file", error) from None

    def _write_aborts(self) -> None:
        """Record the aborts that could not be written when they happened. A producer's next
        transaction waits for them: once a later transaction of it commits, only an abort
        record keeps an earlier one's frames from counting as committed after a restart."""
        while self._unwritten_aborts:
            self._write_commit(self._unwritten_aborts[0])
            self._unwritten_aborts.pop(0)

    # -- topics

    def _open_topic(self, info: TopicInfo, aborted=lambda p, t: False) -> None:
        self._topics[info.name] = info
        folder = self.root / "topics" / info.name
        for p in range(info.partitions):
            partition = _Partition(folder / f"{p}.log")
            partition.scan(aborted)
            self._partitions[(info.name, p)] = partition

    def create_topic(self, name: str, partitions: int = 1, cleanup_policy: str = "delete",
                     config: dict | None = None, replicas: int | None = None) -> TopicInfo:
        """A new topic (`replicas` is for Kafka: the embedded log keeps one copy)."""
        with self._lock:
            if name in self._topics:
                raise TopicError(f"Topic '{name}' already exists")
            if partitions < 1:
                raise TopicError(f"Topic '{name}' needs at least one partition, not {partitions}")
            folder = self.root / "topics" / name
            folder.mkdir(parents=True, exist_ok=True)
            info = TopicInfo(name, partitions, cleanup_policy, dict(config or {}))
            tmp = folder / "meta.json.tmp"
            try:
                tmp.write_text(json.dumps(info.__dict__))
                os.replace(tmp, folder / "meta.json")
            except OSError as error:
                shutil.rmtree(folder, ignore_errors=True)
                raise TopicError(f"Could not create topic '{name}': {error.strerror or error}") from None
            self._open_topic(info)
            return info

    def delete_topic(self, name: str) -> None:
        with self._lock:
            info = self._topics.pop(name, None)
            if info is None:
                raise TopicError(f"Topic '{name}' does not exist")
            for p in range(info.partitions):
                self._partitions.pop((name, p)).close()
            shutil.rmtree(self.root / "topics" / name, ignore_errors=True)

    def compact(self, name: str) -> None:
        """Compact every partition of a topic (keep the newest record per key)."""
        info = self._topics[name]
        for p in range(info.partitions):
            self._partitions[(name, p)].compact()

    def topic(self, name: str) -> TopicInfo | None:
        return self._topics.get(name)

    def topics(self) -> list[TopicInfo]:
        return sorted(self._topics.values(), key=lambda t: t.name)

    def _partition(self, topic: str, partition: int) -> _Partition:
        try:
            return self._partitions[(topic, partition)]
        except KeyError:
            raise TopicError(f"Topic '{topic}' has no partition {partition}") from None

    # -- producing

    def append(self, topic: str, partition: int, batch: pa.RecordBatch, sync: bool = True) -> int:
        """Append records outside any transaction; returns the first offset."""
        part = self._partition(topic, partition)
        first, _ = part.append(batch, sync=sync)
        self._notify()
        return first

    def open_producer(self, producer: str) -> None:
        """Nothing to do: transactions a crash left open were dropped when the log opened."""

    def begin(self, producer: str) -> "Transaction":
        with self._lock:
            self._write_aborts()
            txn = self._last_txn.get(producer, 0) + 1
            self._last_txn[producer] = txn
        return Transaction(self, producer, txn)

    # -- consuming

    def read(self, topic: str, partition: int, offset: int, max_records: int = 10_000):
        return self._partition(topic, partition).read(offset, max_records)

    def end_offset(self, topic: str, partition: int) -> int:
        return self._partition(topic, partition).stable_end()

    def start_offset(self, topic: str, partition: int) -> int:
        return self._partition(topic, partition).start_offset()

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        return dict(self._group_offsets.get(group, {}))

    def commit_offsets(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        with self._lock:
            self._write_commit({"group": group, "offsets": [[t, p, o] for (t, p), o in offsets.items()]})
            self._group_offsets.setdefault(group, {}).update(offsets)

    def delete_group(self, group: str) -> None:
        with self._lock:
            if self._group_offsets.pop(group, None) is not None:
                self._write_commit({"group": group, "offsets": [], "deleted": True})

    def close(self) -> None:
        with self._lock:
            for part in self._partitions.values():
                part.close()
            self._partitions.clear()
            os.close(self._commits_fd)
            os.close(self._lock_fd)


class Transaction:
    """Output of one processing step and the input offsets it consumed, committed together."""

    def __init__(self, log: EmbeddedLog, producer: str, txn: int):
        self.log = log
        self.producer = producer
        self.txn = txn
        self._touched: set[tuple[str, int]] = set()

    def append(self, topic: str, partition: int, batch: pa.RecordBatch) -> None:
        part = self.log._partition(topic, partition)
        part.append(batch, self.producer, self.txn)
        self._touched.add((topic, partition))

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        log = self.log
        for key in self._touched:
            log._partitions[key].sync()
        with log._lock:
            log._write_commit({"producer": self.producer, "txn": self.txn, "group": self.producer,
                               "offsets": [[t, p, o] for (t, p), o in offsets.items()]})
            log._group_offsets.setdefault(self.producer, {}).update(offsets)
        self._finish(True)

    def abort(self) -> None:
        """Give up the transaction: its frames stay hidden, and are dropped at the next start."""
        log = self.log
        with log._lock:
            log._unwritten_aborts.append({"producer": self.producer, "txn": self.txn, "aborted": True})
            try:
                log._write_aborts()
            except TopicError:
                pass  # (a full disk): written before this producer's next transaction begins
        self._finish(False)

    def _finish(self, committed: bool) -> None:
        for key in self._touched:
            part = self.log._partitions.get(key)
            if part is not None:
                part.finish_txn(self.producer, self.txn, committed)
        self.log._notify()
