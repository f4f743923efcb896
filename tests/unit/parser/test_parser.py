import pytest

from ksql.errors import KsqlSyntaxError
from ksql.parser import ast, is_complete, keywords, parse_script, parse_statement, split_statements


def test_create_stream_with_columns_and_properties():
    stmt = parse_statement("CREATE STREAM s (id INT KEY, `name` STRING, tags ARRAY<STRING>) "
                           "WITH (kafka_topic='t', value_format='json', partitions=2);")
    assert isinstance(stmt, ast.CreateSource)
    assert stmt.kind == "STREAM" and stmt.name == "S"
    assert [(c.name, c.type.name, c.constraint) for c in stmt.columns] == [
        ("ID", "INT", "KEY"), ("name", "STRING", None), ("TAGS", "ARRAY", None)]
    assert stmt.properties == {"KAFKA_TOPIC": "t", "VALUE_FORMAT": "json", "PARTITIONS": 2}


def test_query_clauses():
    stmt = parse_statement("SELECT a AS x, b + 1, * FROM s src WHERE a > 1 EMIT CHANGES LIMIT 5")
    query = stmt.query
    assert query.source == ast.Relation("S", "SRC")
    assert query.select[0] == ast.SelectExpression(ast.ColumnRef("A"), "X")
    assert query.select[2] == ast.SelectAll()
    assert query.where == ast.BinaryOp(">", ast.ColumnRef("A"), ast.Literal(1, "INTEGER"))
    assert (query.emit, query.limit) == ("CHANGES", 5)


def test_non_reserved_keywords_are_names():
    stmt = parse_statement("SELECT key, type, timestamp FROM s EMIT CHANGES;")
    assert [i.expression.name for i in stmt.query.select] == ["KEY", "TYPE", "TIMESTAMP"]


def test_literals():
    select = parse_statement("SELECT 1, 3000000000, 1.50, 1E3, 'it''s', true, null FROM s;").query.select
    assert [(i.expression.value, i.expression.kind) for i in select][:4] == [
        (1, "INTEGER"), (3000000000, "BIGINT"), (pytest.approx(1.5), "DECIMAL"), (1000.0, "DOUBLE")]
    assert select[4].expression.value == "it's"


def test_syntax_error_names_line_column_token_and_expected():
    with pytest.raises(KsqlSyntaxError) as info:
        parse_script("SHOW STREAMS;\nSELECT a\n  FROM s WHER x = 1;")
    error = info.value
    assert (error.line, error.column, error.token) == (3, 15, "x")
    assert str(error) == "line 3:15: Syntax Error at or near 'x'; expected ';', WHERE, JOIN, ON, GROUP, PARTITION, ..."
    assert error.pointer().endswith("\n" + " " * 14 + "^")


def test_a_literal_out_of_range_is_placed_where_ksqldb_places_it():
    # ksqlDB raises these from its AST with a column already counted from one, and its
    # ParsingException adds one more: "line 1:16" for a literal at the 15th character
    for literal, message in (("9223372036854775808", "Invalid numeric literal: 9223372036854775808"),
                             ("1.8E308", "Number overflows DOUBLE: 1.8E308")):
        with pytest.raises(KsqlSyntaxError) as info:
            parse_statement(f"SELECT a, b,  {literal} FROM s;")
        assert str(info.value) == f"line 1:16: {message}"
        assert (info.value.line, info.value.column) == (1, 15)  # where the literal is, for a caret


def test_syntax_error_at_end_of_input():
    with pytest.raises(KsqlSyntaxError) as info:
        parse_statement("SELECT * FROM")
    assert info.value.token == "<EOF>"
    assert "expected an identifier" in str(info.value)


def test_split_respects_strings_and_comments():
    pieces = split_statements("SELECT ';' FROM s; -- a comment; here\nSHOW STREAMS;\n/* ; */ LIST TOPICS")
    assert [p.text for p in pieces] == ["SELECT ';' FROM s;", "SHOW STREAMS;", "LIST TOPICS"]
    assert [(p.line, p.column) for p in pieces] == [(1, 1), (2, 1), (3, 9)]


def test_is_complete():
    assert not is_complete("SELECT * FROM s")
    assert not is_complete("SELECT ';")
    assert is_complete("SELECT * FROM s;  -- done")


def test_keywords_come_from_the_grammar():
    assert {"SELECT", "EMIT", "CHANGES", "PARTITION"} <= set(keywords())


def test_keyword_as_name_suggests_backticks():
    with pytest.raises(KsqlSyntaxError) as info:
        parse_statement("SELECT * FROM select;")
    assert str(info.value) == ("line 1:15: Syntax Error at or near 'select'. 'select' is a reserved keyword: "
                               "to use it as a name, quote it with backticks (`select`)")
    assert parse_statement("SELECT * FROM `select`;").query.source.name == "select"


def test_expected_list_is_short():
    with pytest.raises(KsqlSyntaxError) as info:
        parse_statement("SELEC * FROM s")
    assert str(info.value).endswith("expected SELECT, CREATE, INSERT, SHOW, DESCRIBE, DROP, ...")


def test_joins_windows_group_by_and_lambdas():
    query = parse_statement(
        "SELECT l.id, COUNT(*) FROM l LEFT OUTER JOIN r WITHIN (1 SECOND, 2 MINUTES) GRACE PERIOD 3 SECONDS "
        "ON l.id = r.id WINDOW HOPPING (SIZE 1 HOUR, ADVANCE BY 10 MINUTES, RETENTION 2 DAYS) "
        "GROUP BY (l.id, a, b) HAVING COUNT(*) > 1 EMIT FINAL;").query
    join = query.joins[0]
    assert (join.kind, join.relation.name, join.within, join.grace) == ("LEFT", "R", (1000, 120000), 3000)
    assert query.window == ast.Window("HOPPING", 3600000, 600000, 172800000, None)
    assert query.group_by == (ast.ColumnRef("ID", "L"), ast.ColumnRef("A"), ast.ColumnRef("B"))
    assert query.emit == "FINAL"
    args = parse_statement("SELECT TRANSFORM(m, (k, v) => k, (x) => x + 1, x => x) FROM s;").query.select[0].expression.args
    assert [a.params for a in args[1:]] == [("K", "V"), ("X",), ("X",)]


@pytest.mark.parametrize("clause", ["GROUP BY", "PARTITION BY"])
def test_a_parenthesized_list_is_the_whole_clause_or_nothing(clause):
    """ksqlDB's grammar takes `GROUP BY a, b` or `GROUP BY (a, b)` (PARTITION BY alike), where
    `(a, b)` is not an expression: `GROUP BY c, (a, b)` is a syntax error at its comma."""
    whole = parse_statement(f"SELECT * FROM s {clause} (a, b);").query
    plain = parse_statement(f"SELECT * FROM s {clause} a, b;").query
    assert whole == plain
    with pytest.raises(KsqlSyntaxError) as info:
        parse_statement(f"SELECT * FROM s {clause} c, (a, b);")
    assert (info.value.line, info.value.column, info.value.token) == (1, len(f"SELECT * FROM s {clause} c, (a") + 1, ",")


def test_comments_before_a_statement_are_not_part_of_its_text():
    """ksqlDB's statement text starts at the statement's first token (what SHOW QUERIES and
    DESCRIBE show, what the command topic keeps); positions still point into the script."""
    from ksql.parser import split_statements

    pieces = split_statements("-- the source\n/* made here */ CREATE STREAM s (id INT) WITH (kafka_topic='x');\n"
                              "  -- the copy\n  SELECT 1 -- inside stays\n FROM s;")
    assert [(p.text, p.line, p.column) for p in pieces] == [
        ("CREATE STREAM s (id INT) WITH (kafka_topic='x');", 2, 17),
        ("SELECT 1 -- inside stays\n FROM s;", 4, 3)]
