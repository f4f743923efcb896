"""End-to-end tests written as SQL: tests/sql/NAME.sql is run as `ksql run` runs it and its
output must equal tests/sql/NAME.out. Set KSQL_UPDATE_GOLDEN=1 to rewrite the .out files."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from ksql.cli import run_script
from ksql.engine import KsqlEngine

SQL_DIR = Path(__file__).parent / "sql"
CASES = sorted(SQL_DIR.glob("*.sql"))


@pytest.mark.parametrize("script", CASES, ids=[c.stem for c in CASES])
def test_sql_file(script: Path, tmp_path):
    out = io.StringIO()
    engine = KsqlEngine(str(tmp_path / "data"))
    try:
        code = run_script(engine, script.read_text(), script.name, out, out)
    finally:
        engine.close()
    actual = out.getvalue() + f"exit code: {code}\n"
    expected_path = script.with_suffix(".out")
    if os.environ.get("KSQL_UPDATE_GOLDEN"):
        expected_path.write_text(actual)
    assert expected_path.exists(), f"no expected output {expected_path.name}; run with KSQL_UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text()
