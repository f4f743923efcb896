"""A stream-stream INNER join a batch at a time.

It gives what JoinOp's row-at-a-time path gives for the same rows in the same order: each row
meets the other side's rows of its key that came before it, whose timestamps fall in its window
and that the other side still keeps (a side keeps a row while its timestamp plus the window's
size and grace is not behind the side's stream time, the largest timestamp it has seen); its
results come in the order of the other side's timestamps, ties in arrival order, each at the
later of the two timestamps.

State: each batch's rows that its side still keeps after the batch are one chunk, an Arrow
record batch stored under ("C", join, side, number) with the rows' join keys in KEY; a chunk is
dropped once all its rows are past retention, and rewritten without them once most are. The
pairs of a batch are found with sorts and binary searches over the batch and the stored rows of
the batch's keys, not with a Python loop over rows.
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
        self.chunks: dict[str, list] | None = None  # side -> [(number, rows, newest timestamp)]

    def reset(self) -> None:
        self.chunks = None  # read from the store again (after a restore)

    # -- state

    def _load(self) -> dict[str, list]:
        if self.chunks is None:
            store = self.join.store
            self.chunks = {"L": [], "R": []}
            for key, rows in list(store.items()):
                if key[0] == "C" and key[1] == 1:
                    self.chunks[key[2]].append((key[3], rows, _newest(rows)))
            for side in SIDES:
                self.chunks[side].sort(key=lambda chunk: chunk[0])
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
        store = self.join.store
        number = store.get(("CN", 1), 0)
        store.put(("CN", 1), number + 1)
        store.put(("C", 1, side, number), rows)
        self.chunks[side].append((number, rows, _newest(rows)))

    def _expire(self, side: str, side_time: int) -> None:
        """Drop the side's chunks whose rows are all past retention; rewrite those mostly past."""
        store, horizon = self.join.store, side_time - self.retention
        kept = []
        for number, rows, newest in self.chunks[side]:
            if newest < horizon:
                store.delete(("C", 1, side, number))
                continue
            times = _times(rows, self.join.fields_of[SIDES.index(side)])
            live = times >= horizon
            if live.sum() * 2 < len(live):
                rows = rows.filter(pa.array(live))
                store.put(("C", 1, side, number), rows)
            kept.append((number, rows, newest))
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
        # the stored rows that may meet the batch's: those of its keys
        stored = []
        for side, fields in zip(SIDES, (left_fields, right_fields)):
            if chunks[side]:
                rows = pa.Table.from_batches([c[1] for c in chunks[side]])
                rows = rows.filter(pc.is_in(rows.column(KEY), value_set=keys.drop_null()))
                stored.append(rows.combine_chunks())
            else:
                stored.append(None)
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


def _newest(rows) -> int:
    name = next(n for n in rows.schema.names if n.endswith(f"__{ROWTIME}"))
    newest = pc.max(rows.column(name)).as_py()
    return _NEVER if newest is None else newest
