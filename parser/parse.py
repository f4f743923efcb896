"""Text -> AST: grammar loading, statement splitting, variable substitution, syntax errors."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

import lark
from lark import Token, Transformer, v_args

from ksql.errors import KsqlSyntaxError
from ksql.parser import ast

# ---------------------------------------------------------------- grammar


@functools.cache
def grammar_text() -> str:
    return resources.files("ksql.grammar").joinpath("ksql.lark").read_text()


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(grammar_text(), parser="lalr", lexer="contextual",
                     propagate_positions=True, maybe_placeholders=True)


@functools.cache
def keywords() -> tuple[str, ...]:
    """Every keyword of the language, taken from the grammar's keyword terminals."""
    names = []
    for term in _parser().terminals:
        pattern = term.pattern
        if isinstance(pattern, lark.lexer.PatternStr) and pattern.value.isalpha():
            names.append(pattern.value.upper())
    return tuple(sorted(names))


# ---------------------------------------------------------------- splitting

# Strings, quoted identifiers and comments are skipped whole, so a ';' inside them
# does not end a statement.
_SPLIT_TOKENS = re.compile(
    r"'(?:[^']|'')*'?|`(?:[^`]|``)*`?|\"(?:[^\"]|\"\")*\"?|--[^\n]*|/\*.*?(?:\*/|$)|;",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class StatementText:
    text: str  # the statement, with its ';' when it had one
    line: int  # 1-based line of its first character in the script
    column: int  # 1-based column of its first character


def split_statements(script: str) -> list[StatementText]:
    """Split a script into statements on ';', keeping each one's position."""
    pieces = []
    start = 0
    for match in _SPLIT_TOKENS.finditer(script):
        if match.group() == ";":
            pieces.append((start, match.end()))
            start = match.end()
    pieces.append((start, len(script)))
    result = []
    for begin, end in pieces:
        text = script[begin:end]
        if not _has_code(text):
            continue
        offset = begin + (len(text) - len(text.lstrip()))
        line = script.count("\n", 0, offset) + 1
        column = offset - (script.rfind("\n", 0, offset) + 1) + 1
        result.append(StatementText(text.strip(), line, column))
    return result


def _has_code(text: str) -> bool:
    stripped = _SPLIT_TOKENS.sub(lambda m: m.group() if m.group()[0] in "'`\"" else " ", text)
    return bool(stripped.strip().strip(";").strip())


def is_complete(buffer: str) -> bool:
    """True when the buffer ends a statement (a ';' outside strings and comments)."""
    last = None
    for match in _SPLIT_TOKENS.finditer(buffer):
        if match.group() == ";":
            last = match
    if last is None:
        return False
    return not _has_code(buffer[last.end():])


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute_variables(text: str, variables: dict[str, str]) -> str:
    """Replace ${name} with the value of a DEFINEd variable; unknown names are kept."""
    if "${" not in text:
        return text
    lookup = {k.upper(): v for k, v in variables.items()}
    return _VARIABLE.sub(lambda m: lookup.get(m.group(1).upper(), m.group()), text)


# ---------------------------------------------------------------- parsing


def parse_statement(text: str) -> ast.Statement:
    """Parse one statement (an optional trailing ';' is allowed)."""
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    return _ToAst().transform(tree)


def parse_script(script: str) -> list[tuple[StatementText, ast.Statement]]:
    """Parse every statement of a script; errors carry positions within the script."""
    result = []
    for piece in split_statements(script):
        try:
            result.append((piece, parse_statement(piece.text)))
        except KsqlSyntaxError as error:
            raise error.with_offset(piece.line - 1, piece.column - 1) from None
    return result


def parse_expression(text: str) -> ast.Expression:
    statement = parse_statement(f"SELECT {text} FROM X")
    return statement.query.select[0].expression


@functools.cache
def _non_reserved() -> frozenset[str]:
    """Keyword terminals that the grammar also accepts as names."""
    return frozenset(rule.expansion[0].name for rule in _parser().rules
                     if rule.origin.name == "non_reserved")


def _expected(terminals) -> tuple[str, ...]:
    names = {t for t in terminals if not t.startswith("__")}
    if "IDENTIFIER" in names:  # a name is expected: don't list every non-reserved keyword
        names -= _non_reserved()
    return tuple(sorted({_terminal_display(t) for t in names}))


def _terminal_display(name: str) -> str:
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return name
    if isinstance(pattern, lark.lexer.PatternStr):
        return pattern.value.upper() if pattern.value.isalpha() else f"'{pattern.value}'"
    return {"IDENTIFIER": "an identifier", "STRING": "a string",
            "INTEGER_VALUE": "an integer", "DECIMAL_VALUE": "a number",
            "DOUBLE_VALUE": "a number", "QUOTED_IDENTIFIER": "an identifier",
            "BACKQUOTED_IDENTIFIER": "an identifier"}.get(name, name)


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
    message = f"Syntax error at or near '{token_text}'"
    if expected:
        shown = ", ".join(expected[:12]) + (", ..." if len(expected) > 12 else "")
        message += f"; expected {shown}"
    return KsqlSyntaxError(message, line, column, token_text, expected, source_line)


# ---------------------------------------------------------------- tree -> AST


def _identifier_text(token: Token) -> str:
    if token.type == "QUOTED_IDENTIFIER":
        return token[1:-1].replace('""', '"')
    if token.type == "BACKQUOTED_IDENTIFIER":
        return token[1:-1].replace("``", "`")
    return str(token).upper()


def _string_text(token: Token) -> str:
    return token[1:-1].replace("''", "'")


def _has(items, type_name: str) -> bool:
    return any(isinstance(i, Token) and i.type == type_name for i in items)


def _flag(items, rule: str) -> bool:
    return any(isinstance(i, _Flag) and i.name == rule for i in items)


@dataclass(frozen=True)
class _Flag:
    name: str


@dataclass(frozen=True)
class _Properties:
    values: dict


class _ToAst(Transformer):
    # -- names and literals

    def plain_identifier(self, items):
        item = items[0]
        if isinstance(item, lark.Tree):  # non_reserved keyword used as a name
            item = item.children[0]
        return item.upper() if isinstance(item, str) else item

    def quoted_identifier(self, items):
        return _identifier_text(items[0])

    def non_reserved(self, items):
        return str(items[0]).upper()

    def source_name(self, items):
        return items[0]

    def integer_literal(self, items):
        value = int(items[0])
        kind = "INTEGER" if value <= 2**31 - 1 else "BIGINT"
        return ast.Literal(value, kind)

    def negative_integer_literal(self, items):
        value = -int(items[1])
        return ast.Literal(value, "INTEGER" if value >= -(2**31) else "BIGINT")

    def decimal_literal(self, items):
        return ast.Literal(Decimal(str(items[0])), "DECIMAL")

    def negative_decimal_literal(self, items):
        return ast.Literal(-Decimal(str(items[1])), "DECIMAL")

    def double_literal(self, items):
        return ast.Literal(float(items[0]), "DOUBLE")

    def negative_double_literal(self, items):
        return ast.Literal(-float(items[1]), "DOUBLE")

    def string_literal(self, items):
        return ast.Literal(_string_text(items[0]), "STRING")

    def true_literal(self, _):
        return ast.Literal(True, "BOOLEAN")

    def false_literal(self, _):
        return ast.Literal(False, "BOOLEAN")

    def null_literal(self, _):
        return ast.Literal(None, "NULL")

    # -- types

    def simple_type(self, items):
        return ast.TypeRef(items[0])

    def decimal_type(self, items):
        return ast.TypeRef("DECIMAL", (int(items[1]), int(items[2])))

    def array_type(self, items):
        return ast.TypeRef("ARRAY", (items[2],))

    def map_type(self, items):
        return ast.TypeRef("MAP", (items[2], items[3]))

    def struct_type(self, items):
        fields = tuple(i for i in items[2:-1] if i is not None)
        return ast.TypeRef("STRUCT", fields)

    def struct_type_field(self, items):
        return (items[0], items[1])

    # -- expressions

    def column_ref(self, items):
        if len(items) == 1:
            return ast.ColumnRef(items[0])
        return ast.ColumnRef(items[1], items[0])

    def function_call(self, items):
        name, args = items[0], [a for a in items[1:] if a is not None]
        if len(args) == 1 and isinstance(args[0], Token) and args[0].type == "STAR":
            return ast.FunctionCall(name, (), star=True)
        return ast.FunctionCall(name, tuple(args))

    def or_op(self, items):
        return ast.LogicalOp("OR", items[0], items[2])

    def and_op(self, items):
        return ast.LogicalOp("AND", items[0], items[2])

    def not_op(self, items):
        return ast.Not(items[1])

    def comparison_op(self, items):
        op = str(items[0])
        return "<>" if op == "!=" else op

    def comparison(self, items):
        return ast.BinaryOp(items[1], items[0], items[2])

    def arithmetic(self, items):
        return ast.BinaryOp(str(items[1]), items[0], items[2])

    def negate(self, items):
        operand = items[1]
        if isinstance(operand, ast.Literal) and operand.kind in ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE"):
            return ast.Literal(-operand.value, operand.kind)
        return ast.Negate(operand)

    def unary(self, items):
        return items[-1]

    def between(self, items):
        negated = _has(items, "NOT")
        values = [i for i in items if not isinstance(i, Token)]
        return ast.Between(values[0], values[1], values[2], negated)

    def in_list(self, items):
        negated = _has(items, "NOT")
        values = [i for i in items if not isinstance(i, Token)]
        return ast.InList(values[0], tuple(values[1:]), negated)

    def like(self, items):
        negated = _has(items, "NOT")
        escape = next((_string_text(i) for i in items if isinstance(i, Token) and i.type == "STRING"), None)
        values = [i for i in items if not isinstance(i, Token)]
        return ast.Like(values[0], values[1], escape, negated)

    def is_null(self, items):
        return ast.IsNull(items[0], _has(items, "NOT"))

    def is_distinct_from(self, items):
        values = [i for i in items if not isinstance(i, Token)]
        return ast.IsDistinctFrom(values[0], values[1], _has(items, "NOT"))

    def cast(self, items):
        return ast.Cast(items[1], items[3])

    def when_clause(self, items):
        return (items[1], items[3])

    def searched_case(self, items):
        whens = tuple(i for i in items if isinstance(i, tuple))
        rest = [i for i in items[1:] if not isinstance(i, (tuple, Token))]
        return ast.Case(whens, rest[0] if rest else None)

    def simple_case(self, items):
        operand = items[1]
        whens = tuple((ast.BinaryOp("=", operand, cond), result)
                      for cond, result in (i for i in items if isinstance(i, tuple)))
        rest = [i for i in items[2:] if not isinstance(i, (tuple, Token))]
        return ast.Case(whens, rest[0] if rest else None)

    def subscript(self, items):
        return ast.Subscript(items[0], items[1])

    def dereference(self, items):
        return ast.Dereference(items[0], items[2])

    def array_constructor(self, items):
        return ast.ArrayConstructor(tuple(i for i in items[1:] if i is not None))

    def map_entry(self, items):
        return (items[0], items[2])

    def map_constructor(self, items):
        return ast.MapConstructor(tuple(i for i in items[1:] if i is not None))

    def struct_field(self, items):
        return (items[0], items[2])

    def struct_constructor(self, items):
        return ast.StructConstructor(tuple(i for i in items[1:] if i is not None))

    # -- queries

    def select_expression(self, items):
        alias = items[-1] if len(items) > 1 and isinstance(items[-1], str) and not isinstance(items[-1], Token) else None
        return ast.SelectExpression(items[0], alias)

    def select_all(self, _):
        return ast.SelectAll()

    def select_source_all(self, items):
        return ast.SelectAll(items[0])

    def relation(self, items):
        alias = items[-1] if len(items) > 1 and not isinstance(items[-1], Token) else None
        return ast.Relation(items[0], alias)

    def where_clause(self, items):
        return ("where", items[1])

    def partition_by(self, items):
        return ("partition_by", tuple(items[2:]))

    def emit_changes(self, _):
        return ("emit", "CHANGES")

    def emit_final(self, _):
        return ("emit", "FINAL")

    def limit_clause(self, items):
        return ("limit", int(items[1]))

    def query(self, items):
        select = tuple(i for i in items if isinstance(i, (ast.SelectExpression, ast.SelectAll)))
        source = next(i for i in items if isinstance(i, ast.Relation))
        clauses = dict(i for i in items if isinstance(i, tuple))
        return ast.Query(select, source, clauses.get("where"), clauses.get("partition_by", ()),
                         clauses.get("emit"), clauses.get("limit"))

    # -- statements

    def or_replace(self, _):
        return _Flag("or_replace")

    def source_flag(self, _):
        return _Flag("source")

    def if_not_exists(self, _):
        return _Flag("if_not_exists")

    def if_exists(self, _):
        return _Flag("if_exists")

    def delete_topic(self, _):
        return _Flag("delete_topic")

    def source_kind(self, items):
        return ("kind", str(items[0]).upper())

    def property(self, items):
        value = items[1]
        return (items[0], value.value if isinstance(value, ast.Literal) else value)

    def with_properties(self, items):
        return _Properties(dict(i for i in items if isinstance(i, tuple)))

    def key_constraint(self, _):
        return ("KEY", None)

    def primary_key_constraint(self, _):
        return ("PRIMARY KEY", None)

    def headers_constraint(self, _):
        return ("HEADERS", None)

    def header_constraint(self, items):
        return ("HEADER", _string_text(items[1]))

    def table_element(self, items):
        constraint, header_key = items[2] if len(items) > 2 else (None, None)
        return ast.ColumnDef(items[0], items[1], constraint, header_key)

    def table_elements(self, items):
        return tuple(items)

    def _common(self, items):
        kind = next(i[1] for i in items if isinstance(i, tuple) and i and i[0] == "kind")
        name = next(i for i in items if isinstance(i, str) and not isinstance(i, Token))
        props = next((i.values for i in items if isinstance(i, _Properties)), {})
        return kind, name, props

    def create_source(self, items):
        kind, name, props = self._common(items)
        columns = next((i for i in items if isinstance(i, tuple) and i and isinstance(i[0], ast.ColumnDef)), ())
        return ast.CreateSource(kind, name, columns, props, _flag(items, "or_replace"),
                                _flag(items, "if_not_exists"), _flag(items, "source"))

    def create_as_select(self, items):
        kind, name, props = self._common(items)
        query = next(i for i in items if isinstance(i, ast.Query))
        return ast.CreateAsSelect(kind, name, query, props, _flag(items, "or_replace"),
                                  _flag(items, "if_not_exists"))

    def insert_select(self, items):
        props = next((i.values for i in items if isinstance(i, _Properties)), {})
        return ast.InsertInto(items[2], items[-1], props)

    def column_list(self, items):
        return ("columns", tuple(items))

    def insert_values(self, items):
        columns = next((i[1] for i in items if isinstance(i, tuple) and i[0] == "columns"), ())
        values = tuple(i for i in items[4:] if isinstance(i, ast.Expression))
        return ast.InsertValues(items[2], columns, values)

    def start(self, items):
        statement = items[0]
        if isinstance(statement, ast.Query):
            return ast.QueryStatement(statement)
        return statement

    def show(self, items):
        return items[1]

    def show_streams(self, items):
        return ast.Show("STREAMS", _has(items, "EXTENDED"))

    def show_tables(self, items):
        return ast.Show("TABLES", _has(items, "EXTENDED"))

    def show_topics(self, items):
        return ast.Show("TOPICS", _has(items, "EXTENDED"), _has(items, "ALL"))

    def show_queries(self, items):
        return ast.Show("QUERIES", _has(items, "EXTENDED"))

    def show_properties(self, _):
        return ast.Show("PROPERTIES")

    def show_functions(self, _):
        return ast.Show("FUNCTIONS")

    def show_variables(self, _):
        return ast.Show("VARIABLES")

    def show_types(self, _):
        return ast.Show("TYPES")

    def describe(self, items):
        return ast.Describe(items[1], _has(items, "EXTENDED"))

    def describe_function(self, items):
        return ast.DescribeFunction(items[2])

    def explain(self, items):
        if isinstance(items[1], ast.Query):
            return ast.Explain(query=items[1])
        return ast.Explain(query_id=items[1])

    def drop_source(self, items):
        kind, name, _ = self._common(items)
        return ast.DropSource(kind, name, _flag(items, "if_exists"), _flag(items, "delete_topic"))

    def terminate(self, items):
        target = items[1]
        if isinstance(target, Token) and target.type == "ALL":
            return ast.Terminate(None)
        return ast.Terminate(target)

    def print_topic(self, items):
        target = items[1]
        topic = _string_text(target) if isinstance(target, Token) and target.type == "STRING" else target
        interval = None
        for i, item in enumerate(items):
            if isinstance(item, Token) and item.type == "INTERVAL":
                interval = int(items[i + 1])
        limit = next((i[1] for i in items if isinstance(i, tuple) and i[0] == "limit"), None)
        return ast.Print(topic, _has(items, "BEGINNING"), interval, limit)

    def set_property(self, items):
        return ast.SetProperty(_string_text(items[1]), _string_text(items[2]))

    def unset_property(self, items):
        return ast.UnsetProperty(_string_text(items[1]))

    def define_variable(self, items):
        return ast.DefineVariable(items[1], _string_text(items[2]))

    def assert_values(self, items):
        columns = next((i[1] for i in items if isinstance(i, tuple) and i[0] == "columns"), ())
        values = tuple(i for i in items[3:] if isinstance(i, ast.Expression))
        return ast.AssertValues(items[2], columns, values)

    def assert_null_values(self, items):
        columns = next((i[1] for i in items if isinstance(i, tuple) and i[0] == "columns"), ())
        values = tuple(i for i in items[4:] if isinstance(i, ast.Expression))
        return ast.AssertValues(items[3], columns, values, null_value=True)

    def assert_source(self, items):
        kind, name, props = self._common(items)
        columns = next((i for i in items if isinstance(i, tuple) and i and isinstance(i[0], ast.ColumnDef)), ())
        return ast.AssertSource(kind, name, columns, props)

    def run_script(self, items):
        return ast.RunScript(_string_text(items[2]))

    def undefine_variable(self, items):
        return ast.UndefineVariable(items[1])


__all__ = ["parse_statement", "parse_script", "parse_expression", "split_statements",
           "substitute_variables", "is_complete", "keywords", "StatementText"]
