"""The abstract syntax tree: statements, queries, expressions and type references.

Every node is a small frozen dataclass. Names are already normalized: unquoted identifiers
are upper-cased, quoted ones keep their case (as ksqlDB does).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    pass


# ---------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class TypeRef(Node):
    """A type as written: a name (`INT`, `DECIMAL`, `ARRAY`, a custom type) and its parameters.

    For DECIMAL the params are (precision, scale); for ARRAY (element,); for MAP (key, value);
    for STRUCT a tuple of (field name, TypeRef) pairs.
    """

    name: str
    params: tuple = ()


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Expression(Node):
    pass


@dataclass(frozen=True, slots=True)
class Literal(Expression):
    """kind is one of INTEGER, BIGINT, DECIMAL, DOUBLE, STRING, BOOLEAN, NULL."""

    value: Any
    kind: str


@dataclass(frozen=True, slots=True)
class ColumnRef(Expression):
    name: str
    source: str | None = None
    # (line, column) of the reference in its statement, both from 1, for errors that point at
    # it; not part of what the reference is (two references to one column are equal)
    position: tuple[int, int] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class FunctionCall(Expression):
    name: str
    args: tuple[Expression, ...] = ()
    star: bool = False


@dataclass(frozen=True, slots=True)
class BinaryOp(Expression):
    """Arithmetic (+ - * / % ||) and comparison (= <> < <= > >=) operators."""

    op: str
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class LogicalOp(Expression):
    op: str  # AND | OR
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Not(Expression):
    operand: Expression


@dataclass(frozen=True, slots=True)
class Negate(Expression):
    operand: Expression


@dataclass(frozen=True, slots=True)
class Between(Expression):
    value: Expression
    low: Expression
    high: Expression
    negated: bool = False


@dataclass(frozen=True, slots=True)
class InList(Expression):
    value: Expression
    items: tuple[Expression, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Like(Expression):
    value: Expression
    pattern: Expression
    escape: str | None = None
    negated: bool = False


@dataclass(frozen=True, slots=True)
class IsNull(Expression):
    value: Expression
    negated: bool = False


@dataclass(frozen=True, slots=True)
class IsDistinctFrom(Expression):
    left: Expression
    right: Expression
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Cast(Expression):
    operand: Expression
    type: TypeRef


@dataclass(frozen=True, slots=True)
class Case(Expression):
    """A searched CASE; a simple `CASE x WHEN v` is rewritten to `WHEN x = v` when parsed."""

    whens: tuple[tuple[Expression, Expression], ...]
    default: Expression | None = None


@dataclass(frozen=True, slots=True)
class Lambda(Expression):
    params: tuple[str, ...]
    body: Expression


@dataclass(frozen=True, slots=True)
class Subscript(Expression):
    base: Expression
    index: Expression


@dataclass(frozen=True, slots=True)
class Dereference(Expression):
    base: Expression
    field: str


@dataclass(frozen=True, slots=True)
class ArrayConstructor(Expression):
    items: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class MapConstructor(Expression):
    entries: tuple[tuple[Expression, Expression], ...]


@dataclass(frozen=True, slots=True)
class StructConstructor(Expression):
    fields: tuple[tuple[str, Expression], ...]


# ---------------------------------------------------------------- queries


@dataclass(frozen=True, slots=True)
class SelectExpression(Node):
    expression: Expression
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class SelectAll(Node):
    source: str | None = None


@dataclass(frozen=True, slots=True)
class SelectStructAll(Node):
    """`struct_expression->*`: every field of a struct as its own column."""

    expression: Expression


@dataclass(frozen=True, slots=True)
class Relation(Node):
    name: str
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class Join(Node):
    kind: str  # INNER | LEFT | RIGHT | FULL
    relation: Relation
    criteria: Expression
    within: tuple[int, int] | None = None  # (before, after) in milliseconds
    grace: int | None = None  # milliseconds


@dataclass(frozen=True, slots=True)
class Window(Node):
    kind: str  # TUMBLING | HOPPING | SESSION
    size: int  # milliseconds (the gap for SESSION)
    advance: int | None = None
    retention: int | None = None
    grace: int | None = None


@dataclass(frozen=True, slots=True)
class OrderItem(Node):
    expression: Expression
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Query(Node):
    select: tuple[Node, ...]
    source: Relation
    where: Expression | None = None
    partition_by: tuple[Expression, ...] = ()
    emit: str | None = None  # None | CHANGES | FINAL
    limit: int | None = None
    joins: tuple[Join, ...] = ()
    window: Window | None = None
    group_by: tuple[Expression, ...] | None = None
    having: Expression | None = None
    order_by: tuple[OrderItem, ...] = ()  # pull queries only


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Statement(Node):
    pass


@dataclass(frozen=True, slots=True)
class ColumnDef(Node):
    name: str
    type: TypeRef
    constraint: str | None = None  # None | KEY | PRIMARY KEY | HEADERS | HEADER
    header_key: str | None = None


@dataclass(frozen=True, slots=True)
class CreateSource(Statement):
    kind: str  # STREAM | TABLE
    name: str
    columns: tuple[ColumnDef, ...] = ()
    properties: dict = field(default_factory=dict, hash=False)
    or_replace: bool = False
    if_not_exists: bool = False
    is_source: bool = False


@dataclass(frozen=True, slots=True)
class CreateAsSelect(Statement):
    kind: str
    name: str
    query: Query
    properties: dict = field(default_factory=dict, hash=False)
    or_replace: bool = False
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class InsertInto(Statement):
    target: str
    query: Query
    properties: dict = field(default_factory=dict, hash=False)
    # (line, column) of the target's name in the statement, for an error about it
    target_position: tuple[int, int] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class InsertValues(Statement):
    target: str
    columns: tuple[str, ...]
    values: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class QueryStatement(Statement):
    query: Query


@dataclass(frozen=True, slots=True)
class Show(Statement):
    what: str  # STREAMS | TABLES | TOPICS | QUERIES | PROPERTIES | FUNCTIONS | VARIABLES | TYPES | [SOURCE |
    # SINK] CONNECTORS | CONNECTOR PLUGINS
    extended: bool = False
    all: bool = False


@dataclass(frozen=True, slots=True)
class Describe(Statement):
    name: str
    extended: bool = False


@dataclass(frozen=True, slots=True)
class DescribeFunction(Statement):
    name: str


@dataclass(frozen=True, slots=True)
class Explain(Statement):
    query: Query | None = None
    query_id: str | None = None


@dataclass(frozen=True, slots=True)
class DropSource(Statement):
    kind: str
    name: str
    if_exists: bool = False
    delete_topic: bool = False


@dataclass(frozen=True, slots=True)
class Terminate(Statement):
    query_id: str | None  # None means ALL


@dataclass(frozen=True, slots=True)
class Print(Statement):
    topic: str
    from_beginning: bool = False
    interval: int | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class SetProperty(Statement):
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class UnsetProperty(Statement):
    name: str


@dataclass(frozen=True, slots=True)
class DefineVariable(Statement):
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class UndefineVariable(Statement):
    name: str


@dataclass(frozen=True, slots=True)
class AssertValues(Statement):
    """ASSERT VALUES / ASSERT NULL VALUES: the next record of a source is this one."""

    target: str
    columns: tuple[str, ...]
    values: tuple[Expression, ...]
    null_value: bool = False


@dataclass(frozen=True, slots=True)
class AssertSource(Statement):
    """ASSERT STREAM|TABLE: a source exists with this schema and these properties."""

    kind: str
    name: str
    columns: tuple[ColumnDef, ...] = ()
    properties: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class RunScript(Statement):
    path: str


@dataclass(frozen=True, slots=True)
class AssertTopic(Statement):
    name: str
    exists: bool = True
    properties: dict = field(default_factory=dict, hash=False)
    timeout: int | None = None


@dataclass(frozen=True, slots=True)
class AssertSchema(Statement):
    subject: str | None = None
    id: int | None = None
    exists: bool = True
    timeout: int | None = None


@dataclass(frozen=True, slots=True)
class AlterSource(Statement):
    kind: str
    name: str
    columns: tuple[ColumnDef, ...]


@dataclass(frozen=True, slots=True)
class CreateType(Statement):
    name: str
    type: TypeRef
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class DropType(Statement):
    name: str
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class PauseQuery(Statement):
    query_id: str | None  # None means ALL


@dataclass(frozen=True, slots=True)
class ResumeQuery(Statement):
    query_id: str | None


@dataclass(frozen=True, slots=True)
class AlterSystem(Statement):
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class CreateConnector(Statement):
    kind: str  # SOURCE | SINK
    name: str
    properties: dict = field(default_factory=dict, hash=False)
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class DropConnector(Statement):
    name: str
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class DescribeConnector(Statement):
    name: str
