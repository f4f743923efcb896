"""The expression compiler: a typed expression tree (planner/bound.py) becomes a function over
an Arrow batch, nested closures over Arrow compute kernels, one kernel per operator for the
whole batch. Trees arrive checked and with their casts explicit, so nothing here refuses one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner import bound as B
from ksql.planner import types as T
from ksql.parser.errors import KsqlFunctionError
from ksql.planner.arrays import broadcast
from ksql.planner.functions import report_error
from ksql.planner.types import SqlType
from ksql.runtime.expressions.casts import cast_kernel
from ksql.runtime.expressions.kernels import (
    array_element, divide, interleave, like_by_pattern, map_lookup, modulo, nested_equal,
    partial_timestamp_millis, translate_escape,
)
from ksql.runtime.expressions.lambdas import lambda_kernel
from ksql.runtime.expressions.raised import (
    MESSAGES, EvaluationError, counted_where, flags, raise_where_null, raise_where_unparsed, raised_rows, scope,
)

Evaluator = Callable[[pa.RecordBatch], "pa.Array | pa.Scalar"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled expression: its SQL type and how to evaluate it on a batch.

    `evaluate` may return a scalar for constant expressions; use `column()` for an array.
    """

    type: SqlType | None
    evaluate: Evaluator

    def column(self, batch: pa.RecordBatch) -> pa.Array:
        """The expression's value for each row: NULL where its evaluation met a NULL that
        ksqlDB's generated Java code would have thrown on (raised.py), that error noted for
        the processing log."""
        if raised_rows() is not None:  # inside another expression, which decides (a lambda's body)
            return broadcast(self.evaluate(batch), batch.num_rows, self.arrow_type)
        values, raised = self.column_and_raised(batch)
        if raised.any():
            values = pc.if_else(pa.array(raised != 0), pa.scalar(None, values.type), values)
            for code in raised[raised != 0].tolist():
                report_error(EvaluationError(MESSAGES[code]))
        return values

    def column_and_raised(self, batch: pa.RecordBatch) -> tuple[pa.Array, np.ndarray]:
        """(the value for each row, what evaluating it threw in ksqlDB: raised.py's flags) for
        the caller to decide what a throw means: a lambda's body throws for the whole call."""
        with scope(batch.num_rows) as raised:
            values = broadcast(self.evaluate(batch), batch.num_rows, self.arrow_type)
        return values, raised

    def column_or_nulls(self, batch: pa.RecordBatch) -> pa.Array:
        """column(), but for a single row whose evaluation raises (a user function's error, say)
        NULL, the error noted for the processing log: ksqlDB evaluates a SELECT expression so,
        and the row goes on. A larger batch that raises is run again a row at a time by the
        pipeline (which can stop between rows); an aggregate's error stops the query."""
        try:
            return self.column(batch)
        except KsqlFunctionError:
            raise
        except Exception as error:  # noqa: BLE001
            if batch.num_rows != 1:
                raise
            report_error(error)
            return pa.nulls(1, self.arrow_type)

    @property
    def arrow_type(self) -> pa.DataType:
        return T.to_arrow(self.type) if self.type is not None else pa.null()


def compile_expr(expr: B.Expr) -> Compiled:
    return Compiled(expr.type, _evaluator(expr))


def _evaluator(expr: B.Expr) -> Evaluator:
    return _COMPILERS[type(expr)](expr)


def _literal(expr: B.Literal) -> Evaluator:
    scalar = pa.scalar(expr.value, T.to_arrow(expr.type)) if expr.type is not None else pa.scalar(None)
    return lambda batch: scalar


def _column(expr: B.Column) -> Evaluator:
    field = expr.field
    return lambda batch: batch.column(field)


def _cast(expr: B.Cast) -> Evaluator:
    inner = _evaluator(expr.operand)
    kernel = cast_kernel(expr.operand.type, expr.type)
    source = expr.operand.type.base if expr.operand.type is not None else None
    if source != "STRING" or expr.type.base in ("STRING", "BOOLEAN", "ARRAY", "MAP", "STRUCT"):
        return lambda batch: kernel(inner(batch))

    def evaluate(batch):  # a string parsed: Java's parser throws on one it cannot read
        text = inner(batch)
        parsed = kernel(text)
        raise_where_unparsed(text, parsed)
        return parsed

    return evaluate


def _arithmetic(expr: B.Arithmetic) -> Evaluator:
    lf, rf = _evaluator(expr.left), _evaluator(expr.right)
    exact = expr.left.type.base in ("INTEGER", "BIGINT", "DECIMAL")
    arrow_result = T.to_arrow(expr.type)
    kernel = {"+": pc.add, "-": pc.subtract, "*": pc.multiply,
              "/": lambda a, b: divide(a, b, exact, arrow_result), "%": lambda a, b: modulo(a, b, exact)}[expr.op]

    def evaluate(batch):
        left, right = lf(batch), rf(batch)
        raise_where_null(left)
        raise_where_null(right)
        out = kernel(left, right)
        return pc.cast(out, arrow_result, safe=False) if out.type != arrow_result else out

    return evaluate


def _concat(expr: B.Concat) -> Evaluator:
    lf, rf = _evaluator(expr.left), _evaluator(expr.right)
    return lambda b: pc.binary_join_element_wise(lf(b), rf(b), "")


_COMPARISONS = {"=": pc.equal, "<>": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
                ">": pc.greater, ">=": pc.greater_equal}


def _compare(expr: B.Compare) -> Evaluator:
    lf, rf = _evaluator(expr.left), _evaluator(expr.right)
    kernel = _COMPARISONS[expr.op]
    # ksqlDB compares a NULL as false, not as unknown (so NOT (a = b) holds when b is NULL)
    return lambda b: pc.fill_null(kernel(lf(b), rf(b)), False)


def _nested_equal(expr: B.NestedEqual) -> Evaluator:
    lf, rf = _evaluator(expr.left), _evaluator(expr.right)
    negated = expr.negated

    def evaluate(batch):
        n = batch.num_rows
        equal = nested_equal(broadcast(lf(batch), n), broadcast(rf(batch), n))
        return pc.invert(equal) if negated else equal

    return evaluate


def _timestamp_text(expr: B.TimestampText) -> Evaluator:
    inner = _evaluator(expr.operand)

    def evaluate(batch):
        value = inner(batch)
        if isinstance(value, pa.Array):
            return pa.array([partial_timestamp_millis(v) for v in value.to_pylist()], pa.int64())
        return pa.scalar(partial_timestamp_millis(value.as_py()), pa.int64())

    return evaluate


def _bool(value):
    if isinstance(value, pa.Scalar) and not value.is_valid:
        return pa.scalar(None, pa.bool_())
    return value


def _logical(expr: B.Logical) -> Evaluator:
    lf, rf = _evaluator(expr.left), _evaluator(expr.right)
    kernel = pc.and_kleene if expr.op == "AND" else pc.or_kleene
    # Java evaluates the right side only where the left does not decide: true for AND, false for OR
    goes_on = expr.op == "AND"

    def evaluate(batch):
        left = _bool(lf(batch))
        raise_where_null(left)
        with counted_where(flags(left, batch.num_rows, goes_on)):
            right = _bool(rf(batch))
            raise_where_null(right)
        return kernel(left, right)

    return evaluate


def _not(expr: B.Not) -> Evaluator:
    inner = _evaluator(expr.operand)

    def evaluate(batch):
        value = _bool(inner(batch))
        raise_where_null(value)
        return pc.invert(value)

    return evaluate


def _negate(expr: B.Negate) -> Evaluator:
    inner = _evaluator(expr.operand)

    def evaluate(batch):
        value = inner(batch)
        raise_where_null(value)
        return pc.negate(value)

    return evaluate


def _is_null(expr: B.IsNull) -> Evaluator:
    inner = _evaluator(expr.operand)
    negated = expr.negated
    kernel = pc.is_valid if negated else pc.is_null

    def evaluate(batch):
        value = inner(batch)
        if isinstance(value, pa.Scalar):
            return pa.scalar(value.is_valid if negated else not value.is_valid)
        return kernel(value)

    return evaluate


def _like(expr: B.Like) -> Evaluator:
    inner, pattern = _evaluator(expr.value), _evaluator(expr.pattern)
    negated, escape = expr.negated, expr.escape
    # (ksqlDB's LIKE hands both strings to Java's regular expressions, which throw on a NULL)
    if not expr.pattern.constant:
        def by_pattern(batch):
            value, patterns = inner(batch), pattern(batch)
            raise_where_null(value)
            raise_where_null(patterns)
            return like_by_pattern(broadcast(value, batch.num_rows), broadcast(patterns, batch.num_rows),
                                   escape, negated)

        return by_pattern
    text = constant_value(expr.pattern)
    if escape is not None and text is not None:
        text = translate_escape(text, escape)

    def evaluate(batch):
        value = inner(batch)
        raise_where_null(value if text is not None else pa.scalar(None, pa.string()))
        result = pc.match_like(value, text)
        return pc.invert(result) if negated else result

    return evaluate


def _is_distinct(expr: B.IsDistinct) -> Evaluator:
    lf, rf = _evaluator(expr.left), _evaluator(expr.right)
    negated = expr.negated

    def evaluate(batch):
        n = batch.num_rows
        a, b = broadcast(lf(batch), n), broadcast(rf(batch), n)
        nested = pa.types.is_nested(a.type) or pa.types.is_nested(b.type)
        equal = pc.fill_null(nested_equal(a, b) if nested else pc.equal(a, b), False)
        same = pc.or_(equal, pc.and_(pc.is_null(a), pc.is_null(b)))
        return same if negated else pc.invert(same)

    return evaluate


def _case(expr: B.Case) -> Evaluator:
    whens = [(_evaluator(c), _evaluator(r)) for c, r in expr.whens]
    default = _evaluator(expr.default) if expr.default is not None else None
    arrow_type = T.to_arrow(expr.type)

    def evaluate(batch):
        n = batch.num_rows
        # each WHEN is tested where no earlier one held, its result taken where it holds first
        reached = np.ones(n, dtype=bool)
        conditions, results = [], []
        for condition, result in whens:
            with counted_where(reached):
                mask = pc.fill_null(broadcast(condition(batch), n, pa.bool_()), False)
            holds = mask.to_numpy(zero_copy_only=False)
            with counted_where(reached & holds):
                results.append(broadcast(result(batch), n, arrow_type))
            conditions.append(mask)
            reached &= ~holds
        if default is not None:
            with counted_where(reached):
                out = broadcast(default(batch), n, arrow_type)
        else:
            out = pa.nulls(n, arrow_type)
        for mask, result in zip(reversed(conditions), reversed(results)):
            out = pc.if_else(mask, result, out)
        return out

    return evaluate


def _subscript(expr: B.Subscript) -> Evaluator:
    bf, xf = _evaluator(expr.base), _evaluator(expr.index)
    if expr.base.type.base == "ARRAY":
        def evaluate(b):
            base, index = bf(b), xf(b)
            raise_where_null(index)  # (Java casts the index to an int)
            return array_element(broadcast(base, b.num_rows), broadcast(index, b.num_rows, pa.int32()))

        return evaluate
    return lambda b: map_lookup(broadcast(bf(b), b.num_rows), broadcast(xf(b), b.num_rows))


def _field(expr: B.Field) -> Evaluator:
    inner, name = _evaluator(expr.base), expr.name
    return lambda b: pc.struct_field(broadcast(inner(b), b.num_rows), [name])


def _array_of(expr: B.ArrayOf) -> Evaluator:
    items = [_evaluator(i) for i in expr.items]
    arrow_type = T.to_arrow(expr.type)

    def evaluate(batch):
        n = batch.num_rows
        columns = [broadcast(item(batch), n, arrow_type.value_type) for item in items]
        offsets = pa.array(np.arange(0, n * len(columns) + 1, len(columns), dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, interleave(columns, n), type=arrow_type)

    return evaluate


def _struct_of(expr: B.StructOf) -> Evaluator:
    items = [(_evaluator(i), T.to_arrow(i.type)) for i in expr.items]
    names = list(expr.names)

    def evaluate(batch):
        n = batch.num_rows
        if not items:
            return pa.array([{}] * n, pa.struct([]))
        arrays = [broadcast(item(batch), n, arrow_type) for item, arrow_type in items]
        return pa.StructArray.from_arrays(arrays, names=names)

    return evaluate


def _map_of(expr: B.MapOf) -> Evaluator:
    keys = [_evaluator(k) for k in expr.keys]
    values = [_evaluator(v) for v in expr.values]
    arrow_type = T.to_arrow(expr.type)

    def evaluate(batch):
        n = batch.num_rows
        ks = [broadcast(k(batch), n, arrow_type.key_type) for k in keys]
        missing = None  # rows with a NULL key that is not text: an Arrow map holds none
        if pa.types.is_string(arrow_type.key_type):
            ks = [pc.fill_null(k, "null") for k in ks]  # as Java's String.valueOf writes it
        elif any(k.null_count for k in ks):
            missing = np.zeros(n, dtype=bool)
            for k in ks:
                missing |= np.asarray(k.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            ks = [pc.fill_null(k, pa.scalar(0).cast(k.type)) for k in ks]
        vs = [broadcast(v(batch), n, arrow_type.item_type) for v in values]
        flat_keys, flat_values = interleave(ks, n), interleave(vs, n)
        offsets = pa.array(np.arange(0, n * len(keys) + 1, len(keys), dtype=np.int32))
        if len(keys) > 1:  # the same key twice in a row: the last value wins, in the first one's place
            rows = np.repeat(np.arange(n), len(keys))
            last = pa.table({"r": rows, "k": flat_keys, "i": np.arange(len(rows))}).group_by(
                ["r", "k"], use_threads=False).aggregate([("i", "min"), ("i", "max")])
            if last.num_rows < len(rows):
                order = pc.sort_indices(last.column("i_min"))
                firsts, lasts = last.column("i_min").take(order), last.column("i_max").take(order)
                counts = np.bincount(last.column("r").take(order).to_numpy(), minlength=n)
                offsets = np.zeros(n + 1, np.int32)
                np.cumsum(counts, out=offsets[1:])
                return _with_nulls(pa.MapArray.from_arrays(pa.array(offsets), flat_keys.take(firsts),
                                                           flat_values.take(lasts)), missing)
        return _with_nulls(pa.MapArray.from_arrays(offsets, flat_keys, flat_values), missing)

    return evaluate


def _with_nulls(maps: pa.MapArray, missing) -> pa.Array:
    if missing is None:
        return maps
    return pc.if_else(pa.array(missing), pa.scalar(None, maps.type), maps)


def _call(expr: B.Call) -> Evaluator:
    args = [_evaluator(a) for a in expr.args]
    function = expr.function
    arrow_type = T.to_arrow(expr.type)

    def evaluate(batch):
        result = function([a(batch) for a in args], batch.num_rows)
        if isinstance(result, list):
            return pa.array(result, arrow_type)
        if isinstance(result, (pa.Array, pa.ChunkedArray)) and result.type != arrow_type:
            result = pc.cast(result, arrow_type, safe=False)
        elif isinstance(result, pa.Scalar) and result.type != arrow_type:
            result = pa.scalar(result.as_py(), arrow_type) if result.is_valid else pa.scalar(None, arrow_type)
        return result

    return evaluate


def _lambda_call(expr: B.LambdaCall) -> Evaluator:
    return lambda_kernel(expr, compile_expr)


def constant_value(expr: B.Expr):
    """The Python value of a constant expression (one with no column)."""
    one_row = pa.RecordBatch.from_arrays([pa.nulls(1)], names=["__row"])
    return compile_expr(expr).column(one_row)[0].as_py()


_COMPILERS = {
    B.Literal: _literal,
    B.Column: _column,
    B.Cast: _cast,
    B.Arithmetic: _arithmetic,
    B.Concat: _concat,
    B.Compare: _compare,
    B.NestedEqual: _nested_equal,
    B.TimestampText: _timestamp_text,
    B.Logical: _logical,
    B.Not: _not,
    B.Negate: _negate,
    B.IsNull: _is_null,
    B.Like: _like,
    B.IsDistinct: _is_distinct,
    B.Case: _case,
    B.Subscript: _subscript,
    B.Field: _field,
    B.ArrayOf: _array_of,
    B.StructOf: _struct_of,
    B.MapOf: _map_of,
    B.Call: _call,
    B.LambdaCall: _lambda_call,
}
