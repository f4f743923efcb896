"""Aggregate functions: each resolves its result type from its argument types at plan time
and keeps a small state per group: init, add (one input row), undo (the reverse of add, for
aggregations over tables), merge (two states, for session windows) and result."""
from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Callable

from ksql.parser.errors import KsqlFunctionError, KsqlStatementError
from ksql.planner import types as T
from ksql.planner.types import SqlType


@dataclass(frozen=True)
class Aggregate:
    name: str
    description: str
    resolve: Callable[[list], SqlType]  # argument types -> result type; raises KsqlStatementError
    init: Callable[[], Any]
    add: Callable[..., Any]  # (state, *args) -> state
    result: Callable[[Any], Any]
    undo: Callable[..., Any] | None = None  # None: not allowed on tables
    merge: Callable[[Any, Any], Any] | None = None
    literal_args: int = 0  # trailing arguments that must be literals (TOPK's k, ...)
    # For overloaded user aggregates: (argument types) -> the Aggregate for those types.
    specialize: Callable[[list], "Aggregate"] | None = None
    # For user aggregates with init arguments: (every argument's type) -> how many trailing
    # arguments are init arguments (literals given once, not per row)
    init_args: Callable[[list], int] | None = None


AGGREGATES: dict[str, Aggregate] = {}


def register(aggregate: Aggregate) -> None:
    AGGREGATES[aggregate.name] = aggregate


def _bad(name, types):
    shown = ", ".join(str(t) if t else "null" for t in types)
    return KsqlStatementError(f"Function '{name.lower()}' does not accept parameters ({shown}).")


def _numeric(name):
    def resolve(types):
        if len(types) != 1 or (types[0] is not None and not types[0].is_numeric):
            raise _bad(name, types)
        return types[0] or T.BIGINT
    return resolve


# COUNT(*) is COUNT of no argument: counts rows; COUNT(x) skips NULLs.
def _count_add(state, *args):
    return state + (1 if not args or args[0] is not None else 0)


def _count_undo(state, *args):
    return state - (1 if not args or args[0] is not None else 0)


register(Aggregate("COUNT", "The number of rows, or of non-NULL values.", lambda types: T.BIGINT,
                   lambda: 0, _count_add, lambda s: s, _count_undo, lambda a, b: a + b))


def _sum_add(state, value):
    return state if value is None else (value if state is None else state + value)


def _sum_undo(state, value):
    return state if value is None or state is None else state - value


def _sum_for(types):
    """A DECIMAL sum keeps its argument's type: a total that does not fit it fails the query."""
    sum_type = types[0] if types else None
    if sum_type is None or sum_type.base != "DECIMAL":
        return AGGREGATES["SUM"]
    precision, scale = sum_type.params
    limit = Decimal(10) ** (precision - scale)

    def add(state, value):
        total = _sum_add(state, value)
        if total is not None and abs(total) >= limit:
            raise KsqlFunctionError("Numeric field overflow")
        return total

    return replace(AGGREGATES["SUM"], add=add, merge=add, specialize=None)


register(Aggregate("SUM", "The sum of the values.", _numeric("SUM"), lambda: None, _sum_add,
                   lambda s: 0 if s is None else s, _sum_undo, lambda a, b: _sum_add(a, b),
                   specialize=_sum_for))


def _avg_add(state, value):
    total, count = state
    return state if value is None else (total + value, count + 1)


def _avg_undo(state, value):
    total, count = state
    return state if value is None else (total - value, count - 1)


def _avg_result(state):
    total, count = state
    if count == 0:
        return None
    return float(total) / count


register(Aggregate("AVG", "The average of the values.", lambda types: _numeric("AVG")(types) and T.DOUBLE,
                   lambda: (0, 0), _avg_add, _avg_result, _avg_undo,
                   lambda a, b: (a[0] + b[0], a[1] + b[1])))


def _comparable(name):
    def resolve(types):
        if len(types) != 1:
            raise _bad(name, types)
        t = types[0] or T.BIGINT
        if t.base in ("ARRAY", "MAP", "STRUCT", "BOOLEAN"):
            raise _bad(name, types)
        return t
    return resolve


def _extreme(pick):
    def add(state, value):
        if value is None:
            return state
        if isinstance(value, float) and math.isnan(value):
            return state
        return value if state is None else pick(state, value)
    return add


register(Aggregate("MIN", "The smallest value.", _comparable("MIN"), lambda: None, _extreme(min), lambda s: s,
                   None, _extreme(min)))
register(Aggregate("MAX", "The largest value.", _comparable("MAX"), lambda: None, _extreme(max), lambda s: s,
                   None, _extreme(max)))


def _collect_list_add(state, value):
    return state + [value]


def _collect_list_undo(state, value):
    state = list(state)
    if value in state:
        state.remove(value)
    return state


register(Aggregate("COLLECT_LIST", "Every value, in arrival order, as an array.",
                   lambda types: T.array(types[0] or T.STRING), lambda: [], _collect_list_add, lambda s: s,
                   _collect_list_undo, lambda a, b: a + b))


# The server settings that cap the arrays COLLECT_LIST and COLLECT_SET build (unset: no cap).
COLLECTION_LIMITS = {"COLLECT_LIST": "ksql.functions.collect_list.limit",
                     "COLLECT_SET": "ksql.functions.collect_set.limit"}


def limited(aggregate: Aggregate, limit: int) -> Aggregate:
    """A collecting aggregate that keeps at most `limit` values: later ones are ignored, and
    merged session windows keep the first window's values, then the second's, up to the limit."""
    add, merge = aggregate.add, aggregate.merge

    def limited_add(state, value):
        return state if len(state) >= limit else add(state, value)

    return replace(aggregate, add=limited_add, merge=lambda a, b: merge(a, b)[:limit])


def _canonical(value):
    """A form of a value in which equal values are equal: a MAP (a list of key-value pairs,
    as Arrow gives it) is the same map whatever the order of its entries, as in Java."""
    if isinstance(value, list):
        if value and all(isinstance(item, tuple) for item in value):
            return frozenset((k, _canonical(v)) for k, v in value)
        return tuple(_canonical(item) for item in value)
    if isinstance(value, dict):
        return tuple((k, _canonical(v)) for k, v in value.items())
    return value


def _collect_set_add(state, value):
    seen = _canonical(value)
    return state if any(_canonical(item) == seen for item in state) else state + [value]


def _collect_set_merge(first, second):
    merged = list(first)
    for value in second:
        merged = _collect_set_add(merged, value)
    return merged


register(Aggregate("COLLECT_SET", "The distinct values, in order of first arrival, as an array.",
                   lambda types: T.array(types[0] or T.STRING), lambda: [], _collect_set_add, lambda s: s,
                   None, _collect_set_merge))  # no undo: ksqlDB's is for streams only


def _distinct_add(state, value):
    if value is None:
        return state
    counts = Counter(state)
    counts[value] += 1
    return dict(counts)


register(Aggregate("COUNT_DISTINCT", "The number of distinct non-NULL values.", lambda types: T.BIGINT,
                   lambda: {}, _distinct_add, lambda s: len(s), None,
                   lambda a, b: dict(Counter(a) + Counter(b))))


# HISTOGRAM counts at most this many distinct values; a value new past it is ignored
HISTOGRAM_LIMIT = 1000


def _histogram_add(state, value):
    if value is None or (len(state) >= HISTOGRAM_LIMIT and value not in state):
        return state
    state = dict(state)
    state[value] = state.get(value, 0) + 1
    return state


def _histogram_merge(first, second):
    """The first window's counts, then the second's added in its order, up to the limit."""
    merged = dict(first)
    for value, count in second.items():
        if len(merged) < HISTOGRAM_LIMIT or value in merged:
            merged[value] = merged.get(value, 0) + count
    return merged


def _histogram_undo(state, value):
    if value is None or value not in state:
        return state
    state = dict(state)
    state[value] -= 1
    if state[value] <= 0:
        del state[value]
    return state


register(Aggregate("HISTOGRAM", "How many times each string value occurs, as a map of at most 1000 distinct values.",
                   lambda types: T.map_of(T.STRING, T.BIGINT), lambda: {}, _histogram_add,
                   lambda s: list(s.items()), _histogram_undo, _histogram_merge))


# Each value EARLIEST_BY_OFFSET / LATEST_BY_OFFSET keeps carries a sequence number, so that
# merging two session windows keeps the earliest (latest) of both by arrival, as ksqlDB's do.
# The numbers start from the clock, so values kept before a restart stay earlier.
_SEQUENCE = itertools.count(time.time_ns())


def _by_offset(latest: bool):
    """EARLIEST_BY_OFFSET / LATEST_BY_OFFSET (value [, n [, ignore_nulls]]). The state is
    (values, n or None for the single-value form, their sequence numbers)."""
    def resolve(types):
        if not 1 <= len(types) <= 3:
            raise _bad("LATEST_BY_OFFSET" if latest else "EARLIEST_BY_OFFSET", types)
        t = types[0] or T.STRING
        return T.array(t) if len(types) >= 2 and types[1] is not None and types[1].base == "INTEGER" else t

    def add(state, value, *options):
        n = options[0] if options and isinstance(options[0], int) and not isinstance(options[0], bool) else None
        ignore_nulls = options[-1] if options and isinstance(options[-1], bool) else True
        if value is None and ignore_nulls:
            return state or ([], n, [])  # nothing kept yet: n-forms show []
        items, sequence = _kept(state)
        limit = n or 1
        if latest:
            items, sequence = (items + [value])[-limit:], (sequence + [next(_SEQUENCE)])[-limit:]
        elif len(items) < limit:
            items, sequence = items + [value], sequence + [next(_SEQUENCE)]
        return (items, n, sequence)

    def merge(first, second):
        if not first or not second:
            return first or second
        (a, a_seq), (b, b_seq) = _kept(first), _kept(second)
        n = first[1] if not isinstance(first[1], bool) else second[1]
        limit = (n or 1) if not isinstance(n, bool) else max(len(a), len(b), 1)
        pairs = sorted(zip(a_seq + b_seq, a + b), key=lambda pair: pair[0])
        pairs = pairs[-limit:] if latest else pairs[:limit]
        return ([v for _, v in pairs], n, [q for q, _ in pairs])

    def result(state):
        if not state:
            return None
        items, form = state[0], state[1]
        if form is not None and form is not False:  # (True: a state kept before sequence numbers)
            return items
        return items[0] if items else None

    return resolve, add, merge, result


def by_offset_state(value) -> tuple:
    """The state of a single-value EARLIEST_BY_OFFSET / LATEST_BY_OFFSET that keeps `value`
    (as its add() leaves it), for callers that find the value some other way."""
    return ([value], None, [next(_SEQUENCE)])


def _kept(state) -> tuple[list, list]:
    """A by-offset state's values and their sequence numbers (a state kept before they were
    recorded numbers its values in order)."""
    if not state:
        return [], []
    items = list(state[0])
    sequence = list(state[2]) if len(state) > 2 else list(range(-len(items), 0))
    return items, sequence


for _latest, _name in ((False, "EARLIEST_BY_OFFSET"), (True, "LATEST_BY_OFFSET")):
    _resolve, _add, _merge, _result = _by_offset(_latest)
    register(Aggregate(_name, f"The {'latest' if _latest else 'earliest'} value(s) by offset.", _resolve,
                       lambda: None, _add, _result, None, _merge, literal_args=2))


def _topk(distinct: bool):
    """TOPK(x, k), or TOPK(x, other columns..., k): each row of the result then is a struct
    of the sort value and the other columns of the row it came from."""
    def add(state, value, *rest):
        k, others = rest[-1], rest[:-1]
        if value is None:
            return state
        item = value if not others else \
            {"sort_col": value, **{f"col{i}": other for i, other in enumerate(others)}}
        items = list(state) + [item]
        if distinct:
            items = list(dict.fromkeys(items))
        key = (lambda entry: entry["sort_col"]) if others else None
        return sorted(items, key=key, reverse=True)[:k]

    return add


def _topk_type(types):
    sort_type = types[0] or T.STRING
    others = types[1:-1]
    if not others:
        return T.array(sort_type)
    return T.array(T.struct([("sort_col", sort_type)] + [(f"col{i}", t or T.STRING) for i, t in enumerate(others)]))


register(Aggregate("TOPK", "The k largest values (with other columns of their rows, if given).", _topk_type,
                   lambda: [], _topk(False), lambda s: s, None, None, literal_args=1))
register(Aggregate("TOPKDISTINCT", "The k largest distinct values.", lambda types: T.array(types[0] or T.STRING),
                   lambda: [], _topk(True), lambda s: s, None, None, literal_args=1))


def _stddev_add(state, value):
    if value is None:
        return state
    count, total, squares = state
    value = float(value)
    return (count + 1, total + value, squares + value * value)


def _stddev_undo(state, value):
    if value is None:
        return state
    count, total, squares = state
    value = float(value)
    return (count - 1, total - value, squares - value * value)


def _stddev_result(state):
    count, total, squares = state
    if count < 2:
        return None if count == 0 else 0.0
    variance = (squares - total * total / count) / (count - 1)
    return math.sqrt(max(variance, 0.0))


def _variance_result(state):
    count, total, squares = state
    if count < 2:
        return None if count == 0 else 0.0
    return (squares - total * total / count) / (count - 1)


# ksqlDB's STDDEV_SAMP returns the sample variance (its own tests say so); STDDEV_SAMPLE the
# sample standard deviation.
for _name, _result, _text in (("STDDEV_SAMP", _variance_result, "The sample variance (as ksqlDB computes it)."),
                              ("STDDEV_SAMPLE", _stddev_result, "The sample standard deviation.")):
    register(Aggregate(_name, _text, lambda types, name=_name: _numeric(name)(types) and T.DOUBLE,
                       lambda: (0, 0.0, 0.0), _stddev_add, _result, _stddev_undo,
                       lambda a, b: (a[0] + b[0], a[1] + b[1], a[2] + b[2])))


def _corr_add(state, x, y):
    if x is None or y is None:
        return state
    n, sx, sy, sxx, syy, sxy = state
    x, y = float(x), float(y)
    return (n + 1, sx + x, sy + y, sxx + x * x, syy + y * y, sxy + x * y)


def _corr_undo(state, x, y):
    if x is None or y is None:
        return state
    n, sx, sy, sxx, syy, sxy = state
    x, y = float(x), float(y)
    return (n - 1, sx - x, sy - y, sxx - x * x, syy - y * y, sxy - x * y)


def _corr_result(state):
    n, sx, sy, sxx, syy, sxy = state
    if n < 2:
        return float("nan")
    cov = sxy - sx * sy / n
    vx, vy = sxx - sx * sx / n, syy - sy * sy / n
    if vx <= 0 or vy <= 0:
        return float("nan")
    return cov / math.sqrt(vx * vy)


register(Aggregate("CORRELATION", "The correlation coefficient of two columns.", lambda types: T.DOUBLE,
                   lambda: (0, 0.0, 0.0, 0.0, 0.0, 0.0), _corr_add, _corr_result, _corr_undo,
                   lambda a, b: tuple(x + y for x, y in zip(a, b))))


def _attr_add(state, value):
    """State: each distinct value (compared as equal values compare, so arrays, maps and
    structs too) with how many rows hold it."""
    counts = dict(state)
    key = _canonical(value)
    count, kept = counts.get(key, (0, value))
    counts[key] = (count + 1, kept)
    return counts


def _attr_undo(state, value):
    counts = dict(state)
    key = _canonical(value)
    count, kept = counts.get(key, (0, value))
    if count <= 1:
        counts.pop(key, None)
    else:
        counts[key] = (count - 1, kept)
    return counts


def _attr_result(state):
    return next(iter(state.values()))[1] if len(state) == 1 else None


register(Aggregate("ATTR", "The value when every row has the same one, else NULL.",
                   lambda types: types[0] or T.STRING, lambda: {}, _attr_add, _attr_result, _attr_undo))


def _sum_list_add(state, values):
    if values is None:
        return state
    return state + sum(v for v in values if v is not None)


register(Aggregate("SUM_LIST", "The sum of every element of array values.",
                   lambda types: types[0].params[0] if types[0] is not None else T.DOUBLE, lambda: 0,
                   _sum_list_add, lambda s: s,
                   lambda state, values: state if values is None else state - sum(v for v in values if v is not None)))


def is_aggregate(name: str) -> bool:
    return name in AGGREGATES


__all__ = ["AGGREGATES", "Aggregate", "is_aggregate", "Decimal"]
