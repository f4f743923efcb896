"""End-to-end tests written as SQL: tests/sql/NAME.sql is run as `ksql run` runs it and its
output must equal tests/sql/NAME.out. Set KSQL_UPDATE_GOLDEN=1 to rewrite the .out files."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from ksql.repl.script import run_script

SQL_DIR = Path(__file__).parent / "sql"
CASES = sorted(SQL_DIR.glob("*.sql"))


@pytest.mark.parametrize("script", CASES, ids=[c.stem for c in CASES])
def test_sql_file(script: Path, make_engine):
    out = io.StringIO()
    code = run_script(make_engine(), script.read_text(), script.name, out, out)
    actual = out.getvalue() + f"exit code: {code}\n"
    expected_path = script.with_suffix(".out")
    if os.environ.get("KSQL_UPDATE_GOLDEN"):
        expected_path.write_text(actual)
    assert expected_path.exists(), f"no expected output {expected_path.name}; run with KSQL_UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text()
