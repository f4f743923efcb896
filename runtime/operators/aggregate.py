"""AggregateOp: GROUP BY, optionally windowed (TUMBLING, HOPPING, SESSION), over a stream or a table.

State: one entry per group (per group and window when windowed) holding each aggregate's
state and the group's latest timestamp; for a table input, also the last row of each input
key (to undo it when the key is updated or deleted). A window is dropped from the state once
stream time has passed its start by more than the retention (RETENTION, else size + grace, as
Kafka Streams keeps windows), and
records for dropped windows are late. With EMIT FINAL, results wait in the store until their
window closes (stream time past window end + grace); a window that expired before stream time
reached its close is dropped unemitted, as ksqlDB's own tests expect. Both are found through heaps ordered by
time, so neither scans the state.

Every input row yields its update(s) in order, as ksqlDB does with caching off. COUNT, SUM,
AVG, MIN and MAX over a stream (plain, tumbling or hopping), and COUNT, SUM and AVG over a
table, are computed for a whole batch at once (batch_aggregate.py); other aggregations walk the
batch row by row.
"""
from __future__ import annotations

import heapq

import pyarrow as pa

from ksql.planner import types as T
from ksql.planner.aggregation import AggregateNode
from ksql.planner.plan import NULL_VALUE
from ksql.planner.schema import ROWPARTITION, ROWTIME
from ksql.runtime.expressions.compile import compile_expr
from ksql.runtime.operators import batch_aggregate
from ksql.runtime.operators.aggregate_output import AggregateOutput
from ksql.runtime.state import StateView, freeze

class AggregateOp:
    STATE_KEYS = ("G", "S", "W", "T", "F")  # what each key of its state starts with (see below)

    def __init__(self, node: AggregateNode, store: StateView):
        self.node = node
        self.store = store
        self.windowed = node.window is not None
        window = node.window  # grace and retention resolved by the planner (planner/windows.py)
        self.grace = window.grace if window else 0
        self.keys = [compile_expr(k) for k in node.keys]  # over the input batch
        self.args = [[compile_expr(a) for a in call.args] for call in node.calls]
        self.key_types = [T.to_arrow(k.type or T.STRING) for k in node.keys]
        self.agg_types = [T.to_arrow(c.type) for c in node.calls]
        self.retention = window.retention if window else None
        self._expiry: list | None = None  # heap of (window start, store key) of live windows
        self._pending: list | None = None  # heap of (close time, window start, store key) for EMIT FINAL
        self._times: dict | None = None  # partition -> stream time
        self.late = 0  # records dropped because every window they fall in had closed
        self.batch_path = batch_aggregate.supported(self)

    def snapshot(self) -> dict:
        return self.store.snapshot()

    def restore(self, entries: dict) -> None:
        self.store.restore(entries)
        self._expiry = self._pending = self._times = None  # rebuilt from the entries when needed

    def _indexes(self) -> None:
        """Build the time-ordered indexes from the state (after a restart, from the restored store)."""
        if self._expiry is not None:
            return
        self._expiry, self._pending = [], []
        session = self.node.window.kind == "SESSION"
        for key in self.store.keys():
            if key[0] == "G" and len(key) == 4:
                self._expiry.append((key[3] if session else key[2], key))
            elif key[0] == "F":
                self._pending.append((key[3] + self.grace, key[2], key))
        heapq.heapify(self._expiry)
        heapq.heapify(self._pending)

    def _note_stream_time(self, partition, stream_time) -> None:
        self._partition_times()[partition] = stream_time

    def _partition_times(self) -> dict:
        """Stream time per partition (read from the store once, then kept up to date)."""
        if self._times is None:
            partitions = [k for k in self.store.keys() if k[0] == "T"]
            self._times = {k[1]: self.store.get(k) for k in partitions}
        return self._times

    @property
    def _horizon(self) -> float:
        """Windows starting before this are past retention: the slowest partition's stream
        time minus the retention."""
        times = self._partition_times()
        if not times or self.retention is None:
            return float("-inf")
        return min(times.values()) - self.retention

    def _purge(self) -> None:
        """Drop windows that started more than the retention before stream time."""
        horizon = self._horizon
        while self._expiry and self._expiry[0][0] < horizon:
            _, store_key = heapq.heappop(self._expiry)
            if self.store.get(store_key) is None:
                continue
            self.store.delete(store_key)
            if self.node.emit_final:
                self.store.delete(("F",) + store_key[1:])
            if self.node.window.kind == "SESSION":
                sessions = [s for s in self.store.get(("W", store_key[1]), []) if (s[0], s[1]) != store_key[2:]]
                if sessions:
                    self.store.put(("W", store_key[1]), sessions)
                else:
                    self.store.delete(("W", store_key[1]))

    # -- state layout: ("G", key[, start, end]) -> [states, max timestamp]
    #                  ("S", source key) -> (group key, args)      for table inputs
    #                  ("W", key) -> [[start, end], ...]           sessions of a key
    #                  ("T", partition) -> stream time
    #                  ("F", key, start, end) -> pending final row  for EMIT FINAL

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        out = AggregateOutput(len(self.node.keys), len(self.node.calls), self.windowed)
        n = batch.num_rows
        if n == 0:
            return out.batch(self)
        if self.windowed:
            self._indexes()
        if self.batch_path:
            result = batch_aggregate.process(self, batch)
            if result is not None:
                return result
        keys = [k.column(batch).to_pylist() for k in self.keys]
        args = [[a.column(batch).to_pylist() for a in call_args] for call_args in self.args]
        times = batch.column(ROWTIME).to_pylist()
        nulls = batch.column(NULL_VALUE).to_pylist()
        partitions = batch.column(ROWPARTITION).to_pylist()
        source_keys = [batch.column(name).to_pylist() for name in self.node.source_key] \
            if self.node.table_source else []
        for i in range(n):
            row_args = [[column[i] for column in call_args] for call_args in args]
            key = tuple(freeze(column[i]) for column in keys)
            ts = times[i]
            if self.node.table_source:
                self._table_row(tuple(freeze(c[i]) for c in source_keys), key, row_args, ts, nulls[i], out)
                continue
            if nulls[i] or any(k is None for k in key):
                continue  # records without a value or a group are not aggregated
            if not self.windowed:
                self._update(("G", key), key, row_args, ts, out, window=None)
                continue
            previous_time = self.store.get(("T", partitions[i]))
            stream_time = ts if previous_time is None else max(previous_time, ts)
            if stream_time != previous_time:
                self.store.put(("T", partitions[i]), stream_time)
                self._note_stream_time(partitions[i], stream_time)
            horizon = self._horizon
            if self.node.window.kind == "SESSION":
                if self._expiry and self._expiry[0][0] < horizon:  # expired sessions take no merges
                    if self.node.emit_final:
                        self._emit_closed(stream_time, out)
                    self._purge()
                self._session(key, row_args, ts, stream_time, out)
                if self.node.emit_final:  # closed sessions are emitted before any expires
                    self._emit_closed(stream_time, out)
            else:
                accepted = False
                for start, end in self._windows(ts):
                    if end + self.grace <= stream_time or start < horizon:
                        continue  # late: the window has closed, or is past its retention
                    accepted = True
                    self._update(("G", key, start, end), key, row_args, ts, out, window=(start, end))
                if not accepted:
                    self.late += 1
            if self._expiry and self._expiry[0][0] < self._horizon:
                self._purge()
            if self.node.emit_final:
                self._emit_closed(stream_time, out)
        return out.batch(self)

    def advance_time(self, stream_time: int, partition: int | None = None) -> pa.RecordBatch | None:
        """Move stream time (of one partition, else of every partition seen) to `stream_time`
        without a record: windows past retention are dropped and, with EMIT FINAL, windows
        that closed are emitted. `process` does the same as each record moves the time."""
        if not self.windowed:
            return None
        self._indexes()
        times = self._partition_times()
        for p in ([partition] if partition is not None else list(times) or [0]):
            if stream_time > times.get(p, float("-inf")):
                self.store.put(("T", p), stream_time)
                self._note_stream_time(p, stream_time)
        out = AggregateOutput(len(self.node.keys), len(self.node.calls), self.windowed)
        if self.node.emit_final:
            self._emit_closed(stream_time, out)
        self._purge()
        return out.batch(self)

    # -- plain and windowed updates

    def _update(self, store_key, key, row_args, ts, out, window, undo=False):
        entry = self.store.get(store_key)
        states = entry[0] if entry else [c.function.init() for c in self.node.calls]
        if entry is None and window is not None and self._expiry is not None:
            heapq.heappush(self._expiry, (window[0], store_key))
        latest = max(entry[1], ts) if entry else ts
        step = "undo" if undo else "add"
        states = [getattr(call.function, step)(state, *values, *call.literals)
                  for call, state, values in zip(self.node.calls, states, row_args)]
        self.store.put(store_key, [states, latest])
        results = [call.function.result(state) for call, state in zip(self.node.calls, states)]
        if self.node.emit_final and window is not None:
            final_key = ("F", key, window[0], window[1])
            if self.store.get(final_key) is None and self._pending is not None:
                heapq.heappush(self._pending, (window[1] + self.grace, window[0], final_key))
            self.store.put(final_key, (results, latest))
            return
        if out is not None:
            out.add(key, results, latest, window)

    def _windows(self, ts):
        window = self.node.window
        if window.kind == "TUMBLING":
            start = ts - ts % window.size
            return [(start, start + window.size)]
        advance = window.advance
        start = max(0, ts - window.size + advance) // advance * advance
        windows = []
        while start <= ts:
            windows.append((start, start + window.size))
            start += advance
        return windows

    def _emit_closed(self, stream_time, out):
        """Emit the pending results of every window that has closed, by window end then start."""
        while self._pending and self._pending[0][0] <= stream_time:
            _, _, store_key = heapq.heappop(self._pending)
            pending = self.store.get(store_key)
            if pending is None:
                continue
            results, latest = pending
            self.store.delete(store_key)
            out.add(store_key[1], results, latest, (store_key[2], store_key[3]))

    # -- sessions

    def _session(self, key, row_args, ts, stream_time, out):
        gap = self.node.window.size
        sessions = list(self.store.get(("W", key), []))
        merging = [s for s in sessions if s[0] - gap <= ts <= s[1] + gap]
        start = min([ts] + [s[0] for s in merging])
        end = max([ts] + [s[1] for s in merging])
        if end < stream_time - gap - self.grace:
            self.late += 1
            return  # late: the session has closed (Kafka Streams closes it a gap after its end)
        states = [c.function.init() for c in self.node.calls]
        latest = ts
        for old_start, old_end in merging:
            old_states, old_latest = self.store.get(("G", key, old_start, old_end))
            self.store.delete(("G", key, old_start, old_end))
            states = [c.function.merge(a, b) if c.function.merge else b
                      for c, a, b in zip(self.node.calls, states, old_states)]
            latest = max(latest, old_latest)
            if (old_start, old_end) != (start, end):
                if self.node.emit_final:  # nothing was emitted for it: drop its pending result
                    self.store.delete(("F", key, old_start, old_end))
                else:
                    out.tombstone(key, (old_start, old_end), old_latest)
        remaining = [s for s in sessions if s not in merging] + [[start, end]]
        self.store.put(("W", key), remaining)
        self.store.put(("G", key, start, end), [states, latest])
        if self._expiry is not None:  # a session expires by its end, not its start
            heapq.heappush(self._expiry, (end, ("G", key, start, end)))
        self._update(("G", key, start, end), key, row_args, ts, out, window=(start, end))

    # -- tables

    def _table_row(self, source_key, key, row_args, ts, tombstone, out):
        """An upsert (or delete) of one input table row: undo its previous value, apply the new one.
        When the row stays in the same group, only the final result is emitted."""
        previous = self.store.get(("S", source_key))
        deleted = tombstone or any(k is None for k in key)
        if previous is not None:
            old_key, old_args = previous
            quiet = not deleted and old_key == key
            self._update(("G", old_key), old_key, old_args, ts, None if quiet else out, window=None, undo=True)
        if deleted:
            self.store.delete(("S", source_key))
            return
        self._update(("G", key), key, row_args, ts, out, window=None)
        self.store.put(("S", source_key), (key, row_args))
