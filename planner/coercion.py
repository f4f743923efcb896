"""The common type of a list of expressions (ARRAY and MAP constructors, IN lists), as ksqlDB
finds it (docs: type-coercion.md, "Expression lists").

The list is read in order: the first non-NULL element's type is the start, and each further
element must be coercible to the type so far, or the type so far to it (numbers widen; a
STRUCT takes the fields of both). Literals coerce more freely than other expressions: a string
literal holding a number joins a numeric list (as INTEGER, BIGINT or DECIMAL, as wide as its
text needs), one holding a boolean a BOOLEAN list, an ISO-8601 one a TIMESTAMP, DATE or TIME
list; and any literal joins a STRING list. Elements are then converted: literals to values of
the common type, other expressions by a CAST.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Callable

from ksql.parser import ast
from ksql.parser.errors import KsqlStatementError
from ksql.parser.format import format_expression
from ksql.planner import types as T
from ksql.planner.types import SqlType

TRUE_TEXT, FALSE_TEXT = ("true", "t", "yes", "y"), ("false", "f", "no", "n")
_TEMPORAL = ("TIMESTAMP", "DATE", "TIME")
_INT_MIN, _INT_MAX, _BIGINT_MIN, _BIGINT_MAX = -2**31, 2**31 - 1, -2**63, 2**63 - 1


def common_type(exprs: list, type_of: Callable[[ast.Expression], SqlType | None]) -> SqlType | None:
    """The type the expressions share (None when every one is a NULL literal), or ksqlDB's error."""
    result = None
    for expr in exprs:
        result = _joined(expr, type_of(expr), result, type_of)
    return result


def is_text(expr) -> bool:
    return isinstance(expr, ast.Literal) and isinstance(expr.value, str)


def boolean_text(text: str) -> bool | None:
    """`true`, `false`, `yes`, `no` or a prefix of one (`fal`, `y`), any case; else None."""
    word = text.strip().lower()
    if word and any(full.startswith(word) for full in ("true", "yes")):
        return True
    if word and any(full.startswith(word) for full in ("false", "no")):
        return False
    return None


def literal_as(text: str, target: SqlType):
    """A string literal's value as `target` (a number or a boolean), or ksqlDB's error."""
    value = None
    try:
        if target.base in ("INTEGER", "BIGINT"):
            number = Decimal(text.strip())
            if number == number.to_integral_value():
                value = int(number)
        elif target.base == "DOUBLE":
            value = float(text)
        elif target.base == "DECIMAL":
            value = Decimal(text.strip())
        elif target.base == "BOOLEAN":
            value = boolean_text(text)
    except (InvalidOperation, ValueError):
        value = None
    if value is None:
        raise invalid_syntax(text, target)
    return value


def invalid_syntax(text: str, target: SqlType) -> KsqlStatementError:
    return KsqlStatementError(f'invalid input syntax for type {target.base}: "{text}".')


def _joined(expr, source: SqlType | None, target: SqlType | None, type_of) -> SqlType | None:
    if target is None:
        return source  # the first element (or only NULLs so far)
    if source is None:
        return target  # a NULL literal joins anything
    if isinstance(expr, ast.ArrayConstructor):
        if target.base != "ARRAY":
            raise _no_operator(expr, source, target)
        return T.array(_structured(target.params[0], expr.items, expr, source, target, type_of))
    if isinstance(expr, ast.MapConstructor):
        if target.base != "MAP":
            raise _no_operator(expr, source, target)
        keys = _structured(target.params[0], [k for k, _ in expr.entries], expr, source, target, type_of)
        values = _structured(target.params[1], [v for _, v in expr.entries], expr, source, target, type_of)
        return T.map_of(keys, values)
    if isinstance(expr, ast.StructConstructor):
        if target.base != "STRUCT":
            raise _no_operator(expr, source, target)
        return _struct_superset(expr, target, type_of)
    if is_text(expr):
        if target.is_numeric:
            return _numeric_from_text(expr.value, target)
        if target.base == "BOOLEAN":
            if boolean_text(expr.value) is None:
                raise invalid_syntax(expr.value, T.BOOLEAN)
            return target
    literal = isinstance(expr, ast.Literal)
    common = can_coerce(source, target, literal) or can_coerce(target, source, literal)
    if common is None:
        raise _no_operator(expr, source, target)
    return common


def _structured(target: SqlType, items, expr, source, whole: SqlType, type_of) -> SqlType:
    """The common type of a nested constructor's elements with the list's element type so far."""
    try:
        result = target
        for item in items:
            result = _joined(item, type_of(item), result, type_of)
        return result
    except KsqlStatementError as error:
        if str(error).startswith("operator does not exist"):
            raise _no_operator(expr, source, whole) from error
        raise


def _struct_superset(expr: ast.StructConstructor, target: SqlType, type_of) -> SqlType:
    fields = dict(target.params)
    for name, value in expr.fields:
        if name in fields:
            fields[name] = _joined(value, type_of(value), fields[name], type_of)
        else:
            fields[name] = type_of(value) or T.STRING
    order = [n for n, _ in expr.fields] + [n for n, _ in target.params if n not in dict(expr.fields)]
    return T.struct([(n, fields[n]) for n in order])


def _numeric_from_text(text: str, target: SqlType) -> SqlType:
    """A string literal holding a number joins a numeric list as the narrowest type its text fits."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise invalid_syntax(text, target) from None
    if not number.is_finite():
        raise invalid_syntax(text, target)
    source = None
    if not any(c in text for c in ".eE") and number == number.to_integral_value():
        value = int(number)
        # strictly inside the type's range, as ksqlDB tests it
        source = T.INTEGER if _INT_MIN < value < _INT_MAX else T.BIGINT if _BIGINT_MIN < value < _BIGINT_MAX \
            else None
    if source is None:
        sign, digits, exponent = number.as_tuple()
        scale = max(-exponent, 0)
        source = T.decimal(max(len(digits) + max(exponent, 0), scale, 1), scale)
    if target.base == "DOUBLE":
        return T.DOUBLE
    return T.common_numeric(source, target)


def can_coerce(source: SqlType, target: SqlType, literal: bool) -> SqlType | None:
    """`target` if a value of `source` converts to it implicitly (for a literal, more freely);
    else None."""
    if source == target:
        return target
    if source.is_numeric and target.is_numeric:
        return T.common_numeric(source, target)  # the wider of the two
    if literal and target.base == "STRING":
        return target  # any literal can be written as text
    if literal and source.base == "STRING" and target.base in _TEMPORAL:
        return target  # ISO-8601 text
    if source.base != target.base:
        return None
    if source.base == "ARRAY":
        element = can_coerce(source.params[0], target.params[0], literal)
        return T.array(element) if element is not None else None
    if source.base == "MAP":
        key = can_coerce(source.params[0], target.params[0], literal)
        value = can_coerce(source.params[1], target.params[1], literal)
        return T.map_of(key, value) if key is not None and value is not None else None
    if source.base == "STRUCT":
        theirs = dict(source.params)
        for name, field_type in target.params:
            if name in theirs and can_coerce(theirs[name], field_type, literal) is None:
                return None
        return target
    return None


def _no_operator(expr, source: SqlType, target: SqlType) -> KsqlStatementError:
    return KsqlStatementError(f"operator does not exist: {target} = {source} ({format_expression(expr)})\n"
                              f"Hint: You might need to add explicit type casts.")
