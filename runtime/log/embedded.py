"""The embedded partitioned log: topics, partitions, transactions, consumer offsets.

Layout of a data directory:

    topics/<topic>/meta.json        partitions, cleanup.policy
    topics/<topic>/<partition>.log  frames, appended (runtime/partition_file.py); a partition
                                    that was never written has no file
    commits.log                     transaction commits/aborts, consumer-group offsets, and
                                    how far each partition was written durably

Transactions make a query's output and its input offsets advance together: output frames
are tagged with (producer, txn); readers see them only once the commit record (which also
holds the consumer offsets) is durable. At start-up, frames of transactions that never
committed are removed, so a crash neither loses nor duplicates output.

What the commit file says was durable decides what start-up may cut: bytes that do not make
whole frames past every durable offset are a torn tail (cut); before one, they are damage
(the partition is refused until `ksql repair`). Offsets never go backwards: a partition's next
offset is never below an offset that was committed or consumed.

Topic names follow Kafka's rules (runtime/names.py) before any path is built from them.
"""
from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ksql.runtime.log.names import check_topic_name, topic_name_problem
from ksql.runtime.log.partition_file import FileHandles, Partition, TopicError, TopicExists, append_all, write_error

LOG = logging.getLogger("ksql.log")

HEADER_TYPE = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))
RECORD_SCHEMA = pa.schema([
    ("offset", pa.int64()),
    ("timestamp", pa.int64()),
    ("key", pa.binary()),
    ("value", pa.binary()),
    ("headers", HEADER_TYPE),
])

# More partitions than this in one topic are refused before anything is written: files open
# lazily, but a topic's partitions are indexed at start-up (brokers cap partitions too).
MAX_PARTITIONS = 10_000
# Partition files kept open at once (the least recently used is closed for another).
OPEN_FILES = 256

__all__ = ["EmbeddedLog", "Transaction", "TopicError", "TopicInfo", "make_records", "HEADER_TYPE",
           "RECORD_SCHEMA", "MAX_PARTITIONS", "ChangeSignal"]


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
        _record_column(timestamps, pa.int64()),
        _record_column(keys, pa.binary()),
        _record_column(values, pa.binary()),
        headers if isinstance(headers, pa.Array) else pa.array(headers, HEADER_TYPE),
    ], schema=RECORD_SCHEMA)


def _record_column(values, arrow_type: pa.DataType) -> pa.Array:
    """A column of records: an Arrow array as it is (cast if needed), a list converted."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == arrow_type else values.cast(arrow_type)
    return pa.array(values, arrow_type)


def check_partitions(name: str, partitions) -> int:
    """A topic's partition count, if the embedded log can hold it."""
    if isinstance(partitions, bool) or not isinstance(partitions, int):
        raise TopicError(f"Topic '{name}': the number of partitions must be a whole number, not {partitions!r}")
    if partitions < 1:
        raise TopicError(f"Topic '{name}' needs at least one partition, not {partitions}")
    if partitions > MAX_PARTITIONS:
        raise TopicError(f"Topic '{name}' cannot have {partitions} partitions: "
                         f"the embedded log allows at most {MAX_PARTITIONS}")
    return partitions


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
        self._topics_dir = self.root / "topics"
        self._topics_dir.mkdir(parents=True, exist_ok=True)
        # One process per data directory: a second one would corrupt the files.
        self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise TopicError(f"The data directory {self.root} is in use by another ksql process.") from None
        self._lock = threading.RLock()
        self._files = FileHandles(OPEN_FILES)
        self._topics: dict[str, TopicInfo] = {}
        self._partitions: dict[tuple[str, int], Partition] = {}
        self._group_offsets: dict[str, dict[tuple[str, int], int]] = {}
        self._last_txn: dict[str, int] = {}
        self._unwritten_aborts: list[dict] = []
        # per (topic, partition): offsets below `durable` were written durably (the commit file
        # says so); the next offset is never below `floor` (also what consumers committed)
        self._durable: dict[tuple[str, int], int] = {}
        self._floor: dict[tuple[str, int], int] = {}
        self._commits_path = self.root / "commits.log"
        aborted = self._load_commits()
        for folder in sorted(self._topics_dir.iterdir()):
            self._load_topic(folder, aborted)
        self._commits_fd = os.open(self._commits_path, os.O_WRONLY | os.O_CREAT, 0o644)
        for (topic, partition), part in sorted(self._partitions.items()):
            if part.refusal is not None:
                LOG.error("%s", part.refusal)

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
                self._load_entry(entry, committed, explicit_aborts)
            if good < len(data):
                with open(self._commits_path, "r+b") as f:
                    f.truncate(min(good, len(data)))

        def aborted(producer: str, txn: int) -> bool:
            self._last_txn[producer] = max(self._last_txn.get(producer, 0), txn)
            return (producer, txn) in explicit_aborts or txn > committed.get(producer, 0)

        return aborted

    def _load_entry(self, entry: dict, committed: dict, explicit_aborts: set) -> None:
        producer, txn = entry.get("producer"), entry.get("txn", 0)
        if entry.get("aborted"):
            explicit_aborts.add((producer, txn))
            self._last_txn[producer] = max(self._last_txn.get(producer, 0), txn)
            return
        if producer and txn:
            committed[producer] = max(committed.get(producer, 0), txn)
            self._last_txn[producer] = max(self._last_txn.get(producer, 0), txn)
        group = entry.get("group")
        if group is not None:
            offsets = self._group_offsets.setdefault(group, {})
            for topic, partition, offset in entry.get("offsets", []):
                offsets[(topic, partition)] = offset
                self._raise_floor((topic, partition), offset)
        for topic, partition, end in entry.get("ends", []):
            self._durable[(topic, partition)] = max(self._durable.get((topic, partition), 0), end)
            self._raise_floor((topic, partition), end)
        for topic, partition, end in entry.get("repaired", []):
            self._durable[(topic, partition)] = end  # what is left after the cut
        deleted = entry.get("topic_deleted")
        if deleted is not None:
            for known in (self._durable, self._floor):
                for key in [k for k in known if k[0] == deleted]:
                    del known[key]

    def _raise_floor(self, key: tuple[str, int], offset: int) -> None:
        if offset > self._floor.get(key, 0):
            self._floor[key] = offset

    def _write_commit(self, entry: dict) -> None:
        line = json.dumps(entry, separators=(",", ":")).encode() + b"\n"
        try:
            append_all(self._commits_fd, line, sync=True)
        except OSError as error:
            raise write_error("the log's commit file", error) from None

    def _write_aborts(self) -> None:
        """Record the aborts that could not be written when they happened. A producer's next
        transaction waits for them: once a later transaction of it commits, only an abort
        record keeps an earlier one's frames from counting as committed after a restart."""
        while self._unwritten_aborts:
            self._write_commit(self._unwritten_aborts[0])
            self._unwritten_aborts.pop(0)

    # -- topics

    def _folder(self, name: str) -> Path:
        """A topic's folder: only ever built from a legal topic name, so inside topics/."""
        return self._topics_dir / check_topic_name(name)

    def _load_topic(self, folder: Path, aborted) -> None:
        if folder.name.startswith("."):  # a topic whose creation did not finish
            shutil.rmtree(folder, ignore_errors=True)
            return
        meta = folder / "meta.json"
        try:
            info = TopicInfo(**json.loads(meta.read_text()))
            if info.name != folder.name or topic_name_problem(info.name):
                raise ValueError(f"it names topic {info.name!r}")
            check_partitions(info.name, info.partitions)
        except (OSError, ValueError, TypeError, TopicError) as error:
            LOG.error("Topic folder %s is left alone: its meta.json cannot be used (%s)", folder, error)
            return
        self._open_topic(info, aborted)

    def _open_topic(self, info: TopicInfo, aborted=lambda p, t: False) -> None:
        self._topics[info.name] = info
        folder = self._folder(info.name)
        for p in range(info.partitions):
            partition = Partition(folder / f"{p}.log", info.name, p, self._files)
            key = (info.name, p)
            partition.scan(aborted, self._durable.get(key, 0), self._floor.get(key, 0), self.root)
            self._partitions[key] = partition

    def cluster_id(self) -> str:
        """This log's id, made once and kept (as a Kafka cluster's: 22 characters of base64)."""
        path = self.root / "cluster.id"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            value = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            path.write_text(value + "\n")
            return value

    def create_topic(self, name: str, partitions: int = 1, cleanup_policy: str = "delete",
                     config: dict | None = None, replicas: int | None = None) -> TopicInfo:
        """A new topic, all of it or nothing (`replicas` is for Kafka: the embedded log keeps
        one copy). Partition files are made when first written."""
        folder = self._folder(name)
        check_partitions(name, partitions)
        with self._lock:
            if name in self._topics:
                raise TopicExists(f"Topic '{name}' already exists")
            info = TopicInfo(name, partitions, cleanup_policy, dict(config or {}))
            staging = self._topics_dir / f".{name}.creating"
            try:
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir()
                (staging / "meta.json").write_text(json.dumps(info.__dict__))
                if folder.exists():  # a folder the log does not know (its meta.json was unusable)
                    raise FileExistsError(f"{folder} already exists")
                os.rename(staging, folder)
            except OSError as error:
                shutil.rmtree(staging, ignore_errors=True)
                raise TopicError(f"Could not create topic '{name}': {error.strerror or error}") from None
            self._open_topic(info)
            return info

    def delete_topic(self, name: str) -> None:
        with self._lock:
            info = self._topics.get(name)
            if info is None:
                raise TopicError(f"Topic '{name}' does not exist")
            folder = self._folder(name)
            self._write_commit({"topic_deleted": name})  # its offsets start again at 0
            del self._topics[name]
            for p in range(info.partitions):
                self._partitions.pop((name, p)).close()
                self._durable.pop((name, p), None)
                self._floor.pop((name, p), None)
            shutil.rmtree(folder, ignore_errors=True)

    def compact(self, name: str) -> None:
        """Compact every partition of a topic (keep the newest record per key)."""
        info = self._topics[name]
        for p in range(info.partitions):
            self._partitions[(name, p)].compact()

    def topic(self, name: str) -> TopicInfo | None:
        return self._topics.get(name)

    def topics(self) -> list[TopicInfo]:
        return sorted(self._topics.values(), key=lambda t: t.name)

    def _partition(self, topic: str, partition: int) -> Partition:
        try:
            return self._partitions[(topic, partition)]
        except KeyError:
            raise TopicError(f"Topic '{topic}' has no partition {partition}") from None

    # -- damage

    def damaged(self) -> list[str]:
        """Why each damaged partition is refused."""
        return [p.refusal for _, p in sorted(self._partitions.items()) if p.refusal is not None]

    def repair(self) -> list[str]:
        """Cut the damaged bytes out of every damaged partition (the frames after them stay);
        what was cut, one line per partition. The partitions' next offsets stay where they were."""
        done = []
        with self._lock:
            for (topic, number), part in sorted(self._partitions.items()):
                damage = part.repair()
                if damage is None:
                    continue
                end = max((f.last_offset + 1 for f in part.frames), default=0)
                self._write_commit({"repaired": [[topic, number, end]]})
                self._durable[(topic, number)] = end
                lost = damage.first_lost if damage.last_lost in (None, damage.first_lost) else \
                    f"{damage.first_lost} to {damage.last_lost}"
                done.append(f"{part.name}: cut bytes {damage.position} to {damage.end} of {damage.path} "
                            f"(offsets lost: {lost}); its next offset stays {part.end_offset}")
        return done

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

    def read(self, topic: str, partition: int, offset: int, max_records: int = 10_000,
             max_bytes: int | None = None):
        """Committed records from `offset`: at most max_records, and no more frames once about
        max_bytes were read (at least one); returns (batch or None, next offset)."""
        return self._partition(topic, partition).read(offset, max_records, max_bytes)

    def locate(self, topic: str, partition: int, offset: int, max_records: int = 10_000,
               max_bytes: int | None = None):
        """Where the records `read` would return lie in the partition's file, for a worker
        process to read them itself: (a FileSlice or None when nothing is readable, the next
        offset). Only for a topic whose files are never rewritten (see `append_only`)."""
        return self._partition(topic, partition).locate(offset, max_records, max_bytes)

    def append_only(self, topic: str) -> bool:
        """Whether the topic's files only ever grow (a compacted topic's are rewritten)."""
        info = self.topic(topic)
        return info is not None and info.cleanup_policy == "delete"

    def end_offset(self, topic: str, partition: int, wait: bool = True) -> int | None:
        """The last stable offset; None, when not to wait, if a writer holds the partition."""
        return self._partition(topic, partition).stable_end(wait)

    def start_offset(self, topic: str, partition: int) -> int:
        return self._partition(topic, partition).start_offset()

    def committed(self, group: str, stable: bool = True) -> dict[tuple[str, int], int]:
        """The group's committed offsets (always settled here: commits are written whole)."""
        return dict(self._group_offsets.get(group, {}))

    def commit_offsets(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        with self._lock:
            self._write_commit({"group": group, "offsets": [[t, p, o] for (t, p), o in offsets.items()]})
            self._group_offsets.setdefault(group, {}).update(offsets)

    def delete_group(self, group: str) -> None:
        with self._lock:
            if self._group_offsets.pop(group, None) is not None:
                self._write_commit({"group": group, "offsets": [], "deleted": True})

    @property
    def open_files(self) -> int:
        """Partition files open now (at most OPEN_FILES)."""
        return self._files.open_count

    def close(self, record_ends: bool = True) -> None:
        """Close the files. With `record_ends` (an orderly stop), first record how far each
        partition was written, so damage to what was there is found at the next start."""
        with self._lock:
            if record_ends:
                ends = []
                for (topic, number), part in sorted(self._partitions.items()):
                    end = part.visible_end()
                    if part.refusal is None and end > self._durable.get((topic, number), 0):
                        ends.append([topic, number, end])
                if ends:
                    try:
                        self._write_commit({"ends": ends})
                    except TopicError as error:  # (a full disk): the next start checks less
                        LOG.warning("%s", error)
            for part in self._partitions.values():
                part.close()
            self._partitions.clear()
            self._files.close()
            os.close(self._commits_fd)
            os.close(self._lock_fd)


class Transaction:
    """Output of one processing step and the input offsets it consumed, committed together."""

    def __init__(self, log: EmbeddedLog, producer: str, txn: int):
        self.log = log
        self.producer = producer
        self.txn = txn
        self.written: dict[tuple[str, int], int] = {}  # partition -> the offset after this txn's records

    def append(self, topic: str, partition: int, batch: pa.RecordBatch) -> None:
        part = self.log._partition(topic, partition)
        _, end = part.append(batch, self.producer, self.txn)
        self.written[(topic, partition)] = end

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        log = self.log
        for key in self.written:
            log._partitions[key].sync()
        with log._lock:
            log._write_commit({"producer": self.producer, "txn": self.txn, "group": self.producer,
                               "offsets": [[t, p, o] for (t, p), o in offsets.items()],
                               "ends": [[t, p, end] for (t, p), end in self.written.items()]})
            log._group_offsets.setdefault(self.producer, {}).update(offsets)
            for key, end in self.written.items():
                log._durable[key] = max(log._durable.get(key, 0), end)
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
        for key in self.written:
            part = self.log._partitions.get(key)
            if part is not None:
                part.finish_txn(self.producer, self.txn, committed)
        self.log._notify()
