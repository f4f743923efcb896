"""Parse tree -> AST: one transformer method per grammar rule; the expressions' rules are in
expression_rules.py."""
from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token, Transformer

from ksql.parser.errors import KsqlStatementError, KsqlSyntaxError
from ksql.parser import ast
from ksql.parser.expression_rules import ExpressionRules, has_token, string_text
from ksql.parser.scripts import BETWEEN_TOKENS


_UNITS_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}


def _duration_ms(amount: int, unit: str) -> int:
    name = unit.upper().rstrip("S") if unit.upper() not in ("MILLISECONDS",) else "MILLISECOND"
    if unit.upper() == "MILLISECONDS":
        name = "MILLISECOND"
    if name not in _UNITS_MS:
        raise KsqlSyntaxError(f"Unknown time unit '{unit}'; use MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS",
                              getattr(unit, "line", 1) or 1, getattr(unit, "column", 1) or 1, str(unit))
    return amount * _UNITS_MS[name]


def _flag(items, rule: str) -> bool:
    return any(isinstance(i, _Flag) and i.name == rule for i in items)


@dataclass(frozen=True)
class _Flag:
    name: str


@dataclass(frozen=True)
class _Properties:
    values: dict



class ToAst(ExpressionRules, Transformer):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

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

    def empty_partition_by(self, _):
        raise KsqlStatementError("PARTITION BY requires at least one expression")

    def emit_changes(self, _):
        return ("emit", "CHANGES")

    def emit_final(self, _):
        return ("emit", "FINAL")

    def limit_clause(self, items):
        return ("limit", int(items[1]))

    def negative_limit_clause(self, items):
        return ("limit", -int(items[2]))  # refused with ksqlDB's message when the query is planned

    def decimal_limit_clause(self, items):
        token = items[1]
        raise KsqlSyntaxError("Failed to prepare statement: Value must be integer for command: LIMIT",
                              token.line, token.column, str(token), (), "")

    def query(self, items):
        select = tuple(i for i in items if isinstance(i, (ast.SelectExpression, ast.SelectAll,
                                                           ast.SelectStructAll)))
        source = next(i for i in items if isinstance(i, ast.Relation))
        joins = tuple(i for i in items if isinstance(i, ast.Join))
        window = next((i for i in items if isinstance(i, ast.Window)), None)
        clauses = dict(i for i in items if isinstance(i, tuple))
        return ast.Query(select, source, clauses.get("where"), clauses.get("partition_by", ()),
                         clauses.get("emit"), clauses.get("limit"), joins, window,
                         clauses.get("group_by"), clauses.get("having"), clauses.get("order_by", ()))

    def select_struct_all(self, items):
        return ast.SelectStructAll(items[0])

    # -- joins and windows

    def inner_join(self, _):
        return "INNER"

    def left_join(self, _):
        return "LEFT"

    def right_join(self, _):
        return "RIGHT"

    def full_join(self, _):
        return "FULL"

    def duration(self, items):
        return _duration_ms(int(items[0]), items[1])

    def grace_period(self, items):
        return ("grace", items[2])

    def within_clause(self, items):
        durations = [i for i in items if isinstance(i, int)]
        grace = next((i[1] for i in items if isinstance(i, tuple)), None)
        before, after = (durations[0], durations[0]) if len(durations) == 1 else durations[:2]
        return ("within", (before, after), grace)

    def join_clause(self, items):
        kind = items[0]
        relation = next(i for i in items if isinstance(i, ast.Relation))
        within = next((i for i in items if isinstance(i, tuple) and i[0] == "within"), None)
        return ast.Join(kind, relation, items[-1], within[1] if within else None, within[2] if within else None)

    def retention_option(self, items):
        return ("retention", items[1])

    def grace_option(self, items):
        return ("grace", items[2])

    def _window(self, kind, items):
        durations = [i for i in items if isinstance(i, int)]
        options = dict(i for i in items if isinstance(i, tuple))
        advance = durations[1] if kind == "HOPPING" else None
        return ast.Window(kind, durations[0], advance, options.get("retention"), options.get("grace"))

    def tumbling_window(self, items):
        return self._window("TUMBLING", items)

    def hopping_window(self, items):
        return self._window("HOPPING", items)

    def session_window(self, items):
        return self._window("SESSION", items)

    def window_clause(self, items):
        return items[-1]

    def group_by(self, items):
        return ("group_by", tuple(items[2:]))

    def empty_group_by(self, _):
        return ("group_by", ())

    def having_clause(self, items):
        return ("having", items[1])

    def order_by_clause(self, items):
        return ("order_by", tuple(i for i in items if isinstance(i, ast.OrderItem)))

    def order_item(self, items):
        descending = len(items) > 1 and isinstance(items[-1], Token) and items[-1].type == "DESC"
        return ast.OrderItem(items[0], descending)

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
        key, value = items
        if isinstance(key, Token) and key.type == "STRING":
            key = string_text(key)
        return (key, value.value if isinstance(value, ast.Literal) else value)

    def with_properties(self, items):
        return _Properties(dict(i for i in items if isinstance(i, tuple)))

    def key_constraint(self, _):
        return ("KEY", None)

    def primary_key_constraint(self, _):
        return ("PRIMARY KEY", None)

    def headers_constraint(self, _):
        return ("HEADERS", None)

    def header_constraint(self, items):
        return ("HEADER", string_text(items[1]))

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
        return ast.InsertInto(items[2], items[-1], props, target_position=self._position_after(items[1]))

    def _position_after(self, token: Token) -> tuple[int, int] | None:
        """(line, column) of the first token after `token` (past spaces and comments)."""
        if token.end_pos is None:
            return None
        start = BETWEEN_TOKENS.match(self.text, token.end_pos).end()
        line = self.text.count("\n", 0, start) + 1
        return line, start - self.text.rfind("\n", 0, start)

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
        return ast.Show("STREAMS", has_token(items, "EXTENDED"))

    def show_tables(self, items):
        return ast.Show("TABLES", has_token(items, "EXTENDED"))

    def show_topics(self, items):
        return ast.Show("TOPICS", has_token(items, "EXTENDED"), has_token(items, "ALL"))

    def show_queries(self, items):
        return ast.Show("QUERIES", has_token(items, "EXTENDED"))

    def show_properties(self, _):
        return ast.Show("PROPERTIES")

    def show_functions(self, _):
        return ast.Show("FUNCTIONS")

    def show_variables(self, _):
        return ast.Show("VARIABLES")

    def show_types(self, _):
        return ast.Show("TYPES")

    def describe(self, items):
        return ast.Describe(items[1], has_token(items, "EXTENDED"))

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
        topic = string_text(target) if isinstance(target, Token) and target.type == "STRING" else target
        interval = None
        for i, item in enumerate(items):
            if isinstance(item, Token) and item.type == "INTERVAL":
                interval = int(items[i + 1])
        limit = next((i[1] for i in items if isinstance(i, tuple) and i[0] == "limit"), None)
        return ast.Print(topic, has_token(items, "BEGINNING"), interval, limit)

    def set_property(self, items):
        return ast.SetProperty(string_text(items[1]), string_text(items[2]))

    def unset_property(self, items):
        return ast.UnsetProperty(string_text(items[1]))

    def define_variable(self, items):
        return ast.DefineVariable(self._variable_name(items[1]), string_text(items[2]))

    def _variable_name(self, name: str) -> str:
        """A variable keeps its name as typed (SHOW VARIABLES shows it so); uses of it match
        whatever the case."""
        typed = re.match(r"\s*(?:UN)?DEFINE\s+([A-Za-z_][A-Za-z0-9_]*)", self.text, re.IGNORECASE)
        return typed.group(1) if typed and typed.group(1).upper() == name else name

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
        return ast.RunScript(string_text(items[2]))

    def alter_option(self, items):
        rest = [i for i in items if not isinstance(i, Token)]
        return ast.ColumnDef(rest[0], rest[1])

    def alter_source(self, items):
        kind = next(i[1] for i in items if isinstance(i, tuple) and i[0] == "kind")
        name = next(i for i in items if isinstance(i, str) and not isinstance(i, Token))
        return ast.AlterSource(kind, name, tuple(i for i in items if isinstance(i, ast.ColumnDef)))

    def create_type(self, items):
        name = next(i for i in items if isinstance(i, str) and not isinstance(i, Token))
        return ast.CreateType(name, items[-1], _flag(items, "if_not_exists"))

    def drop_type(self, items):
        return ast.DropType(items[-1], _flag(items, "if_exists"))

    def pause_query(self, items):
        return ast.PauseQuery(None if isinstance(items[1], Token) and items[1].type == "ALL" else items[1])

    def resume_query(self, items):
        return ast.ResumeQuery(None if isinstance(items[1], Token) and items[1].type == "ALL" else items[1])

    def alter_system(self, items):
        return ast.AlterSystem(string_text(items[2]), string_text(items[3]))

    def create_connector(self, items):
        kind = str(items[1]).upper()
        name = next(i for i in items if isinstance(i, str) and not isinstance(i, Token))
        props = next((i.values for i in items if isinstance(i, _Properties)), {})
        return ast.CreateConnector(kind, name, props, _flag(items, "if_not_exists"))

    def drop_connector(self, items):
        return ast.DropConnector(items[-1], _flag(items, "if_exists"))

    def describe_connector(self, items):
        return ast.DescribeConnector(items[-1])

    def not_exists(self, _):
        return _Flag("not_exists")

    def timeout(self, items):
        return ("timeout", items[1])

    def resource_name(self, items):
        """A topic or subject: a name (upper-cased unless quoted) or a string, as written."""
        item = items[0]
        return ("resource", string_text(item) if isinstance(item, Token) and item.type == "STRING" else item)

    def assert_topic(self, items):
        name = next(i[1] for i in items if isinstance(i, tuple) and i[0] == "resource")
        props = next((i.values for i in items if isinstance(i, _Properties)), {})
        timeout = next((i[1] for i in items if isinstance(i, tuple) and i[0] == "timeout"), None)
        return ast.AssertTopic(name, not _flag(items, "not_exists"), props, timeout)

    def assert_schema(self, items):
        subject, schema_id = None, None
        for i, item in enumerate(items):
            if isinstance(item, Token) and item.type == "SUBJECT":
                subject = items[i + 1][1]
            if isinstance(item, Token) and item.type == "ID":
                schema_id = int(items[i + 1])
        timeout = next((i[1] for i in items if isinstance(i, tuple) and i[0] == "timeout"), None)
        return ast.AssertSchema(subject, schema_id, not _flag(items, "not_exists"), timeout)

    def show_connectors(self, items):
        scope = next((i.type for i in items if isinstance(i, Token) and i.type in ("SOURCE", "SINK")), None)
        return ast.Show(f"{scope} CONNECTORS" if scope else "CONNECTORS")

    def show_connector_plugins(self, items):
        return ast.Show("CONNECTOR PLUGINS")

    def undefine_variable(self, items):
        return ast.UndefineVariable(self._variable_name(items[1]))

