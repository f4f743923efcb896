"""AST -> SQL text. Printing a statement and parsing the text gives back the same AST, so the
text can be stored (command topic), shown (EXPLAIN, error messages) and run again."""
from __future__ import annotations

import re
from decimal import Decimal

from ksql.parser import ast
from ksql.parser.lark_grammar import reserved_words

_PLAIN_NAME = re.compile(r"^[A-Z_][A-Z0-9_@$]*$")


def name(text: str) -> str:
    """An identifier, back-quoted unless it reads back the same unquoted."""
    if _PLAIN_NAME.match(text) and text not in reserved_words():
        return text
    return "`" + text.replace("`", "``") + "`"


def string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def format_type(ref: ast.TypeRef) -> str:
    if ref.name == "DECIMAL" and ref.params:
        return f"DECIMAL({ref.params[0]}, {ref.params[1]})"
    if ref.name == "ARRAY":
        return f"ARRAY<{format_type(ref.params[0])}>"
    if ref.name == "MAP":
        return f"MAP<{format_type(ref.params[0])}, {format_type(ref.params[1])}>"
    if ref.name == "STRUCT":
        return "STRUCT<" + ", ".join(f"{name(n)} {format_type(t)}" for n, t in ref.params) + ">"
    if ref.params:
        return f"{name(ref.name)}(" + ", ".join(str(p) for p in ref.params) + ")"
    return name(ref.name)


def _literal(expr: ast.Literal) -> str:
    if expr.kind == "STRING":
        return string(expr.value)
    if expr.kind == "NULL":
        return "null"
    if expr.kind == "BOOLEAN":
        return "true" if expr.value else "false"  # (as ksqlDB prints them)
    if expr.kind == "DOUBLE":
        text = repr(float(expr.value))
        if "e" in text:
            mantissa, exponent = text.split("e")
            return f"{mantissa if '.' in mantissa else mantissa + '.0'}E{int(exponent)}"
        if text in ("inf", "-inf"):  # a literal too large for a double reads back as infinite
            return text.replace("inf", "1.0E999")
        return f"{text}E0"
    if expr.kind == "DECIMAL":
        text = format(Decimal(expr.value), "f")
        return text if "." in text else f"DECIMAL '{text}'"
    return str(expr.value)


def format_expression(expr, dialect=None) -> str:
    """The expression as KSQL text. `dialect(node)` may give another text for a node (or None
    to keep KSQL's); it applies at every depth, so another SQL can reuse this printer."""
    if dialect is not None:
        text = dialect(expr)
        if text is not None:
            return text

    def f(e):
        return format_expression(e, dialect)

    if isinstance(expr, ast.Literal):
        return _literal(expr)
    if isinstance(expr, ast.ColumnRef):
        return f"{name(expr.source)}.{name(expr.name)}" if expr.source else name(expr.name)
    if isinstance(expr, ast.FunctionCall):
        if expr.star:
            return f"{name(expr.name)}(*)"
        return f"{name(expr.name)}(" + ", ".join(f(a) for a in expr.args) + ")"
    if isinstance(expr, ast.Lambda):
        params = name(expr.params[0]) if len(expr.params) == 1 else \
            "(" + ", ".join(name(p) for p in expr.params) + ")"
        return f"{params} => {f(expr.body)}"
    if isinstance(expr, (ast.BinaryOp, ast.LogicalOp)):
        return f"({f(expr.left)} {expr.op} {f(expr.right)})"
    if isinstance(expr, ast.Not):
        return f"(NOT {f(expr.operand)})"
    if isinstance(expr, ast.Negate):
        return f"(-{f(expr.operand)})"
    if isinstance(expr, ast.IsNull):
        return f"({f(expr.value)} IS {'NOT ' if expr.negated else ''}NULL)"
    if isinstance(expr, ast.Between):
        return (f"({f(expr.value)} {'NOT ' if expr.negated else ''}BETWEEN {f(expr.low)} AND {f(expr.high)})")
    if isinstance(expr, ast.InList):
        return f"({f(expr.value)} {'NOT ' if expr.negated else ''}IN (" + ", ".join(f(i) for i in expr.items) + "))"
    if isinstance(expr, ast.Like):
        escape = f" ESCAPE {string(expr.escape)}" if expr.escape is not None else ""
        return f"({f(expr.value)} {'NOT ' if expr.negated else ''}LIKE {f(expr.pattern)}{escape})"
    if isinstance(expr, ast.IsDistinctFrom):
        return f"({f(expr.left)} IS {'NOT ' if expr.negated else ''}DISTINCT FROM {f(expr.right)})"
    if isinstance(expr, ast.Cast):
        return f"CAST({f(expr.operand)} AS {format_type(expr.type)})"
    if isinstance(expr, ast.Case):
        whens = " ".join(f"WHEN {f(c)} THEN {f(r)}" for c, r in expr.whens)
        default = f" ELSE {f(expr.default)}" if expr.default is not None else ""
        return f"(CASE {whens}{default} END)"
    if isinstance(expr, ast.Subscript):
        return f"{f(expr.base)}[{f(expr.index)}]"
    if isinstance(expr, ast.Dereference):
        return f"{f(expr.base)}->{name(expr.field)}"
    if isinstance(expr, ast.ArrayConstructor):
        return "ARRAY[" + ", ".join(f(i) for i in expr.items) + "]"
    if isinstance(expr, ast.MapConstructor):
        return "MAP(" + ", ".join(f"{f(k)}:={f(v)}" for k, v in expr.entries) + ")"
    if isinstance(expr, ast.StructConstructor):
        return "STRUCT(" + ", ".join(f"{name(n)}:={f(v)}" for n, v in expr.fields) + ")"
    raise TypeError(f"cannot format {type(expr).__name__}")


# ---------------------------------------------------------------- queries


def _duration(ms: int) -> str:
    for unit, size in (("DAYS", 86_400_000), ("HOURS", 3_600_000), ("MINUTES", 60_000), ("SECONDS", 1000)):
        if ms % size == 0 and ms:
            return f"{ms // size} {unit}"
    return f"{ms} MILLISECONDS"


def _select_item(item) -> str:
    if isinstance(item, ast.SelectAll):
        return f"{name(item.source)}.*" if item.source else "*"
    if isinstance(item, ast.SelectStructAll):
        return f"{format_expression(item.expression)}->*"
    text = format_expression(item.expression)
    return f"{text} AS {name(item.alias)}" if item.alias else text


def _relation(relation: ast.Relation) -> str:
    return name(relation.name) + (f" {name(relation.alias)}" if relation.alias else "")


def _join(join: ast.Join) -> str:
    text = f" {join.kind} JOIN {_relation(join.relation)}"
    if join.within is not None:
        before, after = join.within
        text += f" WITHIN {_duration(before)}" if before == after else \
            f" WITHIN ({_duration(before)}, {_duration(after)})"
        if join.grace is not None:
            text += f" GRACE PERIOD {_duration(join.grace)}"
    return text + f" ON {format_expression(join.criteria)}"


def _window(window: ast.Window) -> str:
    options = []
    if window.retention is not None:
        options.append(f"RETENTION {_duration(window.retention)}")
    if window.grace is not None:
        options.append(f"GRACE PERIOD {_duration(window.grace)}")
    rest = "".join(", " + o for o in options)
    if window.kind == "SESSION":
        return f" WINDOW SESSION ({_duration(window.size)}{rest})"
    if window.kind == "HOPPING":
        return f" WINDOW HOPPING (SIZE {_duration(window.size)}, ADVANCE BY {_duration(window.advance)}{rest})"
    return f" WINDOW TUMBLING (SIZE {_duration(window.size)}{rest})"


def format_query(query: ast.Query) -> str:
    text = "SELECT " + ", ".join(_select_item(i) for i in query.select)
    text += " FROM " + _relation(query.source) + "".join(_join(j) for j in query.joins)
    if query.window is not None:
        text += _window(query.window)
    if query.where is not None:
        text += " WHERE " + format_expression(query.where)
    if query.group_by is not None:
        text += " GROUP BY " + (", ".join(format_expression(e) for e in query.group_by) or "()")
    if query.partition_by:
        text += " PARTITION BY " + ", ".join(format_expression(e) for e in query.partition_by)
    if query.having is not None:
        text += " HAVING " + format_expression(query.having)
    if query.order_by:
        text += " ORDER BY " + ", ".join(format_expression(o.expression) + (" DESC" if o.descending else "")
                                         for o in query.order_by)
    if query.emit is not None:
        text += f" EMIT {query.emit}"
    if query.limit is not None:
        text += f" LIMIT {query.limit}"
    return text


# ---------------------------------------------------------------- statements


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, float):
        return _literal(ast.Literal(value, "DOUBLE"))
    return str(value)


def _properties(props: dict) -> str:
    if not props:
        return ""
    return " WITH (" + ", ".join(f"{name(k)}={_value(v)}" for k, v in props.items()) + ")"


def _column(column: ast.ColumnDef) -> str:
    text = f"{name(column.name)} {format_type(column.type)}"
    if column.constraint == "HEADER":
        return text + f" HEADER({string(column.header_key)})"
    return text + (f" {column.constraint}" if column.constraint else "")


def _columns(columns) -> str:
    return " (" + ", ".join(_column(c) for c in columns) + ")" if columns else ""


def _target(names) -> str:
    return "ALL" if names is None else name(names)


def format_statement(stmt: ast.Statement) -> str:
    """One statement, with its closing ';'."""
    return _format(stmt) + ";"


def _format(stmt) -> str:
    if isinstance(stmt, ast.QueryStatement):
        return format_query(stmt.query)
    if isinstance(stmt, ast.CreateSource):
        return ("CREATE " + ("OR REPLACE " if stmt.or_replace else "") + ("SOURCE " if stmt.is_source else "")
                + stmt.kind + (" IF NOT EXISTS" if stmt.if_not_exists else "") + f" {name(stmt.name)}"
                + _columns(stmt.columns) + _properties(stmt.properties))
    if isinstance(stmt, ast.CreateAsSelect):
        return ("CREATE " + ("OR REPLACE " if stmt.or_replace else "") + stmt.kind
                + (" IF NOT EXISTS" if stmt.if_not_exists else "") + f" {name(stmt.name)}"
                + _properties(stmt.properties) + " AS " + format_query(stmt.query))
    if isinstance(stmt, ast.InsertInto):
        return f"INSERT INTO {name(stmt.target)}{_properties(stmt.properties)} {format_query(stmt.query)}"
    if isinstance(stmt, ast.InsertValues):
        columns = " (" + ", ".join(name(c) for c in stmt.columns) + ")" if stmt.columns else ""
        return (f"INSERT INTO {name(stmt.target)}{columns} VALUES ("
                + ", ".join(format_expression(v) for v in stmt.values) + ")")
    if isinstance(stmt, ast.Show):
        what = stmt.what
        if what == "TOPICS":
            return "SHOW " + ("ALL " if stmt.all else "") + "TOPICS" + (" EXTENDED" if stmt.extended else "")
        return f"SHOW {what}" + (" EXTENDED" if stmt.extended else "")
    if isinstance(stmt, ast.Describe):
        return f"DESCRIBE {name(stmt.name)}" + (" EXTENDED" if stmt.extended else "")
    if isinstance(stmt, ast.DescribeFunction):
        return f"DESCRIBE FUNCTION {name(stmt.name)}"
    if isinstance(stmt, ast.DescribeConnector):
        return f"DESCRIBE CONNECTOR {name(stmt.name)}"
    if isinstance(stmt, ast.Explain):
        return "EXPLAIN " + (format_query(stmt.query) if stmt.query is not None else name(stmt.query_id))
    if isinstance(stmt, ast.DropSource):
        return (f"DROP {stmt.kind}" + (" IF EXISTS" if stmt.if_exists else "") + f" {name(stmt.name)}"
                + (" DELETE TOPIC" if stmt.delete_topic else ""))
    if isinstance(stmt, ast.Terminate):
        return f"TERMINATE {_target(stmt.query_id)}"
    if isinstance(stmt, ast.PauseQuery):
        return f"PAUSE {_target(stmt.query_id)}"
    if isinstance(stmt, ast.ResumeQuery):
        return f"RESUME {_target(stmt.query_id)}"
    if isinstance(stmt, ast.Print):
        return (f"PRINT {string(stmt.topic)}" + (" FROM BEGINNING" if stmt.from_beginning else "")
                + (f" INTERVAL {stmt.interval}" if stmt.interval is not None else "")
                + (f" LIMIT {stmt.limit}" if stmt.limit is not None else ""))
    if isinstance(stmt, ast.SetProperty):
        return f"SET {string(stmt.name)}={string(stmt.value)}"
    if isinstance(stmt, ast.UnsetProperty):
        return f"UNSET {string(stmt.name)}"
    if isinstance(stmt, ast.AlterSystem):
        return f"ALTER SYSTEM {string(stmt.name)}={string(stmt.value)}"
    if isinstance(stmt, ast.DefineVariable):
        return f"DEFINE {stmt.name}={string(stmt.value)}"
    if isinstance(stmt, ast.UndefineVariable):
        return f"UNDEFINE {stmt.name}"
    if isinstance(stmt, ast.AlterSource):
        return f"ALTER {stmt.kind} {name(stmt.name)} " + ", ".join(
            f"ADD COLUMN {name(c.name)} {format_type(c.type)}" for c in stmt.columns)
    if isinstance(stmt, ast.CreateType):
        return ("CREATE TYPE" + (" IF NOT EXISTS" if stmt.if_not_exists else "")
                + f" {name(stmt.name)} AS {format_type(stmt.type)}")
    if isinstance(stmt, ast.DropType):
        return "DROP TYPE" + (" IF EXISTS" if stmt.if_exists else "") + f" {name(stmt.name)}"
    if isinstance(stmt, ast.CreateConnector):
        return (f"CREATE {stmt.kind} CONNECTOR" + (" IF NOT EXISTS" if stmt.if_not_exists else "")
                + f" {name(stmt.name)}{_properties(stmt.properties)}")
    if isinstance(stmt, ast.DropConnector):
        return "DROP CONNECTOR" + (" IF EXISTS" if stmt.if_exists else "") + f" {name(stmt.name)}"
    if isinstance(stmt, ast.AssertValues):
        columns = " (" + ", ".join(name(c) for c in stmt.columns) + ")" if stmt.columns else ""
        values = ", ".join(format_expression(v) for v in stmt.values)
        if stmt.null_value:
            return f"ASSERT NULL VALUES {name(stmt.target)}{columns} KEY ({values})"
        return f"ASSERT VALUES {name(stmt.target)}{columns} VALUES ({values})"
    if isinstance(stmt, ast.AssertSource):
        return f"ASSERT {stmt.kind} {name(stmt.name)}{_columns(stmt.columns)}{_properties(stmt.properties)}"
    if isinstance(stmt, ast.AssertTopic):
        return ("ASSERT " + ("" if stmt.exists else "NOT EXISTS ") + f"TOPIC {name(stmt.name)}"
                + _properties(stmt.properties) + (f" TIMEOUT {_duration(stmt.timeout)}" if stmt.timeout else ""))
    if isinstance(stmt, ast.AssertSchema):
        return ("ASSERT " + ("" if stmt.exists else "NOT EXISTS ") + "SCHEMA"
                + (f" SUBJECT {name(stmt.subject)}" if stmt.subject else "")
                + (f" ID {stmt.id}" if stmt.id is not None else "")
                + (f" TIMEOUT {_duration(stmt.timeout)}" if stmt.timeout else ""))
    if isinstance(stmt, ast.RunScript):
        return f"RUN SCRIPT {string(stmt.path)}"
    raise TypeError(f"cannot format {type(stmt).__name__}")
