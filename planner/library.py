"""The scalar function library as its users see it: the registry (functions.py) with every
built-in function in it (builtins.py registers them when imported). Read FUNCTIONS from here,
not from functions.py, so the built-ins are always there."""
from __future__ import annotations

from ksql.planner import builtins  # noqa: F401  (registers the built-in functions)
from ksql.planner.builtins import UNIT_FUNCTIONS
from ksql.planner.functions import FUNCTIONS, BadArguments, compile_call, register, resolve_call, rows

__all__ = ["FUNCTIONS", "UNIT_FUNCTIONS", "BadArguments", "compile_call", "register", "resolve_call", "rows"]
