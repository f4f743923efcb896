"""Parser throughput: statements per second over a large script.

    python -m benchmarks.parse [--repeat N]

The script is every statement of the conformance corpus that parses (about 5,000, of every
kind), repeated N times, parsed one statement at a time as `ksql run` does.
"""
from __future__ import annotations

import argparse
import time

from ksql.errors import KsqlSyntaxError
from ksql.parser import parse_statement, split_statements


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from ksql.testing.conformance import corpus_statements

    statements = []
    for text in corpus_statements():
        try:
            parse_statement(text)
            statements.append(text.rstrip().rstrip(";") + ";")
        except KsqlSyntaxError:
            pass
    script = "\n".join(statements * args.repeat)
    started = time.perf_counter()
    pieces = split_statements(script)
    split_seconds = time.perf_counter() - started
    for piece in pieces:
        parse_statement(piece.text)
    seconds = time.perf_counter() - started
    print(f"parsed {len(pieces)} statements ({len(script) / 1e6:.1f} MB) in {seconds:.2f} s: "
          f"{len(pieces) / seconds:,.0f} statements/s (splitting took {split_seconds:.2f} s)")


if __name__ == "__main__":
    main()
