"""A stream-stream INNER join a batch at a time.

It gives what JoinOp's row-at-a-time path gives for the same rows in the same order: each row
meets the other side's rows of its key that came before it, whose timestamps fall in its window
and that the other side still keeps (a side keeps a row while its timestamp plus the window's
size and grace is not behind the side's stream time, the largest timestamp it has seen); its
results come in the order of the other side's timestamps, ties in arrival order, each at the
later of the two timestamps.

State: each batch's rows that its side still keeps after the batch are one chunk, an Arrow
record batch stored under ("C", join, side, number) with the rows' join keys in KEY, written
once and forgotten once all its rows are past retention. In memory, chunks merge into a few
larger ones, each indexed by its keys' hashes. A batch's pairs are found with sorts and binary
searches over the batch and the stored rows of its keys, not with a Python loop over rows.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.joins import JOIN_KEY, JoinNode
from ksql.planner.plan import NULL_VALUE
from ksql.planner.schema import ROWOFFSET, ROWPARTITION, ROWTIME
from ksql.runtime.state import thaw

KEY = "__KEY"  # a stored chunk's column: each row's join key
SIDES = ("L", "R")
_NEVER = np.iinfo(np.int64).min  # a stream time before any record
MAX_CHUNK_ROWS = 65_536


def batch_path(node: JoinNode, windowed: bool, key_type: pa.DataType) -> bool:
    """Whether a single join takes its batches here: stream-stream INNER joins of unwindowed
    sources on keys Arrow can hash (outer joins owe NULL-padded rows at window close, which the
    row path times)."""
    hashable = not pa.types.is_nested(key_type)
    return bool(node.within) and node.kind == "INNER" and not node.left_table and not node.right_table \
        and not node.foreign_key and not windowed and hashable


class WindowJoin:
    """The batch path of JoinOp's single stream-stream join (`join` is the JoinOp: its store,
    fields, types and key expressions)."""

    def __init__(self, join):
        self.join = join
        self.node: JoinNode = join.plan.joins[0]
        before, after = self.node.within
        self.retention = before + after + self.node.grace
        self.chunks: dict[str, list[_Chunk]] | None = None  # side -> its chunks, oldest first

    def reset(self) -> None:
        self.chunks = None  # read from the store again (after a restore)

    # -- state

    def _load(self) -> dict[str, list]:
        if self.chunks is None:
            store = self.join.store
            self.chunks = {"L": [], "R": []}
            stored = sorted((key[3], key[2], rows) for key, rows in store.items() if key[0] == "C" and key[1] == 1)
            for number, side, rows in stored:
                self._keep(side, _Chunk(rows, [(number, _span(rows)[1])]))
            self._adopt_rows_kept_one_by_one()
        return self.chunks

    def _adopt_rows_kept_one_by_one(self) -> None:
        """State written by the row path (a key's rows as a list of [timestamp, fields,
        matched]) becomes one chunk per side, in timestamp order."""
        store = self.join.store
        old = [(key, value) for key, value in store.items()
               if key[0] in SIDES and len(key) == 3 and key[1] == 1 and isinstance(value, list)]
        if not old:
            return
        for side, index in zip(SIDES, (0, 1)):
            records = sorted(((r[0], key[2], r[1]) for key, rows in old if key[0] == side for r in rows),
                             key=lambda r: r[0])
            if records:
                fields = self.join.fields_of[index]
                columns = {f: pa.array([r[2].get(f) for r in records], self.join._arrow(f)) for f in fields}
                columns[KEY] = pa.array([thaw(r[1]) for r in records], self.join._arrow(JOIN_KEY))
                self._add_chunk(side, pa.RecordBatch.from_pydict(columns))
        for key, _ in old:
            store.delete(key)

    def _add_chunk(self, side: str, rows: pa.RecordBatch) -> None:
        """Store a batch's kept rows under a number of their own (written to the changelog
        once), and keep them in memory as the side's newest chunk."""
        store = self.join.store
        rows = _as_schema(rows, self._schema(side))
        number = store.get(("CN", 1), 0)
        store.put(("CN", 1), number + 1)
        store.put(("C", 1, side, number), rows)
        self._keep(side, _Chunk(rows, [(number, _span(rows)[1])]))

    def _keep(self, side: str, chunk: "_Chunk") -> None:
        """In memory, chunks merge as a binary counter carries (a chunk at least half its
        predecessor's size joins it) up to MAX_CHUNK_ROWS: a side has a few chunks to search,
        not one per batch, and each row is copied a few times at most."""
        chunks = self.chunks[side]
        while chunks and chunk.rows.num_rows * 2 >= chunks[-1].rows.num_rows \
                and chunk.rows.num_rows + chunks[-1].rows.num_rows <= MAX_CHUNK_ROWS:
            chunk = chunks.pop().merged(chunk)
        chunks.append(chunk)

    def _schema(self, side: str) -> pa.Schema:
        """A side's chunks' columns: its fields in the join's types, then the key."""
        join = self.join
        fields = join.fields_of[SIDES.index(side)]
        return pa.schema([(f, join._arrow(f)) for f in fields] + [(KEY, join._arrow(JOIN_KEY))])

    def _expire(self, side: str, side_time: int) -> None:
        """Forget the stored chunks whose rows are all past retention; in memory, drop the
        rows past it once they are most of a chunk (until then, the probe skips them)."""
        store, horizon = self.join.store, side_time - self.retention
        kept = []
        for chunk in self.chunks[side]:
            if chunk.oldest >= horizon:
                kept.append(chunk)
                continue
            for number, newest in chunk.parts:
                if newest < horizon:
                    store.delete(("C", 1, side, number))
            parts = [(number, newest) for number, newest in chunk.parts if newest >= horizon]
            if not parts:
                continue
            live = _times(chunk.rows, self.join.fields_of[SIDES.index(side)]) >= horizon
            if live.sum() * 2 < len(live):
                chunk = _Chunk(chunk.rows.filter(pa.array(live)).combine_chunks(), parts)
            else:
                chunk.parts = parts
            kept.append(chunk)
        self.chunks[side] = kept

    # -- a batch

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        join, store = self.join, self.join.store
        chunks = self._load()
        # (a batch of one side's rows has none of the other side's columns)
        for field in join.fields_of[0] + join.fields_of[1]:
            if batch.schema.get_field_index(field) < 0:
                batch = batch.append_column(field, pa.nulls(batch.num_rows, join._arrow(field)))
        left_fields, right_fields = join.fields_of
        key_type = join._arrow(JOIN_KEY)
        sources = batch.column("__SOURCE").to_numpy(zero_copy_only=False)
        tombstones = batch.column(NULL_VALUE).to_numpy(zero_copy_only=False)
        n = batch.num_rows
        # the batch's keys and timestamps, each row taken from its own side's columns
        keys = pa.nulls(n, key_type)
        times = np.zeros(n, dtype=np.int64)
        for index, side in enumerate(SIDES):
            mine = sources == index
            if mine.any():
                keys = pc.if_else(pa.array(mine), join._key_array(side, batch).cast(key_type), keys)
                times = np.where(mine, _times(batch, join.fields_of[index]), times)
        valid = ~tombstones & keys.is_valid().to_numpy(zero_copy_only=False)  # rows that join
        # the stored rows that may meet the batch's: those whose key hashes as one of the
        # other side's rows' keys does (in arrival order)
        hashes = key_hashes(keys)
        stored = []
        for index, side in enumerate(SIDES):
            probing = np.unique(hashes[valid & (sources != index)])
            parts = [part for part in (chunk.matching(probing) for chunk in chunks[side]) if part.num_rows]
            stored.append(pa.concat_tables(parts).combine_chunks() if parts else None)
        counts = [0 if rows is None else rows.num_rows for rows in stored]
        # all rows as one numbering: stored left, stored right, then the batch in its order
        side_of = np.concatenate([np.zeros(counts[0], np.int8), np.ones(counts[1], np.int8),
                                  sources.astype(np.int8)])
        all_times = np.concatenate([_times(rows, fields) if rows is not None else np.zeros(0, np.int64)
                                    for rows, fields in zip(stored, (left_fields, right_fields))] + [times])
        key_arrays = [rows.column(KEY).combine_chunks().cast(key_type) for rows in stored if rows is not None]
        codes = pa.concat_arrays(key_arrays + [keys]).dictionary_encode().indices
        codes = codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        first = counts[0] + counts[1]  # the batch's first row in the numbering
        joins = np.concatenate([np.ones(first, bool), valid])
        # each side's stream time before each batch row (what the side still keeps then) and after
        side_times = []
        for index, side in enumerate(SIDES):
            start = store.get(("JT", 1, side))
            start = _NEVER if start is None else start
            seen = np.where(valid & (sources == index), times, _NEVER)
            running = np.maximum.accumulate(np.concatenate([[start], seen]))
            side_times.append(running)  # [i]: before batch row i; [-1]: after the batch
        pairs = self._pairs(codes, side_of, all_times, joins, first, side_times)
        probe, other = pairs
        # the output: each pair's left and right rows' fields
        left_at = np.where(side_of[probe] == 0, probe, other)
        right_at = np.where(side_of[probe] == 0, other, probe)
        out = self._output(batch, stored, counts, left_at, right_at, keys, probe - first,
                           np.maximum(all_times[probe], all_times[other]))
        # state: stream times, this batch's rows each side still keeps, expired chunks gone
        for index, side in enumerate(SIDES):
            now = int(side_times[index][-1])
            if now != _NEVER and store.get(("JT", 1, side)) != now:
                store.put(("JT", 1, side), now)
            keep = valid & (sources == index) & (times >= now - self.retention)
            if keep.any():
                fields = join.fields_of[index]
                rows = batch.filter(pa.array(keep)).select(fields)
                self._add_chunk(side, rows.append_column(KEY, keys.filter(pa.array(keep))))
            if now != _NEVER:
                self._expire(side, now)
        if valid.any():
            latest = int(times[valid].max())
            previous = store.get(("JT", 1))
            if previous is None or latest > previous:
                store.put(("JT", 1), latest)
        return out

    def _pairs(self, codes, side_of, times, joins, first, side_times):
        """(probing row, other row) of every match, in output order: by probing batch row, then
        the other row's timestamp, then its arrival."""
        before, after = self.node.within
        rows = np.flatnonzero(joins & (codes >= 0))
        order = rows[np.lexsort((rows, times[rows], side_of[rows], codes[rows]))]
        distinct = np.unique(times[rows])
        slots = len(distinct) + 1
        ranks = np.searchsorted(distinct, times[order])
        sorted_keys = (codes[order] * 2 + side_of[order]) * slots + ranks
        probes = np.flatnonzero(joins[first:] & (codes[first:] >= 0)) + first
        if not len(probes) or not len(order):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        probe_side = side_of[probes].astype(np.int64)
        t = times[probes]
        low = np.where(probe_side == 0, t - before, t - after)
        high = np.where(probe_side == 0, t + after, t + before)
        base = (codes[probes] * 2 + (1 - probe_side)) * slots
        start = np.searchsorted(sorted_keys, base + np.searchsorted(distinct, low, "left"), "left")
        end = np.searchsorted(sorted_keys, base + np.searchsorted(distinct, high, "right"), "left")
        sizes = end - start
        total = int(sizes.sum())
        probe = np.repeat(probes, sizes)
        offsets = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        other = order[np.repeat(start, sizes) + offsets]
        # the other row came first, and its side still kept it when the probing row came
        batch_row = probe - first
        other_side_time = np.where(side_of[probe] == 0, side_times[1][batch_row], side_times[0][batch_row])
        met = (other < probe) & (times[other] >= other_side_time - self.retention)
        return probe[met], other[met]

    def _output(self, batch, stored, counts, left_at, right_at, keys, batch_rows, times) -> pa.RecordBatch:
        join = self.join
        first = counts[0] + counts[1]
        n = len(times)
        columns = []
        for field in join.types:
            arrow_type = join._arrow(field)
            if field == JOIN_KEY:
                columns.append(keys.take(pa.array(batch_rows)))
                continue
            index = 0 if field in join.fields_of[0] else 1 if field in join.fields_of[1] else None
            if index is None:
                columns.append(pa.nulls(n, arrow_type))
                continue
            at = left_at if index == 0 else right_at
            parts = [batch.column(field).cast(arrow_type)]
            if stored[index] is not None:  # stored rows of this side come before the batch's
                parts.insert(0, stored[index].column(field).combine_chunks().cast(arrow_type))
            column = pa.concat_arrays(parts) if len(parts) > 1 else parts[0]
            # positions in the numbering to positions in `column`: the other side's stored rows
            # are not in it
            offset = counts[0] if index == 1 else 0
            positions = np.where(at >= first, at - first + counts[index], at - offset)
            columns.append(column.take(pa.array(positions)))
        columns += [pa.array(times, pa.int64()), pa.array(np.zeros(n, bool)), pa.array(np.zeros(n, np.int32)),
                    pa.nulls(n, pa.int64())]
        return pa.RecordBatch.from_arrays(columns, names=[*join.types, ROWTIME, NULL_VALUE, ROWPARTITION, ROWOFFSET])


def _times(rows, fields) -> np.ndarray:
    """The rows' timestamps: their side's ROWTIME column."""
    name = next(f for f in fields if f.endswith(f"__{ROWTIME}"))
    return rows.column(name).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)


def _as_schema(rows: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    if rows.schema.equals(schema):
        return rows
    return pa.RecordBatch.from_arrays([rows.column(f.name).cast(f.type) for f in schema], schema=schema)


class _Chunk:
    """Rows of one side in memory (a table of one record batch, as a rule), with their time
    span and an index of their keys' hashes; `parts` are the stored chunks they came from:
    (number, newest timestamp)."""

    def __init__(self, rows, parts: list[tuple[int, int]], hashes: np.ndarray | None = None):
        self.rows = rows if isinstance(rows, pa.Table) else pa.Table.from_batches([rows])
        self.parts = parts
        self.oldest, self.newest = _span(self.rows)
        # each row's key hash, in row order; and the rows in hash order
        self.raw = key_hashes(self.rows.column(KEY).combine_chunks()) if hashes is None else hashes
        self.order = np.argsort(self.raw, kind="stable")
        self.hashes = self.raw[self.order]

    def merged(self, newer: "_Chunk") -> "_Chunk":
        # (copied into one record batch: a take from many small ones costs more than the copy)
        return _Chunk(pa.concat_tables([self.rows, newer.rows]).combine_chunks(), self.parts + newer.parts,
                      np.concatenate([self.raw, newer.raw]))

    def matching(self, hashes: np.ndarray) -> pa.Table:
        """The rows whose key hashes as one of `hashes` (sorted) does, in their order."""
        low = np.searchsorted(self.hashes, hashes, "left")
        sizes = np.searchsorted(self.hashes, hashes, "right") - low
        total = int(sizes.sum())
        if not total:
            return self.rows.slice(0, 0)
        positions = np.repeat(low - (np.cumsum(sizes) - sizes), sizes) + np.arange(total)
        at = np.sort(self.order[positions])
        # from each record batch its own rows (Arrow's take across many chunks costs far more)
        batches = self.rows.to_batches()
        starts = np.cumsum([0] + [b.num_rows for b in batches])
        cuts = np.searchsorted(at, starts)
        return pa.Table.from_batches([batch.take(pa.array(at[cuts[i]:cuts[i + 1]] - starts[i]))
                                      for i, batch in enumerate(batches) if cuts[i + 1] > cuts[i]],
                                     schema=self.rows.schema)


def _span(rows) -> tuple[int, int]:
    """The oldest and newest timestamps of a side's rows."""
    name = next(n for n in rows.schema.names if n.endswith(f"__{ROWTIME}"))
    bounds = pc.min_max(rows.column(name))
    if bounds["max"].as_py() is None:
        return _NEVER, _NEVER
    return bounds["min"].as_py(), bounds["max"].as_py()


_MULTIPLIER = np.uint64(0x100000001B3)  # (FNV's 64-bit prime)


def key_hashes(keys: pa.Array) -> np.ndarray:
    """A 64-bit number per key, computed a whole array at once: equal keys get equal numbers
    (different keys mostly different ones; rows found by number are compared by value later).
    Integers are their own number; other keys hash their text's bytes."""
    if pa.types.is_integer(keys.type):
        return keys.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    if not (pa.types.is_string(keys.type) or pa.types.is_binary(keys.type)
            or pa.types.is_large_string(keys.type) or pa.types.is_large_binary(keys.type)):
        keys = keys.cast(pa.string())
    keys = keys.cast(pa.large_binary())
    offsets_buffer, data_buffer = keys.buffers()[1], keys.buffers()[2]
    offsets = np.frombuffer(offsets_buffer, np.int64)[keys.offset:keys.offset + len(keys) + 1]
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    data = data[offsets[0]:offsets[-1]].astype(np.uint64)
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    # sum of byte * M^position within its key, modulo 2^64 (numpy's uint64 arithmetic wraps)
    longest = int(lengths.max()) if len(lengths) else 0
    powers = np.cumprod(np.full(max(longest, 1), _MULTIPLIER, np.uint64)) if longest else np.ones(1, np.uint64)
    positions = np.arange(len(data)) - np.repeat(offsets[:-1], lengths)
    running = np.concatenate([np.zeros(1, np.uint64), np.cumsum(data * powers[positions])])
    sums = running[offsets[1:]] - running[offsets[:-1]]
    return (sums + lengths.astype(np.uint64) * _MULTIPLIER).view(np.int64)
