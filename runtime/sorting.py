"""Sorting numbers a whole batch at a time."""
from __future__ import annotations

import numpy as np

_LIMIT = 2**62
_RADIX = 2**16


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """What np.argsort(values, kind="stable") gives (equal values keep their order), faster:
    each value widened by its position is a distinct number, which numpy's default sort (a
    vectorized quicksort) orders four times as fast as its stable sort orders the values. When
    the widened numbers would not fit in 63 bits, the stable sort does it. Values spanning fewer
    than 2**16 numbers (group codes of a batch, mostly) take numpy's stable sort of 16-bit
    integers, a radix sort: twice as fast again."""
    n = len(values)
    if n < 2:
        return np.arange(n)
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span <= _RADIX:
        return np.argsort((values - low).astype(np.uint16), kind="stable")
    if span * n >= _LIMIT:
        return np.argsort(values, kind="stable")
    return np.argsort((values.astype(np.int64) - low) * n + np.arange(n))
