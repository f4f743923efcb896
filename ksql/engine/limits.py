"""How big a statement may be: checked before parsing, so no request can make the parser
work without bound; and how often Python's garbage collector runs."""
from __future__ import annotations

import gc
import re
import sys


from ksql.errors import KsqlStatementError


# Limits on one statement, checked before it is parsed: parsing and planning take time and
# memory in proportion to its size, while the engine serves everyone else.
MAX_STATEMENT_LENGTH = 1_000_000  # characters


MAX_STATEMENT_TOKENS = 100_000  # words, numbers, strings and symbols


_TOKEN = re.compile(r"'(?:[^']|'')*'|`[^`]*`|\"[^\"]*\"|\w+|[^\w\s]")


# Planning and evaluating an expression recurse once per level of nesting; the recursion limit
# is raised (at import) so statements a program generates fit, and deeper ones get a clear error.
MAX_NESTING = 3_000


sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))


# Python's collector runs a young collection every 700 new objects and, every 100 of those, a
# full one over every object alive. Queries make objects per record (the rows a join's table
# keeps, the values of state keys), so with the defaults a batch set off collections that walked
# the whole long-lived state again and again: a stream-table join over 40,000 table rows ran
# at 150 k rows/s, and at 227 k with young collections every 50,000 objects.
# The survivors of young collections are collected again, as a middle generation, at every
# second young collection: a pause over at most about 100,000 objects. At every 20th, as it was,
# that collection walked up to a million of them (the new state of a windowed aggregation) for
# 60-190 ms, which set the aggregation's p99 latency (Nexmark q5 at 123 k events/s: p99 100-109
# ms; 55-57 ms with these). Full collections come as seldom as before (every 2,000 young ones).
GC_THRESHOLDS = (50_000, 2, 1_000)


def tune_garbage_collector() -> None:
    """Collect young objects less often than Python's defaults (never more often than someone
    asked for), and their survivors in smaller steps."""
    young, _, full = gc.get_threshold()
    gc.set_threshold(max(GC_THRESHOLDS[0], young), GC_THRESHOLDS[1], max(GC_THRESHOLDS[2], full))


def check_size(text: str) -> None:
    if len(text) > MAX_STATEMENT_LENGTH:
        raise KsqlStatementError(f"The statement is {len(text):,} characters long: a statement may have at most "
                                 f"{MAX_STATEMENT_LENGTH:,}.")
    if len(text) > MAX_STATEMENT_TOKENS:  # (fewer characters cannot make more tokens)
        tokens = sum(1 for _ in _TOKEN.finditer(text))
        if tokens > MAX_STATEMENT_TOKENS:
            raise KsqlStatementError(f"The statement has {tokens:,} words and symbols: a statement may have at "
                                     f"most {MAX_STATEMENT_TOKENS:,}.")
