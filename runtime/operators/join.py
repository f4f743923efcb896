"""JoinOp: a left-deep chain of joins over rows from several sources, in timestamp order.

State, per join: for a table side, the current row of each key; for a stream side of a
stream-stream join, the rows of each key still inside the join window plus its grace period
(older ones are dropped, after emitting the NULL-padded row an outer join owes them). Rows
are matched one at a time, in the order of their timestamps, as ksqlDB does; a single
stream-table join takes a whole batch at once, each stream row meeting the table as the rows
before it in the batch left it (`_stream_table`), and so does a single stream-stream join
(window_join.py).

Its input batch holds the rows of every source in the order they meet the join (the pipeline
orders them, runtime/join_order.py): each row's source index in SOURCE, its fields as
ALIAS__COL (NULL in the columns of the other sources) and NULL_VALUE.
"""
from __future__ import annotations

import bisect
import heapq
import itertools
from operator import itemgetter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.bound import Cast, Column, Compare, Expr, IsDistinct, IsNull, Literal, Logical, Not, fields_of
from ksql.planner.joins import JOIN_KEY, JoinNode, JoinPlan, field_name
from ksql.planner.plan import NULL_VALUE
from ksql.planner.schema import ROWOFFSET, ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime.expressions.compile import compile_expr
from ksql.runtime.operators.window_join import WindowJoin, batch_path
from ksql.runtime.state import StateView, freeze, thaw

SOURCE = "__SOURCE"  # input batch column: the index of the source a row comes from

# Batches of fewer rows than this meet a stream-table join one row at a time: below it,
# building Arrow arrays for the batch costs more than it saves.
MIN_PROBE_ROWS = 64

_TIME = itemgetter(0)  # a kept stream row [timestamp, fields, matched]: its timestamp


class JoinOp:
    # what each key of its state starts with: a side's rows ("L", "R"), a stream-stream join's
    # stream time ("JT"), a foreign-key join's left rows and index ("FL", "FI"), the batch path's
    # chunks, their count, rows' arrival count and rows owed a result (window_join.py)
    STATE_KEYS = ("L", "R", "JT", "FL", "FI", "C", "CN", "CS", "CO")

    def __init__(self, plan: JoinPlan, store: StateView):
        self.plan = plan
        self.store = store
        self.fields_of = [[field_name(i.alias, n) for n, _ in i.columns()] for i in plan.inputs]
        self.types = dict(plan.fields)
        self.windows = [i.alias for i in plan.inputs if i.source.window_type]  # windowed inputs
        # each join's key expressions: over the joined batch so far ("L"), over its right source ("R")
        self.keys = [{"L": compile_expr(j.left_key), "R": compile_expr(j.right_key)} for j in plan.joins]
        self._expiry: dict[int, dict] | None = None  # stream-stream join -> its schedules (_expiry_heap)
        self._sequence = itertools.count()  # orders rows of one close time in the schedule
        # a single stream-table join takes a batch at once (_stream_table)
        only = plan.joins[0] if len(plan.joins) == 1 else None
        self.stream_table = only is not None and not only.left_table and only.right_table and not only.foreign_key \
            and not only.window_fields[0]
        # the joined fields the operators after the join read (set by the pipeline; None: all):
        # a batch's output leaves the others NULL instead of gathering them
        self.needed: frozenset | None = None
        # the part of a WHERE after a single stream-table join that reads only the stream's
        # fields (set by the pipeline: push_filter): its rows that fail it are not looked up
        self.stream_filter: Expr | None = None
        self._stream_test = None  # stream_filter compiled
        # a single stream-stream join takes every batch at once (window_join.py)
        self.window_join = WindowJoin(self) if only is not None \
            and batch_path(only, bool(self.windows), self._arrow(JOIN_KEY)) else None

    def input_fields_read(self, index: int) -> frozenset | None:
        """The fields of input `index` a single stream-table or stream-stream join reads (its
        key, its time) and passes on to be read after it; None: every field (other joins, or
        no list of what is read after it). A join's state keeps what it is given: fewer
        fields, less state (and joins cannot be upgraded, so what is read after it never
        changes)."""
        if self.needed is None or not (self.window_join is not None or self.stream_table):
            return None
        node = self.plan.joins[0]
        key = node.left_key if index == 0 else node.right_key
        return self.needed | fields_of([key]) | {field_name(self.plan.inputs[index].alias, ROWTIME)}

    def push_filter(self, predicate: Expr) -> None:
        """Told the WHERE that follows the join: a single stream-table join drops, before it
        looks their keys up, the stream rows that fail the WHERE's conjuncts over the stream's
        own fields. The WHERE still runs after the join, so this only saves work: a stream row
        changes no state, and the conjuncts kept cannot fail (comparisons, AND, OR, NOT, IS
        NULL of columns and literals), so none logs an error the WHERE would not log."""
        if not self.stream_table:
            return
        own = set(self.fields_of[0])
        kept = [c for c in _conjuncts(predicate) if fields_of([c]) <= own and _cannot_fail(c)]
        if kept:
            self.stream_filter = _all_of(kept)
            self._stream_test = compile_expr(self.stream_filter)

    def snapshot(self) -> dict:
        return self.store.snapshot()

    def restore(self, entries: dict) -> None:
        self.store.restore(entries)
        self._expiry = None  # rebuilt from the entries when needed
        if self.window_join is not None:
            self.window_join.reset()

    def _expiry_heap(self, j: int) -> dict:
        """Stream-stream join `j`'s schedules, built from the state once (after a restart, from
        the restored store), then kept up to date: "close", (close time, n, store key, row) of
        the rows an outer join owes a NULL-padded result unless they match in time; "L" and "R",
        (timestamp + retention, store key) of each side's kept rows."""
        if self._expiry is None:
            self._expiry = {}
            for key, records in list(self.store.items()):
                if key[0] in ("L", "R") and isinstance(records, list):
                    node = self.plan.joins[key[1] - 1]
                    if node.within:
                        if any(a[0] > b[0] for a, b in zip(records, records[1:])):
                            # kept in arrival order by earlier versions: timestamp order now
                            records = sorted(records, key=_TIME)
                            self.store.put(key, records)
                        heaps = self._schedules(key[1])
                        heaps[key[0]] += [(r[0] + self._retention(node), key) for r in records]
                        if self._owed(node, key[0]):
                            heaps["close"] += [(self._close_time(node, key[0], r[0]), next(self._sequence), key, r)
                                               for r in records if not r[2]]
            for heaps in self._expiry.values():
                for heap in heaps.values():
                    heapq.heapify(heap)
        return self._schedules(j)

    def _schedules(self, j: int) -> dict:
        return self._expiry.setdefault(j, {"close": [], "L": [], "R": []})

    @staticmethod
    def _close_time(node: JoinNode, side: str, ts: int) -> int:
        """When a row's window and grace have passed (in the join's stream time)."""
        before, after = node.within
        return ts + (after if side == "L" else before) + node.grace

    @staticmethod
    def _retention(node: JoinNode) -> int:
        """How long each side keeps a row, in that side's own stream time (a window store's
        retention: the window's size plus its grace)."""
        return node.within[0] + node.within[1] + node.grace

    @staticmethod
    def _owed(node: JoinNode, side: str) -> bool:
        """Whether an unmatched row of this side gets a NULL-padded result (outer joins)."""
        return node.kind == "FULL" or node.kind == ("LEFT" if side == "L" else "RIGHT")

    # -- entry point

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The joined rows of the sources' rows, in the batch's order."""
        if batch.num_rows == 0:
            return self._process_events([])
        if self.window_join is not None:
            return self.window_join.process(batch)
        if self.stream_table and batch.num_rows >= MIN_PROBE_ROWS:
            out = self._stream_table(batch)
            if out is not None:
                return out
        columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
        own = {}  # each source's own fields (ALIAS__COL) and timestamps
        nulls = columns[NULL_VALUE]
        # events: (source index, its fields, timestamp, is tombstone)
        events = []
        for i, index in enumerate(columns[SOURCE]):
            if index not in own:
                prefix = self.plan.inputs[index].alias + "__"
                own[index] = ([(n, v) for n, v in columns.items() if n.startswith(prefix)], columns[prefix + ROWTIME])
            fields, times = own[index]
            events.append((index, {name: values[i] for name, values in fields}, times[i], nulls[i]))
        return self._process_events(events)

    def advance_time(self, stream_time: int) -> pa.RecordBatch | None:
        """Move every stream-stream join's stream time to `stream_time` without a record: rows
        past their window and grace are dropped, and an outer join emits the NULL-padded rows
        it owes them (through the joins after it). `process` does the same as records arrive."""
        if self.window_join is not None:
            return self.window_join.advance_time(stream_time)
        out: list[tuple[dict, int, bool]] = []
        for j, node in enumerate(self.plan.joins, start=1):
            if not node.within:
                continue
            now = max(self.store.get(("JT", j), stream_time), stream_time)
            self.store.put(("JT", j), now)
            out += self._join_onwards(self._expire(j, node, now), j + 1)
        return self._batch(out)

    def _join_onwards(self, pending: list, first: int) -> list:
        """Rows (fields, timestamp, is tombstone) taken as the left side of join `first` and
        every join after it."""
        for j in range(first, len(self.plan.inputs)):
            produced = []
            for left_row, left_ts, left_tomb in pending:
                produced += self._join(j, "L", left_row, left_ts, left_tomb)
            pending = produced
        return pending

    def _process_events(self, events: list[tuple[int, dict, int, bool]]) -> pa.RecordBatch:
        """events: (source index, row fields, timestamp, is tombstone), in timestamp order."""
        out: list[tuple[dict, int, bool]] = []
        for source, row, ts, tombstone in events:
            if source == 0:
                out += self._join_onwards([(row, ts, tombstone)], 1)
            else:
                out += self._join_onwards(self._join(source, "R", row, ts, tombstone), source + 1)
        return self._batch(out)

    def _stream_table(self, batch: pa.RecordBatch) -> pa.RecordBatch | None:
        """The rows `_process_events` gives for a batch of a single stream-table join, computed
        for the batch at once: each stream row meets its key's last table row before it in the
        batch, else the table as the batch found it; the table keeps each key's last row. None
        when the keys cannot be compared as arrays (the rows then go one at a time)."""
        node = self.plan.joins[0]
        sources = batch.column(SOURCE).to_numpy(zero_copy_only=False)
        tombstones = batch.column(NULL_VALUE).to_numpy(zero_copy_only=False)
        stream_at, table_at = np.flatnonzero(sources == 0), np.flatnonzero(sources == 1)
        stream, table = batch.take(pa.array(stream_at)), batch.take(pa.array(table_at))
        try:  # (a batch of one side's rows has none of the other side's columns)
            key_type = self._arrow(JOIN_KEY)
            stream_keys = self._key_array("L", stream).cast(key_type) if len(stream_at) else pa.array([], key_type)
            table_keys = self._key_array("R", table).cast(key_type) if len(table_at) else pa.array([], key_type)
            encoded = pa.concat_arrays([stream_keys, table_keys]).dictionary_encode()
            codes = encoded.indices
        except (pa.ArrowException, TypeError):
            return None
        ns = len(stream_at)
        # each stream row's last table row of its key before it in the batch (-1: none)
        ids = codes.fill_null(-1).to_numpy(zero_copy_only=False)
        at = np.concatenate([stream_at, table_at])
        order = np.lexsort((at, ids))  # by key, then position in the batch
        places = np.arange(len(order))
        first_of_key = np.maximum.accumulate(np.where(np.r_[True, ids[order][1:] != ids[order][:-1]], places, 0))
        last_table = np.maximum.accumulate(np.where(order >= ns, places, -1))
        found = (last_table >= first_of_key) & (order < ns)
        before = np.full(ns, -1, dtype=np.int64)
        before[order[found]] = order[last_table[found]] - ns
        table_tombstones = tombstones[table_at]
        in_batch = before >= 0
        matched_in_batch = in_batch & ~table_tombstones[np.maximum(before, 0)] if len(table_at) else in_batch
        # the others meet the table as the batch found it
        valid = stream_keys.is_valid().to_numpy(zero_copy_only=False) & ~tombstones[stream_at]
        if self._stream_test is not None and ns:
            passes = broadcast(self._stream_test.evaluate(stream), ns, pa.bool_())
            valid &= pc.fill_null(passes, False).to_numpy(zero_copy_only=False)
        # the stored table row of each key they need, read once per key: stored_at numbers
        # each stream row's among them (-1: none)
        wanted = np.unique(ids[:ns][valid & ~in_batch])
        key_values = encoded.dictionary.take(pa.array(wanted, pa.int64())).to_pylist() if len(wanted) else []
        found = self.store.get_many([("R", 1, freeze(value)) for value in key_values])
        present = np.array([row is not None for row in found], dtype=bool)
        slot = np.full(len(encoded.dictionary) + 1, -1, np.int64)
        slot[wanted] = np.where(present, np.arange(len(wanted)), -1)
        stored_at = np.where(valid & ~in_batch, slot[ids[:ns]], -1)
        matched = matched_in_batch | (stored_at >= 0)
        keep = valid & (matched | (node.kind != "INNER"))
        self._update_table(table, table_keys, ids[ns:])
        rows = np.flatnonzero(keep)
        if not len(rows):
            return self._batch([])
        # the output: the kept stream rows with their table rows' fields (those read after it)
        wanted_field = (lambda f: True) if self.needed is None else self.needed.__contains__
        stream_time = f"{self.plan.inputs[0].alias}__{ROWTIME}"
        left_fields = set(self.fields_of[0])
        right_fields = set(self.fields_of[1])
        stream = stream.select([f for f in stream.schema.names if f == stream_time or f in left_fields
                                and wanted_field(f)])
        stream, stream_keys = stream.take(pa.array(rows)), stream_keys.take(pa.array(rows))
        from_batch = pa.array(matched_in_batch[rows])
        table_rows = pa.array(np.maximum(before[rows], 0))
        # the stored rows' fields as columns, one row per key found, then one per kept stream row
        kept_at = stored_at[rows]
        looked_up_fields = [f for f in self.fields_of[1] if wanted_field(f)]
        found_columns = pa.array([row[0] if row is not None else None for row in found],
                                 pa.struct([(f, self._arrow(f)) for f in looked_up_fields])).flatten()
        found_rows = pa.array(np.maximum(kept_at, 0), mask=kept_at < 0)
        arrays = []
        for field in self.types:
            arrow_type = self._arrow(field)
            if field != JOIN_KEY and not wanted_field(field):
                arrays.append(pa.nulls(len(rows), arrow_type))
            elif field in left_fields:
                arrays.append(stream.column(field).cast(arrow_type))
            elif field == JOIN_KEY:
                arrays.append(stream_keys)
            elif field in right_fields:
                looked_up = found_columns[looked_up_fields.index(field)].take(found_rows)
                taken = table.column(field).cast(arrow_type).take(table_rows) if len(table_at) else looked_up
                arrays.append(pc.if_else(from_batch, taken, looked_up))
            else:
                arrays.append(pa.nulls(len(rows), arrow_type))
        n = len(rows)
        arrays += [stream.column(stream_time), pa.array(np.zeros(n, dtype=bool)),
                   pa.array(np.zeros(n, dtype=np.int32)), pa.nulls(n, pa.int64())]
        return pa.RecordBatch.from_arrays(arrays, names=[*self.types, ROWTIME, NULL_VALUE, ROWPARTITION, ROWOFFSET])

    def _key_array(self, side: str, rows: pa.RecordBatch) -> pa.Array:
        keys = self.keys[0][side].column(rows)
        return keys if isinstance(keys, pa.Array) else pa.array([keys.as_py()] * rows.num_rows, keys.type)

    def _update_table(self, table: pa.RecordBatch, keys: pa.Array, ids: np.ndarray) -> None:
        """The table side keeps each key's last row of the batch (a tombstone deletes it); `ids`
        numbers the rows' keys (-1: a null key, which the table ignores)."""
        if not len(ids):
            return
        distinct, first_from_end = np.unique(ids[::-1], return_index=True)
        rows = np.sort(len(ids) - 1 - first_from_end[distinct >= 0])  # each key's last row
        prefix = self.plan.inputs[1].alias + "__"
        # a row is kept for the fields read after the join (joins cannot be upgraded: no other
        # version of the query will want more of them)
        names = [n for n in table.schema.names if n.startswith(prefix) and (self.needed is None or n in self.needed)]
        taken = table.take(pa.array(rows, pa.int64()))
        values = taken.select(names).to_pylist()  # a dict per row
        key_values = keys.take(pa.array(rows, pa.int64())).to_pylist()
        if pa.types.is_nested(keys.type):
            key_values = list(map(freeze, key_values))
        store_keys = [("R", 1, key) for key in key_values]
        entries = list(zip(values, taken.column(prefix + ROWTIME).to_pylist()))
        tombstones = pc.fill_null(taken.column(NULL_VALUE), False).to_numpy(zero_copy_only=False)
        if tombstones.any():
            for k in np.flatnonzero(tombstones).tolist():
                self.store.delete(store_keys[k])
            kept = np.flatnonzero(~tombstones).tolist()
            store_keys, entries = [store_keys[k] for k in kept], [entries[k] for k in kept]
        self.store.put_many(store_keys, entries)

    # -- one join

    def _key(self, node: JoinNode, side: str, row: dict):
        field = node.left_field if side == "L" else node.right_field
        if field is not None:
            return row.get(field)
        compiled = self.keys[node.right - 1][side]
        batch = pa.RecordBatch.from_arrays(
            [pa.array([row.get(f)], self._arrow(f)) for f in self.types] + [pa.array([0], pa.int64())],
            names=list(self.types) + [ROWTIME])
        value = compiled.column(batch).to_pylist()[0]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return value

    def _arrow(self, field):
        return T.to_arrow(self.types[field])

    def _join(self, j: int, side: str, row: dict, ts: int, tombstone: bool) -> list:
        node = self.plan.joins[j - 1]
        key = freeze(self._key(node, side, row))
        window = node.window_fields[0 if side == "L" else 1]
        if window and key is not None:  # windowed keys: the same key in the same window
            key = (key, *(row.get(f) for f in window))
        table = node.left_table if side == "L" else node.right_table
        if node.foreign_key:
            return self._foreign_key(j, node, side, key, row, ts, tombstone)
        if key is None:
            return []
        if not node.left_table and not node.right_table:
            return [] if tombstone else self._stream_stream(j, node, side, key, row, ts)
        if table:
            return self._table_update(j, node, side, key, row, ts, tombstone)
        return [] if tombstone else self._stream_probe(j, node, key, row, ts)

    def _merge(self, j: int, left: dict | None, right: dict | None, key) -> dict:
        merged = {}
        for index in range(j):
            for f in self.fields_of[index]:
                merged[f] = left.get(f) if left else None
        for f in self.fields_of[j]:
            merged[f] = right.get(f) if right else None
        merged[JOIN_KEY] = self._key_value(self.plan.joins[j - 1], key)
        return merged

    @staticmethod
    def _key_value(node: JoinNode, key):
        """The join key's value (without the window a windowed key also holds)."""
        return thaw(key[0] if node.window_fields[0] else key)

    def _stream_probe(self, j, node, key, row, ts):
        """Stream-table: a stream row meets the table's current row of its key."""
        match = self.store.get(("R", j, key))
        if match is None and node.kind == "INNER":
            return []
        return [(self._merge(j, row, match[0] if match else None, key), ts, False)]

    def _table_update(self, j, node, side, key, row, ts, tombstone):
        store_key = (side, j, key)
        if tombstone:
            self.store.delete(store_key)
        else:
            self.store.put(store_key, (row, ts))
        if not (node.left_table and node.right_table):
            return []  # the table side of a stream-table join only updates state
        other = self.store.get(("R" if side == "L" else "L", j, key))
        mine = None if tombstone else (row, ts)
        left, right = (mine, other) if side == "L" else (other, mine)
        emit_left = left is not None and node.kind in ("LEFT", "FULL")
        emit_right = right is not None and node.kind in ("RIGHT", "FULL")
        time = max(ts, other[1]) if other else ts
        if left is not None and right is not None:
            return [(self._merge(j, left[0], right[0], key), time, False)]
        if emit_left or emit_right:
            return [(self._merge(j, left[0] if left else None, right[0] if right else None, key), time, False)]
        if tombstone and (other is not None or node.kind in ("LEFT", "FULL") and side == "L"
                          or node.kind in ("RIGHT", "FULL") and side == "R"):
            return [(self._key_only(j, node, key), time, True)]
        return []

    def _foreign_key(self, j, node, side, key, row, ts, tombstone):
        """Left table rows join the right table row their column points to; the output is keyed
        by the left table's key, and a right update re-joins every left row pointing to it."""
        if side == "L":
            left_key = tuple(row.get(f) for f in node.left_pk_fields)
            previous = self.store.get(("FL", j, left_key))
            if previous is not None and (tombstone or previous[2] != key):
                self._unindex(j, previous[2], left_key)
            if tombstone:
                self.store.delete(("FL", j, left_key))
                return [(self._key_fields(j, node, left_key), ts, True)] if previous else []
            self.store.put(("FL", j, left_key), (row, ts, key))
            if key is not None and (previous is None or previous[2] != key):
                pointing = self.store.get(("FI", j, key), set())
                self.store.put(("FI", j, key), pointing | {left_key})
            match = self.store.get(("R", j, key)) if key is not None else None
            if match is None and node.kind == "INNER":
                had = previous is not None and self.store.get(("R", j, previous[2])) is not None
                return [(self._key_fields(j, node, left_key), ts, True)] if had else []
            return [(self._merge(j, row, match[0] if match else None, left_key[0]),
                     max(ts, match[1]) if match else ts, False)]
        if tombstone:
            self.store.delete(("R", j, key))
        else:
            self.store.put(("R", j, key), (row, ts))
        out = []
        pointing = [(("FL", j, left_key), self.store.get(("FL", j, left_key)))
                    for left_key in self.store.get(("FI", j, key), ())]
        pointing = [item for item in pointing if item[1] is not None]
        for store_key, (left_row, left_ts, fk) in sorted(pointing, key=lambda item: item[1][1]):
            if tombstone:
                if node.kind == "INNER":
                    out.append((self._key_fields(j, node, store_key[2]), ts, True))
                else:
                    out.append((self._merge(j, left_row, None, store_key[2][0]), ts, False))
            else:
                out.append((self._merge(j, left_row, row, store_key[2][0]), max(ts, left_ts), False))
        return out

    def _unindex(self, j, foreign_key, left_key) -> None:
        """Forget that a left row points to a right key (its foreign key changed or it went)."""
        pointing = self.store.get(("FI", j, foreign_key), set()) - {left_key}
        if pointing:
            self.store.put(("FI", j, foreign_key), pointing)
        else:
            self.store.delete(("FI", j, foreign_key))

    def _key_fields(self, j, node, left_key) -> dict:
        merged = self._merge(j, None, None, left_key[0])
        for field, value in zip(node.left_pk_fields, left_key):
            merged[field] = value
        return merged

    def _key_only(self, j, node, key) -> dict:
        merged = self._merge(j, None, None, key)
        for field in (node.left_field, node.right_field):
            if field:
                merged[field] = self._key_value(node, key)
        return merged

    def _stream_stream(self, j, node, side, key, row, ts):
        """A row meets the other side's rows of its key within the window. Each side keeps its
        rows for the window's size plus grace in its own stream time, as Kafka Streams' window
        stores do: a late row is not kept once its side has moved past that, yet it still meets
        the other side's rows, which that side may still keep."""
        before, after = node.within
        previous = self.store.get(("JT", j))
        stream_time = ts if previous is None or ts > previous else previous
        if stream_time != previous:
            self.store.put(("JT", j), stream_time)
        side_previous = self.store.get(("JT", j, side))
        side_time = ts if side_previous is None or ts > side_previous else side_previous
        if side_time != side_previous:
            self.store.put(("JT", j, side), side_time)
        mine_key, other_key = (side, j, key), ("R" if side == "L" else "L", j, key)
        record = [ts, row, False]
        out = []
        others = self.store.get(other_key)
        if others:
            # each key's rows are kept in timestamp order: the window's rows are one slice, met
            # in the order a window store returns them
            low, high = (ts - before, ts + after) if side == "L" else (ts - after, ts + before)
            for other in others[bisect.bisect_left(others, low, key=_TIME):]:
                other_ts = other[0]
                if other_ts > high:
                    break
                record[2] = True
                other[2] = True
                left, right = (row, other[1]) if side == "L" else (other[1], row)
                out.append((self._merge(j, left, right, key), max(ts, other_ts), False))
            if out:
                self.store.put(other_key, others)  # their rows' matched flags changed
        owed = self._owed(node, side) and not record[2]
        late = self._close_time(node, side, ts) < stream_time
        if owed and (node.eager or late):
            # Without a GRACE PERIOD an outer join answers an unmatched row at once (ksqlDB's older
            # behaviour, kept for such queries); with one, it waits for the window to close,
            # which for a late row has closed already.
            left, right = (row, None) if side == "L" else (None, row)
            out.append((self._merge(j, left, right, key), ts, False))
            record[2] = True
        heaps = self._expiry_heap(j)
        if ts + self._retention(node) >= side_time:  # else its side keeps it no more
            mine = self.store.get(mine_key)
            if mine is None:
                mine = []
            if not mine or ts >= mine[-1][0]:
                mine.append(record)
            else:
                bisect.insort_right(mine, record, key=_TIME)  # late, within grace: in its place
            self.store.put(mine_key, mine)
            heapq.heappush(heaps[side], (ts + self._retention(node), mine_key))
            if self._owed(node, side) and not record[2]:
                heapq.heappush(heaps["close"], (self._close_time(node, side, ts), next(self._sequence), mine_key,
                                                record))
        if (heaps[side] and heaps[side][0][0] < side_time) or (heaps["close"] and heaps["close"][0][0] < stream_time):
            out += self._expire(j, node, stream_time)
        return out

    def _expire(self, j, node, stream_time):
        """Rows whose window and grace have passed: an outer join emits those still unmatched;
        rows past their side's retention are dropped."""
        heaps = self._expiry_heap(j)
        out = []
        close = heaps["close"]
        while close and close[0][0] < stream_time:
            _, _, store_key, record = heapq.heappop(close)
            if not record[2]:
                record[2] = True
                left, right = (record[1], None) if store_key[0] == "L" else (None, record[1])
                out.append((self._merge(j, left, right, store_key[2]), record[0], False))
                if self.store.get(store_key) is not None:
                    self.store.put(store_key, self.store.get(store_key))  # its flag changed
        for side in ("L", "R"):
            side_time = self.store.get(("JT", j, side))
            heap = heaps[side]
            if side_time is None:
                continue
            due = set()
            while heap and heap[0][0] < side_time:
                due.add(heapq.heappop(heap)[1])
            for store_key in due:
                records = self.store.get(store_key)
                if not records:
                    continue
                # rows leave in timestamp order: the ones past retention are a prefix
                gone = bisect.bisect_left(records, side_time - self._retention(node), key=_TIME)
                if gone == len(records):
                    self.store.delete(store_key)
                elif gone:
                    del records[:gone]
                    self.store.put(store_key, records)
        return sorted(out, key=lambda r: r[1])

    # -- output

    def _batch(self, rows: list) -> pa.RecordBatch:
        arrays, names = [], []
        for f in self.types:
            arrays.append(pa.array([r[0].get(f) for r in rows], self._arrow(f)))
            names.append(f)
        arrays += [pa.array([r[1] for r in rows], pa.int64()), pa.array([r[2] for r in rows], pa.bool_()),
                   pa.array([0] * len(rows), pa.int32()), pa.nulls(len(rows), pa.int64())]
        names += [ROWTIME, NULL_VALUE, ROWPARTITION, ROWOFFSET]
        if self.windows:  # joined windowed rows keep their window (either side's: they are equal)
            for bound in (WINDOWSTART, WINDOWEND):
                fields = [f"{alias}__{bound}" for alias in self.windows]
                arrays.append(pa.array([next((r[0][f] for f in fields if r[0].get(f) is not None), None)
                                        for r in rows], pa.int64()))
                names.append(bound)
        return pa.RecordBatch.from_arrays(arrays, names=names)


def _conjuncts(predicate: Expr) -> list[Expr]:
    if isinstance(predicate, Logical) and predicate.op == "AND":
        return _conjuncts(predicate.left) + _conjuncts(predicate.right)
    return [predicate]


def _all_of(conjuncts: list[Expr]) -> Expr:
    combined = conjuncts[0]
    for conjunct in conjuncts[1:]:
        combined = Logical(T.BOOLEAN, "AND", combined, conjunct)
    return combined


_CANNOT_FAIL = (Column, Literal, Compare, Logical, Not, IsNull, IsDistinct)
_WHOLE = ("INTEGER", "BIGINT")


def _cannot_fail(expr: Expr) -> bool:
    """Whether evaluating it can give no error: only comparisons and logic over columns and
    literals (a whole number literal may be widened, as the binder does to compare it; no
    call, other cast or arithmetic)."""
    if isinstance(expr, Cast):
        return isinstance(expr.operand, Literal) and expr.operand.type is not None \
            and expr.operand.type.base in _WHOLE and expr.type.base in (*_WHOLE, "DOUBLE")
    return isinstance(expr, _CANNOT_FAIL) and all(_cannot_fail(child) for child in expr.children())
