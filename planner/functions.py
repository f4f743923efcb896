"""The scalar function library: each function resolves its return type from its argument
types once, at plan time, and evaluates a whole batch with Arrow kernels."""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar

from dataclasses import dataclass
from typing import Callable

from ksql.parser.errors import KsqlStatementError
from ksql.planner.arrays import broadcast
from ksql.planner.types import SqlType


@dataclass(frozen=True)
class ScalarFunction:
    name: str
    category: str
    description: str
    # (argument types) -> (return type, argument types to cast to[, evaluate for an overload]);
    # raises BadArguments
    resolve: Callable[[list[SqlType | None]], tuple[SqlType, list[SqlType | None]]]
    # (argument arrays or scalars, batch length) -> result array (or a list of Python values)
    evaluate: Callable[[list, int], object]
    signatures: tuple[str, ...] = ()
    user: bool = False  # defined in Python by a user (ksql/udf.py), not built in


FUNCTIONS: dict[str, ScalarFunction] = {}


def register(name: str, category: str, description: str, resolve, evaluate, signatures=(), user: bool = False) -> None:
    FUNCTIONS[name] = ScalarFunction(name, category, description, resolve, evaluate, tuple(signatures), user)


def resolve_call(name: str, arg_types: list) -> tuple[SqlType, list, Callable]:
    """The function a call names, for these argument types: (return type, the types to cast
    each argument to (None: as it is), the evaluate function of the chosen overload)."""
    function = FUNCTIONS.get(name)
    if function is None:
        raise KsqlStatementError(f"Can't find any functions with the name '{name}'")
    try:
        resolved = function.resolve(arg_types)
    except BadArguments as error:
        shown = ", ".join(str(t) if t else "null" for t in arg_types)
        raise KsqlStatementError(
            str(error) or f"Function '{name.lower()}' does not accept parameters ({shown}).") from None
    return_type, wanted = resolved[:2]
    evaluate = resolved[2] if len(resolved) > 2 else function.evaluate
    if CALL_METRICS is not None:
        evaluate = Timed(name, evaluate)
    return return_type, wanted, evaluate


# name -> [invocations, seconds, most seconds one invocation took], while function metrics are
# collected (ksql.udf.collect.metrics); None: not collected, and calls are not wrapped
CALL_METRICS: dict[str, list] | None = None


class Timed:
    """An evaluate function that adds each batch to CALL_METRICS: every row an invocation, the
    batch's time shared among them (a class, not a closure, so plans still pickle)."""

    def __init__(self, name: str, evaluate):
        self.name = name
        self.evaluate = evaluate

    def __call__(self, values, n):
        began = time.perf_counter()
        try:
            return self.evaluate(values, n)
        finally:
            if CALL_METRICS is not None and n:
                seconds = time.perf_counter() - began
                counted = CALL_METRICS.setdefault(self.name, [0, 0.0, 0.0])
                counted[0] += n
                counted[1] += seconds
                counted[2] = max(counted[2], seconds / n)


class BadArguments(Exception):
    """The arguments do not fit any signature; the message, if any, is shown to the user."""


_BadArguments = BadArguments


def rows(values: list, n: int):
    """The arguments row by row, as Python values (for functions with no Arrow kernel)."""
    return zip(*[broadcast(v, n).to_pylist() for v in values]) if values else iter([()] * n)


def per_row(fn, null_on_null: bool = True):
    """An evaluate function that applies fn to each row's arguments; NULL in, NULL out."""
    def evaluate(values, n):
        if null_on_null:
            return [None if None in args else _safe(fn, args) for args in rows(values, n)]
        return [_safe(fn, args) for args in rows(values, n)]
    return evaluate


# The errors functions raised while a query evaluated a batch (each gives NULL, as in ksqlDB,
# where the query also logs it to the processing log): collected only inside function_errors().
_ERRORS: ContextVar[list | None] = ContextVar("function_errors", default=None)


@contextmanager
def function_errors():
    """Collect the messages of the errors functions raise (and answer with NULL) meanwhile."""
    token = _ERRORS.set([])
    try:
        yield _ERRORS.get()
    finally:
        _ERRORS.reset(token)


def report_error(error: Exception) -> None:
    """Note an error answered with NULL, for the processing log (only inside function_errors())."""
    errors = _ERRORS.get()
    if errors is not None:
        errors.append(str(error) or type(error).__name__)


def _safe(fn, args):
    try:
        return fn(*args)
    except (ValueError, TypeError, ArithmeticError, IndexError, KeyError, OverflowError) as error:
        report_error(error)
        return None

