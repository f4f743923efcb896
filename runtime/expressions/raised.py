"""Where ksqlDB's generated code throws on a NULL, a batch at a time.

ksqlDB compiles an expression into Java, where a NULL operand of arithmetic (a boxed number
unboxed), of NOT, or on the left of AND and OR throws a NullPointerException; the record's
value for the whole expression is then NULL, and the error goes to the processing log. So
`COALESCE(x + 1, 0)` is NULL when x is (and `x + 1` alone is NULL, logged). Comparisons test
for NULL first (false), and so does IS NULL. The evaluators note the rows where such a throw
happens in the current batch's flags; the parts Java evaluates only sometimes (a CASE's
branches, the right side of AND and OR) count where they are reached.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.arrays import broadcast

_RAISED: ContextVar[np.ndarray | None] = ContextVar("raised_rows", default=None)
NULL_OPERAND = "java.lang.NullPointerException: a NULL operand of an arithmetic or logical operator"


class NullOperand(Exception):
    """The error ksqlDB's generated code throws on a NULL it unboxes (for the processing log)."""


@contextmanager
def scope(n: int):
    """Flags for the rows of an evaluation inside (a fresh set: the outer one is not touched)."""
    raised = np.zeros(n, dtype=bool)
    token = _RAISED.set(raised)
    try:
        yield raised
    finally:
        _RAISED.reset(token)


def raise_where_null(value) -> None:
    """Note the rows where `value`, an operand Java unboxes, is NULL."""
    raised = _RAISED.get()
    if raised is None:
        return
    if isinstance(value, pa.Scalar):
        if not value.is_valid:
            raised[:] = True
    elif value.null_count:
        raised |= value.is_null().to_numpy(zero_copy_only=False)


def raise_rows(rows: np.ndarray) -> None:
    """Note that evaluating these rows threw (what a lambda's body threw, by parent row)."""
    raised = _RAISED.get()
    if raised is not None:
        raised |= rows


def flags(value, n: int, truth: bool) -> np.ndarray:
    """Per row: whether a boolean value is `truth` (NULL is neither)."""
    return broadcast(pc.fill_null(pc.equal(value, truth), False), n, pa.bool_()).to_numpy(zero_copy_only=False)


def raised_rows() -> np.ndarray | None:
    """The current evaluation's flags, or None outside one."""
    return _RAISED.get()
