"""Planning joins: stream-stream (windowed), stream-table and table-table, chained left to right.

Each source's columns are carried under a field of their own (`ALIAS__COL`), so equal names
on both sides stay apart. The join tree is left-deep: the first join reads the first two
sources; each further join reads the previous join's output on its left and one more source
on its right. After the joins come WHERE and the projection, over the joined fields.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ksql.parser.errors import KsqlPreparationError, KsqlStatementError
from ksql.parser import ast
from ksql.planner import types as T
from ksql.planner.binder import bind
from ksql.planner.bound import Expr
from ksql.planner.scope import Scope, ScopeColumn
from ksql.planner.format import format_expression
from ksql.planner.metastore import DataSource, MetaStore
from ksql.planner.properties import StreamProperties
from ksql.planner.schema import PSEUDO_COLUMNS, ROWTIME, WINDOWEND, WINDOWSTART, check_no_map_key
from ksql.planner.tree import rewrite, walk
from ksql.planner.windows import duration

DEFAULT_JOIN_GRACE_MS = 24 * 3600 * 1000
JOIN_KEY = "__JOIN_KEY"  # the field holding each joined row's key: the last join's key value


def field_name(alias: str, column: str) -> str:
    return f"{alias}__{column}"


@dataclass(frozen=True, slots=True)
class JoinInput:
    source: DataSource
    alias: str
    properties: StreamProperties | None = None

    @property
    def is_table(self) -> bool:
        return self.source.is_table

    def columns(self) -> list[tuple[str, T.SqlType]]:
        """(column, type) of every column carried through the join, pseudo columns included."""
        own = [(c.name, c.type) for c in self.source.schema.key]
        if self.source.window_type:  # a windowed source's rows carry their window after the key
            own += [(WINDOWSTART, T.BIGINT), (WINDOWEND, T.BIGINT)]
        own += [(c.name, c.type) for c in self.source.schema.value + self.source.schema.headers]
        return own + list(PSEUDO_COLUMNS.items())


@dataclass(frozen=True, slots=True)
class JoinNode:
    kind: str  # INNER | LEFT | RIGHT | FULL
    left_table: bool  # the left input is a table (else a stream)
    right: int  # index of the right source
    right_table: bool
    left_key: Expr  # over the joined batch so far
    right_key: Expr  # over the right source's batch
    within: tuple[int, int] | None  # stream-stream: (before, after) ms
    grace: int
    text: str
    left_field: str | None = None  # the joined field holding the left key, when it is a plain column
    right_field: str | None = None
    eager: bool = True  # stream-stream outer joins without GRACE PERIOD emit unmatched rows at once
    foreign_key: bool = False  # table-table join from a left column to the right table's key
    left_pk_fields: tuple = ()  # the left table's key fields (foreign-key joins key their output by them)
    left_expr: object = None  # the join criteria's sides, as written
    right_expr: object = None
    repartitioned: tuple = ()  # the sides re-keyed by their join expression first (not on their key)
    # windowed sources: the fields of each side's window that its key includes (a windowed
    # key's bytes hold the window's start, a session's start and end): rows meet only when
    # their keys and windows are the same
    window_fields: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    properties: StreamProperties | None = None

    def describe(self) -> str:
        sides = f"{'TABLE' if self.left_table else 'STREAM'}-{'TABLE' if self.right_table else 'STREAM'}"
        if self.within:
            state = (f"keeps each side's rows for {duration(self.within[0])} before / "
                     f"{duration(self.within[1])} after, plus {duration(self.grace)} grace")
        elif self.foreign_key:
            state = "keeps every row of both tables (left rows by key and by foreign key)"
        elif self.left_table:
            state = "keeps the current row of each key of both tables"
        else:
            state = "keeps the current row of each key of the table"
        moves = "".join(f"; repartitions the {side} input by {text}" for side, text in self.repartitioned)
        return f"Join {self.kind} {sides}{' (foreign key)' if self.foreign_key else ''} ON {self.text} [{state}{moves}]"

    def derive(self) -> StreamProperties:
        """Keyed and partitioned by the join criteria's left side (a foreign-key join by the
        left table's key); a changelog when both sides are tables."""
        key = (format_expression(self.left_expr),) if self.left_expr is not None else (self.text,)
        if self.foreign_key:
            key = tuple(f.replace("__", ".", 1) for f in self.left_pk_fields) or key
        window = None
        if self.within:
            window = f"WITHIN ({duration(self.within[0])} BEFORE, {duration(self.within[1])} AFTER, " \
                     f"GRACE {duration(self.grace)})"
        return StreamProperties(self.left_table and self.right_table, key, key, window)


@dataclass(frozen=True, slots=True)
class JoinPlan:
    inputs: tuple[JoinInput, ...]
    joins: tuple[JoinNode, ...]
    fields: tuple[tuple[str, T.SqlType], ...]  # every field of the joined rows
    key_columns: tuple = ()  # columns (ast.ColumnRef) that may be selected as the result's key
    synthetic_key: str | None = None  # the name of the key column when no source column is the key
    key_type: T.SqlType | None = None

    properties: StreamProperties | None = None  # the last join's

    @property
    def produces_table(self) -> bool:
        return all(i.is_table for i in self.inputs)

    def with_properties(self) -> "JoinPlan":
        """The chain with every input and join carrying what it emits."""
        inputs = tuple(replace(i, properties=StreamProperties.of_source(i.source)) for i in self.inputs)
        joins = tuple(replace(j, properties=j.derive()) for j in self.joins)
        last = joins[-1].properties
        if self.synthetic_key:  # FULL OUTER: neither side's column is the key
            last = replace(last, key=(self.synthetic_key,))
            joins = joins[:-1] + (replace(joins[-1], properties=last),)
        return replace(self, inputs=inputs, joins=joins, properties=last)


def joined_scope(inputs: list[JoinInput], custom_types: dict) -> Scope:
    scope = Scope()
    scope.custom_types = custom_types
    counts: dict[str, int] = {}
    for join_input in inputs:
        for name, _ in join_input.columns():
            counts[name] = counts.get(name, 0) + 1
    for join_input in inputs:
        for name, sql_type in join_input.columns():
            field = field_name(join_input.alias, name)
            if counts[name] == 1 and name not in PSEUDO_COLUMNS:
                scope.add(None, name, field, sql_type)
            scope._columns[(join_input.alias, name)] = scope_column(field, sql_type)
            scope.sources.add(join_input.alias)
            scope.sources.add(join_input.source.name)
            scope._columns[(join_input.source.name, name)] = scope_column(field, sql_type)
        for name in counts:
            if counts[name] > 1 and name not in PSEUDO_COLUMNS:
                scope._ambiguous.add(name)
                scope.candidates[name] = [i.alias for i in inputs
                                          if any(n == name for n, _ in i.columns())]
    scope.add(None, ROWTIME, ROWTIME, T.BIGINT)
    for name, sql_type in PSEUDO_COLUMNS.items():
        if name != ROWTIME:
            scope.add(None, name, name, sql_type)
    return scope


def scope_column(field, sql_type):
    return ScopeColumn(field, sql_type)


def plan_joins(query: ast.Query, metastore: MetaStore) -> tuple[JoinPlan, Scope]:
    inputs = [_input(query.source, metastore)]
    for join in query.joins:
        inputs.append(_input(join.relation, metastore))
    _check_inputs(inputs)
    scope = joined_scope(inputs, metastore.types)
    for index, join in enumerate(query.joins, start=1):
        _check_sides(join, index, inputs, scope)
    nodes = []
    for index, join in enumerate(query.joins, start=1):
        nodes.append(_join_node(join, index, inputs, scope, nodes))
    fields = []
    for join_input in inputs:
        fields += [(field_name(join_input.alias, n), t) for n, t in join_input.columns()]
    key_columns = _key_columns(nodes, inputs, scope)
    last = nodes[-1]
    key_type = (scope.resolve(key_columns[0]).type if last.foreign_key else last.left_key.type) or T.STRING
    synthetic = None
    if not key_columns:
        synthetic = _synthetic_key_name(inputs)
        scope.add(None, synthetic, JOIN_KEY, key_type)
    fields.append((JOIN_KEY, key_type))
    return JoinPlan(tuple(inputs), tuple(nodes), tuple(fields), tuple(key_columns), synthetic, key_type), scope


def _key_columns(nodes: list[JoinNode], inputs: list[JoinInput], scope: Scope) -> list:
    """The source columns that hold the result's key, as ksqlDB decides it. A join's key is
    either side of its criteria (none for a FULL OUTER join, whose key may come from either
    side); a join whose left side equals a key expression of the join before it keeps those
    too. The columns among them can be selected as the key. A foreign-key join is keyed by
    the left table's key."""
    equivalent: list = []
    for node in nodes:
        if node.foreign_key:
            left = inputs[0]
            equivalent = [ast.ColumnRef(c.name, left.source.name) for c in left.source.schema.key]
            continue
        if node.kind == "FULL":
            equivalent = []
            continue
        current = [by_source_name(node.left_expr, inputs), by_source_name(node.right_expr, inputs)]
        if current[0] in equivalent:
            current = equivalent + [e for e in current if e not in equivalent]
        equivalent = current
    return [e for e in equivalent if isinstance(e, ast.ColumnRef)]


def by_source_name(expr, inputs: list[JoinInput]):
    """The expression with every column qualified by its source's name (not an alias)."""
    def qualify(e):
        if isinstance(e, ast.ColumnRef):
            owner = _owner(e, inputs)
            return ast.ColumnRef(e.name, owner.source.name) if owner else None
        return None

    return rewrite(expr, qualify)


def _synthetic_key_name(inputs: list[JoinInput]) -> str:
    """ROWKEY, or ROWKEY_n with the first n from 1 that no source column uses."""
    taken = {c.name for i in inputs for c in i.source.schema.columns}
    if "ROWKEY" not in taken:
        return "ROWKEY"
    n = 1
    while f"ROWKEY_{n}" in taken:
        n += 1
    return f"ROWKEY_{n}"


def _check_inputs(inputs: list[JoinInput]) -> None:
    """ksqlDB's refusals that depend only on the sources joined."""
    names = [i.source.name for i in inputs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate and len(inputs) == 2:
        raise KsqlStatementError(f"Can not join '{duplicate}' to '{duplicate}': self joins are not yet supported.")
    if duplicate:
        raise KsqlStatementError(f"N-way joins do not support multiple occurrences of the same source. "
                                 f"Source: '{duplicate}'")
    kafka = [i.source.name for i in inputs if i.source.value_format == "KAFKA"]
    if kafka:
        raise KsqlStatementError(f"Source(s) {', '.join(kafka)} are using the 'KAFKA' value format. "
                                 f"This format does not yet support JOIN.")
    windowed = [i for i in inputs if i.source.window_type]
    if windowed and len(windowed) != len(inputs):
        plain = next(i for i in inputs if not i.source.window_type)
        first = windowed[0]
        raise KsqlStatementError(f"Can not join windowed source to non-windowed source.\n`{first.source.name}` is "
                                 f"{first.source.window_type} windowed\n`{plain.source.name}` is not windowed")
    kinds = {i.source.window_type for i in windowed}
    if "SESSION" in kinds and len(kinds) > 1:
        left, right = windowed[0].source.window_type, windowed[1].source.window_type
        raise KsqlStatementError(
            f"Incompatible windowed sources.\nLeft source: {left}\nRight source: {right}\n"
            f"Session windowed sources can only be joined to other session windowed sources, and may still not "
            f"result in expected behaviour as session bounds must be an exact match for the join to work\n"
            f"Hopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed "
            f"sources")
    if len({(i.source.window_type, i.source.window_size) for i in windowed}) > 1:
        raise KsqlStatementError("Implicit repartitioning of windowed sources is not supported. "
                                 "See https://github.com/confluentinc/ksql/issues/4385.")


def _input(relation: ast.Relation, metastore: MetaStore) -> JoinInput:
    source = metastore.get(relation.name)
    if source is None:
        raise KsqlPreparationError(f"{relation.name} does not exist.")
    return JoinInput(source, relation.alias or source.name)


# how ksqlDB spells each join kind in its messages
_JOIN_TEXT = {"INNER": "[INNER] JOIN", "LEFT": "LEFT [OUTER] JOIN", "RIGHT": "RIGHT [OUTER] JOIN",
              "FULL": "[FULL] OUTER JOIN"}


def _join_node(join: ast.Join, index: int, inputs: list[JoinInput], scope: Scope, previous) -> JoinNode:
    right = inputs[index]
    left_inputs = inputs[:index]
    left_table = all(i.is_table for i in left_inputs) if index == 1 else (
        previous[-1].left_table and previous[-1].right_table)
    criteria = join.criteria
    if isinstance(criteria, ast.LogicalOp) and criteria.op == "AND":
        raise KsqlStatementError(f"Invalid join condition: joins on multiple conditions are not yet supported. "
                                 f"Got {format_expression(criteria)}.")
    if not (isinstance(criteria, ast.BinaryOp) and criteria.op == "="):
        raise KsqlStatementError(f"Unsupported join expression: {format_expression(criteria)}. Only equality "
                                 f"joins are supported (ON a.x = b.y).")
    sides = [criteria.left, criteria.right]
    right_names = {right.alias, right.source.name}
    on_right = [_refers_to(e, right_names, right) for e in sides]
    if on_right[0] == on_right[1]:
        raise KsqlStatementError(
            f"Invalid comparison expression '{format_expression(criteria)}' in join "
            f"'{format_expression(criteria)}'. Each side of the join comparision must contain references from "
            f"exactly one source.")
    right_expr = sides[on_right.index(True)]
    left_expr = sides[on_right.index(False)]
    left_key = _bind_on(left_expr, scope)
    right_key = _bind_on(right_expr, scope)
    if left_key.type != right_key.type:
        raise KsqlStatementError(
            f"Invalid join condition: types don't match. Got {format_expression(_qualified(left_expr, inputs))}"
            f"{{{left_key.type}}} = {format_expression(_qualified(right_expr, inputs))}{{{right_key.type}}}.")
    if not left_table and right.is_table and join.kind in ("RIGHT", "FULL"):
        raise KsqlStatementError(f"Invalid join type: {join.kind.lower()}-outer join not supported for stream-table "
                                 f"join. Got {left_inputs[-1].source.name} {_JOIN_TEXT[join.kind]} "
                                 f"{right.source.name}.")
    if left_table and not right.is_table:
        raise KsqlStatementError("Invalid join order: table-stream joins are not supported; only stream-table "
                                 "joins. Got " + f"{(_owner(left_expr, left_inputs) or left_inputs[-1]).source.name} "
                                 f"{_JOIN_TEXT[join.kind]} {right.source.name}.")
    if not left_table and not right.is_table and join.within is None:
        raise KsqlStatementError("Stream-Stream joins must have a WITHIN clause specified. None was provided. "
                                 "To learn about how to specify a WITHIN clause with a stream-stream join, please "
                                 "visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html"
                                 "#create-stream-as-select")
    if right.is_table and join.within is not None:
        raise KsqlStatementError("A window definition was provided for a Stream-Table join. These joins are not "
                                 "windowed. Please drop the window definition (ie. the WITHIN clause) and try "
                                 "to execute your join again.")
    left_owner = _owner(left_expr, left_inputs)
    left_on_key = left_owner is not None and _is_primary_key(left_expr, left_owner)
    right_on_key = _is_primary_key(right_expr, right)
    if left_table and right.is_table and index == 1 and not left_on_key and right_on_key \
            and (left_inputs[0].source.window_type or right.source.window_type):
        raise KsqlStatementError("Foreign-key table-table joins are not supported on windowed tables.")
    for side_input, on_key, expr, bound in ((left_owner, left_on_key, left_expr, left_key),
                                            (right, right_on_key, right_expr, right_key)):
        if not on_key and bound.type is not None:  # the side is re-keyed by its join expression
            check_no_map_key(_repartition_key_name(expr, side_input), bound.type)
        if side_input is not None and side_input.source.window_type and not on_key:
            raise KsqlStatementError("Implicit repartitioning of windowed sources is not supported. "
                                     "See https://github.com/confluentinc/ksql/issues/4385.")
    if left_on_key and right_on_key and left_owner.source.partitions and right.source.partitions \
            and left_owner.source.partitions != right.source.partitions:
        raise KsqlStatementError(
            f"Can't join `{left_owner.source.name}` with `{right.source.name}` since the number of partitions "
            f"don't match. `{left_owner.source.name}` partitions = {left_owner.source.partitions}; "
            f"`{right.source.name}` partitions = {right.source.partitions}. Please repartition either one so "
            f"that the number of partitions match.")
    foreign_key = left_table and right.is_table and index == 1 and not _is_primary_key(left_expr, left_inputs[0])
    if left_table and right.is_table and index > 1 and not foreign_key:
        previous_keys = _key_columns(previous, inputs, scope)
        if field_of(left_expr, scope) not in {field_of(k, scope) for k in previous_keys} and right_on_key \
                and not (previous[-1].kind == "FULL" and _is_primary_key(left_expr, left_owner or right)):
            raise KsqlStatementError(
                f"Invalid join condition: foreign-key table-table joins are not supported as part of n-way "
                f"joins. Got {format_expression(_qualified(left_expr, inputs))} = "
                f"{format_expression(_qualified(right_expr, inputs))}.")
    if right.is_table and not _is_primary_key(right_expr, right):
        written = " = ".join(format_expression(_qualified(e, inputs)) for e in sides)
        if left_table:
            raise KsqlStatementError(f"Invalid join condition: table-table joins require to join on the primary key "
                                     f"of the right input table. Got {written}.")
        raise KsqlStatementError(f"Invalid join condition: stream-table joins require to join on the table's "
                                 f"primary key. Got {written}.")
    grace = join.grace if join.grace is not None else DEFAULT_JOIN_GRACE_MS
    if foreign_key and join.kind in ("RIGHT", "FULL"):
        raise KsqlStatementError(f"{join.kind} OUTER JOIN on a foreign key is not supported")
    left_pk = left_inputs[0].source.schema.key
    left_pk_fields = tuple(field_name(left_inputs[0].alias, c.name) for c in left_pk) if foreign_key else ()
    window_fields = ((), ())
    if right.source.window_type:  # every source is windowed alike (_check_inputs)
        bounds = (WINDOWSTART, WINDOWEND) if right.source.window_type == "SESSION" else (WINDOWSTART,)
        window_fields = tuple(tuple(field_name(side.alias, b) for b in bounds)
                              for side in (left_owner or left_inputs[0], right))
    return JoinNode(join.kind, left_table, index, right.is_table, left_key, right_key, join.within, grace,
                    format_expression(criteria), field_of(left_expr, scope), field_of(right_expr, scope),
                    eager=join.grace is None, foreign_key=foreign_key, left_pk_fields=left_pk_fields,
                    left_expr=_qualified(left_expr, inputs), right_expr=_qualified(right_expr, inputs),
                    repartitioned=tuple(
                        (side, format_expression(_qualified(expr, inputs)))
                        for side, expr, on_key in (("left", left_expr, left_on_key or index > 1 or foreign_key),
                                                   ("right", right_expr, right_on_key))
                        if not on_key),
                    window_fields=window_fields)


def _check_sides(join: ast.Join, index: int, inputs: list[JoinInput], scope: Scope) -> None:
    """Each side of every join's criteria names known columns of one source, and one side
    names the source being joined (checked for all joins before any other rule)."""
    criteria = join.criteria
    if not (isinstance(criteria, ast.BinaryOp) and criteria.op == "="):
        return
    right = inputs[index]
    sides = [criteria.left, criteria.right]
    _report_unresolved(sides, scope)
    for side in sides:
        if not _has_columns(side):
            raise KsqlStatementError(
                f"Invalid comparison expression '{format_expression(side)}' in join '{format_expression(criteria)}'. "
                f"Each side of the join comparision must contain references from exactly one source.")
    on_right = [_refers_to(e, {right.alias, right.source.name}, right) for e in sides]
    owners = [_owners(side, inputs[:index + 1]) for side in sides]
    if len(owners[0]) == 1 and owners[0] == owners[1]:
        raise KsqlStatementError(f"Each side of the join must reference exactly one source and not the same "
                                 f"source. Left side references `{owners[0][0]}` and right references "
                                 f"`{owners[1][0]}`")
    if not any(on_right) and all(len(o) == 1 for o in owners):
        raise KsqlStatementError(f"A join criteria is expected to reference the source (`{right.source.name}`) in "
                                 f"the FROM clause, instead the right source references `{owners[1][0]}` and the "
                                 f"left source references `{owners[0][0]}`")


def _repartition_key_name(expr, side: JoinInput | None) -> str:
    """The key column a side re-keyed by its join expression gets: ALIAS_COLUMN for a column."""
    if isinstance(expr, ast.ColumnRef) and side is not None:
        return f"{side.alias}_{expr.name}"
    return "KSQL_COL_0"


def _report_unresolved(sides, scope: Scope) -> None:
    """Unknown sources, unknown columns, then ambiguous columns, in that order (as ksqlDB)."""
    errors = []
    for side in sides:
        try:
            _bind_on(side, scope)
        except KsqlStatementError as error:
            errors.append(error)
    for error in sorted(errors, key=lambda e: (0 if "not a valid stream/table" in str(e) else
                                               1 if "cannot be resolved" in str(e) else 2)):
        raise error


def _owners(expr, inputs: list[JoinInput]) -> list[str]:
    """The names of the sources an expression's columns belong to."""
    refs = []
    walk(expr, lambda e: refs.append(e) if isinstance(e, ast.ColumnRef) else None)
    names = []
    for ref in refs:
        owner = _owner(ref, inputs)
        if owner is not None and owner.source.name not in names:
            names.append(owner.source.name)
    return names


def _bind_on(expr, scope: Scope) -> Expr:
    try:
        return bind(expr, scope)
    except KsqlStatementError as error:
        message = str(error)
        if message.startswith("Column '") and "cannot be resolved" in message:
            raise KsqlStatementError(f"JOIN ON column '{message[8:]}", error.position) from None
        raise


def _owner(expr, inputs: list[JoinInput]) -> JoinInput | None:
    """The input a plain column reference belongs to (None for expressions)."""
    if not isinstance(expr, ast.ColumnRef):
        return None
    if expr.source is not None:
        return next((i for i in inputs if expr.source in (i.alias, i.source.name)), None)
    owners = [i for i in inputs if i.source.schema.find(expr.name) is not None]
    return owners[0] if len(owners) == 1 else None


def field_of(expr, scope: Scope) -> str | None:
    if not isinstance(expr, ast.ColumnRef):
        return None
    try:
        return scope.resolve(expr).field
    except KsqlStatementError:
        return None


def _refers_to(expr, names: set[str], join_input: JoinInput) -> bool:
    refs = []
    walk(expr, lambda e: refs.append(e) if isinstance(e, ast.ColumnRef) else None)
    for ref in refs:
        if ref.source is not None:
            if ref.source in names:
                return True
        elif join_input.source.schema.find(ref.name) is not None:
            return True
    return False


def _qualified(expr, inputs: list[JoinInput]):
    """The expression with each unqualified column named by the source that has it."""
    def qualify(e):
        if isinstance(e, ast.ColumnRef) and e.source is None:
            owner = next((i for i in inputs if i.source.schema.find(e.name) is not None), None)
            return ast.ColumnRef(e.name, owner.source.name) if owner else None
        return None

    return rewrite(expr, qualify)


def _has_columns(expr) -> bool:
    refs = []
    walk(expr, lambda e: refs.append(e) if isinstance(e, ast.ColumnRef) else None)
    return bool(refs)


def _is_primary_key(expr, join_input: JoinInput) -> bool:
    key = join_input.source.schema.key
    return isinstance(expr, ast.ColumnRef) and len(key) == 1 and expr.name == key[0].name
