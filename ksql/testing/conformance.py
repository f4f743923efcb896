"""The ksqlDB conformance run: every case of the corpus, a report, and the ratchet baseline.

    python -m ksql.testing.conformance [--corpus DIR] [-j N] [--out conformance]

writes conformance/results.json (per case) and conformance/SUMMARY.md (per file and in total,
and per docs page for the documented behaviour tested in tests/sql/docs).
`--check` runs only the cases the committed baseline lists as passing and fails if any of
them no longer passes; `--update-baseline` rewrites the baseline from a full run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from ksql.testing.case import PASSED, Result
from ksql.testing.cli import run_cases
from ksql.parser import split_statements
from ksql.testing.qtt import load_file, cases_from_file
from ksql.testing.sqltests import cases_from_sql_file
from ksql.testing.triple import case_from_triple
from ksql.udf import load_extensions

ROOT = Path(__file__).resolve().parents[2]
STATUSES = ("passed", "failed", "error", "unsupported")


def default_corpus() -> Path:
    return Path(os.environ.get("KSQL_CONFORMANCE_DIR", ROOT.parent / "shared" / "conformance" / "ksqldb"))


def corpus_statements() -> list[str]:
    """The text of every statement in the corpus (with {FORMAT} and {CONFIG} filled in)."""
    import glob


    corpus = default_corpus()
    statements = []
    for path in sorted(glob.glob(str(corpus / "*-tests" / "*.json"))):
        try:
            document = load_file(path)
        except Exception:  # noqa: BLE001 - files with JSON errors are reported by the harness
            continue
        for test in document["tests"]:
            fmt = (test.get("format") or ["JSON"])[0]
            for s in test.get("statements", []):
                statements.append(s.replace("{FORMAT}", fmt).replace("{CONFIG}", "true"))
    for path in sorted(glob.glob(str(corpus / "extras" / "**" / "*.sql"), recursive=True)):
        statements += [p.text for p in split_statements(Path(path).read_text())]
    return statements


def collect(corpus: Path):
    """(cases, load errors) of every form in the corpus."""
    cases, errors = [], []
    for folder in ("query-validation-tests", "rest-query-validation-tests"):
        for path in sorted((corpus / folder).glob("*.json")):
            try:
                for case in cases_from_file(path):
                    case.file = f"{folder}/{path.name}"
                    cases.append(case)
            except Exception as error:  # noqa: BLE001 - one broken file must not stop the run
                errors.append(Result(f"{folder}/{path.name}", "", "error", str(error)))
    for path in sorted((corpus / "extras" / "sql-tests").rglob("*.sql")):
        relative = path.relative_to(corpus).as_posix()
        for case in cases_from_sql_file(path):
            case.file = relative
            cases.append(case)
    runner = corpus / "extras" / "test-runner"
    for statements in sorted(list(runner.glob("*/*/statements.sql")) + list(runner.glob("*/statements.sql"))):
        folder = statements.parent
        inputs = folder / "input.json"
        try:
            case = case_from_triple(str(statements), str(inputs) if inputs.exists() else None,
                                    str(folder / "output.json"))
            case.file = folder.relative_to(corpus).as_posix()
            case.name = folder.name
            if folder.parent.name == "incorrect":
                case.name += " (must fail)"
            cases.append(case)
        except Exception as error:  # noqa: BLE001
            name = folder.name + (" (must fail)" if folder.parent.name == "incorrect" else "")
            errors.append(Result(folder.relative_to(corpus).as_posix(), name, "error", str(error)))
    _number_repeated_names(cases)
    return cases, errors


def _number_repeated_names(cases) -> None:
    """A name a file uses twice gets " #2", " #3" ... (in file order) on its later cases, so
    every case has a key of its own in the baseline and a regression cannot hide behind a twin."""
    seen: Counter = Counter()
    for case in cases:
        seen[(case.file, case.name)] += 1
        if seen[(case.file, case.name)] > 1:
            case.name = f"{case.name} #{seen[(case.file, case.name)]}"


def key(result: Result) -> str:
    return f"{result.file}::{result.case}"


def _invert_incorrect(results: list[Result]) -> list[Result]:
    """Triples under incorrect/ pass when the engine reports them as failing."""
    out = []
    for r in results:
        if r.case.endswith("(must fail)"):
            status = "passed" if r.status in ("failed", "error") else "failed"
            reason = "" if status == "passed" else "expected this test-runner case to fail"
            out.append(Result(r.file, r.case, status, reason))
        else:
            out.append(r)
    return out


DOCS_TESTS = ROOT / "tests" / "sql" / "docs"
# the reference pages each of which should have a file of tests in DOCS_TESTS
REFERENCE_PAGES = ("developer-guide/ksqldb-reference/*.md", "reference/*.md", "reference/sql/*.md",
                   "concepts/*.md")


def docs_cases() -> list:
    """The cases of tests/sql/docs: ksqlDB's documented behaviour, one file per docs page (SQL
    test files, and JSON test files for cases that need record headers and the like)."""
    cases = [case for path in sorted(DOCS_TESTS.glob("*.sql")) for case in cases_from_sql_file(path)]
    return cases + [case for path in sorted(DOCS_TESTS.glob("*.json")) for case in cases_from_file(path)]


def docs_section(cases: list, results: list[Result], docs: Path) -> list[str]:
    """SUMMARY.md's lines on the documented behaviour: per page, how many behaviours are tested
    and pass, and which reference pages have no tests yet."""
    by_case = {(r.file, r.case): r for r in results}
    rows: dict[str, Counter] = defaultdict(Counter)
    pages = {}
    for case in cases:
        result = by_case.get((case.file, case.name))
        passed = result is not None and result.status == PASSED
        if case.file not in pages:
            pages[case.file] = _cited_page(DOCS_TESTS / case.file) or case.file
        row = rows[pages[case.file]]
        row["tests"] += 1
        row["gap" if case.gap else "pass" if passed else "fail"] += 1
    total = sum((c for c in rows.values()), Counter())
    lines = ["", "## Documented behaviour (`tests/sql/docs`, one file per docs page)", "",
             f"{total['pass']} of {total['tests']} documented behaviours tested pass; {total['gap']} are known "
             f"gaps (marked `--@gap`), {total['fail']} fail.", "",
             "| docs page | tested | pass | known gap | fail |", "|---|---:|---:|---:|---:|"]
    for page in sorted(rows):
        c = rows[page]
        lines.append(f"| {page} | {c['tests']} | {c['pass']} | {c['gap']} | {c['fail']} |")
    # pages about the shell and the tools, tested by running them (a test module that starts
    # with "# from <page>.md")
    elsewhere = {page: path for path in sorted(ROOT.glob("tests/**/test_*.py"))
                 if (page := _cited_page(path)) is not None}
    if elsewhere:
        lines += ["", "Pages of the shell and the tools, tested by running them:", ""]
        lines += [f"- {page}: `{path.relative_to(ROOT)}`" for page, path in sorted(elsewhere.items())]
    if docs.is_dir():
        covered = {_cited_page(p) for p in DOCS_TESTS.glob("*.*")} | set(elsewhere)
        missing = sorted(str(p.relative_to(docs)) for pattern in REFERENCE_PAGES for p in docs.glob(pattern)
                         if str(p.relative_to(docs)) not in covered and p.name != "index.md")
        if missing:
            lines += ["", f"Reference pages without tests yet ({len(missing)}):", ""]
            lines += [f"- {page}" for page in missing]
        else:
            lines += ["", "Every reference page has tests."]
    return lines


def _cited_page(path: Path) -> str | None:
    first = path.read_text().split("\n", 1)[0]
    return first.split("from ", 1)[1].strip() if first.startswith(("-- from ", "// from ", "# from ")) else None


def write_report(results: list[Result], out: Path, seconds: float, docs_lines: list[str] = ()) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results = sorted(results, key=key)
    (out / "results.json").write_text(json.dumps([r.as_dict() for r in results], indent=1) + "\n")
    per_file: dict[str, Counter] = defaultdict(Counter)
    reasons: Counter = Counter()
    for r in results:
        per_file[r.file][r.status] += 1
        if r.status == "unsupported":
            reasons[r.reason] += 1
    total = Counter(r.status for r in results)
    count = len(results)
    lines = ["# ksqlDB conformance", "",
             f"{total['passed']} of {count} cases pass ({100 * total['passed'] / max(count, 1):.1f}%): "
             f"{total['failed']} failed, {total['error']} errored, {total['unsupported']} unsupported.",
             "", f"Run with `make conformance` ({seconds:.0f} s). Per case: `conformance/results.json`.",
             "", "| file | passed | failed | error | unsupported |", "|---|---:|---:|---:|---:|"]
    for file in sorted(per_file):
        c = per_file[file]
        lines.append(f"| {file} | {c['passed']} | {c['failed']} | {c['error']} | {c['unsupported']} |")
    lines += ["", "Unsupported, by reason:", ""]
    lines += [f"- {n}: {reason}" for reason, n in reasons.most_common()]
    lines += list(docs_lines)
    (out / "SUMMARY.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ksql.testing.conformance")
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--out", type=Path, default=ROOT / "conformance")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--check", action="store_true", help="only check that baseline cases still pass")
    parser.add_argument("--update-baseline", action="store_true", help="rewrite the baseline from this run")
    args = parser.parse_args(argv)

    if not args.corpus.is_dir():
        print(f"conformance corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    baseline_path = args.out / "baseline.json"
    baseline = set(json.loads(baseline_path.read_text())) if baseline_path.exists() else set()

    load_extensions(str(ROOT / "tests" / "extensions"))  # BACKWARD_CONCAT and other example functions
    started = time.monotonic()
    cases, errors = collect(args.corpus)
    if args.check:
        cases = [c for c in cases if f"{c.file}::{c.name}" in baseline]
    results = _invert_incorrect(run_cases(cases, args.jobs) + errors)
    seconds = time.monotonic() - started
    passing = {key(r) for r in results if r.status == PASSED}
    if args.check:
        regressed = sorted(baseline - passing)
        for name in regressed:
            result = next((r for r in results if key(r) == name), None)
            print(f"REGRESSION {name}: {result.reason if result else 'case no longer exists'}")
        print(f"{len(baseline) - len(regressed)} of {len(baseline)} baseline cases pass ({seconds:.0f} s)")
        return 1 if regressed else 0
    documented = docs_cases()
    docs_lines = docs_section(documented, run_cases(documented, args.jobs),
                              args.corpus.parents[1] / "reference" / "ksqldb-docs")
    write_report(results, args.out, seconds, docs_lines)
    if args.update_baseline:
        baseline_path.write_text(json.dumps(sorted(passing), indent=1) + "\n")
    total = Counter(r.status for r in results)
    print(", ".join(f"{total[s]} {s}" for s in STATUSES) + f" ({len(results)} cases, {seconds:.0f} s)")
    lost = sorted(baseline - passing)
    if lost and not args.update_baseline:
        print(f"{len(lost)} baseline cases no longer pass, e.g. {lost[:3]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
