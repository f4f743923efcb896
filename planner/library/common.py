"""What every family of the function library uses: signatures and registration (sig, overloads, fn),
and the batch-kernel protocol (constant, VARIES, with_fallback) with DuckDB over a batch.

A kernel takes (argument arrays or scalars, batch length) and returns the result array; or
(result, redo), a mask of the unusual rows the function's row-level definition recomputes; or
None when the arguments are outside what it handles, and the row-level definition computes the
whole batch. `with_fallback` turns a kernel and a row-level definition into an evaluate."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.functions import BadArguments, per_row, register
from ksql.planner.types import SqlType
import threading


ANY, NUM, ARRAY, MAP, STRUCT = "ANY", "NUM", "ARRAY", "MAP", "STRUCT"
_ORDER = ["INTEGER", "BIGINT", "DECIMAL", "DOUBLE"]


def _fits(t: SqlType | None, p) -> bool:
    if t is None or p == ANY:
        return True
    if p == NUM:
        return t.is_numeric
    if p in (ARRAY, MAP, STRUCT):
        return t.base == p
    if t == p:
        return True
    if t.is_numeric and p.is_numeric:
        if p.base == "DECIMAL" and t.base == "DECIMAL":
            return True
        return _ORDER.index(t.base) <= _ORDER.index(p.base)
    return False


def sig(*params, ret, variadic: bool = False):
    """One signature. `ret` is a type or a function of the argument types; with variadic,
    the last parameter repeats (zero or more times)."""
    return params, ret, variadic


def overloads(*signatures):
    def resolve(types):
        for params, ret, variadic in signatures:
            if variadic:
                if len(types) < len(params) - 1:
                    continue
                expanded = list(params[:-1]) + [params[-1]] * (len(types) - len(params) + 1)
            else:
                if len(types) != len(params):
                    continue
                expanded = list(params)
            if all(_fits(t, p) for t, p in zip(types, expanded)):
                wanted = [p if isinstance(p, SqlType) else None for p in expanded]
                result = ret(types) if callable(ret) else ret
                return result, wanted
        raise BadArguments()
    return resolve


def first_type(types):
    known = next((t for t in types if t is not None), None)
    return known or T.STRING


def element_type(types):
    t = types[0]
    return t.params[0] if t is not None and t.base == "ARRAY" else T.STRING


def arrays_type(types):
    for t in types:
        if t is not None:
            return t
    return T.array(T.STRING)


def fn(name, category, description, resolve, evaluate, *signatures):
    register(name, category, description, resolve, evaluate, signatures)


S, I, L, D, B, BY = T.STRING, T.INTEGER, T.BIGINT, T.DOUBLE, T.BOOLEAN, T.BYTES


VARIES = object()  # an argument that is not one constant for the whole batch


def constant(value):
    """The Python value of a constant argument, or VARIES."""
    return value.as_py() if isinstance(value, pa.Scalar) else VARIES


def with_fallback(kernel, reference, null_on_null: bool = True):
    """An evaluate function: the kernel over the batch; the row-level reference for the rows
    (or batches) the kernel leaves to it."""
    slow = per_row(reference, null_on_null)

    def evaluate(values, n):
        try:
            out = kernel(values, n)
        except (pa.ArrowException, _DuckError):
            out = None  # a pattern RE2 rejects, a path DuckDB rejects: Python's rules decide
        if out is None:
            return slow(values, n)
        if not isinstance(out, tuple):
            return out
        result, redo = out
        redo = pc.fill_null(redo, False)
        if not pc.any(redo).as_py():
            return result
        picked = pc.indices_nonzero(redo)
        subset = [v if isinstance(v, pa.Scalar) else v.take(picked) for v in values]
        again = pa.array(slow(subset, len(picked)), result.type)
        # rows from the kernel's result, except the redone ones from `again` (any type, nested too)
        positions = np.arange(n)
        positions[picked.to_numpy()] = n + np.arange(len(picked))
        return pa.concat_arrays([broadcast(result, n), again]).take(pa.array(positions))
    evaluate.reference = slow  # the row form, which tests hold the kernel to
    return evaluate


def _nulls(n, arrow_type=pa.string()):
    return pa.nulls(n, arrow_type)


# ---------------------------------------------------------------- DuckDB over a batch

_local = threading.local()


class _DuckError(Exception):
    pass


def duck(expression: str, values: list, n: int, arrow_type):
    """Evaluate one DuckDB expression over the arguments (named a1, a2, ...) of a batch."""
    return duck_many([(expression, arrow_type)], values, n)[0]


def duck_many(expressions: list, values: list, n: int) -> list:
    """Evaluate DuckDB expressions [(sql, arrow type)] over one batch in one query."""
    import duckdb

    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
    table = pa.table({f"a{i + 1}": broadcast(v, n) for i, v in enumerate(values)})
    select = ", ".join(f"{sql} AS r{i}" for i, (sql, _) in enumerate(expressions))
    try:
        con.register("batch", table)
        result = con.sql(f"SELECT {select} FROM batch").to_arrow_table()
    except duckdb.Error as error:
        raise _DuckError(str(error)) from error
    finally:
        con.unregister("batch")
    return [pc.cast(result.column(i).combine_chunks(), arrow_type) for i, (_, arrow_type) in enumerate(expressions)]


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def md5(values, n):
    return duck("md5(a1)", values, n, pa.string())


def rebuild_lists(lists, counts, values):
    """A list array with `counts` elements per row taken in order from `values`; NULL where
    `lists` is NULL."""
    offsets = np.zeros(len(lists) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=lists.is_null())


def list_elements(lists):
    """(row index of each element, the elements) of a list array."""
    return pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), pc.list_flatten(lists)


def count_by_row(parents, n):
    return np.bincount(parents, minlength=n) if len(parents) else np.zeros(n, np.int64)
