"""The scalar function library: every built-in function, by family, each with its row-level
definition and its batch kernel side by side (common.py has what they share). Importing this
package registers them in the registry (planner/functions.py); read FUNCTIONS from here, so
the built-ins are always there."""
from __future__ import annotations

# The families register their functions when imported, in this order.
from ksql.planner.library import maths, strings, regex, conditionals, collections, json, urls, dates  # noqa: F401
from ksql.planner.library.dates import UNIT_FUNCTIONS
from ksql.planner.functions import FUNCTIONS, BadArguments, register, resolve_call, rows

__all__ = ["FUNCTIONS", "UNIT_FUNCTIONS", "BadArguments", "register", "resolve_call", "rows"]
