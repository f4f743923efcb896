"""DECIMAL division as ksqlDB's generated code does it: `a.divide(b, new MathContext(precision,
RoundingMode.UNNECESSARY)).setScale(scale)`, which throws unless the quotient is exact at the
result's scale (binder.arithmetic_type sizes it). The batch kernel (Arrow) and the row kernel
(Python integers, for decimals too wide for Arrow to check) against exact rational arithmetic."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from ksql.planner import types as T
from ksql.planner.binder import arithmetic_type
from ksql.runtime.expressions import raised
from ksql.runtime.expressions.kernels import _decimal_quotients, _decimal_quotients_by_row, divide


@st.composite
def operands(draw):
    p1, p2 = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    s1, s2 = draw(st.integers(0, p1)), draw(st.integers(0, p2))

    def values(p, s):
        unscaled = st.one_of(st.none(), st.integers(-(10 ** p) + 1, 10 ** p - 1),
                             st.sampled_from([x for x in (0, 1, 2, 4, 5, 8, 16, 25, 64, 125, 3, 7) if x < 10 ** p]))
        return draw(st.lists(unscaled, min_size=1, max_size=12).map(
            lambda xs: [None if x is None else Decimal(x).scaleb(-s) for x in xs]))

    left = values(p1, s1)
    right = values(p2, s2)[:len(left)]
    left = left[:len(right)]
    return (p1, s1, left), (p2, s2, right)


def expected(x, y, scale):
    if x is None or y is None or y == 0:
        return None
    quotient = Fraction(x) / Fraction(y) * 10 ** scale
    return None if quotient.denominator != 1 else Decimal(quotient.numerator).scaleb(-scale)


@given(operands())
@settings(max_examples=200, deadline=None)
def test_quotients_are_exact_at_the_result_scale_or_null(data):
    (p1, s1, xs), (p2, s2, ys) = data
    result = arithmetic_type("/", T.decimal(p1, s1), T.decimal(p2, s2))
    arrow_result = T.to_arrow(result)
    a, b = pa.array(xs, pa.decimal128(p1, s1)), pa.array(ys, pa.decimal128(p2, s2))
    want = [expected(x, y, result.scale) for x, y in zip(xs, ys)]
    for kernel in (_decimal_quotients, _decimal_quotients_by_row):
        with raised.scope(len(xs)) as flags:
            got = kernel(a, b, arrow_result)
        assert got.to_pylist() == want
        inexact = [x is not None and y is not None and y != 0 and w is None for x, y, w in zip(xs, ys, want)]
        assert [f == raised.ROUNDING for f in flags.tolist()] == inexact


def test_integers_divide_as_decimals_and_scalars_broadcast():
    """INT / DECIMAL takes the INT as DECIMAL(10, 0); a literal divisor is a scalar."""
    result = T.to_arrow(arithmetic_type("/", T.INTEGER, T.decimal(3, 1)))
    with raised.scope(3) as flags:
        got = divide(pa.array([1, 10, 7], pa.int32()), pa.scalar(Decimal("0.3"), pa.decimal128(3, 1)), True, result)
    assert got.to_pylist() == [None, None, None] and flags.tolist() == [raised.ROUNDING] * 3
    with raised.scope(2) as flags:
        got = divide(pa.array([3, 6], pa.int32()), pa.scalar(Decimal("1.5"), pa.decimal128(3, 1)), True, result)
    assert got.to_pylist() == [Decimal(2), Decimal(4)]
    assert flags.tolist() == [0, 0]
