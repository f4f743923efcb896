"""`ksql test`: run SQL tests in any of three forms and report per case.

    ksql test --sql-file statements.sql --input-file input.json --output-file output.json
    ksql test tests.sql ...              SQL files with --@test: blocks and ASSERT statements
    ksql test cases.json ... [--case NAME]   ksqlDB's JSON test files
"""
from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ksql.testing.case import ERROR, PASSED, Case, Result
from ksql.testing.cases import run_case


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ksql test", description="Run SQL tests on a fresh embedded engine each.")
    parser.add_argument("files", nargs="*", help="SQL test files (.sql) or ksqlDB JSON test files (.json)")
    parser.add_argument("-s", "--sql-file", help="statements of a test-runner triple")
    parser.add_argument("-i", "--input-file", help="input records of a test-runner triple")
    parser.add_argument("-o", "--output-file", help="expected output records of a test-runner triple")
    parser.add_argument("--case", action="append", default=[], help="run only the case(s) with this name")
    parser.add_argument("--report", help="write one JSON object per case, one per line, to this file")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="run cases in this many processes")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only failures and the summary")
    parser.add_argument("-e", "--extension-dir", help="a folder of Python files defining functions (see ksql.udf)")
    args = parser.parse_args(argv)
    if args.extension_dir:
        from ksql.udf import load_extensions

        load_extensions(args.extension_dir)

    results: list[Result] = []
    cases: list[Case] = []
    if args.sql_file:
        from ksql.testing.triple import case_from_triple

        try:
            cases.append(case_from_triple(args.sql_file, args.input_file, args.output_file))
        except Exception as error:  # noqa: BLE001 - report, don't crash
            results.append(Result(args.sql_file, Path(args.sql_file).parent.name, ERROR, str(error)))
    elif not args.files:
        parser.error("give test files, or --sql-file with --output-file")
    for name in args.files:
        cases_or_error = _load(name)
        if isinstance(cases_or_error, Result):
            results.append(cases_or_error)
        else:
            cases += cases_or_error
    if args.case:
        wanted = set(args.case)
        cases = [c for c in cases if c.name in wanted]
    results += run_cases(cases, args.jobs)
    _print(results, args.quiet)
    if args.report:
        with open(args.report, "w") as f:
            for result in results:
                f.write(json.dumps(result.as_dict()) + "\n")
    return 0 if results and all(r.status == PASSED for r in results) else 1


def _load(name: str):
    path = Path(name)
    try:
        if path.suffix == ".json":
            from ksql.testing.qtt import cases_from_file

            return cases_from_file(path)
        from ksql.testing.sqltests import cases_from_sql_file

        return cases_from_sql_file(path)
    except Exception as error:  # noqa: BLE001 - a broken file is reported, the others still run
        return Result(path.name, "", ERROR, str(error))


def run_cases(cases: list[Case], jobs: int = 1) -> list[Result]:
    if jobs <= 1 or len(cases) < 2:
        return [run_case(c) for c in cases]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run_case, cases, chunksize=8))


def _print(results: list[Result], quiet: bool) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
        if result.status == PASSED:
            if not quiet:
                print(f">>> Test passed! {result.file}: {result.case}")
        elif not quiet or result.status != "unsupported":
            print(f">>> {result.status.upper()}: {result.file}: {result.case}\n    "
                  + result.reason.replace("\n", "\n    "))
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("passed", "failed", "error", "unsupported"))
    print(f"{summary} ({len(results)} cases)")
    sys.stdout.flush()
