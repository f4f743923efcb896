"""The batch path of AggregateOp: COUNT, SUM, AVG, MIN and MAX (of numbers, decimals, strings,
bytes and times), COUNT_DISTINCT, STDDEV_SAMP, STDDEV_SAMPLE, CORRELATION, COLLECT_LIST and
COLLECT_SET (of scalars), HISTOGRAM, TOPK and TOPKDISTINCT (of whole numbers) and the
single-value EARLIEST_BY_OFFSET and LATEST_BY_OFFSET over a stream, plain or in TUMBLING /
HOPPING windows, and COUNT, SUM, AVG, STDDEV_SAMP, STDDEV_SAMPLE and CORRELATION over a table
(each update taking its key's previous row back), computed with numpy over a whole batch.

The result is the one AggregateOp gives row by row (every input row yields its updated
aggregate, in order; late rows are dropped by the same stream-time rules) and the store holds
the same state, so the two paths can take turns. The work per batch is: expand rows into
(row, window) pairs, drop late pairs, number the groups, sort the pairs by group (stably, so
each group keeps row order), then segmented running sums (COUNT, SUM, AVG) and running
extremes (MIN, MAX) on top of each group's stored state. Python runs once per group, to read
and write the store, not once per row.
"""
from __future__ import annotations

import heapq

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.aggregates import AGGREGATES, HISTOGRAM_LIMIT, by_offset_state
from ksql.planner.aggregation import AGG_FIELD, KEY_FIELD
from ksql.planner.plan import NULL_VALUE
from ksql.planner.schema import ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART
from ksql.runtime.operators.aggregate_output import AggregateOutput
from ksql.runtime.state import freeze, row_keys
from ksql.runtime.sorting import stable_argsort

_MOMENTS = {"STDDEV_SAMP", "STDDEV_SAMPLE", "CORRELATION"}  # running sums of values, squares, products
_FUNCTIONS = {"COUNT", "SUM", "AVG", "MIN", "MAX"} | _MOMENTS
_BY_OFFSET = {"EARLIEST_BY_OFFSET", "LATEST_BY_OFFSET"}  # of any type: their results are input values
_TOP_K = {"TOPK", "TOPKDISTINCT"}
_TOP_K_MOST = 64  # a batch's running lists are a (rows x 2k) matrix: a larger k goes row by row
_UNDOABLE = {"COUNT", "SUM", "AVG"} | _MOMENTS  # those a table's updates and deletes can take back
_NUMBERS = {"INTEGER", "BIGINT", "DOUBLE"}
_ORDERED = {"DECIMAL", "STRING", "BYTES", "DATE", "TIME", "TIMESTAMP"}  # MIN / MAX by rank
# COUNT_DISTINCT's values, told apart by Arrow as Python tells them apart (not DOUBLE: NaN)
_DISTINCT = {"INTEGER", "BIGINT", "BOOLEAN"} | _ORDERED


def supported(op) -> bool:
    """Whether this aggregation can take the batch path."""
    node = op.node
    if node.table_source and any(call.function.name not in _UNDOABLE for call in node.calls):
        return False
    if node.window is not None and node.window.kind not in ("TUMBLING", "HOPPING"):
        return False
    if any(k.type is None or k.type.base in ("ARRAY", "MAP", "STRUCT") for k in node.keys):
        return False  # group numbering needs keys Arrow can dictionary-encode
    for call in node.calls:
        name = call.function.name
        if name in _BY_OFFSET and call.function is AGGREGATES.get(name):
            # the single-value forms: (value) or (value, ignoreNulls); the n-forms keep lists
            literals = call.literals
            if len(call.args) != 1 or call.args[0].type is None or len(literals) > 1 or \
                    (literals and type(literals[0]) is not bool):
                return False
            continue
        if name == "COLLECT_LIST" and call.function is AGGREGATES.get(name) and not node.table_source:
            if len(call.args) != 1 or call.args[0].type is None or \
                    call.args[0].type.base not in _DISTINCT | {"DOUBLE"}:
                return False
            continue
        if name in _TOP_K and call.function is AGGREGATES.get(name):
            # TOPK(x, k) of whole numbers; with other columns, or of other types, row by row
            if len(call.args) != 1 or call.args[0].type is None or call.args[0].type.base not in ("INTEGER", "BIGINT") \
                    or len(call.literals) != 1 or type(call.literals[0]) is not int \
                    or not 0 < call.literals[0] <= _TOP_K_MOST:
                return False
            continue
        if name == "HISTOGRAM" and call.function is AGGREGATES.get(name) and not node.table_source:
            if len(call.args) != 1 or call.args[0].type is None or call.args[0].type.base != "STRING":
                return False
            continue
        if name in ("COUNT_DISTINCT", "COLLECT_SET") and call.function is AGGREGATES.get(name):
            if len(call.args) != 1 or call.args[0].type is None or call.args[0].type.base not in _DISTINCT:
                return False
            continue
        if name not in _FUNCTIONS or call.function is not AGGREGATES.get(name) or call.literals:
            return False
        if name == "COUNT":
            if len(call.args) > 1:
                return False
        elif name == "CORRELATION":
            if len(call.args) != 2 or any(a.type is None or a.type.base not in _NUMBERS for a in call.args):
                return False
        elif len(call.args) != 1 or call.args[0].type is None:
            return False
        elif call.args[0].type.base not in (_NUMBERS | _ORDERED if name in ("MIN", "MAX") else _NUMBERS):
            return False
    return True


def process(op, batch: pa.RecordBatch) -> pa.RecordBatch | None:
    """The aggregation's output for a batch, or None when the batch needs the row path (rows
    of several partitions, whose stream times interleave)."""
    if op.node.table_source:
        return table_process(op, batch)
    partitions = batch.column(ROWPARTITION)
    bounds = pc.min_max(partitions)
    if bounds["min"].as_py() != bounds["max"].as_py():
        return None
    node = op.node
    keys = [k.column(batch) for k in op.keys]
    valid = ~batch.column(NULL_VALUE).to_numpy(zero_copy_only=False)
    for key in keys:
        valid &= ~key.is_null().to_numpy(zero_copy_only=False)
    times = batch.column(ROWTIME).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.flatnonzero(valid)
    starts = ends = steps = None
    if op.windowed:
        rows, starts, ends, steps = _windowed_pairs(op, bounds["min"].as_py(), rows, times)
    if len(rows) == 0:
        return _emit_final(op, [], [], [], None, None, steps) if node.emit_final else _empty(op)

    # number the groups: (key columns[, window start])
    codes = np.zeros(len(rows), np.int64)
    for key in keys:
        encoded = pc.dictionary_encode(key.take(pa.array(rows)))
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        codes = codes * (len(encoded.dictionary) + 1) + encoded.indices.to_numpy(zero_copy_only=False)
    if starts is not None:
        # window starts are multiples of the advance (of the size, tumbling): numbered by it,
        # not by sorting them, unless the numbers would not fit beside the key codes
        step = node.window.size if node.window.kind == "TUMBLING" else node.window.advance
        start_codes = (starts - starts.min()) // step
        slots = int(start_codes.max()) + 1
        if (int(codes.max()) + 1) * slots >= 2**62:
            unique_starts, start_codes = np.unique(starts, return_inverse=True)
            slots = len(unique_starts)
        codes = codes * (slots + 1) + start_codes
    # one stable sort numbers the groups (in code order, as np.unique would) and orders the rows
    # by group, each group's rows in arrival order
    order = stable_argsort(codes)
    sorted_codes = codes[order]
    group_starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    group_sizes = np.diff(np.r_[group_starts, len(order)])
    groups = sorted_codes[group_starts]
    first = order[group_starts]  # each group's first row (the stable sort keeps arrival order)
    group_first_row = rows[first]

    # each group's stored state
    group_keys = row_keys([k.take(pa.array(group_first_row)) for k in keys], len(groups))  # (no GROUP BY: ())
    if starts is None:
        store_keys = [("G", key) for key in group_keys]
    else:
        store_keys = [("G", key, start, end) for key, start, end
                      in zip(group_keys, starts[first].tolist(), ends[first].tolist())]
    entries = op.store.get_many(store_keys)

    sorted_rows = rows[order]
    sorted_times = times[sorted_rows]
    lowest = np.iinfo(np.int64).min
    prior_latest = np.array([e[1] if e else lowest for e in entries], np.int64)
    latest = _segmented_max(sorted_times, group_starts, group_sizes, prior_latest)

    results, final_states = [], []
    for index, call in enumerate(node.calls):
        priors = [e[0][index] if e else call.function.init() for e in entries]
        values = op.args[index][0].column(batch).take(pa.array(sorted_rows)) if call.args else None
        if call.function.name == "COUNT_DISTINCT":
            column, states = _count_distinct(values, priors, group_starts, group_sizes)
        elif call.function.name in ("MIN", "MAX") and call.args[0].type.base in _ORDERED:
            column, states = _ranked_extreme(call.function.name == "MAX", values, priors, group_starts, group_sizes)
        elif call.function.name in _BY_OFFSET:
            ignore_nulls = call.literals[0] if call.literals else True
            column, states = _by_offset(call.function.name == "LATEST_BY_OFFSET", ignore_nulls, values, priors,
                                        group_starts, group_sizes)
        elif call.function.name == "COLLECT_LIST":
            column, states = _collect_list(values, priors, group_starts, group_sizes)
        elif call.function.name == "COLLECT_SET":
            column, states = _collect_set(values, priors, group_starts, group_sizes)
        elif call.function.name == "HISTOGRAM":
            column, states = _histogram(values, priors, group_starts, group_sizes)
        elif call.function.name in _TOP_K:
            column, states = _top_k(call.literals[0], call.function.name == "TOPKDISTINCT", values, priors,
                                    group_starts, group_sizes)
        elif call.function.name in _MOMENTS:
            columns = [a.column(batch).take(pa.array(sorted_rows)) for a in op.args[index]]
            column, states = _moments(call.function.name, columns, None, priors, group_starts, group_sizes)
        else:
            column, states = _running(call.function.name, values, priors, group_starts, group_sizes, len(order))
        results.append(column)
        final_states.append(states)

    # the new state of each group: its last pair's
    last = group_starts + group_sizes - 1
    if starts is not None and op._expiry is not None:
        for store_key, entry in zip(store_keys, entries):
            if entry is None:
                heapq.heappush(op._expiry, (store_key[2], store_key))
    per_group = zip(*final_states) if final_states else [()] * len(store_keys)
    op.store.put_many(store_keys, [[list(group_states), group_latest] for group_states, group_latest
                                   in zip(per_group, latest[last].tolist())])
    if node.emit_final:
        return _emit_final(op, store_keys, entries, results, last, latest, steps)
    if op._expiry and op._expiry[0][0] < op._horizon:
        op._purge()

    # back to input order
    inverse = np.empty(len(order), np.int64)
    inverse[order] = np.arange(len(order))
    arrays = [pa.array(latest[inverse], pa.int64()), pa.array(np.zeros(len(order), bool))]
    names = [ROWTIME, NULL_VALUE]
    for i, (key, arrow_type) in enumerate(zip(keys, op.key_types)):
        arrays.append(key.take(pa.array(rows)).cast(arrow_type))
        names.append(KEY_FIELD.format(i))
    for i, (column, arrow_type) in enumerate(zip(results, op.agg_types)):
        column = column.cast(arrow_type) if isinstance(column, pa.Array) else pa.array(column, arrow_type)
        arrays.append(column.take(pa.array(inverse)))
        names.append(AGG_FIELD.format(i))
    if starts is not None:
        arrays += [pa.array(starts, pa.int64()), pa.array(ends, pa.int64())]
        names += [WINDOWSTART, WINDOWEND]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def table_process(op, batch: pa.RecordBatch) -> pa.RecordBatch:
    """A table aggregation's output for a batch: each input row takes its key's previous row
    back from that row's group (emitting the group, unless the row stays in it) and adds itself
    to its new group (emitting it), as AggregateOp._table_row does one row at a time. The
    takebacks and additions become one sequence of signed updates, summed per group as the
    stream path sums its rows."""
    node, n = op.node, batch.num_rows
    keys = [k.column(batch) for k in op.keys]
    keys = [k if isinstance(k, pa.Array) else pa.array([k.as_py()] * n, k.type) for k in keys]
    keys = [k.cast(t) for k, t in zip(keys, op.key_types)]
    args = [[a.column(batch) for a in call_args] for call_args in op.args]
    args = [[a if isinstance(a, pa.Array) else pa.array([a.as_py()] * n, a.type) for a in call_args]
            for call_args in args]
    deleted = batch.column(NULL_VALUE).to_numpy(zero_copy_only=False).copy()
    for key in keys:
        deleted |= key.is_null().to_numpy(zero_copy_only=False)
    times = batch.column(ROWTIME).to_numpy(zero_copy_only=False).astype(np.int64)

    # each row's previous row of its source key: the one before it in the batch, else the store's
    source_codes = _codes([batch.column(name) for name in node.source_key], np.arange(n))
    by_source = stable_argsort(source_codes)
    same = np.r_[False, source_codes[by_source][1:] == source_codes[by_source][:-1]]
    previous = np.full(n, -1, np.int64)
    previous[by_source[same]] = by_source[np.flatnonzero(same) - 1]
    firsts = by_source[~same]  # each source key's first row
    lasts = by_source[np.r_[~same[1:], True]]  # and its last
    source_keys = row_keys([batch.column(name).take(pa.array(firsts)) for name in node.source_key], len(firsts))
    stored = op.store.get_many([("S", key) for key in source_keys])
    had = [i for i, entry in enumerate(stored) if entry is not None]
    # numbering of the rows updates come from: the batch's rows, then the stored previous rows
    prior_at = np.full(n, -1, np.int64)
    prior_at[firsts[had]] = n + np.arange(len(had))
    previous = np.where(previous >= 0, np.where(deleted[np.maximum(previous, 0)], -1, previous), prior_at)
    key_columns = [pa.concat_arrays([k, pa.array([stored[i][0][c] for i in had], k.type)])
                   for c, k in enumerate(keys)]
    arg_columns = [[pa.concat_arrays([a, pa.array([stored[i][1][call][j] for i in had], a.type)])
                    for j, a in enumerate(call_args)] for call, call_args in enumerate(args)]

    # the updates, in order: each row's takeback (if it had a previous row), then its addition
    takes, adds = previous >= 0, ~deleted
    per_row = takes.astype(np.int64) + adds
    first_update = np.cumsum(per_row) - per_row
    count = int(per_row.sum())
    source = np.empty(count, np.int64)
    sign = np.empty(count, np.int64)
    row_of = np.empty(count, np.int64)
    at = first_update[takes]
    source[at], sign[at], row_of[at] = previous[takes], -1, np.flatnonzero(takes)
    at = first_update[adds] + takes[adds]
    source[at], sign[at], row_of[at] = np.flatnonzero(adds), 1, np.flatnonzero(adds)
    if count == 0:
        _table_state(op, lasts, source_keys, deleted, keys, args)
        return _empty(op)
    codes = _codes([k.take(pa.array(source)) for k in key_columns], np.arange(count))
    # a row staying in its group emits only its addition
    stays = np.zeros(count, bool)
    both = takes & adds
    stays[first_update[both]] = codes[first_update[both]] == codes[first_update[both] + 1]
    emitted = ~stays

    order = stable_argsort(codes)
    sorted_codes = codes[order]
    group_starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    group_sizes = np.diff(np.r_[group_starts, count])
    first = order[group_starts]
    group_keys = row_keys([k.take(pa.array(source[first])) for k in key_columns], len(first))
    store_keys = [("G", key) for key in group_keys]
    entries = op.store.get_many(store_keys)
    lowest = np.iinfo(np.int64).min
    latest = _segmented_max(times[row_of[order]], group_starts, group_sizes,
                            np.array([e[1] if e else lowest for e in entries], np.int64))
    results, final_states = [], []
    for index, call in enumerate(node.calls):
        priors = [e[0][index] if e else call.function.init() for e in entries]
        if call.function.name in _MOMENTS:
            columns = [a.take(pa.array(source[order])) for a in arg_columns[index]]
            column, states = _moments(call.function.name, columns, sign[order], priors, group_starts, group_sizes)
        else:
            values = arg_columns[index][0].take(pa.array(source[order])) if call.args else None
            column, states = _running_signed(call.function.name, values, sign[order], priors, group_starts,
                                             group_sizes, count)
        results.append(column)
        final_states.append(states)
    last = group_starts + group_sizes - 1
    per_group = zip(*final_states) if final_states else [()] * len(store_keys)
    op.store.put_many(store_keys, [[list(group_states), group_latest] for group_states, group_latest
                                   in zip(per_group, latest[last].tolist())])
    _table_state(op, lasts, source_keys, deleted, keys, args)

    # the emitted updates, in order
    inverse = np.empty(count, np.int64)
    inverse[order] = np.arange(count)
    shown = pa.array(inverse[emitted])
    arrays = [pa.array(latest, pa.int64()).take(shown), pa.array(np.zeros(len(shown), bool))]
    names = [ROWTIME, NULL_VALUE]
    for i, key in enumerate(key_columns):
        arrays.append(key.take(pa.array(source[emitted])))
        names.append(KEY_FIELD.format(i))
    for i, (column, arrow_type) in enumerate(zip(results, op.agg_types)):
        arrays.append(pa.array(column, arrow_type).take(shown))
        names.append(AGG_FIELD.format(i))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _table_state(op, lasts, source_keys, deleted, keys, args) -> None:
    """Each source key's last row of the batch, kept to be taken back later ("S"), or forgotten
    when it was a delete. `lasts` (each source key's last row) lines up with `source_keys`."""
    rows = lasts
    key_values = [k.take(pa.array(rows)).to_pylist() for k in keys]
    arg_values = [[a.take(pa.array(rows)).to_pylist() for a in call_args] for call_args in args]
    gone = deleted[rows]
    # (built a column at a time by zip: a Python loop over rows costs several times more)
    key_values = [map(freeze, values) if pa.types.is_nested(k.type) else values
                  for k, values in zip(keys, key_values)]
    group_keys = zip(*key_values) if key_values else [()] * len(rows)
    row_args = zip(*[zip(*call) if call else [()] * len(rows) for call in arg_values]) if arg_values \
        else [()] * len(rows)
    values = list(zip(group_keys, row_args))
    kept = np.flatnonzero(~gone).tolist()
    op.store.put_many([("S", source_keys[i]) for i in kept], [values[i] for i in kept])
    for i in np.flatnonzero(gone).tolist():
        op.store.delete(("S", source_keys[i]))


def _codes(columns, rows) -> np.ndarray:
    """A number per row for the values of these columns (equal values, equal numbers)."""
    codes = np.zeros(len(rows), np.int64)
    for column in columns:
        encoded = pc.dictionary_encode(column.take(pa.array(rows)) if len(rows) != len(column) else column)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        indices = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
        codes = codes * (len(encoded.dictionary) + 1) + indices
    return codes


def _running_signed(name, values, signs, priors, group_starts, group_sizes, n):
    """COUNT, SUM or AVG after each signed update (sorted order; -1 takes a value back) and
    each group's final state, as the functions' add and undo give them."""
    last = group_starts + group_sizes - 1
    if name == "COUNT":
        counted = np.ones(n, np.int64) if values is None else \
            (~values.is_null().to_numpy(zero_copy_only=False)).astype(np.int64)
        running = _segmented_sum(counted * signs, group_starts, group_sizes, priors)
        return running, [int(v) for v in running[last]]
    present = ~values.is_null().to_numpy(zero_copy_only=False)
    numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    signed = numbers * signs.astype(numbers.dtype) if numbers.dtype.kind == "f" else numbers * signs
    if name == "SUM":
        # NULL until a value is added (taking one back leaves 0, not NULL)
        seen = _segmented_sum((present & (signs > 0)).astype(np.int64), group_starts, group_sizes,
                              [0 if p is None else 1 for p in priors])
        sums = _segmented_sum(signed, group_starts, group_sizes, [0 if p is None else p for p in priors])
        return sums, [None if seen[i] == 0 else _plain(sums[i]) for i in last]
    counts = _segmented_sum(present.astype(np.int64) * signs, group_starts, group_sizes, [p[1] for p in priors])
    sums = _segmented_sum(signed.astype(np.float64) if numbers.dtype.kind == "f" else signed, group_starts,
                          group_sizes, [p[0] for p in priors])
    with np.errstate(invalid="ignore", divide="ignore"):
        averages = np.where(counts > 0, sums.astype(np.float64) / np.maximum(counts, 1), np.nan)
    return pa.array(averages, pa.float64(), mask=counts == 0), [(_plain(sums[i]), int(counts[i])) for i in last]


def _collect_list(values, priors, group_starts, group_sizes):
    """COLLECT_LIST after each pair (sorted order) and each group's final state: a pair's list
    is its group's stored list, then the group's values of the batch up to and including its
    own."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    stored_sizes = np.array([len(p) for p in priors], np.int64)
    stored = pa.array([v for p in priors for v in p], values.type)
    group = np.repeat(np.arange(len(group_starts)), group_sizes)
    within = np.arange(n) - group_starts[group]  # each pair's place in its group
    stored_starts = n + np.cumsum(stored_sizes) - stored_sizes  # where each group's list begins
    return _lists(pa.concat_arrays([values, stored]), np.arange(n + len(stored)), stored_starts[group],
                  stored_sizes[group], group_starts[group], within + 1, group_starts + group_sizes - 1)


def _collect_set(values, priors, group_starts, group_sizes):
    """COLLECT_SET after each pair (sorted order) and each group's final state: a pair's list
    is its group's stored list, then the values of the group's batch rows up to its own that
    came first (NULL counts as a value, as in ksqlDB). Values are told apart by their codes in
    one dictionary of the batch's and the stored values."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n, groups = len(values), len(group_starts)
    stored_sizes = np.array([len(p) for p in priors], np.int64)
    stored = pa.array([v for p in priors for v in p], values.type)
    items = pa.concat_arrays([values, stored])
    encoded = pc.dictionary_encode(items, null_encoding="encode")
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    width = len(encoded.dictionary)
    group = np.repeat(np.arange(groups), group_sizes)
    pairs = group * width + codes[:n]
    stored_pairs = np.repeat(np.arange(groups), stored_sizes) * width + codes[n:]
    new = np.zeros(n, bool)
    new[np.unique(pairs, return_index=True)[1]] = True  # each group's first row of a value
    new &= ~np.isin(pairs, stored_pairs)
    new_rows = np.flatnonzero(new)  # in group order, as the pairs are
    counted = np.cumsum(new)
    before = counted[group_starts] - new[group_starts]  # new rows of the groups before each
    stored_starts = len(new_rows) + np.cumsum(stored_sizes) - stored_sizes
    pool = np.r_[new_rows, n + np.arange(len(stored))]  # positions in the values, then the stored
    return _lists(items, pool, stored_starts[group], stored_sizes[group],
                  before[group], counted - before[group], group_starts + group_sizes - 1)


def _histogram(values, priors, group_starts, group_sizes):
    """HISTOGRAM after each pair (sorted order) and each group's final state (a dict in order
    of first arrival, as the row path keeps it). A pair's map has its group's stored entries,
    then the values of the group's batch rows up to its own that came first, while the group
    holds fewer than HISTOGRAM_LIMIT values (a value refused once stays refused: a stream's
    state never shrinks). Each entry's count is its stored count plus its rows up to the pair,
    found by binary search among the counted rows' (value, position) numbers."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n, groups = len(values), len(group_starts)
    stored_sizes = np.array([len(p) for p in priors], np.int64)
    stored_counts = np.array([c for p in priors for c in p.values()], np.int64)
    items = pa.concat_arrays([values, pa.array([v for p in priors for v in p], values.type)])
    encoded = pc.dictionary_encode(items)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    width = len(encoded.dictionary)
    group = np.repeat(np.arange(groups), group_sizes)
    present = codes[:n] >= 0  # NULL adds nothing
    pairs = group * width + codes[:n]
    stored_pairs = np.repeat(np.arange(groups), stored_sizes) * width + codes[n:]
    rows = np.flatnonzero(present)
    new = np.zeros(n, bool)
    new[rows[np.unique(pairs[rows], return_index=True)[1]]] = True
    new &= ~np.isin(pairs, stored_pairs)
    counted = np.cumsum(new)
    before = counted[group_starts] - new[group_starts]
    new &= stored_sizes[group] + counted - before[group] <= HISTOGRAM_LIMIT
    counted = np.cumsum(new)
    before = counted[group_starts] - new[group_starts]
    new_rows = np.flatnonzero(new)
    # the values kept, numbered densely, and the rows that count one of them
    kept = np.unique(np.r_[stored_pairs, pairs[new_rows]])
    number = np.searchsorted(kept, pairs)
    if len(kept):
        present &= kept[np.minimum(number, len(kept) - 1)] == pairs
    position = np.flatnonzero(present)
    occurrences = number[position] * (n + 1) + position  # sorted: numbers, then positions
    occurrences.sort()
    # each pair's entries: the stored ones, then its group's new values up to it
    pool = np.r_[new_rows, n + np.arange(len(stored_counts))]
    pool_number = np.r_[number[new_rows], np.searchsorted(kept, stored_pairs)]
    pool_counts = np.r_[np.zeros(len(new_rows), np.int64), stored_counts]
    stored_starts = len(new_rows) + np.cumsum(stored_sizes) - stored_sizes
    index, offsets = _ranges(stored_starts[group], stored_sizes[group], before[group], counted - before[group])
    owner = np.repeat(np.arange(n), np.diff(offsets))
    entry = pool_number[index] * (n + 1)
    counts = pool_counts[index] + np.searchsorted(occurrences, entry + owner, side="right") - \
        np.searchsorted(occurrences, entry, side="left")
    column = pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), items.take(pa.array(pool[index], pa.int64())),
                                     pa.array(counts, pa.int64()))
    states = [dict(entries) for entries in column.take(pa.array(group_starts + group_sizes - 1)).to_pylist()]
    return column, states


def _top_k(k: int, distinct: bool, values, priors, group_starts, group_sizes):
    """TOPK / TOPKDISTINCT of whole numbers after each pair (sorted order) and each group's
    final state. Values become dense ranks (0: no value), each pair starts as a row of k + 1
    ranks (its own value, and at a group's first pair the stored list) cut to its k largest,
    and a segmented prefix scan merges each row with the one `step` before it in its group
    (step 1, 2, 4, ...): taking the k largest of two lists is associative, so after the last
    step each row holds the k largest of its group's values up to it."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    present = values.is_valid().to_numpy(zero_copy_only=False)
    numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    stored = np.array([v for p in priors for v in p], np.int64)
    distinct_values, ranks = np.unique(np.r_[numbers, stored], return_inverse=True)
    ranks = ranks.reshape(-1) + 1
    rows = np.zeros((n, k + 1), np.int64)
    rows[:, 0] = np.where(present, ranks[:n], 0)
    stored_sizes = np.array([len(p) for p in priors], np.int64)
    if len(stored):
        owner = np.repeat(group_starts, stored_sizes)  # the group's first pair
        slot = np.arange(len(stored)) - np.repeat(np.cumsum(stored_sizes) - stored_sizes, stored_sizes)
        rows[owner, 1 + slot] = ranks[n:]
    tops = _largest(rows, k, distinct)
    group_start = np.repeat(group_starts, group_sizes)
    position = np.arange(n)
    step = 1
    while step < int(group_sizes.max()):
        later = np.flatnonzero(position - step >= group_start)
        merged = _largest(np.concatenate([tops[later], tops[later - step]], axis=1), k, distinct)
        tops = tops.copy()
        tops[later] = merged
        step *= 2
    kept = tops > 0
    items = pa.array(distinct_values[tops[kept] - 1], values.type)
    offsets = np.r_[0, np.cumsum(kept.sum(axis=1))].astype(np.int32)
    column = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), items)
    return column, column.take(pa.array(group_starts + group_sizes - 1)).to_pylist()


def _largest(rows, k: int, distinct: bool) -> np.ndarray:
    """Each row's k largest ranks, largest first (0, no value, last); a rank once if distinct."""
    ordered = -np.sort(-rows, axis=1)
    if distinct:
        repeated = np.zeros(ordered.shape, bool)
        repeated[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
        ordered = -np.sort(-np.where(repeated, 0, ordered), axis=1)
    return ordered[:, :k]


def _ranges(first_starts, first_lengths, second_starts, second_lengths):
    """The positions of each pair's two ranges (first, then second), concatenated, and where
    each pair's begin in them (one more offset than pairs)."""
    starts = np.column_stack([first_starts, second_starts]).ravel()
    lengths = np.column_stack([first_lengths, second_lengths]).ravel()
    total = int(lengths.sum())
    index = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
    return index, np.r_[0, np.cumsum(first_lengths + second_lengths)].astype(np.int64)


def _lists(items, pool, first_starts, first_lengths, second_starts, second_lengths, last):
    """One list per pair and the lists at `last` as Python values: a pair's list is items at
    pool[first range], then at pool[second range]. Every list is gathered at once by one index
    array of the concatenated ranges."""
    index, offsets = _ranges(first_starts, first_lengths, second_starts, second_lengths)
    gathered = items.take(pa.array(pool[index], pa.int64()))
    column = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), gathered).cast(pa.list_(items.type))
    return column, column.take(pa.array(last)).to_pylist()


def _moments(name, columns, signs, priors, group_starts, group_sizes):
    """STDDEV_SAMP, STDDEV_SAMPLE or CORRELATION after each pair (sorted order; a sign of -1
    takes a row back) and each group's final state: running counts and running float sums of
    the values, their squares and (CORRELATION) their products, added in row order as the row
    path adds them, then its result formula over the arrays. A row with a NULL argument adds
    nothing."""
    n = len(columns[0])
    present = np.ones(n, bool)
    for column in columns:
        present &= column.is_valid().to_numpy(zero_copy_only=False)
    xs = [np.where(present, pc.fill_null(c, 0).to_numpy(zero_copy_only=False).astype(np.float64), 0.0)
          for c in columns]
    if name == "CORRELATION":
        x, y = xs
        terms = [x, y, x * x, y * y, x * y]
    else:
        terms = [xs[0], xs[0] * xs[0]]
    counted = present.astype(np.int64)
    if signs is not None:
        counted = counted * signs
        terms = [t * signs.astype(np.float64) for t in terms]
    counts = _segmented_sum(counted, group_starts, group_sizes, [p[0] for p in priors])
    sums = [_segmented_sum(t, group_starts, group_sizes, [p[i + 1] for p in priors]) for i, t in enumerate(terms)]
    last = group_starts + group_sizes - 1
    states = list(zip(counts[last].tolist(), *(s[last].tolist() for s in sums)))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if name == "CORRELATION":  # as _corr_result: NaN below two rows or without spread
            sx, sy, sxx, syy, sxy = sums
            cov = sxy - sx * sy / counts
            vx, vy = sxx - sx * sx / counts, syy - sy * sy / counts
            result = cov / np.sqrt(vx * vy)
            result[(counts < 2) | (vx <= 0) | (vy <= 0)] = np.nan
            return result, states
        total, squares = sums
        variance = (squares - total * total / counts) / (counts - 1)
        if name == "STDDEV_SAMPLE":
            variance = np.sqrt(np.where(variance < 0, 0.0, variance))
        variance[counts == 1] = 0.0
    return pa.array(variance, pa.float64(), mask=counts == 0), states


def _emit_final(op, store_keys, entries, results, last, latest, steps) -> pa.RecordBatch:
    """EMIT FINAL: each group's results after the batch wait for its window to close (stored
    under "F", as the row path keeps them); the windows that close during the batch are emitted,
    by close time, start and key, as the row path emits them. The row path drops a window past
    its retention before emitting what closed at that row, so a window closed at the row where
    it also passed retention is dropped, not emitted (as ksqlDB does)."""
    stream, horizon = steps
    if store_keys:
        final_keys = [("F",) + key[1:] for key in store_keys]
        waiting = op.store.get_many(final_keys)
        columns = [_values_at(column, last) for column in results]
        for final_key, had in zip(final_keys, waiting):
            if had is None:
                heapq.heappush(op._pending, (final_key[3] + op.grace, final_key[2], final_key))
        op.store.put_many(final_keys, [(list(values), group_latest) for values, group_latest
                                       in zip(zip(*columns) if columns else [()] * len(final_keys),
                                              latest[last].tolist())])
    out = AggregateOutput(len(op.node.keys), len(op.node.calls), True)
    pending = op._pending
    while len(stream) and pending and pending[0][0] <= stream[-1]:
        close, start, final_key = heapq.heappop(pending)
        entry = op.store.get(final_key)
        if entry is None:
            continue
        closed_at = int(np.searchsorted(stream, close))  # the row whose stream time closed it
        if start < horizon[closed_at]:
            continue  # dropped at that row, with its window (the purge below deletes it)
        op.store.delete(final_key)
        out.add(final_key[1], entry[0], entry[1], (final_key[2], final_key[3]))
    if op._expiry and op._expiry[0][0] < op._horizon:
        op._purge()
    return out.batch(op)


def _values_at(column, index) -> list:
    """A result column's values at these positions, as the Python values the row path keeps."""
    if isinstance(column, pa.Array):
        return column.take(pa.array(index)).to_pylist()
    if isinstance(column, np.ndarray):
        return column[index].tolist()
    return [column[i] for i in index]


def _windowed_pairs(op, partition, rows, times):
    """(row, window start, window end) of every window each valid row falls in and that is not
    closed, in row order then window order; counts the rows with no such window as late. Also
    (stream time, retention horizon) as each valid row left them, for EMIT FINAL."""
    window = op.node.window
    ts = times[rows]
    previous = op.store.get(("T", partition))
    stream = np.maximum.accumulate(ts) if len(ts) else ts
    if previous is not None and len(ts):
        stream = np.maximum(stream, previous)
    if len(ts):
        final = int(stream[-1])
        if final != previous:
            op.store.put(("T", partition), final)
            op._note_stream_time(partition, final)
    others = [t for p, t in op._partition_times().items() if p != partition]
    if op.retention is None:
        horizon = np.full(len(ts), -np.inf)
    else:
        horizon = np.minimum(stream, min(others)) if others else stream
        horizon = horizon - op.retention
    if window.kind == "TUMBLING":
        starts = (ts - ts % window.size)[:, None]
    else:
        advance = window.advance
        first = np.maximum(0, ts - window.size + advance) // advance * advance
        starts = first[:, None] + advance * np.arange(-(-window.size // advance))[None, :]
    ends = starts + window.size
    keep = (starts <= ts[:, None]) & (ends + op.grace > stream[:, None]) & (starts >= horizon[:, None])
    op.late += int(np.count_nonzero(~keep.any(axis=1)))
    pair_rows = np.broadcast_to(rows[:, None], keep.shape)[keep]
    return pair_rows, starts[keep], ends[keep], (stream, horizon)


def _segmented_max(values, group_starts, group_sizes, priors):
    """Running maxima of int64 values within each group (contiguous), each at least its prior:
    group g's values are lifted by g * span so that one accumulate never carries a maximum
    from one group into the next."""
    group = np.repeat(np.arange(len(group_starts)), group_sizes)
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span * (len(group_starts) + 1) < 2 ** 62:
        lift = group.astype(np.int64) * span
        running = np.maximum.accumulate(values - low + lift) - lift + low
    else:  # too wide to lift: group by group
        running = np.empty_like(values)
        for start, size in zip(group_starts, group_sizes):
            running[start:start + size] = np.maximum.accumulate(values[start:start + size])
    return np.maximum(running, np.asarray(priors, np.int64)[group])


def _segmented_sum(values, group_starts, group_sizes, priors):
    """Running sums within each group (contiguous), each starting from its prior: one cumsum
    for integers; group by group for floats, adding in row order as the row path does (the
    cumsum trick would round differently)."""
    if values.dtype.kind == "f":
        return _sequential_sums(values, group_starts, group_sizes, priors)
    group = np.repeat(np.arange(len(group_starts)), group_sizes)
    total = np.cumsum(values)
    before = (total[group_starts] - values[group_starts])[group]
    return total - before + np.asarray(priors, dtype=values.dtype)[group]


def _sequential_sums(values, group_starts, group_sizes, priors):
    """Running float sums within each group, adding one value at a time in row order (as the
    row path does; np.cumsum over all groups would round differently). The groups of up to a
    few times the mean size become the rows of one matrix, prior first, summed along its rows
    by one np.add.accumulate (which adds sequentially); each larger group is summed alone, so
    the matrix stays within a few times the input's size."""
    n, groups = len(values), len(group_starts)
    out = np.empty(n, np.float64)
    priors = np.asarray(priors, np.float64)
    small = group_sizes <= max(16, 4 * n // max(groups, 1))
    for g in np.flatnonzero(~small).tolist():
        start, size = group_starts[g], group_sizes[g]
        out[start:start + size] = np.add.accumulate(np.r_[priors[g], values[start:start + size]])[1:]
    if small.any():
        rows = np.flatnonzero(small)
        sizes = group_sizes[rows]
        matrix = np.zeros((len(rows), int(sizes.max()) + 1), np.float64)
        matrix[:, 0] = priors[rows]
        row_of = np.repeat(np.arange(len(rows)), sizes)
        at = np.arange(len(row_of)) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # index within its group
        positions = np.repeat(group_starts[rows], sizes) + at
        matrix[row_of, at + 1] = values[positions]
        np.add.accumulate(matrix, axis=1, out=matrix)
        out[positions] = matrix[row_of, at + 1]
    return out


def _running(name, values, priors, group_starts, group_sizes, n):
    """One aggregate's result after each pair (sorted order) and each group's final state."""
    last = group_starts + group_sizes - 1
    if name == "COUNT":
        counted = np.ones(n, np.int64) if values is None else \
            ~values.is_null().to_numpy(zero_copy_only=False)
        running = _segmented_sum(counted.astype(np.int64), group_starts, group_sizes, priors)
        return running, [int(v) for v in running[last]]
    present = ~values.is_null().to_numpy(zero_copy_only=False)
    is_float = pa.types.is_floating(values.type)
    numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    if name in ("SUM", "AVG"):
        if name == "SUM":
            seen = _segmented_sum(present.astype(np.int64), group_starts, group_sizes,
                                  [0 if p is None else 1 for p in priors])
            sums = _segmented_sum(numbers, group_starts, group_sizes, [0 if p is None else p for p in priors])
            states = [None if seen[i] == 0 else _plain(sums[i]) for i in last]
            return sums, states  # SUM's result: 0 while nothing was added
        counts = _segmented_sum(present.astype(np.int64), group_starts, group_sizes, [p[1] for p in priors])
        sums = _segmented_sum(numbers.astype(np.float64) if is_float else numbers, group_starts, group_sizes,
                              [p[0] for p in priors])
        with np.errstate(invalid="ignore", divide="ignore"):
            averages = np.where(counts > 0, sums.astype(np.float64) / np.maximum(counts, 1), np.nan)
        result = pa.array(averages, pa.float64(), mask=counts == 0)
        # a group that has had no value keeps its state as it was (the row path adds nothing)
        return result, [priors[g] if counts[i] == 0 else (_plain(sums[i]), int(counts[i])) for g, i in enumerate(last)]
    # MIN / MAX skip NULLs and NaNs; a group with none so far is NULL
    usable = present & ~np.isnan(numbers) if is_float else present
    if not is_float:
        seen = _segmented_sum(usable.astype(np.int64), group_starts, group_sizes,
                              [0 if p is None else 1 for p in priors])
        sign = 1 if name == "MAX" else -1  # MIN is the MAX of the negated values
        signed = sign * numbers.astype(np.int64)
        lowest = np.iinfo(np.int64).min + 1
        # what a skipped row counts as: no more than any value or prior state, so it never wins
        # (the lowest of them, not the type's minimum, keeps the values' span narrow)
        candidates = [int(signed[usable].min())] if usable.any() else []
        candidates += [sign * p for p in priors if p is not None]
        floor = min(candidates) if candidates else lowest
        signed = np.where(usable, signed, floor)
        running = sign * _segmented_max(signed, group_starts, group_sizes,
                                        [lowest if p is None else sign * p for p in priors])
        result = pa.array(running, pa.int64(), mask=seen == 0)
        return result, [None if seen[i] == 0 else int(running[i]) for i in last]
    pick = np.minimum if name == "MIN" else np.maximum
    out = [None] * n
    states = []
    for g, (start, size) in enumerate(zip(group_starts, group_sizes)):
        state = priors[g]
        for i in range(start, start + size):
            if usable[i]:
                value = numbers[i]
                state = value if state is None else pick(state, value)
            out[i] = None if state is None else _plain(state)
        states.append(None if state is None else _plain(state))
    return out, states


def _count_distinct(values, priors, group_starts, group_sizes):
    """COUNT_DISTINCT after each pair (sorted order) and each group's final state, a dict of
    each value to how often it came (in order of first arrival, as the row path adds them):
    a pair counts when its value is new to its group, in the batch and in the stored state.
    Python runs once per distinct value of a group, not once per row."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n, groups = len(values), len(group_starts)
    group = np.repeat(np.arange(groups), group_sizes)
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    present = np.flatnonzero(codes >= 0)
    pairs = group[present] * len(distinct) + codes[present]
    unique, first, counts = np.unique(pairs, return_index=True, return_counts=True)
    arrival = np.argsort(first, kind="stable")  # each group's values in the order they first came
    first_at = present[first[arrival]]
    states = [dict(p) for p in priors]
    new = np.zeros(n, np.int64)
    for position, pair, count in zip(first_at.tolist(), unique[arrival].tolist(), counts[arrival].tolist()):
        state = states[pair // len(distinct)]
        value = distinct[pair % len(distinct)]
        if value not in state:
            new[position] = 1
        state[value] = state.get(value, 0) + count
    running = _segmented_sum(new, group_starts, group_sizes, [len(p) for p in priors])
    return running, states


def _ranked_extreme(largest: bool, values, priors, group_starts, group_sizes):
    """MIN / MAX of values numpy cannot order (decimals, strings, bytes, times) after each pair
    (sorted order) and each group's final state: each value and stored state is numbered by its
    rank, the running extreme is taken over the numbers, and the values are picked by index."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n, groups = len(values), len(group_starts)
    candidates = pa.concat_arrays([values, pa.array(priors, values.type)])  # then each group's stored state
    usable = candidates.is_valid().to_numpy(zero_copy_only=False)
    ranks = pc.rank(candidates, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.int64)
    span = n + groups
    # one number per candidate: its rank (negated for MIN) first, its index after
    numbered = (ranks if largest else -ranks) * span + np.arange(span)
    floor = int(numbered[usable].min()) - 1 if usable.any() else 0  # what an unusable value counts as
    numbered = np.where(usable, numbered, floor)
    running = _segmented_max(numbered[:n], group_starts, group_sizes, numbered[n:])
    seen = running > floor
    chosen = np.where(seen, running % span, 0)
    column = candidates.take(pa.array(chosen, pa.int64(), mask=~seen))
    last = group_starts + group_sizes - 1
    states = column.take(pa.array(last)).to_pylist()
    return column, states


def _by_offset(latest: bool, ignore_nulls: bool, values, priors, group_starts, group_sizes):
    """EARLIEST_BY_OFFSET / LATEST_BY_OFFSET (single value) after each pair (sorted order) and
    each group's final state. Each result is a value of the batch or the group's stored one: an
    index into the values followed by each group's stored value, gathered at once."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n, groups = len(values), len(group_starts)
    position = np.arange(n)
    group = np.repeat(np.arange(groups), group_sizes)
    usable = values.is_valid().to_numpy(zero_copy_only=False) if ignore_nulls else np.ones(n, bool)
    kept = np.array([bool(p and p[0]) for p in priors], bool)  # the group keeps a value already
    stored = pa.array([p[0][0] if p and p[0] else None for p in priors], values.type)
    if latest:  # the group's last usable row so far, else its stored value
        found = np.maximum.accumulate(np.where(usable, position, -1))
        found = np.where(found >= group_starts[group], found, -1)
        chosen = np.where(found >= 0, found, n + group)
        missing = (found < 0) & ~kept[group]
    else:  # the stored value, else the group's first usable row once it has come
        first = np.minimum.reduceat(np.where(usable, position, n), group_starts) if n else np.zeros(0, np.int64)
        found = np.where(position >= first[group], first[group], -1)
        chosen = np.where(kept[group], n + group, found)
        missing = ~kept[group] & (found < 0)
    column = pa.concat_arrays([values, stored]).take(pa.array(chosen, pa.int64(), mask=missing))
    last = group_starts + group_sizes - 1
    decided = ~missing[last] & (chosen[last] < n)  # groups whose state now keeps a value of this batch
    picked = iter(values.take(pa.array(chosen[last][decided])).to_pylist())
    states = [by_offset_state(next(picked)) if decided[g] else (priors[g] or ([], None, []))
              for g in range(groups)]
    return column, states


def _plain(value):
    """A numpy scalar as the Python number the row path keeps."""
    return value.item() if hasattr(value, "item") else value


def _empty(op) -> pa.RecordBatch:
    return AggregateOutput(len(op.node.keys), len(op.node.calls), op.windowed).batch(op)
