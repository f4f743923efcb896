"""TRANSFORM, FILTER and REDUCE: functions whose last arguments are lambdas.

A lambda body is compiled once, like any expression, in a scope where its parameters are
columns. It is evaluated on a "child" batch with one row per array element (or map entry):
the parent row's columns repeated, plus the element as the parameter column. So the body
runs vectorized over every element of every row at once; REDUCE steps position by position.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.parser.errors import KsqlStatementError
from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.casts import cast_to
from ksql.planner.compiled import Compiled, Scope, broadcast

LAMBDA_FUNCTIONS = ("TRANSFORM", "FILTER", "REDUCE")
_counter = [0]


def _bind(scope: Scope, params: tuple[str, ...], param_types: list) -> tuple[Scope, list[str]]:
    """A scope with the lambda's parameters added as columns with unique batch names."""
    child = scope.copy()
    fields = []
    for name, sql_type in zip(params, param_types):
        _counter[0] += 1
        field = f"__lambda_{name}_{_counter[0]}"
        child.add(None, name, field, sql_type)
        fields.append(field)
    return child, fields


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
    """(offsets, parent row of each element, flattened elements) of a list or map array."""
    offsets = pc.subtract(values.offsets, values.offsets[0]).to_numpy()
    lengths = np.diff(offsets)
    parents = np.repeat(np.arange(len(values)), lengths)
    return offsets, parents


def compile_lambda_call(call: ast.FunctionCall, scope: Scope, compile_expression) -> Compiled:
    """TRANSFORM, FILTER or REDUCE with lambda arguments; compile_expression is the expression
    compiler (expressions.py, which calls this), for the arguments and the lambdas' bodies."""
    name = call.name
    args = call.args
    lambdas = [a for a in args if isinstance(a, ast.Lambda)]
    plain = [a for a in args if not isinstance(a, ast.Lambda)]
    if name not in LAMBDA_FUNCTIONS:
        raise KsqlStatementError(f"Lambda expressions are only allowed as arguments of TRANSFORM, FILTER "
                                 f"and REDUCE, not {name}.")
    collection = compile_expression(plain[0], scope)
    kind = collection.type.base if collection.type is not None else None
    if kind not in ("ARRAY", "MAP"):
        raise KsqlStatementError(f"{name} expects an ARRAY or a MAP as its first argument, "
                                 f"not {collection.type}.")
    if name == "TRANSFORM":
        return _transform(collection, lambdas, scope, compile_expression)
    if name == "FILTER":
        return _filter(collection, lambdas, scope, compile_expression)
    return _reduce(collection, compile_expression(plain[1], scope), lambdas, scope, compile_expression)


def _element_params(collection: Compiled):
    if collection.type.base == "ARRAY":
        return [collection.type.params[0]]
    return list(collection.type.params)


def _check_arity(function: str, lam: ast.Lambda, expected: int) -> None:
    if len(lam.params) != expected:
        raise KsqlStatementError(f"{function}: the lambda takes {expected} parameter(s), "
                                 f"got {len(lam.params)}.")


def _transform(collection: Compiled, lambdas, scope: Scope, compile_expression) -> Compiled:
    is_map = collection.type.base == "MAP"
    element_types = _element_params(collection)
    if len(lambdas) != (2 if is_map else 1):
        raise KsqlStatementError("TRANSFORM takes a lambda for arrays, two (keys, values) for maps.")
    bodies = []
    for lam in lambdas:
        _check_arity("TRANSFORM", lam, len(element_types))
        child, fields = _bind(scope, lam.params, element_types)
        bodies.append((compile_expression(lam.body, child), fields))
    if is_map:
        result_type = T.map_of(bodies[0][0].type or T.STRING, bodies[1][0].type or T.STRING)
    else:
        result_type = T.array(bodies[0][0].type or T.STRING)
    arrow_type = T.to_arrow(result_type)

    def evaluate(batch):
        values = broadcast(collection.evaluate(batch), batch.num_rows)
        offsets, parents = _layout(values)
        parts = _parts(values)
        outputs = []
        for body, fields in bodies:
            child = _child_batch(batch, parents, dict(zip(fields, parts)))
            outputs.append(body.column(child) if body.type is not None else pa.nulls(len(parents)))
        offsets_array = pa.array(offsets, pa.int32())
        if is_map:
            return pa.MapArray.from_arrays(offsets_array, outputs[0].cast(arrow_type.key_type),
                                           outputs[1].cast(arrow_type.item_type), type=arrow_type,
                                           mask=values.is_null())
        return pa.ListArray.from_arrays(offsets_array, outputs[0].cast(arrow_type.value_type), type=arrow_type,
                                        mask=values.is_null())

    return Compiled(result_type, evaluate)


def _parts(values: pa.Array) -> list[pa.Array]:
    """The flattened elements (arrays) or keys and items (maps) of the rows' collections."""
    start, end = values.offsets[0].as_py(), values.offsets[-1].as_py()
    if pa.types.is_map(values.type):
        return [values.keys.slice(start, end - start), values.items.slice(start, end - start)]
    return [values.values.slice(start, end - start)]


def _filter(collection: Compiled, lambdas, scope: Scope, compile_expression) -> Compiled:
    element_types = _element_params(collection)
    if len(lambdas) != 1:
        raise KsqlStatementError("FILTER takes one lambda.")
    lam = lambdas[0]
    _check_arity("FILTER", lam, len(element_types))
    child, fields = _bind(scope, lam.params, element_types)
    body = compile_expression(lam.body, child)
    if body.type is not None and body.type.base != "BOOLEAN":
        raise KsqlStatementError("FILTER's lambda must return a BOOLEAN.")
    arrow_type = T.to_arrow(collection.type)

    def evaluate(batch):
        values = broadcast(collection.evaluate(batch), batch.num_rows)
        offsets, parents = _layout(values)
        parts = _parts(values)
        keep = pc.fill_null(body.column(_child_batch(batch, parents, dict(zip(fields, parts)))), False)
        keep_np = keep.to_numpy(zero_copy_only=False).astype(bool)
        counts = np.bincount(parents[keep_np], minlength=len(values)) if len(parents) else \
            np.zeros(len(values), dtype=np.int64)
        new_offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
        kept = [p.filter(keep) for p in parts]
        if pa.types.is_map(arrow_type):
            return pa.MapArray.from_arrays(new_offsets, kept[0], kept[1], type=arrow_type, mask=values.is_null())
        return pa.ListArray.from_arrays(new_offsets, kept[0], type=arrow_type, mask=values.is_null())

    return Compiled(collection.type, evaluate)


def _reduce(collection: Compiled, initial: Compiled, lambdas, scope: Scope, compile_expression) -> Compiled:
    element_types = _element_params(collection)
    if len(lambdas) != 1:
        raise KsqlStatementError("REDUCE takes one lambda.")
    lam = lambdas[0]
    _check_arity("REDUCE", lam, 1 + len(element_types))
    state_type = initial.type or T.STRING
    child, fields = _bind(scope, lam.params, [state_type] + element_types)
    body = compile_expression(lam.body, child)
    if body.type is not None and body.type != state_type:
        if body.type.is_numeric and state_type.is_numeric:
            body = cast_to(body, state_type)
        else:
            raise KsqlStatementError(f"REDUCE's lambda returns {body.type}, but the initial state is {state_type}.")
    state_arrow = T.to_arrow(state_type)

    def evaluate(batch):
        n = batch.num_rows
        values = broadcast(collection.evaluate(batch), n)
        state = broadcast(initial.evaluate(batch), n, state_arrow).cast(state_arrow)
        offsets, _ = _layout(values)
        parts = _parts(values)
        lengths = np.diff(offsets)
        for position in range(int(lengths.max()) if len(lengths) else 0):
            rows = np.nonzero(lengths > position)[0]
            taken = pa.array(offsets[rows] + position, pa.int64())
            columns = {fields[0]: state.take(pa.array(rows, pa.int64()))}
            for field, part in zip(fields[1:], parts):
                columns[field] = part.take(taken)
            child_batch = _child_batch(batch, rows, columns)
            updated = body.column(child_batch).cast(state_arrow)
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            positions = np.zeros(n, dtype=np.int64)
            positions[rows] = np.arange(len(rows))
            state = pc.if_else(pa.array(mask), updated.take(pa.array(positions)), state)
        return state  # a NULL or empty collection reduces to the initial state

    return Compiled(state_type, evaluate)
