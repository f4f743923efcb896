"""The scalar function library: each function resolves its return type from its argument
types once, at plan time, and evaluates a whole batch with Arrow kernels."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from ksql.errors import KsqlStatementError
from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.expressions import Compiled, broadcast, cast_to
from ksql.planner.types import SqlType


@dataclass(frozen=True)
class ScalarFunction:
    name: str
    category: str
    description: str
    # (argument types) -> (return type, argument types to cast to)
    resolve: Callable[[list[SqlType | None]], tuple[SqlType, list[SqlType | None]]]
    # (argument arrays, batch length) -> result array
    evaluate: Callable[[list, int], pa.Array]


FUNCTIONS: dict[str, ScalarFunction] = {}


def register(name: str, category: str, description: str, resolve, evaluate) -> None:
    FUNCTIONS[name] = ScalarFunction(name, category, description, resolve, evaluate)


def compile_call(call: ast.FunctionCall, args: list[Compiled]) -> Compiled:
    function = FUNCTIONS.get(call.name)
    if function is None:
        raise KsqlStatementError(f"Can't find any functions with the name '{call.name}'")
    arg_types = [a.type for a in args]
    try:
        return_type, wanted = function.resolve(arg_types)
    except _BadArguments:
        shown = ", ".join(str(t) if t else "null" for t in arg_types)
        raise KsqlStatementError(
            f"Function '{call.name}' does not accept parameters ({shown}).") from None
    args = [cast_to(a, w) if w is not None and a.type != w else a for a, w in zip(args, wanted)]
    evaluate = function.evaluate
    arrow_type = T.to_arrow(return_type)

    def run(batch):
        n = batch.num_rows
        values = [a.evaluate(batch) for a in args]
        result = evaluate(values, n)
        if isinstance(result, pa.Array) and result.type != arrow_type:
            result = pc.cast(result, arrow_type, safe=False)
        return result

    return Compiled(return_type, run, all(a.constant for a in args) and call.name not in _VOLATILE)


_VOLATILE = {"RANDOM", "UUID"}


class _BadArguments(Exception):
    pass


# ---------------------------------------------------------------- signatures


def _fixed(return_type: SqlType, *params: SqlType):
    def resolve(types):
        if len(types) != len(params):
            raise _BadArguments()
        for t, p in zip(types, params):
            if t is not None and t != p and not (t.is_numeric and p.is_numeric and _widens(t, p)):
                raise _BadArguments()
        return return_type, list(params)
    return resolve


def _widens(source: SqlType, target: SqlType) -> bool:
    order = ["INTEGER", "BIGINT", "DECIMAL", "DOUBLE"]
    return order.index(source.base) <= order.index(target.base)


def _same_numeric(types):
    if len(types) != 1 or (types[0] is not None and not types[0].is_numeric):
        raise _BadArguments()
    t = types[0] or T.DOUBLE
    return t, [t]


def _strings(return_type: SqlType, count_min: int, count_max: int | None = None):
    def resolve(types):
        if not count_min <= len(types) <= (count_max if count_max is not None else len(types)):
            raise _BadArguments()
        if any(t is not None and t.base != "STRING" for t in types):
            raise _BadArguments()
        return return_type, [T.STRING] * len(types)
    return resolve


def _string_then_ints(return_type: SqlType, ints_min: int, ints_max: int):
    def resolve(types):
        if not 1 + ints_min <= len(types) <= 1 + ints_max:
            raise _BadArguments()
        if types[0] is not None and types[0].base != "STRING":
            raise _BadArguments()
        for t in types[1:]:
            if t is not None and t.base not in ("INTEGER", "BIGINT"):
                raise _BadArguments()
        return return_type, [T.STRING] + [T.INTEGER] * (len(types) - 1)
    return resolve


def _same_type_args(types):
    common = T.common_type(types)
    if common is None:
        if all(t is None for t in types):
            return T.STRING, [T.STRING] * len(types)
        raise _BadArguments()
    return common, [common] * len(types)


# ---------------------------------------------------------------- implementations


def _substring(values, n):
    text = broadcast(values[0], n, pa.string())
    start = broadcast(values[1], n, pa.int32()).to_pylist()
    length = broadcast(values[2], n, pa.int32()).to_pylist() if len(values) > 2 else [None] * n
    out = []
    for s, p, ln in zip(text.to_pylist(), start, length):
        if s is None or p is None or (len(values) > 2 and ln is None):
            out.append(None)
            continue
        begin = p - 1 if p > 0 else max(len(s) + p, 0)
        out.append(s[begin:] if ln is None else s[begin:begin + max(ln, 0)])
    return pa.array(out, pa.string())


def _concat(values, n):
    arrays = [broadcast(v, n, pa.string()) for v in values]
    # CONCAT skips NULL arguments; the result is NULL only when every argument is.
    filled = [pc.fill_null(a, "") for a in arrays]
    joined = pc.binary_join_element_wise(*filled, "") if filled else pa.nulls(n, pa.string())
    all_null = None
    for a in arrays:
        all_null = pc.is_null(a) if all_null is None else pc.and_(all_null, pc.is_null(a))
    return pc.if_else(all_null, pa.scalar(None, pa.string()), joined)


def _coalesce(values, n):
    return pc.coalesce(*values) if len(values) > 1 else broadcast(values[0], n)


def _round(values, n):
    value = values[0]
    digits = values[1].as_py() if len(values) > 1 and isinstance(values[1], pa.Scalar) else 0
    if pa.types.is_integer(value.type):
        return value
    return pc.round(value, digits or 0, round_mode="half_up")


def _round_resolve(types):
    if not 1 <= len(types) <= 2 or (types[0] is not None and not types[0].is_numeric):
        raise _BadArguments()
    t = types[0] or T.DOUBLE
    if t.base == "DOUBLE":
        return (T.BIGINT if len(types) == 1 else T.DOUBLE), [T.DOUBLE] + [T.INTEGER] * (len(types) - 1)
    if t.base == "DECIMAL" and len(types) == 1:
        return T.decimal(max(t.precision - t.scale + 1, 1), 0), [t]
    return t, [t] + [T.INTEGER] * (len(types) - 1)


def _trim(values, n):
    return pc.utf8_trim(broadcast(values[0], n, pa.string()), " \t\n\r\x0b\x0c")


def _replace(values, n):
    text, old, new = values
    if isinstance(old, pa.Scalar) and isinstance(new, pa.Scalar) and old.is_valid and new.is_valid:
        return pc.replace_substring(broadcast(text, n, pa.string()), old.as_py(), new.as_py())
    rows = zip(*(broadcast(v, n, pa.string()).to_pylist() for v in values))
    return pa.array([None if None in r else r[0].replace(r[1], r[2]) for r in rows], pa.string())


def _len(values, n):
    return pc.utf8_length(broadcast(values[0], n, pa.string()))


def _abs(values, n):
    return pc.abs(values[0])


def _unary_double(kernel):
    return lambda values, n: kernel(values[0])


register("UCASE", "STRING", "Converts a string to upper case.", _strings(T.STRING, 1, 1),
         lambda v, n: pc.utf8_upper(v[0]))
register("LCASE", "STRING", "Converts a string to lower case.", _strings(T.STRING, 1, 1),
         lambda v, n: pc.utf8_lower(v[0]))
register("LEN", "STRING", "The length of a string.", _strings(T.INTEGER, 1, 1), _len)
register("TRIM", "STRING", "Removes leading and trailing whitespace.", _strings(T.STRING, 1, 1), _trim)
register("CONCAT", "STRING", "Concatenates strings.", _strings(T.STRING, 1), _concat)
register("SUBSTRING", "STRING", "A substring, by 1-based position and optional length.",
         _string_then_ints(T.STRING, 1, 2), _substring)
register("REPLACE", "STRING", "Replaces every occurrence of a substring.", _strings(T.STRING, 3, 3), _replace)
register("ABS", "MATHEMATICAL", "The absolute value.", _same_numeric, _abs)
register("ROUND", "MATHEMATICAL", "Rounds half up, to whole numbers or to a number of digits.",
         _round_resolve, _round)
register("CEIL", "MATHEMATICAL", "The smallest whole number not below the value.", _same_numeric,
         lambda v, n: pc.ceil(v[0]) if not pa.types.is_integer(v[0].type) else v[0])
register("FLOOR", "MATHEMATICAL", "The largest whole number not above the value.", _same_numeric,
         lambda v, n: pc.floor(v[0]) if not pa.types.is_integer(v[0].type) else v[0])
register("SQRT", "MATHEMATICAL", "The square root.", _fixed(T.DOUBLE, T.DOUBLE), _unary_double(pc.sqrt))
register("COALESCE", "CONDITIONAL", "The first argument that is not NULL.", _same_type_args, _coalesce)
register("IFNULL", "CONDITIONAL", "The second argument when the first is NULL.",
         lambda types: _same_type_args(types) if len(types) == 2 else (_ for _ in ()).throw(_BadArguments()),
         _coalesce)
