"""Where ksqlDB's generated code throws, a batch at a time.

ksqlDB compiles an expression into Java, which throws a NullPointerException on a NULL operand
of arithmetic (a boxed number unboxed), of NOT, AND and OR (a boxed Boolean), on a NULL array
index (cast to an int), and on a NULL string or pattern of LIKE; Java's parsers throw on a
string CAST cannot read. The record's value for the whole expression is then NULL, and the
error goes to the processing log. So `COALESCE(x + 1, 0)` is NULL when x is (and `x + 1` alone
is NULL, logged). Comparisons test for NULL first (false), and so do IS NULL and IN.

The evaluators note the rows where such a throw happens in the current batch's flags; the
parts Java evaluates only sometimes (a CASE's branches, the right side of AND and OR) count
where they are reached, and a lambda's body throws for its parent row.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.arrays import broadcast

# per row of the batch being evaluated: 0, or what threw first (an index into MESSAGES)
_RAISED: ContextVar[np.ndarray | None] = ContextVar("raised_rows", default=None)
NULL_OPERAND, UNPARSED, DIVIDED_BY_ZERO, DECIMAL_DIVIDED_BY_ZERO, ROUNDING = 1, 2, 3, 4, 5
MESSAGES = {
    NULL_OPERAND: "java.lang.NullPointerException: a NULL where the expression needs a value",
    UNPARSED: "a string that CAST cannot read as the type it asks for (Java's parser throws)",
    DIVIDED_BY_ZERO: "java.lang.ArithmeticException: / by zero",
    DECIMAL_DIVIDED_BY_ZERO: "java.lang.ArithmeticException: Division by zero",
    ROUNDING: "java.lang.ArithmeticException: Rounding necessary",
}


class EvaluationError(Exception):
    """What ksqlDB's generated code throws for a row (for the processing log)."""


@contextmanager
def scope(n: int):
    """Flags for the rows of an evaluation inside (a fresh set: the outer one is not touched)."""
    raised = np.zeros(n, dtype=np.int8)
    token = _RAISED.set(raised)
    try:
        yield raised
    finally:
        _RAISED.reset(token)


@contextmanager
def counted_where(where: np.ndarray):
    """An evaluation Java makes only in some rows (a CASE's branch, the right side of AND and
    OR): what it throws counts in the rows `where` it is made."""
    with scope(len(where)) as raised:
        yield
    raise_inner(raised, where)


def raise_where_null(value) -> None:
    """Note the rows where `value`, an operand Java unboxes, is NULL."""
    raised = _RAISED.get()
    if raised is None:
        return
    if isinstance(value, pa.Scalar):
        if not value.is_valid:
            raise_rows(np.ones(len(raised), dtype=bool), NULL_OPERAND)
    elif value.null_count:
        raise_rows(value.is_null().to_numpy(zero_copy_only=False), NULL_OPERAND)


def raise_where(condition, why: int) -> None:
    """Note the rows where a boolean array (or scalar, for every row) is true."""
    raised = _RAISED.get()
    if raised is None:
        return
    if isinstance(condition, pa.Scalar):
        if condition.is_valid and condition.as_py():
            raise_rows(np.ones(len(raised), dtype=bool), why)
    elif pc.any(condition).as_py():
        raise_rows(pc.fill_null(condition, False).to_numpy(zero_copy_only=False), why)


def raise_where_unparsed(text, parsed) -> None:
    """Note the rows where a string was given (`text`) and its CAST came out NULL."""
    raised = _RAISED.get()
    if raised is None:
        return
    if isinstance(text, pa.Scalar):
        if text.is_valid and not (parsed.is_valid if isinstance(parsed, pa.Scalar) else parsed[0].is_valid):
            raise_rows(np.ones(len(raised), dtype=bool), UNPARSED)
    elif parsed.null_count > text.null_count:
        raise_rows(pc.and_(text.is_valid(), parsed.is_null()).to_numpy(zero_copy_only=False), UNPARSED)


def raise_rows(rows: np.ndarray, why: int) -> None:
    """Note that evaluating these rows (a bool per row) threw `why` (a key of MESSAGES)."""
    raise_inner(np.where(rows, why, 0).astype(np.int8))


def raise_inner(codes: np.ndarray, where: np.ndarray | None = None) -> None:
    """Take what an evaluation inside threw (its flags), in the rows it was reached (`where`)."""
    raised = _RAISED.get()
    if raised is None:
        return
    if where is not None:
        codes = np.where(where, codes, 0)
    first = raised == 0  # (the first throw is the one Java reports)
    raised[first] = codes[first]


def flags(value, n: int, truth: bool) -> np.ndarray:
    """Per row: whether a boolean value is `truth` (NULL is neither)."""
    return broadcast(pc.fill_null(pc.equal(value, truth), False), n, pa.bool_()).to_numpy(zero_copy_only=False)


def raised_rows() -> np.ndarray | None:
    """The current evaluation's flags, or None outside one."""
    return _RAISED.get()
