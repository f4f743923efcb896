"""One partition of the embedded log: a file of frames, and what start-up does with damage.

A frame is one appended batch: a fixed header (magic, payload length, checksum, base offset,
record count, transaction number, producer length), the producer's name and the batch as Arrow
IPC. The checksum is CRC32C, as in Kafka's record batches, over everything after it (files
written before CRC32C carry the magic KSL1 and zlib's CRC32; they are still read).

At start-up the file is scanned frame by frame. Bytes that do not make a whole frame with a
good checksum are either a crash artefact, cut off, or damage, refused:
- a torn tail: nothing after the bad bytes was ever durable (no frame that follows them is
  readable and outside an uncommitted transaction) and the log's commit file does not say
  that offsets there were written durably;
- damage otherwise: the partition is refused (every read or write of it fails with the file,
  the byte position and the offsets lost) until `ksql repair` cuts the bad bytes out.

Files open lazily, through `FileHandles`, which keeps a bounded number open: a topic may have
thousands of partitions.
"""
from __future__ import annotations

import bisect
import mmap
import os
import struct
import threading
import zlib
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import crc32c
import numpy as np
import pyarrow as pa

from ksql.parser.errors import KsqlError

MAGIC = b"KSL2"  # CRC32C
MAGIC_V1 = b"KSL1"  # zlib's CRC32 (data directories written before CRC32C)
# magic, payload length, checksum, base offset, record count, txn, producer length
HEADER = struct.Struct(">4sIIqiqH")
_CHECKED_FROM = 12  # the checksum covers the header after itself, the producer and the payload


class TopicError(KsqlError):
    pass


class TopicExists(TopicError):
    """Creating a topic that is there already (on Kafka: maybe made by another server a moment ago)."""


class BrokerError(TopicError):
    """The brokers could not do it now (a timeout, a refused write): worth trying again, unlike
    a statement that can never work."""


def fsync(fd: int) -> None:
    """Every fsync of the log goes through here (the fault tests make it fail)."""
    os.fsync(fd)


def _checksum(magic: bytes, data: bytes) -> int:
    return crc32c.crc32c(data) if magic == MAGIC else zlib.crc32(data)


def encode_frame(batch: pa.RecordBatch, base: int, producer: str = "", txn: int = 0) -> list:
    """The frame of a batch, as the pieces to write one after the other (header, producer,
    payload): joining them would copy the payload once more."""
    payload = encode_batch(batch)
    pbytes = producer.encode()
    head = HEADER.pack(MAGIC, len(payload), 0, base, batch.num_rows, txn, len(pbytes))
    # the checksum of the header's tail, the producer and the payload, without joining them first
    crc = crc32c.crc32c(payload, crc32c.crc32c(pbytes, crc32c.crc32c(head[_CHECKED_FROM:])))
    return [HEADER.pack(MAGIC, len(payload), crc, base, batch.num_rows, txn, len(pbytes)), pbytes, payload]


def frame_size(pieces: list) -> int:
    """How many bytes a frame's pieces (encode_frame) take in the file."""
    return sum(len(piece) for piece in pieces)


def encode_batch(batch: pa.RecordBatch) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def decode_batch(payload: bytes) -> pa.RecordBatch:
    return pa.ipc.open_stream(payload).read_next_batch()


def append_all(fd: int, data: bytes | list, sync: bool) -> int:
    """Write data (bytes, or pieces written one after the other) at the end of a file, all of it
    or none: a write cut short (a full disk) or a failed fsync is cut off again, so no half
    frame or half line is left for the next write to follow. Returns where the data starts."""
    position = os.fstat(fd).st_size
    pieces = [memoryview(piece) for piece in (data if isinstance(data, list) else [data]) if len(piece)]
    try:
        done = 0
        while pieces:
            written = os.pwritev(fd, pieces, position + done)
            done += written
            while pieces and written >= len(pieces[0]):  # (a short write: go on from where it stopped)
                written -= len(pieces.pop(0))
            if pieces:
                pieces[0] = pieces[0][written:]
        if sync:
            fsync(fd)
    except OSError:
        os.ftruncate(fd, position)  # making a file shorter needs no space
        raise
    return position


def write_error(what: str, error: OSError) -> TopicError:
    return TopicError(f"Could not write to {what}: {error.strerror or error}")


@dataclass(slots=True)
class Frame:
    base_offset: int
    count: int
    last_offset: int
    position: int
    length: int  # whole frame, header included
    producer: str
    txn: int


@dataclass(frozen=True)
class FileSlice:
    """Frames of a partition file, by (position, length), and the offsets wanted from them."""
    path: str
    frames: tuple[tuple[int, int], ...]
    start: int  # the first offset wanted
    end: int  # the offset after the last one wanted

    def read(self, fd: int | None = None) -> pa.RecordBatch | None:
        """The records, read from the file (`fd`, else opened by path: in any process); None if
        none are left."""
        parts = []
        own = fd is None
        if own:
            fd = os.open(self.path, os.O_RDONLY)
        try:
            for position, length in self.frames:
                batch = _frame_batch(os.pread(fd, length, position))
                offsets = batch.column(0)
                lo, hi = _first_at_least(offsets, self.start), _first_at_least(offsets, self.end)
                if hi > lo:
                    parts.append(batch.slice(lo, hi - lo))
        finally:
            if own:
                os.close(fd)
        if not parts:
            return None
        return pa.concat_batches(parts) if len(parts) > 1 else parts[0]


def _frame_batch(frame: bytes) -> pa.RecordBatch:
    """The records of a whole frame's bytes (its payload read in place, not copied out first)."""
    plen = HEADER.unpack_from(frame)[6]
    return decode_batch(pa.py_buffer(frame).slice(HEADER.size + plen))


def parse_frame(data, position: int) -> tuple[Frame, bytes] | None:
    """The frame starting at `position` of `data` (bytes or an mmap) and its payload, if a whole
    frame with a good checksum starts there."""
    if position + HEADER.size > len(data):
        return None
    header = bytes(data[position:position + HEADER.size])
    magic, length, crc, base, count, txn, plen = HEADER.unpack(header)
    end = position + HEADER.size + plen + length
    if magic not in (MAGIC, MAGIC_V1) or end > len(data) or count < 0:
        return None
    rest = bytes(data[position + HEADER.size:end])
    if _checksum(magic, header[_CHECKED_FROM:] + rest) != crc:
        return None
    try:
        producer = rest[:plen].decode()
        payload = rest[plen:]
        last = last_offset(payload, base, count)
    except (UnicodeDecodeError, pa.ArrowException):
        return None
    return Frame(base, count, last, position, end - position, producer, txn), payload


def last_offset(payload: bytes, base: int, count: int) -> int:
    if not count:
        return base - 1
    return decode_batch(payload).column(0)[count - 1].as_py()


def resync(raw, position: int) -> list[Frame]:
    """The whole frames after damage at `position` of `raw` (bytes or an mmap): from the next
    place a frame with a good checksum starts, every frame that follows it."""
    frames = []
    candidate = position + 1
    while True:
        found = min((i for i in (raw.find(MAGIC, candidate), raw.find(MAGIC_V1, candidate)) if i >= 0),
                    default=-1)
        if found < 0:
            return frames
        parsed = parse_frame(raw, found)
        if parsed is None:
            candidate = found + 1
            continue
        at = found
        while parsed is not None:
            frames.append(parsed[0])
            at += parsed[0].length
            parsed = parse_frame(raw, at)
        if at >= len(raw):
            return frames
        candidate = at + 1  # more damage further on


@dataclass(frozen=True)
class Damage:
    """Bytes of a partition file that cannot be read although what they held was durable."""
    path: str
    position: int  # the first bad byte
    end: int  # where the next whole frame starts (or the file's size)
    first_lost: int  # the first offset that cannot be read
    last_lost: int | None  # the last one, when known

    def describe(self, name: str, root) -> str:
        lost = f"offset {self.first_lost}" if self.last_lost in (None, self.first_lost) else \
            f"offsets {self.first_lost} to {self.last_lost}"
        if self.position == self.end:
            what = f"{self.path} ends at byte {self.position}, before {lost}, which had been written durably"
        else:
            what = (f"bytes {self.position} to {self.end} of {self.path} are not whole frames with good "
                    f"checksums ({lost} cannot be read)")
        return (f"{name} is damaged: {what}. Nothing is read from or written to it until it is "
                f"repaired: stop the engine and run `ksql repair --data-dir {root}`.")


class FileHandles:
    """Open partition files, at most `limit` at once: when another must open, the one used
    least recently that nobody is using now is closed."""

    def __init__(self, limit: int = 256):
        self.limit = limit
        self._lock = threading.Lock()
        self._open: OrderedDict = OrderedDict()  # partition -> fd, least recently used first
        self._users: dict = {}  # partition -> how many are using its file now
        self._retired: dict = {}  # partition -> fds replaced while in use, closed when unused

    @contextmanager
    def use(self, partition: "Partition"):
        with self._lock:
            fd = self._open.pop(partition, None)
            if fd is None:
                fd = os.open(partition.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._open[partition] = fd
            self._users[partition] = self._users.get(partition, 0) + 1
            self._close_extra()
        try:
            yield fd
        finally:
            with self._lock:
                self._users[partition] -= 1
                if not self._users[partition]:
                    del self._users[partition]
                    for old in self._retired.pop(partition, ()):
                        os.close(old)
                self._close_extra()

    def forget(self, partition: "Partition") -> None:
        """The partition's file was replaced or removed: open it again next time."""
        with self._lock:
            fd = self._open.pop(partition, None)
            if fd is None:
                return
            if partition in self._users:
                self._retired.setdefault(partition, []).append(fd)
            else:
                os.close(fd)

    def _close_extra(self) -> None:
        if len(self._open) <= self.limit:
            return
        for partition in [p for p in self._open if p not in self._users][:len(self._open) - self.limit]:
            os.close(self._open.pop(partition))

    def close(self) -> None:
        with self._lock:
            for fd in self._open.values():
                os.close(fd)
            self._open.clear()
            for fds in self._retired.values():
                for fd in fds:
                    os.close(fd)
            self._retired.clear()

    @property
    def open_count(self) -> int:
        return len(self._open)


class Partition:
    """The frames of one partition: appended at the end, read from any offset."""

    def __init__(self, path: Path, topic: str, number: int, files: FileHandles):
        self.path = path
        self.topic = topic
        self.number = number
        self.name = f"topic '{topic}' partition {number}"
        self.files = files
        self.frames: list[Frame] = []
        self.bases: list[int] = []
        self.end_offset = 0
        self.lock = threading.Lock()
        self.pending: dict[tuple[str, int], int] = {}  # open txn -> its first offset here
        self.hidden: set[tuple[str, int]] = set()  # aborted during this run
        self.damage: Damage | None = None
        self.refusal: str | None = None  # why reads and writes fail, while damaged

    # -- opening

    def scan(self, aborted, durable_end: int = 0, floor: int = 0, root="") -> None:
        """Index every whole frame; cut a torn tail or record damage; drop frames of aborted
        transactions. `durable_end`: offsets below it were written durably (the commit file
        says so); `floor`: the next offset is never below it (consumers have read up to it)."""
        with _mapped(self.path) as data:
            frames, torn_at = self._scan(data, aborted, durable_end, root)
        if torn_at is not None:
            self._cut(torn_at)  # a torn tail from a crash
        self.end_offset = max(floor, durable_end, max((f.last_offset + 1 for f in frames), default=0))
        dropped = [f for f in frames if f.txn and aborted(f.producer, f.txn)]
        if dropped and self.damage is None:
            frames = self._rewrite([f for f in frames if f not in dropped])
        for frame in frames:
            self._index(frame)

    def _scan(self, data, aborted, durable_end: int, root) -> tuple[list[Frame], int | None]:
        """The frames to index, and where to cut the file (a torn tail) if anywhere."""
        frames, position = [], 0
        while position < len(data):
            parsed = parse_frame(data, position)
            if parsed is None:
                break
            frames.append(parsed[0])
            position += parsed[0].length
        good_end = frames[-1].last_offset + 1 if frames else 0
        if position < len(data) or good_end < durable_end:
            later = resync(data, position) if position < len(data) else []
            durable_later = [f for f in later if not f.txn or not aborted(f.producer, f.txn)]
            if durable_later or good_end < durable_end:
                first_lost = good_end
                last_lost = (later[0].base_offset - 1) if later else (durable_end - 1 if durable_end else None)
                self.damage = Damage(str(self.path), position, later[0].position if later else len(data),
                                     first_lost, last_lost if last_lost is None or last_lost >= first_lost else None)
                self.refusal = self.damage.describe(self.name, root)
                return frames + later, None  # indexed, so offsets and sizes are known; never read
            return frames, position
        return frames, None

    def _cut(self, position: int) -> None:
        with self.files.use(self) as fd:
            os.ftruncate(fd, position)
            fsync(fd)

    def _rewrite(self, keep: list[Frame]) -> list[Frame]:
        """The file again with only these frames, replaced in one step (a crash leaves the old
        file or the new one, never half of each). Offsets of dropped frames stay unused."""
        rewritten, position = [], 0
        for frame in keep:
            rewritten.append(Frame(frame.base_offset, frame.count, frame.last_offset, position,
                                   frame.length, frame.producer, frame.txn))
            position += frame.length

        def chunks():  # a frame at a time: the file may be large
            with self.files.use(self) as fd:
                for frame in keep:
                    yield os.pread(fd, frame.length, frame.position)

        self._replace_file(chunks())
        return rewritten

    def _replace_file(self, chunks) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            fsync(f.fileno())
        self.files.forget(self)
        os.replace(tmp, self.path)
        _sync_folder(self.path.parent)

    def _index(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.bases.append(frame.base_offset)

    def repair(self) -> Damage | None:
        """Cut the damaged bytes out (the frames after them stay, with their offsets): what
        was cut, or None when nothing was damaged."""
        damage = self.damage
        if damage is None:
            return None
        with self.lock:
            self.frames, self.bases = self._rewrite(self.frames), []
            for frame in list(self.frames):
                self.bases.append(frame.base_offset)
            self.damage = self.refusal = None
        return damage

    def check(self) -> None:
        if self.refusal is not None:
            raise TopicError(self.refusal)

    # -- writing

    def append(self, batch: pa.RecordBatch, producer: str = "", txn: int = 0, sync: bool = False) -> tuple[int, int]:
        """Append a batch (and wait until it is on disk if sync); returns (first offset, next
        offset). On failure nothing of it is left, and a TopicError says why."""
        self.check()
        with self.lock:
            base = self.end_offset
            count = batch.num_rows
            batch = batch.set_column(0, "offset", pa.array(np.arange(base, base + count, dtype=np.int64)))
            data = encode_frame(batch, base, producer, txn)
            try:
                with self.files.use(self) as fd:
                    position = append_all(fd, data, sync)
            except OSError as error:
                raise write_error(self.name, error) from None
            if txn and (producer, txn) not in self.pending:
                self.pending[(producer, txn)] = base
            self._index(Frame(base, count, base + count - 1, position, frame_size(data), producer, txn))
            self.end_offset = base + count
            return base, self.end_offset

    def sync(self) -> None:
        try:
            with self.files.use(self) as fd:
                fsync(fd)
        except OSError as error:
            raise write_error(self.name, error) from None

    def finish_txn(self, producer: str, txn: int, committed: bool) -> None:
        with self.lock:
            self.pending.pop((producer, txn), None)
            if not committed:
                self.hidden.add((producer, txn))

    def visible_end(self) -> int:
        """The end of the last frame that is neither in an open transaction nor aborted."""
        with self.lock:
            for frame in reversed(self.frames):
                if not frame.txn or ((frame.producer, frame.txn) not in self.pending
                                     and (frame.producer, frame.txn) not in self.hidden):
                    return frame.last_offset + 1
            return 0

    # -- reading

    def stable_end(self, wait: bool = True) -> int | None:
        """Offsets below this are readable: no open transaction starts before it. None, when not
        to wait, if a writer holds the partition (an append may be waiting for the disk)."""
        if not self.lock.acquire(blocking=wait):
            return None
        try:
            return min(self.pending.values(), default=self.end_offset)
        finally:
            self.lock.release()

    def read(self, offset: int, max_records: int, max_bytes: int | None = None) -> tuple[pa.RecordBatch | None, int]:
        """Records from `offset` up to the stable end (at most max_records; no further frame once
        max_bytes of frames were read); returns (batch, next offset)."""
        located, next_offset = self.locate(offset, max_records, max_bytes)
        if located is None:
            return None, next_offset
        with self.files.use(self) as fd:
            batch = located.read(fd)
        if batch is None:  # (the frames' records in range were compacted away)
            return None, next_offset
        return batch, max(next_offset, batch.column(0)[-1].as_py() + 1)

    def locate(self, offset: int, max_records: int, max_bytes: int | None = None) -> tuple[FileSlice | None, int]:
        """Where in the file the records from `offset` are (see `read`), for this process or
        another one (runtime/workers.py) to read: (the frames, or None when nothing is readable;
        the next offset). With gaps (a compacted topic) fewer than max_records may come back."""
        self.check()
        end = self.stable_end()
        if offset >= end:
            return None, offset
        with self.lock:
            index = max(bisect.bisect_right(self.bases, offset) - 1, 0)
            frames = self.frames[index:]
            hidden = set(self.hidden)
        kept, total, next_offset, read_bytes = [], 0, offset, 0
        for frame in frames:
            if frame.base_offset >= end or total >= max_records or (
                    max_bytes is not None and kept and read_bytes >= max_bytes):
                break
            next_offset = min(frame.last_offset + 1, end)
            if frame.last_offset < offset or (frame.producer, frame.txn) in hidden:
                continue
            kept.append((frame.position, frame.length))
            total += min(frame.last_offset + 1, end) - max(frame.base_offset, offset)
            read_bytes += frame.length
        if not kept:
            if not any(f.last_offset >= offset and f.base_offset < end for f in frames):
                # no frame holds an offset from here to the end (a gap left by a repair, or by
                # aborted frames dropped at start-up): nothing to wait for below the end
                return None, end
            return None, max(next_offset, offset)
        return FileSlice(str(self.path), tuple(kept), offset, end), next_offset

    def _read_frame(self, frame: Frame) -> pa.RecordBatch:
        with self.files.use(self) as fd:
            return _frame_batch(os.pread(fd, frame.length, frame.position))

    def compact(self) -> None:
        """Keep only the newest record of each key (offsets are kept, so gaps appear)."""
        with self.lock:
            if self.pending or not self.frames or self.damage is not None:
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
        first = compacted.column(0)[0].as_py()
        data = encode_frame(compacted, first)
        with self.lock:
            try:
                self._replace_file(data)
            except OSError:
                self.path.with_suffix(".tmp").unlink(missing_ok=True)  # no room now: kept as it is
                return
            last = compacted.column(0)[-1].as_py()
            self.frames, self.bases = [], []
            self._index(Frame(first, compacted.num_rows, last, 0, frame_size(data), "", 0))

    def start_offset(self) -> int:
        with self.lock:
            return self.frames[0].base_offset if self.frames else self.end_offset

    def close(self) -> None:
        self.files.forget(self)


@contextmanager
def _mapped(path: Path):
    """The file's bytes, mapped into memory (not read: a partition may be large)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield b""
        return
    try:
        if os.fstat(fd).st_size == 0:
            yield b""
            return
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as data:
            yield data
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fsync(fd)
    finally:
        os.close(fd)


def _first_at_least(offsets: pa.Array, value: int) -> int:
    """Index of the first offset >= value (offsets within a frame are increasing)."""
    return int(np.searchsorted(offsets.to_numpy(), value))
