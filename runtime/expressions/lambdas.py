"""TRANSFORM, FILTER and REDUCE: functions whose last arguments are lambdas.

A lambda body is evaluated on a "child" batch with one row per array element (or map entry):
the parent row's columns repeated, plus the element as the parameter's column. So the body
runs vectorized over every element of every row at once; REDUCE steps position by position.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner import bound as B
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.runtime.expressions.raised import raise_inner


def lambda_kernel(expr: B.LambdaCall, compile_expr):
    """The evaluate function of a lambda call; compile_expr is the expression compiler
    (compile.py, which calls this), for the collection and the lambdas' bodies."""
    collection = compile_expr(expr.collection).evaluate
    bodies = [(compile_expr(lam.body), lam.params) for lam in expr.lambdas]
    if expr.name == "TRANSFORM":
        return _transform(collection, bodies, T.to_arrow(expr.type))
    if expr.name == "FILTER":
        return _filter(collection, bodies[0], T.to_arrow(expr.type))
    return _reduce(collection, compile_expr(expr.initial).evaluate, bodies[0], T.to_arrow(expr.type))


def _child_batch(batch: pa.RecordBatch, parents: np.ndarray, columns: dict) -> pa.RecordBatch:
    taken = batch.take(pa.array(parents, pa.int64())) if batch.num_columns else None
    arrays = list(taken.columns) if taken is not None else []
    names = list(taken.schema.names) if taken is not None else []
    for name, array in columns.items():
        arrays.append(array)
        names.append(name)
    if not arrays:
        return pa.RecordBatch.from_arrays([pa.array(np.zeros(len(parents)))], names=["__row"])
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _layout(values: pa.Array):
    """(offsets, parent row of each element) of a list or map array."""
    offsets = pc.subtract(values.offsets, values.offsets[0]).to_numpy()
    lengths = np.diff(offsets)
    parents = np.repeat(np.arange(len(values)), lengths)
    return offsets, parents


def _parts(values: pa.Array) -> list[pa.Array]:
    """The flattened elements (arrays) or keys and items (maps) of the rows' collections."""
    start, end = values.offsets[0].as_py(), values.offsets[-1].as_py()
    if pa.types.is_map(values.type):
        return [values.keys.slice(start, end - start), values.items.slice(start, end - start)]
    return [values.values.slice(start, end - start)]


def _rows_of(parents: np.ndarray, element_flags: pa.Array, n: int) -> np.ndarray:
    """Per row: whether any of its elements is flagged."""
    flags = np.asarray(element_flags.to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.zeros(n, dtype=bool)
    rows[parents[flags]] = True
    return rows


def _rows_with_duplicates(parents: np.ndarray, keys: pa.Array, n: int) -> np.ndarray:
    """Per row: whether two of its elements have the same key."""
    rows = np.zeros(n, dtype=bool)
    if len(parents) < 2:
        return rows
    counts = pa.table({"row": pa.array(parents, pa.int64()), "key": keys}) \
        .group_by(["row", "key"]).aggregate([("row", "count")])
    repeated = pc.greater(counts.column("row_count"), 1)
    rows[counts.column("row").filter(repeated).to_numpy()] = True
    return rows


def _body(body, child: pa.RecordBatch, parents: np.ndarray, n: int) -> pa.Array:
    """A lambda's body over its elements: an element whose evaluation throws in ksqlDB
    (raised.py) throws for the whole call, so for its parent row's whole expression."""
    values, raised = body.column_and_raised(child)
    if raised.any():
        rows = np.zeros(n, dtype=np.int8)
        thrown = np.flatnonzero(raised)[::-1]  # (assigned last to first: a row keeps its first element's)
        rows[parents[thrown]] = raised[thrown]
        raise_inner(rows)
    return values


def _null_mask(values: pa.Array, failed: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool) | failed)


def _transform(collection, bodies, arrow_type):
    is_map = pa.types.is_map(arrow_type)

    def evaluate(batch):
        values = broadcast(collection(batch), batch.num_rows)
        offsets, parents = _layout(values)
        parts = _parts(values)
        outputs = []
        for body, fields in bodies:
            child = _child_batch(batch, parents, dict(zip(fields, parts)))
            outputs.append(_body(body, child, parents, len(values)) if body.type is not None
                           else pa.nulls(len(parents)))
        offsets_array = pa.array(offsets, pa.int32())
        if is_map:
            # ksqlDB collects the entries into a Java map, which takes neither a NULL value nor
            # two equal keys: such a row's result is NULL
            failed = _rows_of(parents, outputs[1].is_null(), len(values)) | \
                _rows_with_duplicates(parents, outputs[0], len(values))
            return pa.MapArray.from_arrays(offsets_array, outputs[0].cast(arrow_type.key_type),
                                           outputs[1].cast(arrow_type.item_type), type=arrow_type,
                                           mask=_null_mask(values, failed))
        return pa.ListArray.from_arrays(offsets_array, outputs[0].cast(arrow_type.value_type), type=arrow_type,
                                        mask=values.is_null())

    return evaluate


def _filter(collection, lambda_, arrow_type):
    body, fields = lambda_

    def evaluate(batch):
        values = broadcast(collection(batch), batch.num_rows)
        offsets, parents = _layout(values)
        parts = _parts(values)
        result = _body(body, _child_batch(batch, parents, dict(zip(fields, parts))), parents, len(values))
        # a NULL from the predicate fails the row in ksqlDB (a Boolean unboxed), as does a kept
        # NULL map value (a Java map takes none): the row's result is NULL
        failed = _rows_of(parents, result.is_null(), len(values))
        keep = pc.fill_null(result, False)
        keep_np = keep.to_numpy(zero_copy_only=False).astype(bool)
        if pa.types.is_map(arrow_type):
            failed |= _rows_of(parents, pc.and_(keep, parts[1].is_null()), len(values))
        counts = np.bincount(parents[keep_np], minlength=len(values)) if len(parents) else \
            np.zeros(len(values), dtype=np.int64)
        new_offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
        kept = [p.filter(keep) for p in parts]
        mask = _null_mask(values, failed)
        if pa.types.is_map(arrow_type):
            return pa.MapArray.from_arrays(new_offsets, kept[0], kept[1], type=arrow_type, mask=mask)
        return pa.ListArray.from_arrays(new_offsets, kept[0], type=arrow_type, mask=mask)

    return evaluate


def _reduce(collection, initial, lambda_, state_arrow):
    body, fields = lambda_

    def evaluate(batch):
        n = batch.num_rows
        values = broadcast(collection(batch), n)
        state = broadcast(initial(batch), n, state_arrow).cast(state_arrow)
        offsets, _ = _layout(values)
        parts = _parts(values)
        lengths = np.diff(offsets)
        for position in range(int(lengths.max()) if len(lengths) else 0):
            rows = np.nonzero(lengths > position)[0]
            taken = pa.array(offsets[rows] + position, pa.int64())
            columns = {fields[0]: state.take(pa.array(rows, pa.int64()))}
            for field, part in zip(fields[1:], parts):
                columns[field] = part.take(taken)
            updated = _body(body, _child_batch(batch, rows, columns), rows, batch.num_rows).cast(state_arrow)
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            positions = np.zeros(n, dtype=np.int64)
            positions[rows] = np.arange(len(rows))
            state = pc.if_else(pa.array(mask), updated.take(pa.array(positions)), state)
        return state  # a NULL or empty collection reduces to the initial state

    return evaluate
