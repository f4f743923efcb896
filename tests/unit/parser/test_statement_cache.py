"""Statements of one shape parse once: whatever the literals, the AST must be the parser's own."""
from __future__ import annotations

import pytest

from ksql.parser import ast
from ksql.parser.parse import _parse_uncached, parse_statement
from ksql.parser.statement_cache import _shapes

# Each case: two statements of the same shape. The first teaches the cache its shape, the
# second is answered from it and must equal what the parser makes of it.
PAIRS = [
    ("SELECT * FROM t WHERE id = 1;", "SELECT * FROM t WHERE id = 987654321;"),
    ("SELECT * FROM t WHERE id = -1;", "SELECT * FROM t WHERE id = -42;"),
    ("SELECT * FROM t WHERE id = - 1;", "SELECT * FROM t WHERE id = - 0;"),
    ("SELECT a - 1 AS x FROM t WHERE a-1 > 2;", "SELECT a - 7 AS x FROM t WHERE a-9 > 0;"),
    ("SELECT * FROM t WHERE id IN (1, 2, 3);", "SELECT * FROM t WHERE id IN (3, 3, -3);"),
    ("SELECT * FROM t WHERE name = 'a';", "SELECT * FROM t WHERE name = 'it''s -- not a comment';"),
    ("SELECT col1, 1.5, 2E3, `x1`, \"y2\" FROM t WHERE c2 = 'q';",
     "SELECT col1, 1.5, 2E3, `x1`, \"y2\" FROM t WHERE c2 = '';"),
    ("SELECT * FROM t WHERE id = 1 LIMIT 2;", "SELECT * FROM t WHERE id = 5 LIMIT 2;"),
    ("SELECT * FROM t WHERE id = 1 LIMIT 2;", "SELECT * FROM t WHERE id = 5 LIMIT 3;"),
    ("SELECT SUBSTRING(s, 1, 2), DECIMAL '1.5' FROM t WHERE k = 1 EMIT CHANGES;",
     "SELECT SUBSTRING(s, 3, 4), DECIMAL '1.5' FROM t WHERE k = 100 EMIT CHANGES;"),
    ("SELECT ARRAY[1, 2][1], MAP('a' := 1)['a'], STRUCT(x := 'b') FROM t;",
     "SELECT ARRAY[9, 8][2], MAP('c' := 3)['a'], STRUCT(x := 'd') FROM t;"),
    ("SELECT * FROM t WINDOW TUMBLING (SIZE 10 SECONDS) WHERE x = 1 EMIT CHANGES;",
     "SELECT * FROM t WINDOW TUMBLING (SIZE 20 SECONDS) WHERE x = 2 EMIT CHANGES;"),
    ("INSERT INTO s (k, v, t) VALUES (1, 'one', '2024-01-01');",
     "INSERT INTO s (k, v, t) VALUES (2, 'two', '2025-12-31');"),
    ("INSERT INTO s VALUES (1, -2, 'x');", "INSERT INTO s VALUES (3, -4, 'y''z');"),
    ("CREATE STREAM s (id INT KEY) WITH (kafka_topic='a', partitions=1);",
     "CREATE STREAM s (id INT KEY) WITH (kafka_topic='b', partitions=2);"),
    ("SELECT * FROM t WHERE id = 1;", "SELECT * FROM t WHERE id = 1234567890;"),  # 10 digits: not a stand-in
    ("SELECT * FROM t WHERE id = 123456789;", "SELECT * FROM t WHERE id = 2147483648;"),
]


@pytest.mark.parametrize("first, second", PAIRS)
def test_a_statement_of_a_known_shape_parses_as_the_parser_would(first, second):
    _shapes.clear()
    assert parse_statement(first) == _parse_uncached(first)
    assert parse_statement(second) == _parse_uncached(second)
    assert parse_statement(first) == _parse_uncached(first)


def test_key_lookups_are_cached_with_their_own_values():
    _shapes.clear()
    parse_statement("SELECT * FROM users WHERE id = 1;")
    assert len(_shapes) == 1 and next(iter(_shapes.values())) is not None
    statement = parse_statement("SELECT * FROM users WHERE id = 77;")
    assert statement.query.where == ast.BinaryOp("=", ast.ColumnRef("ID"), ast.Literal(77, "INTEGER"))


def test_column_references_of_a_cached_shape_claim_no_position():
    """Where a column stands (for errors) depends on the literals' lengths before it: the parser
    gives it, a shape, parsed from stand-ins, does not."""
    _shapes.clear()
    first = parse_statement("SELECT * FROM users WHERE name = 'a' AND nope = 1;")
    assert first.query.where.right.left.position == (1, 42)
    second = parse_statement("SELECT * FROM users WHERE name = 'abcdef' AND nope = 2;")
    assert second.query.where.right.left == ast.ColumnRef("NOPE")
    assert second.query.where.right.left.position is None


def test_filling_in_values_rebuilds_only_the_path_to_each_literal():
    _shapes.clear()
    parse_statement("SELECT a, b, UCASE(c) FROM users WHERE id = 1 AND name = 'x';")  # learns the shape
    second = parse_statement("SELECT a, b, UCASE(c) FROM users WHERE id = 2 AND name = 'y';")
    third = parse_statement("SELECT a, b, UCASE(c) FROM users WHERE id = 3 AND name = 'y';")
    assert second == _parse_uncached("SELECT a, b, UCASE(c) FROM users WHERE id = 2 AND name = 'y';")
    assert third == _parse_uncached("SELECT a, b, UCASE(c) FROM users WHERE id = 3 AND name = 'y';")
    assert third.query.select is second.query.select  # no literal below: the cached nodes, shared
    assert third.query.where is not second.query.where


def test_shapes_the_parser_turns_into_other_things_are_not_cached():
    _shapes.clear()
    parse_statement("SELECT * FROM t WHERE id = 1 LIMIT 2;")  # the LIMIT is not a literal node
    assert list(_shapes.values()) == [None]


def test_a_syntax_error_is_reported_every_time():
    _shapes.clear()
    for _ in range(2):
        with pytest.raises(Exception, match="Syntax Error"):
            parse_statement("SELECT * FROM t WHERE id = = 1;")
