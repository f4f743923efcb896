"""Text -> AST: the entry points, and syntax errors that say what could have come next."""
from __future__ import annotations

import lark

from ksql.parser.errors import KsqlError, KsqlSyntaxError
from ksql.parser import ast
from ksql.parser.lark_grammar import keywords, lark_parser, non_reserved_terminals, terminal_display
from ksql.parser.scripts import StatementText, split_statements
from ksql.parser.statement_cache import parse_cached
from ksql.parser.to_ast import ToAst


# ---------------------------------------------------------------- parsing


def parse_statement(text: str) -> ast.Statement:
    """Parse one statement (an optional trailing ';' is allowed)."""
    return parse_cached(text, _parse_uncached)


def _parse_uncached(text: str) -> ast.Statement:
    try:
        tree = lark_parser().parse(text)
    except lark.exceptions.UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    try:
        return ToAst(text).transform(tree)
    except lark.exceptions.VisitError as error:
        if isinstance(error.orig_exc, KsqlError):  # (a syntax error, or a statement no plan can take)
            raise error.orig_exc from None
        raise


def parse_script(script: str) -> list[tuple[StatementText, ast.Statement]]:
    """Parse every statement of a script; errors carry positions within the script."""
    result = []
    for piece in split_statements(script):
        try:
            result.append((piece, parse_statement(piece.text)))
        except KsqlSyntaxError as error:
            raise error.within((piece.line, piece.column)) from None
    return result


def parse_expression(text: str) -> ast.Expression:
    statement = parse_statement(f"SELECT {text} FROM X")
    return statement.query.select[0].expression



_EXPRESSION_STARTS = {"'('", "'-'", "'+'", "a number", "a string", "an identifier", "CASE", "CAST", "NOT",
                      "TRUE", "FALSE", "NULL", "ARRAY", "MAP", "STRUCT", "DECIMAL"}
_MAX_EXPECTED = 6
# When many tokens could come next, these are shown first: the ones people most often mean.
_LIKELY = ["';'", "','", "')'", "an expression", "an identifier", "FROM", "WHERE", "AS", "SELECT", "CREATE",
           "INSERT", "SHOW", "DESCRIBE", "DROP", "WITH", "KEY", "PRIMARY", "JOIN", "ON", "GROUP", "PARTITION",
           "EMIT", "LIMIT", "STREAM", "TABLE", "STREAMS", "TABLES", "TOPICS", "QUERIES", "BY", "AND", "OR",
           "'='", "'('", "a string", "a number"]


def _expected(terminals) -> tuple[str, ...]:
    """A short list of what could have come next (not the whole token table)."""
    names = {t for t in terminals if not t.startswith("__") and t != "LAMBDA_PARAMETER"}
    if names & {"IDENTIFIER", "DIGIT_IDENTIFIER", "QUOTED_IDENTIFIER"}:
        names -= non_reserved_terminals()  # a name is expected: don't list every non-reserved keyword
    shown = {terminal_display(t) for t in names}
    if len(shown & _EXPRESSION_STARTS) >= 4:
        shown = (shown - _EXPRESSION_STARTS) | {"an expression"}
    rank = {name: i for i, name in enumerate(_LIKELY)}
    ordered = sorted(shown, key=lambda t: (rank.get(t, len(rank)), t))
    if len(ordered) > _MAX_EXPECTED:
        ordered = ordered[:_MAX_EXPECTED] + ["..."]
    return tuple(ordered)



def _syntax_error(text: str, error: lark.exceptions.UnexpectedInput) -> KsqlSyntaxError:
    line = getattr(error, "line", 1) or 1
    column = getattr(error, "column", 1) or 1
    lines = text.split("\n")
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    expected = ()
    if isinstance(error, lark.exceptions.UnexpectedToken):
        token = error.token
        if token.type == "$END":
            token_text = "<EOF>"
            line, column = len(lines), len(lines[-1]) + 1
            source_line = lines[-1]
        else:
            token_text = str(token)
        expected = _expected(error.expected)
    elif isinstance(error, lark.exceptions.UnexpectedCharacters):
        token_text = text[error.pos_in_stream] if error.pos_in_stream < len(text) else "<EOF>"
        expected = _expected(error.allowed or ())
    else:
        token_text = "<EOF>"
    message = f"Syntax Error at or near '{token_text}'"
    if expected:
        message += f"; expected {', '.join(expected)}"
    if token_text.upper() in keywords() and ("an identifier" in expected or "an expression" in expected):
        message += f". '{token_text}' is a keyword: to use it as a name, quote it with backticks (`{token_text}`)"
    return KsqlSyntaxError(message, line, column, token_text, expected, source_line)

