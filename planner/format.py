"""AST -> SQL text, for error messages, column names and EXPLAIN."""
from __future__ import annotations

from ksql.parser import ast


def format_type(ref: ast.TypeRef) -> str:
    if ref.name == "DECIMAL" and ref.params:
        return f"DECIMAL({ref.params[0]}, {ref.params[1]})"
    if ref.name == "ARRAY":
        return f"ARRAY<{format_type(ref.params[0])}>"
    if ref.name == "MAP":
        return f"MAP<{format_type(ref.params[0])}, {format_type(ref.params[1])}>"
    if ref.name == "STRUCT":
        return "STRUCT<" + ", ".join(f"{n} {format_type(t)}" for n, t in ref.params) + ">"
    return ref.name


def format_expression(expr) -> str:
    if isinstance(expr, ast.Literal):
        if expr.kind == "STRING":
            return "'" + expr.value.replace("'", "''") + "'"
        if expr.kind == "NULL":
            return "null"
        if expr.kind == "BOOLEAN":
            return "true" if expr.value else "false"
        return str(expr.value)
    if isinstance(expr, ast.ColumnRef):
        return f"{expr.source}.{expr.name}" if expr.source else expr.name
    if isinstance(expr, ast.FunctionCall):
        if expr.star:
            return f"{expr.name}(*)"
        return f"{expr.name}(" + ", ".join(format_expression(a) for a in expr.args) + ")"
    if isinstance(expr, ast.BinaryOp):
        return f"({format_expression(expr.left)} {expr.op} {format_expression(expr.right)})"
    if isinstance(expr, ast.LogicalOp):
        return f"({format_expression(expr.left)} {expr.op} {format_expression(expr.right)})"
    if isinstance(expr, ast.Not):
        return f"(NOT {format_expression(expr.operand)})"
    if isinstance(expr, ast.Negate):
        return f"-{format_expression(expr.operand)}"
    if isinstance(expr, ast.IsNull):
        return f"({format_expression(expr.value)} IS {'NOT ' if expr.negated else ''}NULL)"
    if isinstance(expr, ast.Between):
        return (f"({format_expression(expr.value)} {'NOT ' if expr.negated else ''}BETWEEN "
                f"{format_expression(expr.low)} AND {format_expression(expr.high)})")
    if isinstance(expr, ast.InList):
        items = ", ".join(format_expression(i) for i in expr.items)
        return f"({format_expression(expr.value)} {'NOT ' if expr.negated else ''}IN ({items}))"
    if isinstance(expr, ast.Like):
        return f"({format_expression(expr.value)} {'NOT ' if expr.negated else ''}LIKE {format_expression(expr.pattern)})"
    if isinstance(expr, ast.IsDistinctFrom):
        return (f"({format_expression(expr.left)} IS {'NOT ' if expr.negated else ''}DISTINCT FROM "
                f"{format_expression(expr.right)})")
    if isinstance(expr, ast.Cast):
        return f"CAST({format_expression(expr.operand)} AS {format_type(expr.type)})"
    if isinstance(expr, ast.Case):
        whens = " ".join(f"WHEN {format_expression(c)} THEN {format_expression(r)}" for c, r in expr.whens)
        default = f" ELSE {format_expression(expr.default)}" if expr.default is not None else ""
        return f"(CASE {whens}{default} END)"
    if isinstance(expr, ast.Subscript):
        return f"{format_expression(expr.base)}[{format_expression(expr.index)}]"
    if isinstance(expr, ast.Dereference):
        return f"{format_expression(expr.base)}->{expr.field}"
    if isinstance(expr, ast.ArrayConstructor):
        return "ARRAY[" + ", ".join(format_expression(i) for i in expr.items) + "]"
    if isinstance(expr, ast.MapConstructor):
        return "MAP(" + ", ".join(f"{format_expression(k)}:={format_expression(v)}" for k, v in expr.entries) + ")"
    if isinstance(expr, ast.StructConstructor):
        return "STRUCT(" + ", ".join(f"{n}:={format_expression(v)}" for n, v in expr.fields) + ")"
    return type(expr).__name__
