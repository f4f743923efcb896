"""A stream-stream join a batch at a time.

It gives what JoinOp's row-at-a-time path gives for the same rows in the same order: each row
meets the other side's rows of its key that came before it, whose timestamps fall in its window
and that the other side still keeps (a side keeps a row while its timestamp plus the window's
size and grace is not behind the side's stream time, the largest timestamp it has seen); its
results come in the order of the other side's timestamps, ties in arrival order, each at the
later of the two timestamps. An outer join owes a row that meets none a NULL-padded result: at
once without a GRACE PERIOD (or when the row comes after its window closed), else when the
join's stream time passes its window and grace, after that turn's matches, the rows closing
together in order of timestamp, close and arrival.

State: each batch's rows that its side still keeps after the batch are one chunk, an Arrow
record batch stored under ("C", join, side, number) with the rows' join keys in KEY and arrival
numbers in SEQ, written once and forgotten once all its rows are past retention; the arrival
numbers and close times of rows still owed a result are under ("CO", join, side). In memory,
chunks merge into a few larger ones, each indexed by its keys' hashes. A batch's pairs are found
with sorts and binary searches over the batch and the stored rows of its keys, not with a Python
loop over rows.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.joins import JOIN_KEY, JoinNode
from ksql.planner.plan import NULL_VALUE
from ksql.planner.schema import ROWOFFSET, ROWPARTITION, ROWTIME
from ksql.runtime.state import thaw
from ksql.runtime.sorting import stable_argsort

KEY = "__KEY"  # a stored chunk's column: each row's join key
SEQ = "__SEQ"  # and its arrival number
SIDES = ("L", "R")
_NEVER = np.iinfo(np.int64).min  # a stream time before any record
MAX_CHUNK_ROWS = 65_536
SORT_KEY_LIMIT = 2**62  # the largest sort key _pairs makes from times since the oldest row


def batch_path(node: JoinNode, windowed: bool, key_type: pa.DataType) -> bool:
    """Whether a single join takes its batches here: stream-stream joins of unwindowed sources
    on keys Arrow can hash."""
    hashable = not pa.types.is_nested(key_type)
    return bool(node.within) and not node.left_table and not node.right_table \
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
        # the sides whose unmatched rows an outer join emits NULL-padded
        self.owed_sides = [side for side in SIDES if join._owed(self.node, side)]
        self._fields_of: list[list[str]] | None = None

    @property
    def fields_of(self) -> list[list[str]]:
        """Each side's fields that the join keeps: those read at it or after it (the pipeline
        says which once the join is built, and that never changes)."""
        if self._fields_of is None:
            self._fields_of = []
            for index, fields in enumerate(self.join.fields_of):
                read = self.join.input_fields_read(index)
                self._fields_of.append([f for f in fields if read is None or f in read])
        return self._fields_of

    def reset(self) -> None:
        self.chunks = None  # read from the store again (after a restore)

    # -- state

    def _load(self) -> dict[str, list]:
        if self.chunks is None:
            store = self.join.store
            self.chunks = {"L": [], "R": []}
            stored = sorted((key[3], key[2], rows) for key, rows in store.items() if key[0] == "C" and key[1] == 1)
            for number, side, rows in stored:
                # (as this version keeps them: a chunk stored before may hold fields no longer read)
                rows = _as_schema(rows, self._schema(side))
                self._keep(side, _Chunk(rows, [(number, _span(rows)[1])]))
            self._adopt_rows_kept_one_by_one()
        return self.chunks

    def _owed(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        """(arrival numbers, close times) of the side's kept rows still owed a NULL-padded
        result when their window closes unmatched, by arrival."""
        owed = self.join.store.get(("CO", 1, side))
        return (np.zeros(0, np.int64), np.zeros(0, np.int64)) if owed is None else owed

    def _close_times(self, side: str, times: np.ndarray) -> np.ndarray:
        before, after = self.node.within
        return times + (after if side == "L" else before) + self.node.grace

    def _adopt_rows_kept_one_by_one(self) -> None:
        """State written by the row path (a key's rows as a list of [timestamp, fields,
        matched]) becomes one chunk per side, in timestamp order."""
        store = self.join.store
        old = [(key, value) for key, value in store.items()
               if key[0] in SIDES and len(key) == 3 and key[1] == 1 and isinstance(value, list)]
        if not old:
            return
        for side, index in zip(SIDES, (0, 1)):
            records = sorted(((r[0], key[2], r[1], r[2]) for key, rows in old if key[0] == side for r in rows),
                             key=lambda r: r[0])
            if records:
                fields = self.fields_of[index]
                columns = {f: pa.array([r[2].get(f) for r in records], self.join._arrow(f)) for f in fields}
                columns[KEY] = pa.array([thaw(r[1]) for r in records], self.join._arrow(JOIN_KEY))
                seqs = self._add_chunk(side, pa.RecordBatch.from_pydict(columns))
                if side in self.owed_sides:
                    unmatched = np.array([not r[3] for r in records], bool)
                    times = np.array([r[0] for r in records], np.int64)
                    self._set_owed(side, seqs[unmatched], self._close_times(side, times[unmatched]))
        for key, _ in old:
            store.delete(key)

    def _add_chunk(self, side: str, rows: pa.RecordBatch, seqs: np.ndarray | None = None) -> np.ndarray:
        """Store a batch's kept rows under a number of their own (written to the changelog
        once), and keep them in memory as the side's newest chunk."""
        store = self.join.store
        number = store.get(("CN", 1), 0)
        store.put(("CN", 1), number + 1)
        if seqs is None:  # rows are numbered in arrival order, both sides in one count
            first = store.get(("CS", 1), 0)
            store.put(("CS", 1), first + rows.num_rows)
            seqs = np.arange(first, first + rows.num_rows, dtype=np.int64)
        rows = _as_schema(rows.append_column(SEQ, pa.array(seqs)), self._schema(side))
        store.put(("C", 1, side, number), rows)
        self._keep(side, _Chunk(rows, [(number, _span(rows)[1])]))
        return seqs

    def _set_owed(self, side: str, seqs: np.ndarray, closes: np.ndarray) -> None:
        previous = self._owed(side)
        if len(previous[0]) or len(seqs):
            self.join.store.put(("CO", 1, side), (seqs, closes))

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
        fields = self.fields_of[SIDES.index(side)]
        return pa.schema([(f, join._arrow(f)) for f in fields] + [(KEY, join._arrow(JOIN_KEY)), (SEQ, pa.int64())])

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
            live = _times(chunk.rows, self.fields_of[SIDES.index(side)]) >= horizon
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
        for field in self.fields_of[0] + self.fields_of[1]:
            if batch.schema.get_field_index(field) < 0:
                batch = batch.append_column(field, pa.nulls(batch.num_rows, join._arrow(field)))
        left_fields, right_fields = self.fields_of
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
                times = np.where(mine, _times(batch, self.fields_of[index]), times)
        valid = ~tombstones & keys.is_valid().to_numpy(zero_copy_only=False)  # rows that join
        # the join's stream time after each batch row
        previous_time = store.get(("JT", 1))
        stream_times = np.maximum.accumulate(np.where(valid, times, _NEVER)) if n else np.zeros(0, np.int64)
        if previous_time is not None:
            stream_times = np.maximum(stream_times, previous_time)
        final_time = int(stream_times[-1]) if n else _NEVER
        # the stored rows that may meet the batch's: those whose key hashes as one of the
        # other side's rows' keys does, and the owed rows whose window the batch closes (in
        # arrival order)
        hashes = key_hashes(keys)
        stored, owed = [], {}
        for index, side in enumerate(SIDES):
            probing = np.unique(hashes[valid & (sources != index)])
            due = np.zeros(0, np.int64)
            if side in self.owed_sides:
                owed[side] = self._owed(side)
                due = owed[side][0][owed[side][1] < final_time]
            parts = [part for part in (chunk.matching(probing, due) for chunk in chunks[side]) if part.num_rows]
            stored.append(pa.concat_tables(parts).combine_chunks() if parts else None)
        counts = [0 if rows is None else rows.num_rows for rows in stored]
        # all rows as one numbering: stored left, stored right, then the batch in its order
        side_of = np.concatenate([np.zeros(counts[0], np.int8), np.ones(counts[1], np.int8),
                                  sources.astype(np.int8)])
        all_times = np.concatenate([_times(rows, fields) if rows is not None else np.zeros(0, np.int64)
                                    for rows, fields in zip(stored, (left_fields, right_fields))] + [times])
        all_keys = pa.concat_arrays([rows.column(KEY).combine_chunks().cast(key_type)
                                     for rows in stored if rows is not None] + [keys])
        codes = all_keys.dictionary_encode().indices
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
        # (clamped: the time of a side that has seen no row is _NEVER, which less the retention would wrap)
        keep = [valid & (sources == index) & (times >= max(int(side_times[index][-1]), _NEVER + self.retention)
                                              - self.retention) for index in (0, 1)]
        # the batch's rows' arrival numbers, both sides in one count
        base = store.get(("CS", 1), 0)
        batch_seqs = np.where(valid, base + np.cumsum(valid) - 1, -1)
        all_seqs = np.concatenate([rows.column(SEQ).to_numpy() for rows in stored if rows is not None]
                                  + [batch_seqs]).astype(np.int64)
        probe, other = self._pairs(codes, side_of, all_times, joins, first, side_times)
        # output rows: (left row, right row, key row, timestamp) in the numbering (-1: NULL), and
        # what orders them: the batch row whose turn made them, then matches before NULL-padded
        # rows owed at once before those owed when windows closed (by timestamp, close, arrival)
        left_at = [np.where(side_of[probe] == 0, probe, other)]
        right_at = [np.where(side_of[probe] == 0, other, probe)]
        key_at, out_times = [probe], [np.maximum(all_times[probe], all_times[other])]
        order_keys = [(probe - first, np.zeros(len(probe), np.int64), np.arange(len(probe)),
                       np.zeros(len(probe), np.int64), np.zeros(len(probe), np.int64))]
        steps = np.flatnonzero(valid)
        for side in self.owed_sides:
            index = SIDES.index(side)
            mine = np.flatnonzero(side_of == index)
            mine_batch = mine[mine >= first]
            # a batch row with no match when it came is owed: at once without GRACE PERIOD or
            # when late (its window closed already), else when its window closes unmatched
            matched_now = np.zeros(len(all_times), bool)
            matched_now[probe] = True
            unmatched = mine_batch[valid[mine_batch - first] & ~matched_now[mine_batch]]
            closes = self._close_times(side, all_times[unmatched])
            at_once = self.node.eager | (closes < stream_times[unmatched - first])
            now = unmatched[at_once]
            left_at.append(now if index == 0 else np.full(len(now), -1))
            right_at.append(now if index == 1 else np.full(len(now), -1))
            key_at.append(now)
            out_times.append(all_times[now])
            order_keys.append((now - first, np.ones(len(now), np.int64), np.zeros(len(now), np.int64),
                               np.zeros(len(now), np.int64), np.zeros(len(now), np.int64)))
            if self.node.eager:
                continue
            # the rows owed when windows close: the stored ones, and the batch's waiting ones
            stored_owed = mine[mine < first]
            stored_owed = stored_owed[np.isin(all_seqs[stored_owed], owed[side][0])]
            waiting = np.concatenate([stored_owed, unmatched[~at_once]])
            closes = self._close_times(side, all_times[waiting])
            # the first batch row that meets each, and the one whose turn closes its window
            met_at = np.full(len(all_times), n, np.int64)
            np.minimum.at(met_at, other, probe - first)
            met = met_at[waiting]
            k = np.searchsorted(stream_times[steps], closes, "right")
            closed = np.where(k < len(steps), steps[np.minimum(k, len(steps) - 1)], n) if len(steps) \
                else np.full(len(waiting), n)
            emitted = (closed < n) & (met > closed)
            due = waiting[emitted]
            left_at.append(due if index == 0 else np.full(len(due), -1))
            right_at.append(due if index == 1 else np.full(len(due), -1))
            key_at.append(due)
            out_times.append(all_times[due])
            order_keys.append((closed[emitted], np.full(len(due), 2, np.int64), all_times[due], closes[emitted],
                               all_seqs[due]))
            # still owed: neither met nor closed; the stored ones that are not in the numbering
            still = waiting[(met == n) & ~emitted]
            untouched = ~np.isin(owed[side][0], all_seqs[mine[mine < first]])
            self._set_owed(side, np.concatenate([owed[side][0][untouched], all_seqs[still]]),
                           np.concatenate([owed[side][1][untouched], self._close_times(side, all_times[still])]))
        left_at, right_at, key_at = np.concatenate(left_at), np.concatenate(right_at), np.concatenate(key_at)
        out_times = np.concatenate(out_times)
        columns = [np.concatenate(parts) for parts in zip(*order_keys)]
        order = np.lexsort(columns[::-1])
        out = self._output(batch, stored, counts, left_at[order], right_at[order], all_keys.take(pa.array(key_at[order])),
                           out_times[order])
        # state: stream times, this batch's rows each side still keeps, expired chunks gone
        for index, side in enumerate(SIDES):
            now = int(side_times[index][-1])
            if now != _NEVER and store.get(("JT", 1, side)) != now:
                store.put(("JT", 1, side), now)
            if keep[index].any():
                fields = self.fields_of[index]
                rows = batch.filter(pa.array(keep[index])).select(fields)
                self._add_chunk(side, rows.append_column(KEY, keys.filter(pa.array(keep[index]))),
                                batch_seqs[keep[index]])
            if now != _NEVER:
                self._expire(side, now)
        store.put(("CS", 1), base + int(valid.sum()))
        if final_time != _NEVER and final_time != previous_time:
            store.put(("JT", 1), final_time)
        return out

    def advance_time(self, stream_time: int) -> pa.RecordBatch:
        """Move the join's stream time to `stream_time` without a record: an outer join emits
        the NULL-padded rows it owes rows whose window has closed (as `process` does when a
        record moves the time)."""
        join, store = self.join, self.join.store
        chunks = self._load()
        previous = store.get(("JT", 1))
        now = stream_time if previous is None else max(previous, stream_time)
        if now != previous:
            store.put(("JT", 1), now)
        stored = [None, None]
        for index, side in enumerate(SIDES):
            if side in self.owed_sides:
                seqs, closes = self._owed(side)
                due = seqs[closes < now]
                if len(due):
                    parts = [chunk.matching(np.zeros(0, np.int64), due) for chunk in chunks[side]]
                    stored[index] = pa.concat_tables([p for p in parts if p.num_rows]).combine_chunks()
                    self._set_owed(side, seqs[closes >= now], closes[closes >= now])
        counts = [0 if rows is None else rows.num_rows for rows in stored]
        fields = self.fields_of[0] + self.fields_of[1]
        empty = pa.RecordBatch.from_arrays([pa.nulls(0, join._arrow(f)) for f in fields], names=fields)
        if not counts[0] + counts[1]:
            return self._output(empty, stored, counts, *(np.zeros(0, np.int64),) * 2,
                                pa.nulls(0, join._arrow(JOIN_KEY)), np.zeros(0, np.int64))
        rows = [r for r in stored if r is not None]
        at = np.arange(counts[0] + counts[1])
        side_of = np.repeat([0, 1], counts)
        times = np.concatenate([_times(r, self.fields_of[i]) for i, r in enumerate(stored) if r is not None])
        closes = np.where(side_of == 0, self._close_times("L", times), self._close_times("R", times))
        seqs = np.concatenate([r.column(SEQ).to_numpy() for r in rows])
        order = np.lexsort((seqs, closes, times))
        keys = pa.concat_arrays([r.column(KEY).combine_chunks() for r in rows]).take(pa.array(order))
        return self._output(empty, stored, counts, np.where(side_of == 0, at, -1)[order],
                            np.where(side_of == 1, at, -1)[order], keys, times[order])

    def _pairs(self, codes, side_of, times, joins, first, side_times):
        """(probing row, other row) of every match, in output order: by probing batch row, then
        the other row's timestamp, then its arrival."""
        before, after = self.node.within
        rows = np.flatnonzero(joins & (codes >= 0))
        probes = np.flatnonzero(joins[first:] & (codes[first:] >= 0)) + first
        if not len(probes) or not len(rows):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        probe_side = side_of[probes].astype(np.int64)
        t = times[probes]
        low = np.where(probe_side == 0, t - before, t - after)
        high = np.where(probe_side == 0, t + after, t + before)
        # Each row's sort key: (key code, side, time) as one number, sorted once (stable: ties
        # stay in row order); a probe's matches are the keys between its window's two ends.
        # The time part is the time since the oldest row, or, when that would not fit in 63
        # bits beside the codes, the time's rank among the distinct times.
        row_times = times[rows]
        oldest = int(row_times.min())
        span = int(row_times.max()) - oldest
        if (int(codes.max()) * 2 + 2) * (span + 2) < SORT_KEY_LIMIT:
            slots = span + 2
            row_keys = (codes[rows] * 2 + side_of[rows]) * slots + (row_times - oldest)
            low_at = np.clip(low - oldest, 0, span + 1)
            high_at = np.clip(high - oldest, -1, span)
        else:
            distinct = np.unique(row_times)
            slots = len(distinct) + 1
            row_keys = (codes[rows] * 2 + side_of[rows]) * slots + np.searchsorted(distinct, row_times)
            low_at = np.searchsorted(distinct, low, "left")
            high_at = np.searchsorted(distinct, high, "right") - 1
        at = stable_argsort(row_keys)
        order, sorted_keys = rows[at], row_keys[at]
        base = (codes[probes] * 2 + (1 - probe_side)) * slots
        start = np.searchsorted(sorted_keys, base + low_at, "left")
        end = np.searchsorted(sorted_keys, base + high_at, "right")
        sizes = end - start
        total = int(sizes.sum())
        probe = np.repeat(probes, sizes)
        offsets = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        other = order[np.repeat(start, sizes) + offsets]
        # the other row came first, and its side still kept it when the probing row came
        batch_row = probe - first
        other_side_time = np.where(side_of[probe] == 0, side_times[1][batch_row], side_times[0][batch_row])
        met = (other < probe) & (times[other] >= np.maximum(other_side_time, _NEVER + self.retention) - self.retention)
        return probe[met], other[met]

    def _output(self, batch, stored, counts, left_at, right_at, key_values, times) -> pa.RecordBatch:
        """Output rows from rows in the numbering (stored left, stored right, the batch): each
        one's left and right rows (-1: NULL), key and timestamp."""
        join = self.join
        first = counts[0] + counts[1]
        n = len(times)
        columns = []
        for field in join.types:
            arrow_type = join._arrow(field)
            if field == JOIN_KEY:
                columns.append(key_values)
                continue
            index = 0 if field in join.fields_of[0] else 1 if field in join.fields_of[1] else None
            if index is None or join.needed is not None and field not in join.needed:  # (nobody reads it)
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
            columns.append(column.take(pa.array(np.maximum(positions, 0), mask=at < 0)))
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
        self.order = stable_argsort(self.raw)
        self.hashes = self.raw[self.order]
        self.seqs = self.rows.column(SEQ).to_numpy()  # ascending: rows are kept in arrival order

    def merged(self, newer: "_Chunk") -> "_Chunk":
        # (copied into one record batch: a take from many small ones costs more than the copy)
        return _Chunk(pa.concat_tables([self.rows, newer.rows]).combine_chunks(), self.parts + newer.parts,
                      np.concatenate([self.raw, newer.raw]))

    def matching(self, hashes: np.ndarray, seqs: np.ndarray) -> pa.Table:
        """The rows whose key hashes as one of `hashes` (sorted) does, or whose arrival number
        is one of `seqs`, in their order."""
        low = np.searchsorted(self.hashes, hashes, "left")
        sizes = np.searchsorted(self.hashes, hashes, "right") - low
        total = int(sizes.sum())
        positions = self.order[np.repeat(low - (np.cumsum(sizes) - sizes), sizes) + np.arange(total)]
        if len(seqs) and len(self.seqs):
            at = np.minimum(np.searchsorted(self.seqs, seqs), len(self.seqs) - 1)
            positions = np.concatenate([positions, at[self.seqs[at] == seqs]])
        if not len(positions):
            return self.rows.slice(0, 0)
        at = np.unique(positions)
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
