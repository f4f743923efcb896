"""How big a statement may be: checked before parsing, so no request can make the parser
work without bound."""
from __future__ import annotations

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


def check_size(text: str) -> None:
    if len(text) > MAX_STATEMENT_LENGTH:
        raise KsqlStatementError(f"The statement is {len(text):,} characters long: a statement may have at most "
                                 f"{MAX_STATEMENT_LENGTH:,}.")
    if len(text) > MAX_STATEMENT_TOKENS:  # (fewer characters cannot make more tokens)
        tokens = sum(1 for _ in _TOKEN.finditer(text))
        if tokens > MAX_STATEMENT_TOKENS:
            raise KsqlStatementError(f"The statement has {tokens:,} words and symbols: a statement may have at "
                                     f"most {MAX_STATEMENT_TOKENS:,}.")
