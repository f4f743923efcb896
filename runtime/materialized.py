"""Materialized tables: the current row of every key of a table, for pull queries.

A CTAS query feeds its table's view with each batch it commits; a source table's view is
read from its topic. A pull query reads a snapshot of the view as one Arrow batch in the
layout of a source batch (pseudo columns, key, value, window bounds), so the ordinary
filter and projection operators answer it.
"""
from __future__ import annotations

import heapq
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner import types as T
from ksql.planner.metastore import DataSource
from ksql.planner.plan import NULL_VALUE, OUTPUT_TIME
from ksql.planner.schema import ROWOFFSET, ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime.source import SourceDecoder
from ksql.runtime.state import freeze, row_keys, thaw
from ksql.runtime.log.murmur2 import partitions_for
from ksql.runtime.log.reading import read_available, read_to_end
from ksql.runtime.formats import native
from ksql.runtime.formats.make import make_format


# From this many rows a batch is first cut to the last row of each key (see _last_per_key).
_DEDUPLICATE_FROM = 64

# Value formats that read every value back as it was written. A view in another format holds
# its rows as the format reads them back, as ksqlDB's state store does: PROTOBUF writes a NULL
# number or string as its default (0, ''), DELIMITED reads an empty field as NULL.
_EXACT_FORMATS = frozenset({"JSON", "AVRO", "JSON_SR", "KAFKA", "NONE"})


class MaterializedTable:
    """Keeps one row per key (and window): {key: (rowtime, window start, window end, values)}."""

    def __init__(self, table: DataSource):
        self.table = table
        self.rows: dict = {}
        self.windows: dict = {}  # windowed tables: key -> {(start, end)} of its rows, for lookups
        self.lock = threading.RLock()
        self.key_names = [c.name for c in table.schema.key]
        self._expiry: list = []  # (window start, key) of windowed rows, for retention
        self._stream_time = float("-inf")
        self.value_columns = list(table.schema.value) + list(table.schema.headers)  # headers: source tables
        self.value_names = [c.name for c in self.value_columns]
        self.positions: dict[int, int] = {}  # how far follow() has read each partition of the topic
        self._decoder = None

    def apply(self, batch: pa.RecordBatch, window_columns: tuple[str, str] | None = None,
              time_column: str = OUTPUT_TIME) -> None:
        """Upsert rows from a batch holding the table's key and value columns (tombstones delete)."""
        if batch.num_rows == 0:
            return
        if batch.num_rows >= _DEDUPLICATE_FROM and self.table.window_type != "SESSION":
            batch = self._last_per_key(batch, window_columns, time_column)
        n = batch.num_rows
        key_tuples = row_keys([batch.column(name) for name in self.key_names], n)
        values = [batch.column(name).to_pylist() for name in self.value_names]
        value_tuples = list(zip(*values)) if values else [()] * n
        times = batch.column(time_column).to_pylist()
        nulls = batch.column(NULL_VALUE).to_pylist()
        starts = ends = [None] * n
        if window_columns and window_columns[0] in batch.schema.names:
            starts = batch.column(window_columns[0]).to_pylist()
            ends = batch.column(window_columns[1]).to_pylist()
        retention = self.table.window_retention if window_columns else None
        with self.lock:
            if not any(nulls):
                self._upsert(key_tuples, starts, ends, times, value_tuples, retention)
            else:
                self._apply_rows(key_tuples, starts, ends, nulls, times, value_tuples, retention)
            if retention is not None:  # windows past retention leave the view, as they leave the store
                while self._expiry and self._expiry[0][0] < self._stream_time - retention:
                    self._remove(heapq.heappop(self._expiry)[1])

    def apply_written(self, rows: pa.RecordBatch, records: dict[int, pa.RecordBatch],
                      window_columns: tuple[str, str]) -> None:
        """Apply a query's output rows, given also as the records written for them by partition:
        the rows themselves when the format reads them back unchanged, else the records read."""
        if self.table.value_format.upper() in _EXACT_FORMATS:
            self.apply(rows, window_columns)
            return
        for partition, batch in records.items():
            self._apply_records(batch, partition)

    def _apply_records(self, records: pa.RecordBatch, partition: int) -> None:
        if self._decoder is None:
            self._decoder = SourceDecoder(self.table, "materialize")
        batch = self._decoder.decode(records, partition).batch  # windowed keys come with their bounds
        self.apply(batch, (WINDOWSTART, WINDOWEND) if self.table.window_type else None, ROWTIME)

    def _apply_rows(self, key_tuples, starts, ends, nulls, times, value_tuples, retention) -> None:
        """Apply rows one at a time, tombstones among them."""
        rows, windows = self.rows, self.windows
        stream_time = self._stream_time
        for key_tuple, start, end, null, time, row in zip(key_tuples, starts, ends, nulls, times, value_tuples):
            key = (key_tuple, start, end)
            if null:
                self._remove(key)
                continue
            if retention is not None:
                if start < stream_time - retention:
                    continue  # already past retention
                if key not in rows:
                    heapq.heappush(self._expiry, (start, key))
                if time > stream_time:
                    stream_time = time
            rows[key] = (time, row)
            if start is not None:
                kept = windows.get(key_tuple)
                if kept is None:
                    kept = windows[key_tuple] = set()
                kept.add((start, end))
        self._stream_time = stream_time

    def _upsert(self, key_tuples, starts, ends, times, value_tuples, retention) -> None:
        """What _apply_rows does for rows without tombstones, in bulk: the stream time each row
        meets and the rows already past retention are worked out with numpy, and only rows of
        keys new to the view are indexed one by one."""
        keys = list(zip(key_tuples, starts, ends))
        if retention is not None:
            at = np.asarray(times, np.int64)
            lowest = np.iinfo(np.int64).min // 2
            before = np.maximum.accumulate(np.r_[max(self._stream_time, lowest), at])  # stream time before each row
            kept = np.asarray(starts, np.int64) >= before[:-1] - retention
            self._stream_time = max(self._stream_time, int(before[-1]))
            if not kept.all():
                chosen = np.flatnonzero(kept).tolist()
                keys = [keys[i] for i in chosen]
                times = [times[i] for i in chosen]
                value_tuples = [value_tuples[i] for i in chosen]
        rows = self.rows
        new = [key for key in keys if key not in rows]
        rows.update(zip(keys, zip(times, value_tuples)))
        if retention is not None:
            expiry = self._expiry
            for key in new:
                heapq.heappush(expiry, (key[1], key))
        if new and new[0][1] is not None:
            windows = self.windows
            for key_tuple, start, end in new:
                kept_windows = windows.get(key_tuple)
                if kept_windows is None:
                    kept_windows = windows[key_tuple] = set()
                kept_windows.add((start, end))

    def _last_per_key(self, batch, window_columns, time_column) -> pa.RecordBatch:
        """The rows that decide the view: the last of each key (and window), and every row that
        moves stream time forward (earlier rows of a key are overwritten by its last one).
        Of a time window's rows, one that would be dropped as past retention is older than
        stream time, so leaving rows out changes neither the rows kept nor stream time."""
        columns = [batch.column(n) for n in self.key_names]
        if window_columns and window_columns[0] in batch.schema.names:
            columns.append(batch.column(window_columns[0]))
        codes = np.zeros(batch.num_rows, np.int64)
        for column in columns:
            if pa.types.is_struct(column.type) or pa.types.is_list(column.type) or pa.types.is_map(column.type):
                return batch  # keys Arrow cannot dictionary-encode: keep every row
            encoded = pc.dictionary_encode(column)
            indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
            codes = codes * (len(encoded.dictionary) + 2) + indices
        keep = _last_of_each(codes)
        times = batch.column(time_column).to_numpy(zero_copy_only=False)
        valid = ~batch.column(NULL_VALUE).to_numpy(zero_copy_only=False)
        if valid.any():
            # the row that brings stream time to its new maximum stays, so stream time ends the same
            keep[np.flatnonzero(valid)[np.argmax(times[valid])]] = True
        return batch.filter(pa.array(keep))

    def _remove(self, key) -> None:
        self.rows.pop(key, None)
        windows = self.windows.get(key[0])
        if windows is not None:
            windows.discard(key[1:])
            if not windows:
                del self.windows[key[0]]

    def load_topic(self, log, start: dict[int, int] | None = None) -> None:
        """Rebuild from the table's topic (every committed record from `start`, by partition,
        in order). Rows applied before a commit that then failed leave with the rest."""
        with self.lock:  # pull queries wait rather than see a half-built view
            self.rows, self.windows, self._expiry = {}, {}, []
            self._stream_time = float("-inf")
            self.positions = dict(start or {})
            self.follow(log, to_end=True)

    def follow(self, log, to_end: bool = False) -> bool:
        """Apply what the table's topic gained since the last call (the first: all of it), so
        the view holds rows that other servers wrote too; False when there was nothing new.
        to_end: all the topic held when this began, however long its reads take to come."""
        info = log.topic(self.table.topic)
        if info is None:
            return False
        progressed = False
        for partition in range(info.partitions):
            offset = self.positions.get(partition, 0)
            reads = read_to_end if to_end else read_available
            for records, offset in reads(log, self.table.topic, partition, offset):
                if records is not None:
                    self._apply_records(records, partition)
                    progressed = True
                # only now: a pull query that waits for this position must find the rows applied
                self.positions[partition] = offset
        return progressed

    def caught_up(self, ends: dict[int, int]) -> bool:
        """Whether follow() has read each partition up to these offsets."""
        return all(self.positions.get(p, 0) >= end for p, end in ends.items())

    def lookup(self, key: tuple) -> list:
        """The rows of one key: every window of it for a windowed table, else at most one row."""
        key = tuple(freeze(k) for k in key)
        with self.lock:
            if self.table.window_type:
                found = [(key,) + window for window in sorted(self.windows.get(key, ()))]
                return [(k, self.rows[k]) for k in found]
            row = self.rows.get((key, None, None))
            return [((key, None, None), row)] if row is not None else []

    def snapshot(self, only_keys: list[tuple] | None = None) -> pa.RecordBatch:
        """The current rows as a batch in the layout of a decoded source batch: the rows of
        the given keys in that order, or every row in the order ksqlDB's store scans give."""
        with self.lock:
            if only_keys is not None:
                items = [item for key in only_keys for item in self.lookup(key)]
            else:
                items = list(self.rows.items())
        schema = self.table.schema
        n = len(items)
        arrays = {
            ROWTIME: pa.array([v[0] for _, v in items], pa.int64()),
            ROWPARTITION: pa.array(np.zeros(n, dtype=np.int32)),
            ROWOFFSET: pa.nulls(n, pa.int64()),
        }
        for i, column in enumerate(schema.key):
            arrays[column.name] = pa.array([thaw(k[0][i]) for k, _ in items], T.to_arrow(column.type))
        for i, column in enumerate(self.value_columns):
            arrays[column.name] = pa.array([v[1][i] for _, v in items], T.to_arrow(column.type))
        if self.table.window_type is not None:
            arrays[WINDOWSTART] = pa.array([k[1] for k, _ in items], pa.int64())
            arrays[WINDOWEND] = pa.array([k[2] for k, _ in items], pa.int64())
        arrays[NULL_VALUE] = pa.array(np.zeros(n, dtype=bool))
        batch = pa.RecordBatch.from_arrays(list(arrays.values()), names=list(arrays))
        return self._in_store_order(batch) if n > 1 and only_keys is None else batch

    def _in_store_order(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Rows in the order a scan of ksqlDB's state stores returns them: partition by
        partition, then by serialized key, then by window start (what users see from ksqlDB)."""
        key_columns = self.table.schema.key
        if not key_columns:
            return batch
        try:
            key_format = make_format(self.table.key_format, key_columns, key=True, options=self.table.key_options())
            keys = key_format.encode([batch.column(c.name) for c in key_columns], batch.num_rows)
        except Exception:  # noqa: BLE001 - a key the format cannot write: keep the rows as they are
            return batch
        partitions = partitions_for(keys, max(self.table.partitions or 1, 1))
        order_columns = {"p": pa.array(partitions, pa.int32()), "k": pa.array(keys, pa.binary())}
        sort_keys = [("p", "ascending"), ("k", "ascending")]
        if self.table.window_type is not None:
            order_columns["w"] = batch.column(WINDOWSTART)
            sort_keys.append(("w", "ascending"))
        order = pc.sort_indices(pa.table(order_columns), sort_keys=sort_keys)
        batch = batch.set_column(batch.schema.get_field_index(ROWPARTITION), ROWPARTITION,
                                 pa.array(partitions, pa.int32()))
        return batch.take(order)


def _last_of_each(codes: np.ndarray) -> np.ndarray:
    """Which rows are the last of their code. (polars hashes the codes: four times as fast as
    the sort numpy needs, for 250,000 rows; numpy where polars may not run.)"""
    polars = native.polars()
    if polars is not None:
        return polars.Series(codes).is_last_distinct().to_numpy().copy()
    _, last_reversed = np.unique(codes[::-1], return_index=True)
    keep = np.zeros(len(codes), bool)
    keep[len(codes) - 1 - last_reversed] = True
    return keep
