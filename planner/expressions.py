"""Expression compiler: an AST expression becomes a typed function over an Arrow batch.

Each expression is compiled once per query into nested closures over Arrow compute
kernels; evaluating it on a batch runs one kernel per operator for the whole batch.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.parser.errors import KsqlStatementError
from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.types import SqlType
from ksql.planner.casts import cast_to
from ksql.planner.compiled import Compiled, Evaluator, Scope, ScopeColumn, broadcast  # noqa: F401
from ksql.planner.format import format_expression
from ksql.planner.library import UNIT_FUNCTIONS, compile_call
from ksql.planner.lambdas import compile_lambda_call
from ksql.planner.operator_kernels import (
    arithmetic_type, array_element, divide, interleave, like_by_pattern, map_lookup, modulo, nested_equal,
    translate_escape,
    partial_timestamp_millis,
)


# ---------------------------------------------------------------- the compiler


def compile_expression(expr: ast.Expression, scope: Scope) -> Compiled:
    compiler = _COMPILERS.get(type(expr))
    if compiler is None:
        raise KsqlStatementError(f"Expressions of kind {type(expr).__name__} are not supported yet")
    return compiler(expr, scope)


def _literal(expr: ast.Literal, scope: Scope) -> Compiled:
    kind, value = expr.kind, expr.value
    if kind == "NULL":
        return Compiled(None, lambda batch: pa.scalar(None), True)
    if kind == "DECIMAL":
        sign, digits, exponent = value.as_tuple()
        scale = max(-exponent, 0)
        precision = max(len(digits), scale, 1)
        sql_type = T.decimal(precision, scale)
    else:
        sql_type = {"INTEGER": T.INTEGER, "BIGINT": T.BIGINT, "DOUBLE": T.DOUBLE,
                    "STRING": T.STRING, "BOOLEAN": T.BOOLEAN}[kind]
    try:
        scalar = pa.scalar(value, T.to_arrow(sql_type))
    except OverflowError:
        raise KsqlStatementError(f"Invalid numeric literal: {value}") from None
    return Compiled(sql_type, lambda batch: scalar, True)


def _column(expr: ast.ColumnRef, scope: Scope) -> Compiled:
    column = scope.resolve(expr)
    field = column.field
    return Compiled(column.type, lambda batch: batch.column(field))


def _cast(expr: ast.Cast, scope: Scope) -> Compiled:
    target = T.from_ref(expr.type, scope.custom_types)
    operand = compile_expression(expr.operand, scope)
    if operand.type is not None and target.base in ("ARRAY", "MAP", "STRUCT") and operand.type.base != target.base:
        raise KsqlStatementError(f"Invalid Select: Cast of {operand.type} to {target} is not supported")
    return cast_to(operand, target)


# ---------------------------------------------------------------- operators


def _arithmetic(expr: ast.BinaryOp, scope: Scope) -> Compiled:
    left = compile_expression(expr.left, scope)
    right = compile_expression(expr.right, scope)
    op = expr.op
    lt, rt = left.type, right.type
    if op != "||" and any(isinstance(e, ast.Literal) and e.value is None for e in (expr.left, expr.right)):
        raise KsqlStatementError(f"Error processing expression: {_text(expr)}. Arithmetic on types "
                                 f"{lt if lt is not None else 'null'} and {rt if rt is not None else 'null'} "
                                 f"are not supported.")
    if op == "||" or (op == "+" and (_is_string(lt) or _is_string(rt))):
        if not (_is_string(lt) or lt is None) or not (_is_string(rt) or rt is None):
            raise KsqlStatementError(f"Error processing expression: {_text(expr)}. "
                                     f"Unsupported arithmetic types. {lt} {rt}")
        lf, rf = left.evaluate, right.evaluate
        return Compiled(T.STRING, lambda b: pc.binary_join_element_wise(lf(b), rf(b), ""),
                        left.constant and right.constant)
    if lt is None or rt is None:
        known = lt or rt or T.INTEGER
        return Compiled(known, lambda b: pa.scalar(None, T.to_arrow(known)), True)
    if not (lt.is_numeric and rt.is_numeric):
        raise KsqlStatementError(
            f"Error processing expression: {_text(expr)}. Unsupported arithmetic types. {lt} {rt}")
    result_type = arithmetic_type(op, lt, rt)
    common = T.common_numeric(lt, rt)
    left_as, right_as = common, common
    if common.base == "DECIMAL" and op in ("+", "-"):
        left_as = right_as = result_type
    elif common.base == "DECIMAL":
        # each side as its own decimal: a common type would widen both and overflow Arrow's
        # precision for products and quotients (BIGINT * 0.908 is DECIMAL(19,0) * DECIMAL(3,3))
        left_as = lt if lt.base == "DECIMAL" else T.integer_decimal(lt) if lt.base in ("INTEGER", "BIGINT") else common
        right_as = rt if rt.base == "DECIMAL" else T.integer_decimal(rt) if rt.base in ("INTEGER", "BIGINT") else common
    lf = cast_to(left, left_as).evaluate if lt != left_as else left.evaluate
    rf = cast_to(right, right_as).evaluate if rt != right_as else right.evaluate
    integral = common.base in ("INTEGER", "BIGINT")
    arrow_result = T.to_arrow(result_type)

    def evaluate(batch):
        a, b = lf(batch), rf(batch)
        if op == "+":
            out = pc.add(a, b)
        elif op == "-":
            out = pc.subtract(a, b)
        elif op == "*":
            out = pc.multiply(a, b)
        elif op == "/":
            out = divide(a, b, integral)
        else:
            out = modulo(a, b, integral)
        if out.type != arrow_result:
            out = pc.cast(out, arrow_result, safe=False)
        return out

    return Compiled(result_type, evaluate, left.constant and right.constant)


_OPERATOR_NAMES = {"=": "EQUAL", "<>": "NOT_EQUAL", "<": "LESS_THAN", "<=": "LESS_THAN_OR_EQUAL",
                   ">": "GREATER_THAN", ">=": "GREATER_THAN_OR_EQUAL"}
_COMPARISONS = {"=": pc.equal, "<>": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
                ">": pc.greater, ">=": pc.greater_equal}


def _comparable(left: Compiled, right: Compiled, expr) -> tuple[Evaluator, Evaluator]:
    lt, rt = left.type, right.type
    if lt is None or rt is None or lt == rt:
        return left.evaluate, right.evaluate
    if lt.is_numeric and rt.is_numeric:
        common = T.common_numeric(lt, rt)
        return cast_to(left, common).evaluate, cast_to(right, common).evaluate
    if lt.base == rt.base and lt.base in ("DECIMAL",):
        return left.evaluate, right.evaluate
    if _is_time_column(expr.left) and rt.base == "STRING" or _is_time_column(expr.right) and lt.base == "STRING":
        # ksqlDB's "magic timestamp conversion": ROWTIME > '2020-01-01T00:00:00' compares as epoch millis.
        return _as_millis(left).evaluate, _as_millis(right).evaluate
    if {lt.base, rt.base} <= {"TIMESTAMP", "STRING"} or {lt.base, rt.base} <= {"DATE", "STRING"} \
            or {lt.base, rt.base} <= {"TIME", "STRING"}:
        target = lt if lt.base != "STRING" else rt
        return cast_to(left, target).evaluate, cast_to(right, target).evaluate
    raise KsqlStatementError(
        f"Error in WHERE expression: Cannot compare {_text(expr.left)} ({lt}) to {_text(expr.right)} ({rt}) "
        f"with {_OPERATOR_NAMES.get(getattr(expr, 'op', '='), '=')}.\nStatement: {_text(expr)}")


def _is_time_column(expr) -> bool:
    return isinstance(expr, ast.ColumnRef) and expr.name in ("ROWTIME", "WINDOWSTART", "WINDOWEND")


def _as_millis(compiled: Compiled) -> Compiled:
    if compiled.type is None or compiled.type.base != "STRING":
        return compiled
    inner = compiled.evaluate

    def evaluate(batch):
        value = inner(batch)
        if isinstance(value, pa.Array):
            return pa.array([partial_timestamp_millis(v) for v in value.to_pylist()], pa.int64())
        return pa.scalar(partial_timestamp_millis(value.as_py()), pa.int64())

    return Compiled(T.BIGINT, evaluate, compiled.constant)


def _comparison(expr: ast.BinaryOp, scope: Scope) -> Compiled:
    left = compile_expression(expr.left, scope)
    right = compile_expression(expr.right, scope)
    complex_types = ("ARRAY", "MAP", "STRUCT")
    if any(t is not None and t.base in complex_types for t in (left.type, right.type)):
        return _complex_comparison(expr, left, right)
    for side, other in ((expr.left, right), (expr.right, left)):
        if isinstance(side, ast.Literal) and side.value is None:
            shown = [str(c.type) if c.type is not None else "NULL" for c in (left, right)]
            raise KsqlStatementError(f"Error in WHERE expression: Comparison with NULL not supported: "
                                     f"{shown[0]} {expr.op} {shown[1]}\nUse 'IS NULL' or 'IS NOT NULL' instead."
                                     f"\nStatement: {_text(expr)}")
    lf, rf = _comparable(left, right, expr)
    kernel = _COMPARISONS[expr.op]
    # ksqlDB compares a NULL as false, not as unknown (so NOT (a = b) holds when b is NULL)
    return Compiled(T.BOOLEAN, lambda b: pc.fill_null(kernel(lf(b), rf(b)), False), left.constant and right.constant)


def _complex_comparison(expr, left: Compiled, right: Compiled) -> Compiled:
    """ARRAY, MAP and STRUCT values compare for (in)equality only, element by element."""
    if expr.op not in ("=", "<>") or (left.type and right.type and left.type.base != right.type.base):
        raise KsqlStatementError(
            f"Cannot compare {_text(expr.left)} ({left.type}) to {_text(expr.right)} ({right.type}) "
            f"with {_OPERATOR_NAMES[expr.op]}.")
    lf, rf = left.evaluate, right.evaluate
    negate = expr.op == "<>"

    def evaluate(batch):
        n = batch.num_rows
        equal = nested_equal(broadcast(lf(batch), n), broadcast(rf(batch), n))
        return pc.invert(equal) if negate else equal

    return Compiled(T.BOOLEAN, evaluate)


def _binary(expr: ast.BinaryOp, scope: Scope) -> Compiled:
    if expr.op in _COMPARISONS:
        return _comparison(expr, scope)
    return _arithmetic(expr, scope)


def _require_boolean(compiled: Compiled, expr) -> Compiled:
    if compiled.type is not None and compiled.type.base != "BOOLEAN":
        raise KsqlStatementError(
            f"Type mismatch: {_text(expr)} is {compiled.type}, a BOOLEAN was expected.")
    return compiled


def _logical(expr: ast.LogicalOp, scope: Scope) -> Compiled:
    left = _require_boolean(compile_expression(expr.left, scope), expr.left)
    right = _require_boolean(compile_expression(expr.right, scope), expr.right)
    kernel = pc.and_kleene if expr.op == "AND" else pc.or_kleene
    lf, rf = left.evaluate, right.evaluate
    return Compiled(T.BOOLEAN, lambda b: kernel(_bool(lf(b)), _bool(rf(b))),
                    left.constant and right.constant)


def _bool(value):
    if isinstance(value, pa.Scalar) and not value.is_valid:
        return pa.scalar(None, pa.bool_())
    return value


def _not(expr: ast.Not, scope: Scope) -> Compiled:
    operand = _require_boolean(compile_expression(expr.operand, scope), expr.operand)
    inner = operand.evaluate
    return Compiled(T.BOOLEAN, lambda b: pc.invert(_bool(inner(b))), operand.constant)


def _negate(expr: ast.Negate, scope: Scope) -> Compiled:
    operand = compile_expression(expr.operand, scope)
    if operand.type is not None and not operand.type.is_numeric:
        raise KsqlStatementError(f"Cannot negate {_text(expr.operand)} of type {operand.type}")
    inner = operand.evaluate
    return Compiled(operand.type, lambda b: pc.negate(inner(b)), operand.constant)


def _is_null(expr: ast.IsNull, scope: Scope) -> Compiled:
    operand = compile_expression(expr.value, scope)
    inner = operand.evaluate
    kernel = pc.is_valid if expr.negated else pc.is_null

    def evaluate(batch):
        value = inner(batch)
        if isinstance(value, pa.Scalar):
            return pa.scalar(value.is_valid if expr.negated else not value.is_valid)
        return kernel(value)

    return Compiled(T.BOOLEAN, evaluate, operand.constant)


def _between(expr: ast.Between, scope: Scope) -> Compiled:
    low = ast.BinaryOp(">=", expr.value, expr.low)
    high = ast.BinaryOp("<=", expr.value, expr.high)
    try:
        both = _logical(ast.LogicalOp("AND", low, high), scope)
    except KsqlStatementError as error:  # ksqlDB words a BETWEEN type mismatch this way
        raise KsqlStatementError(str(error).replace("Error in WHERE expression:", "Invalid expression:", 1)) \
            from None
    if not expr.negated:
        return both
    inner = both.evaluate
    return Compiled(T.BOOLEAN, lambda b: pc.invert(inner(b)), both.constant)


def _in_list(expr: ast.InList, scope: Scope) -> Compiled:
    # x IN (a, b) is x = a OR x = b, with SQL's null semantics.
    result = None
    for item in expr.items:
        test = ast.BinaryOp("=", expr.value, item)
        result = test if result is None else ast.LogicalOp("OR", result, test)
    compiled = compile_expression(result, scope)
    if not expr.negated:
        return compiled
    inner = compiled.evaluate
    return Compiled(T.BOOLEAN, lambda b: pc.invert(inner(b)), compiled.constant)


def _like(expr: ast.Like, scope: Scope) -> Compiled:
    value = compile_expression(expr.value, scope)
    pattern = compile_expression(expr.pattern, scope)
    for side in (value, pattern):
        if side.type is not None and side.type.base != "STRING":
            raise KsqlStatementError(f"The column type for Like condition must be VARCHAR. "
                                     f"The column type is {side.type}")
    inner = value.evaluate
    negated = expr.negated
    if not pattern.constant:
        return Compiled(T.BOOLEAN, lambda batch: like_by_pattern(
            broadcast(inner(batch), batch.num_rows), broadcast(pattern.evaluate(batch), batch.num_rows),
            expr.escape, negated))
    text = pattern.evaluate(None).as_py()
    if expr.escape is not None:
        text = translate_escape(text, expr.escape)

    def evaluate(batch):
        result = pc.match_like(inner(batch), text)
        return pc.invert(result) if negated else result

    return Compiled(T.BOOLEAN, evaluate, value.constant)


def _is_distinct(expr: ast.IsDistinctFrom, scope: Scope) -> Compiled:
    left = compile_expression(expr.left, scope)
    right = compile_expression(expr.right, scope)
    nested = any(t is not None and t.base in ("ARRAY", "MAP", "STRUCT") for t in (left.type, right.type))
    lf, rf = (left.evaluate, right.evaluate) if nested else _comparable(left, right, expr)
    negated = expr.negated

    def evaluate(batch):
        n = batch.num_rows
        a, b = broadcast(lf(batch), n), broadcast(rf(batch), n)
        nested = pa.types.is_nested(a.type) or pa.types.is_nested(b.type)
        equal = pc.fill_null(nested_equal(a, b) if nested else pc.equal(a, b), False)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        same = pc.or_(equal, both_null)
        return same if negated else pc.invert(same)

    return Compiled(T.BOOLEAN, evaluate)


def _case(expr: ast.Case, scope: Scope) -> Compiled:
    conditions = [_require_boolean(compile_expression(c, scope), c) for c, _ in expr.whens]
    results = [compile_expression(r, scope) for _, r in expr.whens]
    default = compile_expression(expr.default, scope) if expr.default is not None else None
    all_results = results + ([default] if default else [])
    result_type = T.common_type([r.type for r in all_results])
    if result_type is None and any(r.type is not None for r in all_results):
        raise KsqlStatementError("Invalid Case expression. Type for all 'THEN' clauses should be the same.")
    result_type = result_type or T.STRING
    results = [cast_to(r, result_type) for r in results]
    default = cast_to(default, result_type) if default else None
    arrow_type = T.to_arrow(result_type)

    def evaluate(batch):
        n = batch.num_rows
        out = broadcast(default.evaluate(batch), n, arrow_type) if default else pa.nulls(n, arrow_type)
        for condition, result in zip(reversed(conditions), reversed(results)):
            mask = pc.fill_null(broadcast(condition.evaluate(batch), n, pa.bool_()), False)
            out = pc.if_else(mask, broadcast(result.evaluate(batch), n, arrow_type), out)
        return out

    return Compiled(result_type, evaluate)


def _subscript(expr: ast.Subscript, scope: Scope) -> Compiled:
    base = compile_expression(expr.base, scope)
    index = compile_expression(expr.index, scope)
    if base.type is None:
        raise KsqlStatementError(f"Cannot subscript NULL: {_text(expr)}")
    bf, xf = base.evaluate, index.evaluate
    if base.type.base == "ARRAY":
        element = base.type.params[0]
        return Compiled(element, lambda b: array_element(broadcast(bf(b), b.num_rows),
                                                          broadcast(xf(b), b.num_rows, pa.int32())))
    if base.type.base == "MAP":
        value_type = base.type.params[1]
        return Compiled(value_type, lambda b: map_lookup(broadcast(bf(b), b.num_rows),
                                                          broadcast(xf(b), b.num_rows)))
    raise KsqlStatementError(f"Subscripts apply to ARRAY and MAP values, not {base.type}: {_text(expr)}")


def _dereference(expr: ast.Dereference, scope: Scope) -> Compiled:
    base = compile_expression(expr.base, scope)
    if base.type is None or base.type.base != "STRUCT":
        raise KsqlStatementError(f"Can't dereference a non-STRUCT value: {_text(expr)}")
    field_type = base.type.field(expr.field)
    if field_type is None:
        raise KsqlStatementError(f"Could not find field '{expr.field}' in '{_text(expr.base)}'.")
    inner = base.evaluate
    name = expr.field
    return Compiled(field_type, lambda b: pc.struct_field(broadcast(inner(b), b.num_rows), [name]))


_TRUE_TEXT, _FALSE_TEXT = ("true", "t", "yes", "y"), ("false", "f", "no", "n")


def _literal_as(text: str, target: SqlType):
    """A string literal in an ARRAY/MAP constructor, as ksqlDB coerces it to the elements' type."""
    from decimal import InvalidOperation

    try:
        if target.base in ("INTEGER", "BIGINT"):
            number = Decimal(text.strip())
            if number != number.to_integral_value():
                raise InvalidOperation
            return int(number)
        if target.base == "DOUBLE":
            return float(text)
        if target.base == "DECIMAL":
            return Decimal(text.strip())
        if target.base == "BOOLEAN" and text.strip().lower() in _TRUE_TEXT + _FALSE_TEXT:
            return text.strip().lower() in _TRUE_TEXT
    except (InvalidOperation, ValueError):
        pass
    raise KsqlStatementError(f'invalid input syntax for type {target}: "{text}"')


def _common_element(exprs: list, compiled: list[Compiled], what: str) -> SqlType | None:
    """The type every element becomes: the common type of the elements that are not string
    literals; string literals are then coerced to it (ARRAY[10, '2e1'] is ARRAY<INTEGER>)."""
    typed = [c.type for e, c in zip(exprs, compiled)
             if not (isinstance(e, ast.Literal) and isinstance(e.value, str)) and c.type is not None]
    common = T.common_type(typed) if typed else None
    if typed and common is None:
        raise KsqlStatementError(f"invalid input syntax for type {what}: all elements must share a type")
    if common is None:
        common = T.common_type([c.type for c in compiled])
    return common


def _coerced(exprs: list, compiled: list[Compiled], target: SqlType) -> list[Compiled]:
    out = []
    for e, c in zip(exprs, compiled):
        if isinstance(e, ast.Literal) and isinstance(e.value, str) and target.base != "STRING":
            value = _literal_as(e.value, target)
            c = Compiled(target, lambda b, v=pa.scalar(value, T.to_arrow(target)): v, True)
        out.append(cast_to(c, target))
    return out


def _array_constructor(expr: ast.ArrayConstructor, scope: Scope) -> Compiled:
    if not expr.items:
        raise KsqlStatementError("Array constructor cannot be empty. Please supply at least one element "
                                 "(see https://github.com/confluentinc/ksql/issues/4239).")
    items = [compile_expression(i, scope) for i in expr.items]
    element = _common_element(expr.items, items, "ARRAY")
    if element is None:
        raise KsqlStatementError("Cannot construct an array with all NULL elements "
                                 "(see https://github.com/confluentinc/ksql/issues/4239). As a workaround, "
                                 "you may cast a NULL value to the desired type.")
    items = _coerced(expr.items, items, element)
    arrow_type = pa.list_(T.to_arrow(element))

    def evaluate(batch):
        n = batch.num_rows
        columns = [broadcast(i.evaluate(batch), n, arrow_type.value_type) for i in items]
        offsets = pa.array(np.arange(0, n * len(columns) + 1, len(columns), dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, interleave(columns, n), type=arrow_type)

    return Compiled(T.array(element), evaluate)


def _struct_constructor(expr: ast.StructConstructor, scope: Scope) -> Compiled:
    names = [name for name, _ in expr.fields]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise KsqlStatementError(f"Duplicate field names found in STRUCT: '{duplicated[0]}'")
    fields = [(name, compile_expression(e, scope)) for name, e in expr.fields]
    fields = [(name, c if c.type is not None else cast_to(c, T.STRING)) for name, c in fields]
    sql_type = T.struct((name, c.type) for name, c in fields)

    def evaluate(batch):
        n = batch.num_rows
        if not fields:
            return pa.array([{}] * n, pa.struct([]))
        arrays = [broadcast(c.evaluate(batch), n, c.arrow_type) for _, c in fields]
        return pa.StructArray.from_arrays(arrays, names=[name for name, _ in fields])

    return Compiled(sql_type, evaluate)


def _map_constructor(expr: ast.MapConstructor, scope: Scope) -> Compiled:
    if not expr.entries:
        raise KsqlStatementError("Map constructor cannot be empty. Please supply at least one key value pair "
                                 "(see https://github.com/confluentinc/ksql/issues/4239).")
    key_exprs = [k for k, _ in expr.entries]
    value_exprs = [v for _, v in expr.entries]
    keys = [compile_expression(k, scope) for k in key_exprs]
    values = [compile_expression(v, scope) for v in value_exprs]
    if all(isinstance(k, ast.Literal) and k.value is None for k in key_exprs):
        raise KsqlStatementError("Cannot construct a map with all NULL keys "
                                 "(see https://github.com/confluentinc/ksql/issues/4239).")
    value_type = _common_element(value_exprs, values, "MAP")
    if value_type is None:
        raise KsqlStatementError("Cannot construct a map with all NULL values "
                                 "(see https://github.com/confluentinc/ksql/issues/4239). As a workaround, "
                                 "you may cast a NULL value to the desired type.")
    keys = [cast_to(k, T.STRING) for k in keys]
    values = _coerced(value_exprs, values, value_type)
    arrow_type = T.to_arrow(T.map_of(T.STRING, value_type))

    def evaluate(batch):
        n = batch.num_rows
        # a NULL key is the text "null", as Java's String.valueOf writes it
        ks = [pc.fill_null(broadcast(k.evaluate(batch), n, pa.string()), "null") for k in keys]
        vs = [broadcast(v.evaluate(batch), n, arrow_type.item_type) for v in values]
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
                return pa.MapArray.from_arrays(pa.array(offsets), flat_keys.take(firsts), flat_values.take(lasts))
        return pa.MapArray.from_arrays(offsets, flat_keys, flat_values)

    return Compiled(T.map_of(T.STRING, value_type), evaluate)


def _lambda(expr: ast.Lambda, scope: Scope) -> Compiled:
    raise KsqlStatementError("Lambda expressions are only allowed as arguments of TRANSFORM, FILTER and REDUCE.")


def _function(expr: ast.FunctionCall, scope: Scope) -> Compiled:
    if any(isinstance(a, ast.Lambda) for a in expr.args):
        return compile_lambda_call(expr, scope, compile_expression)
    units = ("MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY")
    if expr.name in UNIT_FUNCTIONS and expr.args and isinstance(expr.args[0], ast.ColumnRef) \
            and expr.args[0].name.rstrip("S") in units:
        # DATEADD(DAYS, 1, d): the first argument is a time unit, not a column.
        unit = ast.Literal(expr.args[0].name, "STRING")
        expr = ast.FunctionCall(expr.name, (unit,) + expr.args[1:])
    return compile_call(expr, [compile_expression(a, scope) for a in expr.args])


def _is_string(t: SqlType | None) -> bool:
    return t is not None and t.base == "STRING"


def _text(expr) -> str:
    return format_expression(expr)


_COMPILERS = {
    ast.Literal: _literal,
    ast.ColumnRef: _column,
    ast.BinaryOp: _binary,
    ast.LogicalOp: _logical,
    ast.Not: _not,
    ast.Negate: _negate,
    ast.IsNull: _is_null,
    ast.Between: _between,
    ast.InList: _in_list,
    ast.Like: _like,
    ast.IsDistinctFrom: _is_distinct,
    ast.Cast: _cast,
    ast.Case: _case,
    ast.Subscript: _subscript,
    ast.Dereference: _dereference,
    ast.ArrayConstructor: _array_constructor,
    ast.StructConstructor: _struct_constructor,
    ast.MapConstructor: _map_constructor,
    ast.FunctionCall: _function,
    ast.Lambda: _lambda,
}
