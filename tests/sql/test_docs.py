"""The behaviour ksqlDB's documentation describes, one SQL test file per reference page
(tests/sql/docs/<page>.sql, in the `--@test:` format of `ksql test`; <page>.json, in ksqlDB's
JSON test format, for cases that need what SQL cannot write, such as record headers), each file
naming the page it is taken from on its first line. A case marked `--@gap: why` is documented behaviour the
engine does not have yet: it is expected to fail, and passing makes the test fail so the mark
is removed (conformance/SUMMARY.md counts both per page)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ksql.testing.case import PASSED
from ksql.testing.cases import run_case
from ksql.testing.conformance import docs_cases

HERE = Path(__file__).parent / "docs"
DOCS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "ksqldb-docs"
_CITES = re.compile(r"^(?:--|//) from (\S+\.md)")

FILES = sorted([*HERE.glob("*.sql"), *HERE.glob("*.json")])
CASES = docs_cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}::{c.name}" for c in CASES])
def test_documented_behaviour(case):
    result = run_case(case)
    if case.gap:
        assert result.status != PASSED, f"passes now: remove its --@gap mark ({case.gap})"
        pytest.xfail(case.gap)
    assert result.status == PASSED, result.reason


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_file_cites_a_docs_page(path):
    first = path.read_text().splitlines()[0]
    cited = _CITES.match(first)
    assert cited, f"{path.name} must start with '-- from <page>.md' (or '// from' in JSON)"
    if not DOCS.is_dir():
        pytest.fail(f"the docs are missing: {DOCS}")
    assert (DOCS / cited.group(1)).is_file(), f"{cited.group(1)} is not a docs page"


TOOL_TESTS = sorted(p for p in HERE.parents[1].glob("**/test_*.py") if p.read_text().startswith("# from "))


@pytest.mark.parametrize("path", TOOL_TESTS, ids=[p.name for p in TOOL_TESTS])
def test_each_tool_test_cites_a_docs_page(path):
    """Pages about the shell and the tools are tested by running them: such a module names its page."""
    cited = re.match(r"^# from (\S+\.md)$", path.read_text().splitlines()[0])
    assert cited and (DOCS / cited.group(1)).is_file(), f"{path.name}: {cited and cited.group(1)} is not a docs page"
