"""Every concrete SQL example in ksqlDB's documentation parses (synopses with placeholders such
as `<name>`, `[...]` or `|` are not examples). The few that do not are listed with the reason:
typos in the docs, other databases' SQL, or an example of what ksqlDB refuses."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ksql.parser import parse_statement
from ksql.parser.scripts import split_statements

DOCS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "ksqldb-docs"
_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)
# a synopsis, a fragment or an output listing, not a statement to run
_NOT_AN_EXAMPLE = re.compile(r"<|\||\.\.\.|\[|\{|\}|\(\?|\)\?|\bexpression\b|_name\b|\bsourceName\b|=>\s*[\"\d]"
                             r"|->\s*\d|^(?:EMIT|ID|MASK|CAST|DECIMAL|x)\b|^[A-Z_]+\(", re.M)
# (page, the statement's start): why the docs' text does not parse
KNOWN = {
    ("developer-guide/ksqldb-reference/create-table-as-select.md", "CREATE TABLE weeklyMusicCharts"):
        "WINDOW TUMBLING (7 DAYS): the grammar requires SIZE",
    ("developer-guide/ksqldb-reference/select-push-query.md", "CREATE STREAM shipped_orders"):
        "a comma missing between two select items",
    ("how-to-guides/use-lambda-functions.md", "CREATE STREAM output4"):
        "a comma missing between TRANSFORM's two lambdas",
    ("operate-and-deploy/how-it-works.md", "CREATE TABLE possible_fraud"): "typographic quotes",
    ("operate-and-deploy/installation/upgrading.md", "CREATE TABLE products_by_sub_cat"): "typographic quotes",
    ("operate-and-deploy/installation/upgrading.md", "SELECT * FROM input EMIT CHANGES PARTITION BY"):
        "the page's example of the order ksqlDB no longer accepts",
    ("reference/sql/data-definition.md", "CREATE TABLE users"): "a comma missing between two columns",
    ("tutorials/materialized.md", "GRANT"): "MySQL",
    ("tutorials/materialized.md", "ALTER USER"): "MySQL",
    ("tutorials/materialized.md", "FLUSH PRIVILEGES"): "MySQL",
    ("tutorials/materialized.md", "USE call-center"): "MySQL",
}


def _examples():
    for path in sorted(DOCS.rglob("*.md")):
        page = str(path.relative_to(DOCS))
        for block in _BLOCK.findall(path.read_text()):
            lines = [line for line in block.splitlines() if not line.strip().startswith(("ksql>", "->"))]
            for piece in split_statements("\n".join(lines)):
                text = piece.text.strip()
                if text and not _NOT_AN_EXAMPLE.search(text):
                    yield page, text


EXAMPLES = list(_examples()) if DOCS.is_dir() else []


def test_the_docs_have_examples():
    assert len(EXAMPLES) > 300


@pytest.mark.parametrize("page, text", EXAMPLES, ids=[f"{p}:{t[:40]}" for p, t in EXAMPLES])
def test_a_documented_example_parses(page, text):
    known = next((why for (where, start), why in KNOWN.items() if where == page and text.startswith(start)), None)
    if known is not None:
        with pytest.raises(Exception):
            parse_statement(text)
        pytest.xfail(known)
    parse_statement(text)
