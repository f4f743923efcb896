"""Golden parser tests (SQL in; normalized SQL and AST out) and round trips over the corpus."""
from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_input
from ksql.errors import KsqlStatementError, KsqlSyntaxError
from ksql.parser import parse_statement, split_statements
from ksql.parser.format import format_statement
from ksql.testing.conformance import corpus_statements, default_corpus

GOLDEN = Path(__file__).parent / "parser" / "statements.sql"  # tests/golden/parser


def test_golden_statements():
    out = []
    for piece in split_statements(GOLDEN.read_text()):
        statement = parse_statement(piece.text)
        text = format_statement(statement)
        assert parse_statement(text) == statement, text
        out.append(f"-- line {piece.line}\n{text}\n{statement!r}\n")
    actual = "\n".join(out)
    expected_path = GOLDEN.with_suffix(".out")
    if os.environ.get("KSQL_UPDATE_GOLDEN"):
        expected_path.write_text(actual)
    assert actual == expected_path.read_text()


def test_corpus_statements_round_trip():
    require_input(default_corpus(), "the conformance corpus")
    parsed = 0
    for text in corpus_statements():
        try:
            statement = parse_statement(text)
        except (KsqlSyntaxError, KsqlStatementError):
            continue  # statements the corpus expects to be rejected (PARTITION BY () as it is read)
        parsed += 1
        assert parse_statement(format_statement(statement)) == statement, text
    assert parsed > 5000


def _corpus_sample():
    statements = corpus_statements() if default_corpus().is_dir() else []
    return statements or ["SELECT * FROM s EMIT CHANGES;"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text_only_raises_syntax_errors(text):
    try:
        parse_statement(text)
    except KsqlSyntaxError as error:
        assert error.line >= 1 and error.column >= 1


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_corpus_sample()), st.integers(0, 10_000), st.integers(0, 10_000),
       st.sampled_from(["", "(", ")", ",", "'", "`", ";", "SELECT", "->", "[", "=>", "--", "/*", "1E"]))
def test_mutated_statements_only_raise_syntax_errors(text, cut, insert_at, fragment):
    cut %= len(text) + 1
    insert_at %= len(text) + 1
    mutated = text[:insert_at] + fragment + text[insert_at:cut] if insert_at < cut else text[:cut] + fragment
    try:
        parse_statement(mutated)
    except KsqlSyntaxError:
        pass


def test_documentation_examples_parse():
    from ksql.parser import parse_script

    statements = parse_script((Path(__file__).parent / "parser" / "docs_examples.sql").read_text())
    assert len(statements) == 31
    for _, statement in statements:
        assert parse_statement(format_statement(statement)) == statement
