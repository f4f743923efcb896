"""`ksql test`: run SQL tests."""
from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    print("ksql test: not available yet", file=sys.stderr)
    return 2
