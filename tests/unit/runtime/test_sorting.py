"""stable_argsort orders as numpy's stable sort does, whichever way it sorts."""
from __future__ import annotations

import numpy as np
import pytest

from ksql.runtime.sorting import stable_argsort


@pytest.mark.parametrize("values", [
    np.array([], np.int64),
    np.array([7], np.int64),
    np.array([3, 1, 3, 2, 1, 3], np.int64),
    np.array([-5, 2**40, -5, 0, 2**40], np.int64),
    np.random.default_rng(1).integers(0, 50, 10_000),  # a narrow span: the radix sort
    np.random.default_rng(2).integers(-(2**15), 2**15, 10_000),  # the widest the radix sort takes
    np.random.default_rng(3).integers(-(2**15), 2**15 + 1, 10_000),  # one more: widened
    np.array([2**62, -(2**62), 0, 2**62], np.int64),  # too wide to widen: the stable sort does it
])
def test_equal_values_keep_their_order(values):
    assert stable_argsort(values).tolist() == np.argsort(values, kind="stable").tolist()
