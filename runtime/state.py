"""State stores: a query's keyed state, with every change written to a compacted changelog
topic in the same transaction as the query's output and offsets. At start-up the store is
rebuilt from its changelog, so state, offsets and output always agree.

Memory stays bounded: past `max_entries` entries in memory, the oldest tenth of them (by
when they came into memory; an entry read back from disk comes in again) spill to an LMDB
file on disk (LMDB measured ~7x faster to write and ~12x faster to read
than SQLite for this use; see the README). The file is only a cache of state that lives in
the changelog: it is wiped when the store is rebuilt.

Keys and values are written with marshal's version 0 where it can write them (plain tuples,
lists, dicts, numbers, strings, bytes: most state), else pickled: marshal is 2-3x faster, and
its bytes depend only on the value (pickle's depend on which equal objects are the same object,
so one key could be written two ways). The two tell apart by their first byte. Changelogs
written before were pickled throughout; restore() moves their keys to the new bytes.
"""
from __future__ import annotations

import itertools
import marshal
import operator
import pickle
import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.reading import read_to_end

DEFAULT_MAX_ENTRIES = 1_000_000
_MISSING = object()
_PICKLED = 0x80  # the first byte of a pickle (protocol 2 and later); marshal's are below it


def _dump(value) -> bytes:
    try:
        return marshal.dumps(value, 0)  # version 0: no references, so equal values, equal bytes
    except ValueError:  # a type marshal does not write (datetime, Decimal, a tuple subclass...)
        return pickle.dumps(value)


def _dump_all(values) -> list[bytes]:
    """_dump of each value, in one pass while marshal can write them all."""
    try:
        return list(map(marshal.dumps, values, itertools.repeat(0)))
    except ValueError:
        return list(map(_dump, values))


def _load(raw: bytes):
    return pickle.loads(raw) if raw[0] == _PICKLED else marshal.loads(raw)


@dataclass(frozen=True)
class StateLimits:
    """How much state a store keeps in memory, and where the rest goes."""
    max_entries: int = DEFAULT_MAX_ENTRIES
    directory: str | None = None  # the spill file's folder; None: state never spills


class StateStore:
    """Keyed state with a changelog.

    Each key's changes go to one changelog partition, always the same, so a restore that
    replays the partitions in any order ends with each key's newest value. With `by_source`
    (a query whose state splits by source partition, spread over servers) that is the number of
    the source partition being processed: whoever takes a source partition over restores its
    state from the changelog partition of that number. Otherwise it is a hash of the key (the
    query reads every partition and may touch a key from any of them)."""

    def __init__(self, log=None, topic: str | None = None, limits: StateLimits | None = None,
                 by_source: bool = False):
        self.log = log
        self.topic = topic  # None: the state lives only as long as the query (transient queries)
        self.limits = limits or StateLimits()
        self.by_source = by_source
        self.hot: dict = {}  # in memory, in the order entries came in
        self._cold = None  # the LMDB environment, opened at the first spill
        self._cold_count = 0
        self._dirty: dict = {}  # changed key -> the source partition whose record changed it
        self._retired: dict[int, list[bytes]] = {}  # changelog partition -> old key bytes to delete
        self.partition = 0  # the source partition being processed

    # ---------------------------------------------------------------- reads and writes

    def get(self, key, default=None):
        value = self.hot.get(key, _MISSING)
        if value is not _MISSING:
            return value
        value = self._cold_take(key)
        if value is _MISSING:
            return default
        self._keep(key, value)
        return value

    def put(self, key, value) -> None:
        if key not in self.hot and self._cold is not None:
            self._cold_take(key)
        self._keep(key, value)
        self._dirty[key] = self.partition

    def get_many(self, keys) -> list:
        """get() of each key (None when absent): one call for a batch's worth of keys."""
        if self._cold is None or not self._cold_count:  # nothing spilled: memory has it all
            return list(map(self.hot.get, keys))
        return [self.get(key) for key in keys]

    def put_many(self, keys, values) -> None:
        """put() of each key with its value: one call for a batch's worth of keys."""
        hot = self.hot
        if self._cold is not None and self._cold_count:
            for key in keys:
                if key not in hot:
                    self._cold_take(key)
        hot.update(zip(keys, values))
        self._dirty.update(dict.fromkeys(keys, self.partition))
        if len(hot) > self.limits.max_entries and self.limits.directory is not None:
            self._spill(max(len(hot) - self.limits.max_entries, self.limits.max_entries // 10, 1))

    def delete(self, key) -> None:
        if self.hot.pop(key, _MISSING) is _MISSING:
            self._cold_take(key)
        self._dirty[key] = self.partition

    def keys(self):
        """Every key, in memory and spilled (do not change the store while iterating)."""
        return itertools.chain(self.hot, self._cold_items(keys_only=True))

    def items(self):
        """Every (key, value), in memory and spilled (do not change the store while iterating)."""
        return itertools.chain(self.hot.items(), self._cold_items())

    @property
    def data(self) -> dict:
        """All entries as one dict (for tests and small stores; it reads the spill file)."""
        return dict(self.items())

    def __len__(self) -> int:
        return len(self.hot) + self._cold_count

    # ---------------------------------------------------------------- memory and the spill file

    def _keep(self, key, value) -> None:
        self.hot[key] = value
        if len(self.hot) > self.limits.max_entries and self.limits.directory is not None:
            self._spill(max(len(self.hot) - self.limits.max_entries, self.limits.max_entries // 10, 1))

    def _spill(self, count: int) -> None:
        """Move the `count` entries that came into memory first to disk."""
        env = self._open()
        victims = list(itertools.islice(self.hot, count))
        with env.begin(write=True) as txn:
            for key in victims:
                if txn.put(_dump(key), _dump(self.hot.pop(key))):
                    self._cold_count += 1

    def _cold_take(self, key):
        """Remove a key from the spill file and return its value (or _MISSING)."""
        if self._cold is None or not self._cold_count:
            return _MISSING
        raw_key = _dump(key)
        with self._cold.begin(write=True) as txn:
            raw = txn.pop(raw_key)
        if raw is None:
            return _MISSING
        self._cold_count -= 1
        return _load(raw)

    def _cold_items(self, keys_only: bool = False):
        if self._cold is None or not self._cold_count:
            return
        with self._cold.begin() as txn:
            for raw_key, raw in txn.cursor():
                yield _load(raw_key) if keys_only else (_load(raw_key), _load(raw))

    def _open(self):
        if self._cold is None:
            import lmdb

            path = Path(self.limits.directory)
            shutil.rmtree(path, ignore_errors=True)  # a cache of the changelog: start empty
            path.mkdir(parents=True, exist_ok=True)
            # no fsync: the changelog, not this file, is what survives a crash
            self._cold = lmdb.open(str(path), map_size=1 << 40, sync=False, metasync=False,
                                   lock=False, readahead=False)
        return self._cold

    def close(self) -> None:
        """Release the spill file (its content is in the changelog)."""
        if self._cold is not None:
            self._cold.close()
            self._cold = None
            shutil.rmtree(self.limits.directory, ignore_errors=True)

    # ---------------------------------------------------------------- changelog

    def restore(self, partitions=None, owner_of=None) -> None:
        """Rebuild the state from the changelog (the newest record of each key wins): all of it,
        or the state of these source partitions.

        owner_of(key): for a key written before each operator kept its state under its own name
        (a tuple starting with the operator's one-letter prefix), the name of the view it now
        belongs to, else None. Such keys move under that name, and the old ones are deleted
        from the changelog at the next flush, so an older query's state is not lost.

        A key read in pickle's bytes (a changelog written before marshal's) is written again in
        the new bytes at the next flush, after a delete of the old bytes, so compaction cannot
        bring an old value back once a later delete's tombstone is gone."""
        info = None if self.topic is None else self.log.topic(self.topic)
        if info is None:
            return
        wanted = range(info.partitions) if partitions is None else sorted({p % info.partitions for p in partitions})
        unnamed: dict = {}  # key written without its operator's name -> (owner, last value, changelog partition)
        retired: dict = {}  # key read in pickle's bytes -> (those bytes, changelog partition)
        for changelog_partition in wanted:
            start = self.log.start_offset(self.topic, changelog_partition)
            for batch, _ in read_to_end(self.log, self.topic, changelog_partition, start):
                if batch is None:
                    continue
                for raw_key, value in zip(batch.column(2).to_pylist(), batch.column(3).to_pylist()):
                    key = _load(raw_key)
                    if raw_key[0] == _PICKLED and _dump(key) != raw_key:  # (what marshal cannot write stays pickled)
                        retired[key] = (raw_key, changelog_partition)
                    value = None if value is None else _load(value)
                    owner = owner_of(key) if owner_of is not None else None
                    if owner is not None:
                        unnamed[key] = (owner, value, changelog_partition)
                    elif value is None:
                        self.delete(key)
                    else:
                        self.put(key, value)
        self._dirty.clear()
        for key, (raw_key, changelog_partition) in retired.items():
            self._retired.setdefault(changelog_partition, []).append(raw_key)
            if owner_of is None or owner_of(key) is None:
                self._dirty[key] = changelog_partition  # its value (or its absence) in the new bytes
        for key, (owner, value, changelog_partition) in unnamed.items():
            if value is None:
                continue  # deleted, or moved by an earlier start
            self.partition = changelog_partition  # where a query split by partition keeps it
            named = (owner, key)
            if self.get(named) is None:
                self.put(named, value)
            self.delete(key)

    def flush(self, txn) -> None:
        """Write the changes since the last flush into the transaction."""
        if self.topic is None or not (self._dirty or self._retired):
            self._dirty.clear()
            return
        changelog_partitions = self.log.topic(self.topic).partitions
        now = int(time.time() * 1000)
        # old key bytes are deleted first: a restore reads their tombstones before the new bytes
        by_partition: dict[int, tuple[list, list]] = {
            partition: (keys, [None] * len(keys)) for partition, keys in self._retired.items()}
        self._retired = {}
        if changelog_partitions == 1 and (self._cold is None or not self._cold_count):
            # the common case, in bulk: one partition, everything in memory
            keys = list(self._dirty)
            values = list(map(self.hot.get, keys, itertools.repeat(_MISSING)))
            if any(map(operator.is_, values, itertools.repeat(_MISSING))):  # deleted keys: tombstones
                dumped = iter(_dump_all([value for value in values if value is not _MISSING]))
                dumped_values = [None if value is _MISSING else next(dumped) for value in values]
            else:
                dumped_values = _dump_all(values)
            raw_keys, raw_values = by_partition.pop(0, ([], []))
            raw_keys += _dump_all(keys)
            raw_values += dumped_values
            txn.append(self.topic, 0, make_records(raw_keys, raw_values, [now] * len(raw_keys)))
            self._dirty.clear()
            return
        for key, partition in self._dirty.items():
            value = self.hot.get(key, _MISSING)
            if value is _MISSING:
                value = self._cold_peek(key)
            if not self.by_source:
                partition = key_partition(key, changelog_partitions) if changelog_partitions > 1 else 0
            keys, values = by_partition.setdefault(partition % changelog_partitions, ([], []))
            keys.append(_dump(key))
            values.append(None if value is _MISSING else _dump(value))
        for partition, (keys, values) in by_partition.items():
            txn.append(self.topic, partition, make_records(keys, values, [now] * len(keys)))
        self._dirty.clear()

    def _cold_peek(self, key):
        if self._cold is None or not self._cold_count:
            return _MISSING
        with self._cold.begin() as txn:
            raw = txn.get(_dump(key))
        return _MISSING if raw is None else _load(raw)


class StateView:
    """One operator's part of the query's store. Its keys are stored under the operator's own
    name, so two operators of one query never meet each other's keys (a WHERE and a HAVING
    over a table both keep the keys that match), and what an operator keeps can be read out
    whole (snapshot) and put back (restore)."""

    __slots__ = ("store", "name")

    def __init__(self, store: StateStore, name: str):
        self.store = store
        self.name = name

    def get(self, key, default=None):
        full = (self.name, key)
        value = self.store.hot.get(full, _MISSING)  # most reads: no second call
        return value if value is not _MISSING else self.store.get(full, default)

    def put(self, key, value) -> None:
        self.store.put((self.name, key), value)

    def get_many(self, keys) -> list:
        """get() of each key (None when absent)."""
        name = self.name
        return self.store.get_many([(name, key) for key in keys])

    def put_many(self, keys, values) -> None:
        """put() of each key with its value (two sequences of the same length)."""
        name = self.name
        self.store.put_many([(name, key) for key in keys], values)

    def delete(self, key) -> None:
        self.store.delete((self.name, key))

    def keys(self):
        return (key[1] for key in self.store.keys() if self._own(key))

    def items(self):
        return ((key[1], value) for key, value in self.store.items() if self._own(key))

    def _own(self, key) -> bool:
        return type(key) is tuple and len(key) == 2 and key[0] == self.name

    def snapshot(self) -> dict:
        """Everything this operator keeps, as {key: value}."""
        return dict(self.items())

    def restore(self, entries: dict) -> None:
        """Replace what this operator keeps by `entries` (changes go to the changelog)."""
        for key in list(self.keys()):
            self.delete(key)
        for key, value in entries.items():
            self.put(key, value)


def key_partition(key, partitions: int) -> int:
    """The changelog partition of a state key: a hash of its value that every process agrees on
    (repr, not pickle: pickle's bytes depend on which equal objects are the same object)."""
    return zlib.crc32(repr(key).encode("utf-8", "surrogatepass")) % partitions


class _FrozenDict(tuple):
    """A dict (struct value) frozen into a hashable tuple of items."""


def freeze(value):
    """A hashable form of a key value: lists become tuples, dicts frozen item tuples."""
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return _FrozenDict((k, freeze(v)) for k, v in value.items())
    return value


def thaw(value):
    """The value `freeze` was given back (for building Arrow arrays)."""
    if isinstance(value, _FrozenDict):
        return {k: thaw(v) for k, v in value}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def row_keys(columns, rows: int) -> list[tuple]:
    """Each row's values of these Arrow columns as one hashable tuple (lists, maps and structs
    frozen; columns of scalars zipped as they are, which is most of the time)."""
    import pyarrow as pa

    if not columns:
        return [()] * rows
    values = [column.to_pylist() for column in columns]
    if not any(pa.types.is_list(c.type) or pa.types.is_large_list(c.type) or pa.types.is_map(c.type)
               or pa.types.is_struct(c.type) for c in columns):
        return list(zip(*values))
    return [tuple(freeze(column[i]) for column in values) for i in range(rows)]
