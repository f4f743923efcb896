"""EXPLAIN as users see it: tests/golden/explain/NAME.sql declares sources and queries, and the
output of its EXPLAIN statements must equal NAME.out (every plan node kind is in one of them:
sources, filters, projections, PARTITION BY, table functions, aggregations, joins, sinks).
Set KSQL_UPDATE_GOLDEN=1 to rewrite the .out files, then read the difference before keeping it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ksql.engine import KsqlEngine
from ksql.parser import split_statements

GOLDEN = Path(__file__).parent / "explain"
FILES = sorted(GOLDEN.glob("*.sql"))


def explained(script: str, data_dir: Path) -> str:
    engine = KsqlEngine(str(data_dir), background=False)
    try:
        out = []
        for piece in split_statements(script):
            result = engine.execute(piece.text)[0]
            if piece.text.lstrip().upper().startswith("EXPLAIN"):
                out.append(f"> {' '.join(piece.text.split())}\n{result.text}\n")
        return "\n".join(out)
    finally:
        engine.close()


@pytest.mark.parametrize("script", FILES, ids=[f.stem for f in FILES])
def test_explain(script: Path, tmp_path):
    actual = explained(script.read_text(), tmp_path)
    expected = script.with_suffix(".out")
    if os.environ.get("KSQL_UPDATE_GOLDEN"):
        expected.write_text(actual)
    assert expected.exists(), f"no expected output {expected.name}; run with KSQL_UPDATE_GOLDEN=1"
    assert actual == expected.read_text()


def test_the_golden_files_cover_every_plan_node_kind():
    text = "".join(f.with_suffix(".out").read_text() for f in FILES)
    assert text.count("\n> EXPLAIN") + text.startswith("> EXPLAIN") >= 30
    for node in ("Sink ", "Project ", "Filter ", "PartitionBy ", "TableFunction ", "Aggregate by ",
                 "Join INNER STREAM-TABLE", "Join INNER STREAM-STREAM", "Join INNER TABLE-TABLE",
                 "(foreign key)", "Join LEFT", "Join FULL", "Source ", "{changelog;", "{stream;", "window SESSION",
                 "window HOPPING", "window TUMBLING", "WITHIN", "repartition topic"):
        assert node in text, node
