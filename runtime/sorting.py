"""Sorting numbers a whole batch at a time."""
from __future__ import annotations

import numpy as np

_LIMIT = 2**62


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """What np.argsort(values, kind="stable") gives (equal values keep their order), faster:
    each value widened by its position is a distinct number, which numpy's default sort (a
    vectorized quicksort) orders four times as fast as its stable sort orders the values. When
    the widened numbers would not fit in 63 bits, the stable sort does it."""
    n = len(values)
    if n < 2:
        return np.arange(n)
    low = int(values.min())
    if (int(values.max()) - low + 1) * n >= _LIMIT:
        return np.argsort(values, kind="stable")
    return np.argsort((values.astype(np.int64) - low) * n + np.arange(n))
