"""Parse tree -> AST for expressions: the transformer methods of names, literals, types,
operators, calls and lambdas (one per grammar rule), which ToAst (to_ast.py) inherits."""
from __future__ import annotations

from decimal import Decimal

import lark
from lark import Token

from ksql.parser import ast
from ksql.parser.errors import KsqlSyntaxError
from ksql.parser.lark_grammar import reserved_words


def identifier_text(token: Token) -> str:
    if token.type == "QUOTED_IDENTIFIER":
        return token[1:-1].replace('""', '"')
    if token.type == "BACKQUOTED_IDENTIFIER":
        return token[1:-1].replace("``", "`")
    return str(token).upper()


def string_text(token: Token) -> str:
    return token[1:-1].replace("''", "'")


def has_token(items, type_name: str) -> bool:
    return any(isinstance(i, Token) and i.type == type_name for i in items)


class ExpressionRules:
    text: str  # the statement being parsed (ToAst sets it), for positions in errors

    # -- names and literals

    def plain_identifier(self, items):
        item = items[0]
        if isinstance(item, lark.Tree):  # non_reserved keyword used as a name
            item = item.children[0]
        if isinstance(item, Token) and item.type == "IDENTIFIER" and item.upper() in reserved_words():
            lines = self.text.split("\n")
            raise KsqlSyntaxError(
                f"Syntax Error at or near '{item}'. '{item}' is a reserved keyword: to use it as a name, "
                f"quote it with backticks (`{item}`)", item.line, item.column, str(item), (),
                lines[item.line - 1] if item.line <= len(lines) else "")
        return item.upper() if isinstance(item, str) else item

    def quoted_identifier(self, items):
        return identifier_text(items[0])

    def non_reserved(self, items):
        return str(items[0]).upper()

    def source_name(self, items):
        return items[0]

    def integer_literal(self, items):
        value = int(items[0])
        # after a '-' the literal is checked as the negative number it becomes
        negative = self.text[:items[0].start_pos].rstrip().endswith("-")
        self._check_bigint(-value if negative else value, items[0])
        kind = "INTEGER" if value <= 2**31 - 1 else "BIGINT"
        return ast.Literal(value, kind)

    def negative_integer_literal(self, items):
        value = -int(items[1])
        self._check_bigint(value, items[1])
        return ast.Literal(value, "INTEGER" if value >= -(2**31) else "BIGINT")

    @staticmethod
    def _check_bigint(value: int, token) -> None:
        if not -(2**63) <= value <= 2**63 - 1:
            raise KsqlSyntaxError(f"Invalid numeric literal: {value}", token.line, token.column, str(token),
                                  shown_offset=1)

    def decimal_literal(self, items):
        return ast.Literal(Decimal(str(items[0])), "DECIMAL")

    def negative_decimal_literal(self, items):
        return ast.Literal(-Decimal(str(items[1])), "DECIMAL")

    def double_literal(self, items):
        value = float(items[0])
        if value in (float("inf"), float("-inf")):
            token = items[0]
            negative = self.text[:token.start_pos].rstrip().endswith("-")
            raise KsqlSyntaxError(f"Number overflows DOUBLE: {'-' if negative else ''}{token}", token.line,
                                  token.column, str(token), shown_offset=1)
        return ast.Literal(value, "DOUBLE")

    def negative_double_literal(self, items):
        return ast.Literal(-float(items[1]), "DOUBLE")

    def string_literal(self, items):
        return ast.Literal(string_text(items[0]), "STRING")

    def true_literal(self, _):
        return ast.Literal(True, "BOOLEAN")

    def false_literal(self, _):
        return ast.Literal(False, "BOOLEAN")

    def null_literal(self, _):
        return ast.Literal(None, "NULL")

    # -- types

    def simple_type(self, items):
        return ast.TypeRef(items[0])

    def parameterized_type(self, items):
        return ast.TypeRef(items[0], tuple(int(p) if isinstance(p, Token) and p.type == "INTEGER_VALUE" else p
                                            for p in items[1:]))

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

    @lark.v_args(meta=True)
    def column_ref(self, meta, items):
        position = None if meta.empty else (meta.line, meta.column)
        if len(items) == 1:
            return ast.ColumnRef(items[0], position=position)
        return ast.ColumnRef(items[1], items[0], position=position)

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
        negated = has_token(items, "NOT")
        values = [i for i in items if not isinstance(i, Token)]
        return ast.Between(values[0], values[1], values[2], negated)

    def in_list(self, items):
        negated = has_token(items, "NOT")
        values = [i for i in items if not isinstance(i, Token)]
        return ast.InList(values[0], tuple(values[1:]), negated)

    def like(self, items):
        negated = has_token(items, "NOT")
        escape = next((string_text(i) for i in items if isinstance(i, Token) and i.type == "STRING"), None)
        values = [i for i in items if not isinstance(i, Token)]
        return ast.Like(values[0], values[1], escape, negated)

    def is_null(self, items):
        return ast.IsNull(items[0], has_token(items, "NOT"))

    def is_distinct_from(self, items):
        values = [i for i in items if not isinstance(i, Token)]
        return ast.IsDistinctFrom(values[0], values[1], has_token(items, "NOT"))

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

    # -- lambdas and typed literals

    def lambda_one(self, items):
        return ast.Lambda((items[0],), items[2])

    def lambda_many(self, items):
        names = tuple(i for i in items[:-2] if isinstance(i, str) and not isinstance(i, Token))
        return ast.Lambda(names, items[-1])

    def lambda_parenthesized(self, items):
        name = str(items[0]).strip("() \t\n").upper()
        return ast.Lambda((name,), items[2])

    def typed_decimal_literal(self, items):
        return ast.Literal(Decimal(string_text(items[1])), "DECIMAL")
