"""HISTOGRAM's cap of 1000 distinct values (ksqlDB's aggregate-functions page), as rows are
added and as two session windows merge: the first window's values, then the second's in order."""
from ksql.planner.aggregates import AGGREGATES, HISTOGRAM_LIMIT

HISTOGRAM = AGGREGATES["HISTOGRAM"]


def fill(values):
    state = HISTOGRAM.init()
    for value in values:
        state = HISTOGRAM.add(state, value)
    return state


def test_a_new_value_past_the_limit_is_ignored_and_a_known_one_still_counted():
    state = fill([str(i) for i in range(HISTOGRAM_LIMIT)])
    state = HISTOGRAM.add(state, "new")
    state = HISTOGRAM.add(state, "0")
    assert len(state) == 1000
    assert "new" not in state
    assert state["0"] == 2


def test_merging_sessions_keeps_the_first_window_then_the_second_in_order():
    first = fill([str(i) for i in range(999)])
    second = fill(["x", "y", "0"])
    merged = HISTOGRAM.merge(first, second)
    assert len(merged) == 1000
    assert merged["x"] == 1 and "y" not in merged
    assert merged["0"] == 2
