"""Binding: an AST expression becomes a typed expression tree (bound.py).

Names resolve against a Scope, every operator and function call gets its result type and
ksqlDB's type checks (with ksqlDB's error texts), and each implicit conversion becomes an
explicit Cast. Nothing is evaluated here: the runtime compiles the tree to Arrow kernels
(runtime/expressions/).
"""
from __future__ import annotations

import pyarrow as pa

from ksql.parser import ast
from ksql.parser.errors import KsqlStatementError
from ksql.planner import bound as B
from ksql.planner import coercion
from ksql.planner import types as T
from ksql.planner.format import format_expression
from ksql.planner.functions import resolve_call
from ksql.planner.library import UNIT_FUNCTIONS
from ksql.planner.scope import Scope
from ksql.planner.types import SqlType

LAMBDA_FUNCTIONS = ("TRANSFORM", "FILTER", "REDUCE")


def bind(expr: ast.Expression, scope: Scope) -> B.Expr:
    binder = _BINDERS.get(type(expr))
    if binder is None:
        raise KsqlStatementError(f"Expressions of kind {type(expr).__name__} are not supported yet")
    return binder(expr, scope)


def struct_fields(struct: ast.Expression, scope: Scope) -> list[tuple[str, ast.Expression]]:
    """What `struct->*` selects: (field name, struct->field) for each field of the struct."""
    base = bind(struct, scope)
    if base.type is None or base.type.base != "STRUCT":
        raise KsqlStatementError(f"Can't expand '->*' on a non-STRUCT value: {format_expression(struct)}")
    return [(field, ast.Dereference(struct, field)) for field, _ in base.type.params]


def cast(expr: B.Expr, target: SqlType) -> B.Expr:
    """`expr` as a value of `target` (CAST's semantics); itself when it already is one."""
    source = expr.type
    if source == target:
        return expr
    if source is None:
        return B.Literal(target, None)
    if target.base in ("ARRAY", "MAP", "STRUCT") and source.base != target.base:
        raise KsqlStatementError(f"Cast of {source} to {target} is not supported")
    return B.Cast(target, expr)


def _literal(expr: ast.Literal, scope: Scope) -> B.Expr:
    kind, value = expr.kind, expr.value
    if kind == "NULL":
        return B.Literal(None, None)
    if kind == "DECIMAL":
        sign, digits, exponent = value.as_tuple()
        scale = max(-exponent, 0)
        precision = max(len(digits), scale, 1)
        sql_type = T.decimal(precision, scale)
    else:
        sql_type = {"INTEGER": T.INTEGER, "BIGINT": T.BIGINT, "DOUBLE": T.DOUBLE,
                    "STRING": T.STRING, "BOOLEAN": T.BOOLEAN}[kind]
    try:
        pa.scalar(value, T.to_arrow(sql_type))
    except OverflowError:
        raise KsqlStatementError(f"Invalid numeric literal: {value}") from None
    return B.Literal(sql_type, value)


def _column(expr: ast.ColumnRef, scope: Scope) -> B.Expr:
    column = scope.resolve(expr)
    return B.Column(column.type, column.field)


# The CASTs the scalar-functions page lists (a type to itself aside); any other is refused
_NUMBERS = {"INTEGER", "BIGINT", "DECIMAL", "DOUBLE"}
_CASTS = {("STRING", t) for t in _NUMBERS | {"BOOLEAN", "TIME", "DATE", "TIMESTAMP"}} \
    | {(a, b) for a in _NUMBERS for b in _NUMBERS} \
    | {("TIMESTAMP", "TIME"), ("TIMESTAMP", "DATE"), ("DATE", "TIMESTAMP")}


def _castable(source: SqlType, target: SqlType) -> bool:
    if target.base == "STRING":
        return source.base != "BYTES"
    if source.base != target.base:
        return (source.base, target.base) in _CASTS
    if source.base == "ARRAY":
        return _castable(source.params[0], target.params[0])
    if source.base == "MAP":
        return all(_castable(a, b) for a, b in zip(source.params, target.params))
    if source.base == "STRUCT":  # the fields both have
        fields = dict(target.params)
        return all(_castable(t, fields[name]) for name, t in source.params if name in fields)
    return True


def _cast(expr: ast.Cast, scope: Scope) -> B.Expr:
    target = T.from_ref(expr.type, scope.custom_types)
    operand = bind(expr.operand, scope)
    if operand.type is not None and not _castable(operand.type, target):
        raise KsqlStatementError(f"Invalid Select: Cast of {operand.type} to {target} is not supported")
    return cast(operand, target)


# ---------------------------------------------------------------- operators


def arithmetic_type(op: str, a: SqlType, b: SqlType) -> SqlType:
    """The result type of a numeric operator, decimals as ksqlDB sizes them."""
    common = T.common_numeric(a, b)
    if common.base != "DECIMAL":
        return common
    da = a if a.base == "DECIMAL" else T.integer_decimal(a)
    db = b if b.base == "DECIMAL" else T.integer_decimal(b)
    p1, s1, p2, s2 = da.precision, da.scale, db.precision, db.scale
    if op in ("+", "-"):
        scale = max(s1, s2)
        precision = max(p1 - s1, p2 - s2) + scale + 1
    elif op == "*":
        precision, scale = p1 + p2 + 1, s1 + s2
    elif op == "/":
        scale = max(6, s1 + p2 + 1)
        precision = p1 - s1 + s2 + scale
    else:
        scale = max(s1, s2)
        precision = min(p1 - s1, p2 - s2) + scale
    return T.decimal(min(precision, 38), min(scale, 38))


def _arithmetic(expr: ast.BinaryOp, scope: Scope) -> B.Expr:
    left = bind(expr.left, scope)
    right = bind(expr.right, scope)
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
        return B.Concat(T.STRING, left, right)
    if lt is None or rt is None:
        return B.Literal(lt or rt or T.INTEGER, None)
    if not (lt.is_numeric and rt.is_numeric):  # (ksqlDB names the types without their parameters here)
        raise KsqlStatementError(
            f"Error processing expression: {_text(expr)}. Unsupported arithmetic types. {lt.base} {rt.base}")
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
    return B.Arithmetic(result_type, op, cast(left, left_as), cast(right, right_as))


_OPERATOR_NAMES = {"=": "EQUAL", "<>": "NOT_EQUAL", "<": "LESS_THAN", "<=": "LESS_THAN_OR_EQUAL",
                   ">": "GREATER_THAN", ">=": "GREATER_THAN_OR_EQUAL"}


def _comparable(left: B.Expr, right: B.Expr, expr) -> tuple[B.Expr, B.Expr]:
    """Both sides as values of one type that compares."""
    lt, rt = left.type, right.type
    if lt is None or rt is None or lt == rt:
        return left, right
    if lt.is_numeric and rt.is_numeric:
        common = T.common_numeric(lt, rt)
        return cast(left, common), cast(right, common)
    if lt.base == rt.base and lt.base in ("DECIMAL",):
        return left, right
    if _is_time_column(expr.left) and rt.base == "STRING" or _is_time_column(expr.right) and lt.base == "STRING":
        # ksqlDB's "magic timestamp conversion": ROWTIME > '2020-01-01T00:00:00' compares as epoch millis.
        return _as_millis(left), _as_millis(right)
    if {lt.base, rt.base} <= {"TIMESTAMP", "STRING"} or {lt.base, rt.base} <= {"DATE", "STRING"} \
            or {lt.base, rt.base} <= {"TIME", "STRING"}:
        target = lt if lt.base != "STRING" else rt
        return cast(left, target), cast(right, target)
    raise KsqlStatementError(
        f"Error in WHERE expression: Cannot compare {_text(expr.left)} ({lt}) to {_text(expr.right)} ({rt}) "
        f"with {_OPERATOR_NAMES.get(getattr(expr, 'op', '='), '=')}.\nStatement: {_text(expr)}")


def _is_time_column(expr) -> bool:
    return isinstance(expr, ast.ColumnRef) and expr.name in ("ROWTIME", "WINDOWSTART", "WINDOWEND")


def _as_millis(expr: B.Expr) -> B.Expr:
    if expr.type is None or expr.type.base != "STRING":
        return expr
    return B.TimestampText(T.BIGINT, expr)


def _comparison(expr: ast.BinaryOp, scope: Scope) -> B.Expr:
    left = bind(expr.left, scope)
    right = bind(expr.right, scope)
    if any(t is not None and t.base in ("ARRAY", "MAP", "STRUCT") for t in (left.type, right.type)):
        if expr.op not in ("=", "<>") or (left.type and right.type and left.type.base != right.type.base):
            raise KsqlStatementError(
                f"Cannot compare {_text(expr.left)} ({left.type}) to {_text(expr.right)} ({right.type}) "
                f"with {_OPERATOR_NAMES[expr.op]}.")
        return B.NestedEqual(T.BOOLEAN, left, right, expr.op == "<>")
    for side in (expr.left, expr.right):
        if isinstance(side, ast.Literal) and side.value is None:
            shown = [str(c.type) if c.type is not None else "NULL" for c in (left, right)]
            raise KsqlStatementError(f"Error in WHERE expression: Comparison with NULL not supported: "
                                     f"{shown[0]} {expr.op} {shown[1]}\nUse 'IS NULL' or 'IS NOT NULL' instead."
                                     f"\nStatement: {_text(expr)}")
    left, right = _comparable(left, right, expr)
    return B.Compare(T.BOOLEAN, expr.op, left, right)


def _binary(expr: ast.BinaryOp, scope: Scope) -> B.Expr:
    if expr.op in _OPERATOR_NAMES:
        return _comparison(expr, scope)
    return _arithmetic(expr, scope)


def _boolean(expr: ast.Expression, scope: Scope) -> B.Expr:
    bound = bind(expr, scope)
    if bound.type is not None and bound.type.base != "BOOLEAN":
        raise KsqlStatementError(
            f"Type mismatch: {_text(expr)} is {bound.type}, a BOOLEAN was expected.")
    return bound


def _logical(expr: ast.LogicalOp, scope: Scope) -> B.Expr:
    return B.Logical(T.BOOLEAN, expr.op, _boolean(expr.left, scope), _boolean(expr.right, scope))


def _not(expr: ast.Not, scope: Scope) -> B.Expr:
    return B.Not(T.BOOLEAN, _boolean(expr.operand, scope))


def _negate(expr: ast.Negate, scope: Scope) -> B.Expr:
    operand = bind(expr.operand, scope)
    if operand.type is not None and not operand.type.is_numeric:
        raise KsqlStatementError(f"Cannot negate {_text(expr.operand)} of type {operand.type}")
    return B.Negate(operand.type, operand)


def _is_null(expr: ast.IsNull, scope: Scope) -> B.Expr:
    return B.IsNull(T.BOOLEAN, bind(expr.value, scope), expr.negated)


def _between(expr: ast.Between, scope: Scope) -> B.Expr:
    low = ast.BinaryOp(">=", expr.value, expr.low)
    high = ast.BinaryOp("<=", expr.value, expr.high)
    try:
        both = _logical(ast.LogicalOp("AND", low, high), scope)
    except KsqlStatementError as error:  # ksqlDB words a BETWEEN type mismatch this way
        raise KsqlStatementError(str(error).replace("Error in WHERE expression:", "Invalid expression:", 1)) \
            from None
    return B.Not(T.BOOLEAN, both) if expr.negated else both


def _in_list(expr: ast.InList, scope: Scope) -> B.Expr:
    """x IN (a, b): x = a OR x = b, as ksqlDB's InListEvaluator has it. NULL literals are
    dropped from the list, NULL matches nothing (so x NOT IN (...) holds for a NULL x), and the
    value and items, when numbers or booleans, share a type as an ARRAY constructor's elements
    do: string literals are coerced to it (`int_col IN ('1', 2)`), numbers widened. Other
    items compare as `=` compares them (a TIMESTAMP with a string literal)."""
    items = [i for i in expr.items if not (isinstance(i, ast.Literal) and i.value is None)]
    exprs = [expr.value] + items
    bound = [bind(e, scope) for e in exprs]
    if items and not _is_time_column(expr.value):  # ROWTIME IN ('2020-...') compares as millis
        common = coercion.common_type(exprs, _typer(exprs, bound, scope))
        if common is not None:
            bound = list(_coerced(exprs, bound, common))
    value, result = bound[0], B.Literal(T.BOOLEAN, False)
    for item, item_expr in zip(bound[1:], items):
        if any(t is not None and t.base in ("ARRAY", "MAP", "STRUCT") for t in (value.type, item.type)):
            # NULL on either side is no match (false, not unknown): NOT IN must hold for it
            present = B.Logical(T.BOOLEAN, "AND", B.IsNull(T.BOOLEAN, value, True), B.IsNull(T.BOOLEAN, item, True))
            test = B.Logical(T.BOOLEAN, "AND", present, B.NestedEqual(T.BOOLEAN, value, item, False))
        else:
            test = B.Compare(T.BOOLEAN, "=", *_comparable(value, item, ast.BinaryOp("=", expr.value, item_expr)))
        result = test if isinstance(result, B.Literal) else B.Logical(T.BOOLEAN, "OR", result, test)
    return B.Not(T.BOOLEAN, result) if expr.negated else result


def _like(expr: ast.Like, scope: Scope) -> B.Expr:
    value = bind(expr.value, scope)
    pattern = bind(expr.pattern, scope)
    for side in (value, pattern):
        if side.type is not None and side.type.base != "STRING":
            raise KsqlStatementError(f"The column type for Like condition must be VARCHAR. "
                                     f"The column type is {side.type}")
    return B.Like(T.BOOLEAN, value, pattern, expr.escape, expr.negated)


def _is_distinct(expr: ast.IsDistinctFrom, scope: Scope) -> B.Expr:
    left = bind(expr.left, scope)
    right = bind(expr.right, scope)
    if not any(t is not None and t.base in ("ARRAY", "MAP", "STRUCT") for t in (left.type, right.type)):
        left, right = _comparable(left, right, expr)
    return B.IsDistinct(T.BOOLEAN, left, right, expr.negated)


def _case(expr: ast.Case, scope: Scope) -> B.Expr:
    conditions = [bind(c, scope) for c, _ in expr.whens]
    for (condition, _), bound in zip(expr.whens, conditions):
        if bound.type is not None and bound.type.base != "BOOLEAN":
            raise KsqlStatementError(
                f"WHEN operand type should be boolean.\nType for '{_text(condition)}' is {bound.type}")
    results = [bind(r, scope) for _, r in expr.whens]
    default = bind(expr.default, scope) if expr.default is not None else None
    # ksqlDB's branches must have one type, exactly (no widening: INTEGER and BIGINT differ)
    then_type = None
    for (condition, result_ast), result in zip(expr.whens, results):
        if result.type is None:
            continue
        if then_type is not None and result.type != then_type:
            raise KsqlStatementError(
                "Invalid Case expression. Type for all 'THEN' clauses should be the same.\n"
                f"THEN expression 'WHEN {_text(condition)} THEN {_text(result_ast)}' has type: {result.type}.\n"
                f"Previous THEN expression(s) type: {then_type}.")
        then_type = then_type or result.type
    if then_type is not None and default is not None and default.type is not None and default.type != then_type:
        raise KsqlStatementError(
            "Invalid Case expression. Type for the default clause should be the same as for 'THEN' clauses.\n"
            f"THEN type: {then_type}.\nDEFAULT type: {default.type}.")
    result_type = then_type or (default.type if default is not None else None)
    if result_type is None:
        raise KsqlStatementError("Invalid Case expression. All case branches have NULL type")
    whens = tuple((c, cast(r, result_type)) for c, r in zip(conditions, results))
    return B.Case(result_type, whens, cast(default, result_type) if default else None)


def _subscript(expr: ast.Subscript, scope: Scope) -> B.Expr:
    base = bind(expr.base, scope)
    index = bind(expr.index, scope)
    if base.type is None:
        raise KsqlStatementError(f"Cannot subscript NULL: {_text(expr)}")
    if base.type.base == "ARRAY":
        return B.Subscript(base.type.params[0], base, index)
    if base.type.base == "MAP":
        return B.Subscript(base.type.params[1], base, index)
    advice = f" Use the dereference operator for STRUCTS: {_text(expr.base)}->{_text(expr.index)}" \
        if base.type.base == "STRUCT" else ""
    raise KsqlStatementError(f"Subscript expression ({_text(expr)}) do not apply to {base.type}.{advice}")


def _dereference(expr: ast.Dereference, scope: Scope) -> B.Expr:
    base = bind(expr.base, scope)
    if base.type is None or base.type.base != "STRUCT":
        raise KsqlStatementError(f"Can't dereference a non-STRUCT value: {_text(expr)}")
    field_type = base.type.field(expr.field)
    if field_type is None:
        raise KsqlStatementError(f"Could not find field '{expr.field}' in '{_text(expr.base)}'.")
    return B.Field(field_type, base, expr.field)


# ---------------------------------------------------------------- constructors

def _typer(exprs: list, bound: list[B.Expr], scope: Scope):
    """Each expression's type: from `bound` for the list's own, bound anew for nested ones."""
    known = {id(e): b.type for e, b in zip(exprs, bound)}
    return lambda e: known[id(e)] if id(e) in known else bind(e, scope).type


def _coerced(exprs: list, bound: list[B.Expr], target: SqlType) -> tuple[B.Expr, ...]:
    """The expressions as values of their common type: string literals read as numbers or
    booleans, other expressions cast."""
    out = []
    for e, b in zip(exprs, bound):
        if coercion.is_text(e) and (target.is_numeric or target.base == "BOOLEAN"):
            b = B.Literal(target, coercion.literal_as(e.value, target))
        out.append(cast(b, target))
    return tuple(out)


def _array_constructor(expr: ast.ArrayConstructor, scope: Scope) -> B.Expr:
    if not expr.items:
        raise KsqlStatementError("Array constructor cannot be empty. Please supply at least one element "
                                 "(see https://github.com/confluentinc/ksql/issues/4239).")
    items = [bind(i, scope) for i in expr.items]
    element = coercion.common_type(list(expr.items), _typer(list(expr.items), items, scope))
    if element is None:
        raise KsqlStatementError("Cannot construct an array with all NULL elements "
                                 "(see https://github.com/confluentinc/ksql/issues/4239). As a workaround, "
                                 "you may cast a NULL value to the desired type.")
    return B.ArrayOf(T.array(element), _coerced(expr.items, items, element))


def _struct_constructor(expr: ast.StructConstructor, scope: Scope) -> B.Expr:
    names = [name for name, _ in expr.fields]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise KsqlStatementError(f"Duplicate field names found in STRUCT: '{duplicated[0]}'")
    items = tuple(cast(b, T.STRING) if b.type is None else b for b in (bind(e, scope) for _, e in expr.fields))
    return B.StructOf(T.struct(zip(names, (b.type for b in items))), tuple(names), items)


def _map_constructor(expr: ast.MapConstructor, scope: Scope) -> B.Expr:
    if not expr.entries:
        raise KsqlStatementError("Map constructor cannot be empty. Please supply at least one key value pair "
                                 "(see https://github.com/confluentinc/ksql/issues/4239).")
    key_exprs = [k for k, _ in expr.entries]
    value_exprs = [v for _, v in expr.entries]
    keys = [bind(k, scope) for k in key_exprs]
    values = [bind(v, scope) for v in value_exprs]
    if all(isinstance(k, ast.Literal) and k.value is None for k in key_exprs):
        raise KsqlStatementError("Cannot construct a map with all NULL keys "
                                 "(see https://github.com/confluentinc/ksql/issues/4239).")
    value_type = coercion.common_type(value_exprs, _typer(value_exprs, values, scope))
    if value_type is None:
        raise KsqlStatementError("Cannot construct a map with all NULL values "
                                 "(see https://github.com/confluentinc/ksql/issues/4239). As a workaround, "
                                 "you may cast a NULL value to the desired type.")
    # the keys' common type too: MAP(1 := 'a') is MAP<INTEGER, STRING>, as in ksqlDB
    key_type = coercion.common_type(key_exprs, _typer(key_exprs, keys, scope))
    return B.MapOf(T.map_of(key_type, value_type), _coerced(key_exprs, keys, key_type),
                   _coerced(value_exprs, values, value_type))


# ---------------------------------------------------------------- calls


def _lambda(expr: ast.Lambda, scope: Scope) -> B.Expr:
    raise KsqlStatementError("Lambda expressions are only allowed as arguments of TRANSFORM, FILTER and REDUCE.")


def _function(expr: ast.FunctionCall, scope: Scope) -> B.Expr:
    if any(isinstance(a, ast.Lambda) for a in expr.args):
        return _lambda_call(expr, scope)
    units = ("MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY")
    if expr.name in UNIT_FUNCTIONS and expr.args and isinstance(expr.args[0], ast.ColumnRef) \
            and expr.args[0].name.rstrip("S") in units:
        # DATEADD(DAYS, 1, d): the first argument is a time unit, not a column.
        unit = ast.Literal(expr.args[0].name, "STRING")
        expr = ast.FunctionCall(expr.name, (unit,) + expr.args[1:])
    return bind_call(expr.name, [bind(a, scope) for a in expr.args])


def bind_call(name: str, args: list[B.Expr]) -> B.Expr:
    """A call of the scalar function `name`, its arguments cast to the chosen overload's types."""
    return_type, wanted, function = resolve_call(name, [a.type for a in args])
    args = tuple(cast(a, w) if w is not None else a for a, w in zip(args, wanted))
    return B.Call(return_type, name, args, function)


def _lambda_call(call: ast.FunctionCall, scope: Scope) -> B.Expr:
    """TRANSFORM, FILTER or REDUCE: each lambda's body is bound in a scope where its parameters
    are columns (of a batch with a row per element, which the runtime builds)."""
    name = call.name
    lambdas = [a for a in call.args if isinstance(a, ast.Lambda)]
    plain = [a for a in call.args if not isinstance(a, ast.Lambda)]
    if name not in LAMBDA_FUNCTIONS:
        raise KsqlStatementError(f"Lambda expressions are only allowed as arguments of TRANSFORM, FILTER "
                                 f"and REDUCE, not {name}.")
    collection = bind(plain[0], scope)
    kind = collection.type.base if collection.type is not None else None
    if kind not in ("ARRAY", "MAP"):
        raise KsqlStatementError(f"{name} expects an ARRAY or a MAP as its first argument, "
                                 f"not {collection.type}.")
    elements = [collection.type.params[0]] if kind == "ARRAY" else list(collection.type.params)
    if name == "TRANSFORM":
        if len(lambdas) != (2 if kind == "MAP" else 1):
            raise KsqlStatementError("TRANSFORM takes a lambda for arrays, two (keys, values) for maps.")
        bodies = tuple(_bind_lambda(name, lam, elements, scope) for lam in lambdas)
        types = [body.type or T.STRING for body in bodies]
        result = T.map_of(*types) if kind == "MAP" else T.array(types[0])
        return B.LambdaCall(result, name, collection, bodies)
    if len(lambdas) != 1:
        raise KsqlStatementError(f"{name} takes one lambda.")
    if name == "FILTER":
        body = _bind_lambda(name, lambdas[0], elements, scope)
        if body.type is not None and body.type.base != "BOOLEAN":
            raise KsqlStatementError("FILTER's lambda must return a BOOLEAN.")
        return B.LambdaCall(collection.type, name, collection, (body,))
    initial = bind(plain[1], scope)
    state = initial.type or T.STRING
    body = _bind_lambda(name, lambdas[0], [state] + elements, scope)
    if body.type is not None and body.type != state:
        if not (body.type.is_numeric and state.is_numeric):
            raise KsqlStatementError(f"REDUCE's lambda returns {body.type}, but the initial state is {state}.")
        body = B.Lambda(state, body.params, cast(body.body, state))
    return B.LambdaCall(state, name, collection, (body,), initial)


def _bind_lambda(function: str, lam: ast.Lambda, param_types: list, scope: Scope) -> B.Lambda:
    if len(lam.params) != len(param_types):
        raise KsqlStatementError(f"{function}: the lambda takes {len(param_types)} parameter(s), "
                                 f"got {len(lam.params)}.")
    child = scope.copy()
    child.lambda_depth += 1
    fields = []
    for name, sql_type in zip(lam.params, param_types):
        field = f"__lambda{child.lambda_depth}_{name}"  # the depth tells a nested lambda's apart
        child.add(None, name, field, sql_type)
        fields.append(field)
    body = bind(lam.body, child)
    return B.Lambda(body.type, tuple(fields), body)


def _is_string(t: SqlType | None) -> bool:
    return t is not None and t.base == "STRING"


def _text(expr) -> str:
    return format_expression(expr)


_BINDERS = {
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
