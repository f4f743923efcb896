"""polars for the batch serdes, and whether this process may use it.

polars runs its work on a pool of threads started the first time it is used. A process forked
after that has the pool's bookkeeping but none of its threads, and polars then waits forever
for them. So a forked child of a process that used polars does without it: the serdes answer
None and their record-by-record paths do the work. (The engine itself never forks; test
harnesses and benchmarks that do should fork before using it, or spawn.)
"""
from __future__ import annotations

import os

_used = False  # this process has called into polars
_lost = False  # this process was forked from one that had: polars would hang here


def _forked() -> None:
    global _lost
    _lost = _lost or _used


os.register_at_fork(after_in_child=_forked)


def polars():
    """The polars module, or None when this process may not use it."""
    global _used
    if _lost:
        return None
    import polars as module  # here, not at the top: importing it takes ~0.4 s, which a shell's start need not pay

    _used = True
    return module
