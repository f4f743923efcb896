"""Pull queries: a lookup in a table's materialized state, by key or by scan, or through DuckDB
for ORDER BY, joins and GROUP BY (planned by planner/pull_sql.py, run by runtime/pull_sql.py);
and which server owns a looked-up key."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ksql.errors import KsqlError, KsqlStatementError
from ksql.parser import ast, parse_statement, split_statements, substitute_variables
from ksql.parser.statement_cache import literal_values
from ksql.planner import pull_rules
from ksql.planner.pull_sql import needs_sql
from ksql.planner import types as T
from ksql.planner.plan import NULL_VALUE, QueryPlan
from ksql.results import RowStream
from ksql.planner import pull_sql as sql_pull
from ksql.planner.pull_keys import direct_lookup, key_from_value, key_lookup, projected_names, written_keys
from ksql.runtime import pull_sql
from ksql.runtime.materialized import MaterializedTable
from ksql.runtime.state import thaw
from ksql.runtime.log.murmur2 import partitions_for
from ksql.runtime.formats.make import make_format
from ksql.runtime.pipeline import Pipeline


PULL_CATCH_UP_SECONDS = 2.0  # how long a pull query waits for its tables' queries to catch up
# on a shared log (Kafka) a query just created first joins its consumer group and fetches over
# the network, which on a busy machine takes longer; the wait ends as soon as they are caught up
SHARED_LOG_CATCH_UP_SECONDS = 10.0
QUICK_PULL_MAX_CHARS = 1_000  # longer statements may take a while to parse: they go to a thread


MAX_KEY_LOOKUP_SHAPES = 256
# the settings a pull query is checked against (pull_rules.check, _check_limit)
PULL_SETTINGS = ("ksql.query.pull.table.scan.enabled", "ksql.query.pull.range.scan.enabled",
                 "ksql.query.pull.limit.clause.enabled")


@dataclass(frozen=True)
class KeyLookup:
    """What every statement of one shape asks for, learnt from one that was answered as a
    direct key lookup: a statement of that shape differs only in the keys its literals name."""
    table: object  # the table's DataSource when learnt: dropped or created again, it is another
    view: MaterializedTable
    settings: tuple  # the PULL_SETTINGS it was checked against
    columns: list  # (output name, position in the row, type), as direct_lookup gives them
    keys_shown: tuple  # the output columns that show the key
    schema_text: str | None = None  # the header's schema, when not the columns' (_source_schema_text)


def _keys_shown(query: ast.Query, table) -> tuple:
    """The output columns of a key lookup that show the table's key."""
    key_name = table.schema.key[0].name
    return tuple(name for name, expr in projected_names(query, table)
                 if isinstance(expr, ast.ColumnRef) and expr.name == key_name)


def _pull_id(table: str) -> str:
    """A pull query's id, as ksqlDB forms it. (Random bits, not a uuid: that asks the system
    for entropy, a cost a key lookup notices.)"""
    return f"pull_{table}_{random.randrange(10**19)}"


class PullQueries:
    """Pull queries, as part of KsqlEngine (a mixin)."""

    def _building(self, names: list[str]) -> list:
        """The running queries that build these tables."""
        wanted = {name.upper() for name in names}
        return [q for q in list(self.queries.values()) if q.sink.name in wanted and q.state == "RUNNING"]

    def _catch_up(self, names: list[str]) -> None:
        """Before a pull query: give the queries that build these tables a moment to process what
        their sources already hold, so a pull query sees the writes made before it (a table
        created a moment ago, rows just inserted)."""
        if not self.background:
            return  # the caller drives the queries (drain())
        timeout = SHARED_LOG_CATCH_UP_SECONDS if self.log.shared else PULL_CATCH_UP_SECONDS
        building = self._building(names)
        deadline = time.monotonic() + timeout
        for query in building:  # a query just started first restores its state
            query.prepared.wait(max(deadline - time.monotonic(), 0))
        while time.monotonic() < deadline and not all(q.placed for q in building):
            self.log.wait(0.02)  # on Kafka: the group has not yet said which partitions are whose
        # what the sources hold now: later writes need not be waited for (under a steady load
        # the queries never have nothing left to read)
        targets = [(q, {tp: self.log.end_offset(*tp) for tp in dict(q.positions)}) for q in building]
        while time.monotonic() < deadline and any(
                q.positions.get(tp, 0) < end for q, ends in targets for tp, end in ends.items()):
            self.log.wait(0.02)
        # with several servers, a view follows its table's topic: let it read what is there now
        # (and at least past what the query itself has committed, visible to readers or not yet)
        following = [(q.view, {p: max(self.log.end_offset(q.sink.topic, p), q.sink_written.get(p, 0))
                               for p in range(q.sink.partitions)})
                     for q in building if q.scale_out and q.view is not None]
        while time.monotonic() < deadline and not all(view.caught_up(ends) for view, ends in following):
            self.log.wait(0.02)
        restoring = next((q for q in building if not q.prepared.is_set()), None)
        if restoring is not None:  # its table holds none of its rows yet: an answer would be wrong
            raise KsqlStatementError(
                f"Unable to execute pull query: table {restoring.sink.name} is still being restored "
                f"(query {restoring.id} is rebuilding its state after a start). Try again in a moment.")
        waiting = next((q for q in building if not q.placed), None)
        if waiting is not None:  # its consumer group has not yet given it partitions: nor rows
            raise KsqlStatementError(
                f"Unable to execute pull query: table {waiting.sink.name} is not served yet (query "
                f"{waiting.id} is waiting for its consumer group to assign it partitions). Try again in a moment.")

    def _caught_up_now(self, names: list[str]) -> bool:
        """Whether the queries that build these tables have processed everything their sources
        hold, known without waiting (on the embedded log only: a writer busy with a partition
        counts as not caught up)."""
        if not self.background:
            return True
        for query in self._building(names):
            if not query.prepared.is_set() or not query.placed:
                return False
            for (topic, partition), position in dict(query.positions).items():
                end = self.log.end_offset(topic, partition, wait=False)
                if end is None or position < end:
                    return False
        return True

    def quick_pull(self, sql: str, session) -> RowStream | None:
        """A pull query that looks keys up in a table, answered at once without waiting on
        anything: a server answers it on its event loop, where handing it to a thread would cost
        more than the lookup itself. None when `sql` is not such a query, or answering it could
        wait (the table's query has input left to read or is applying a batch to the table,
        another statement holds the engine, the log is Kafka's, whose offsets are asked over the
        network); the caller then runs it with execute(), which also reports any error with its
        place in the text."""
        if len(sql) > QUICK_PULL_MAX_CHARS or self.log.shared or not self._lock.acquire(blocking=False):
            return None
        try:
            shaped = literal_values(sql) if "${" not in sql else None  # (variables: substituted first)
            known = self.key_lookups.get(shaped[0]) if shaped is not None else None
            answer = self._known_lookup(sql, known, shaped[1], session) if known is not None else None
            if answer is not None:
                return answer
            pieces = split_statements(sql)
            if len(pieces) != 1:
                return None
            text = substitute_variables(pieces[0].text, session.variables)
            statement = parse_statement(text)
            if not isinstance(statement, ast.QueryStatement):
                return None
            query = statement.query
            target = self.metastore.get(query.source.name)
            if query.emit is not None or query.joins or target is None or not target.is_table or \
                    needs_sql(query) or not self._caught_up_now([target.name]):
                return None
            pull_rules.check_any(query, target, [])
            self._check_limit(query, session)
            pull_rules.check(query, target, {**self.properties, **session.properties})
            view = self.materialized.get(target.name)
            if view is None or not view.lock.acquire(blocking=False):  # (held while a batch is applied)
                return None
            try:
                answer = self._direct_pull_query(text, query, target)
            finally:
                view.lock.release()
            if answer is not None and shaped is not None and text == pieces[0].text:
                self._learn_key_lookup(shaped, query, target, view, session)
            return answer
        except Exception:  # noqa: BLE001 - execute() runs it again and says what is wrong, where
            return None
        finally:
            self._lock.release()

    def _learn_key_lookup(self, shaped: tuple, query: ast.Query, table, view, session) -> None:
        """Remember the shape of a statement answered as a direct lookup when its literals are
        exactly the keys it names, in order: any statement of that shape is then answered from
        its literals, without parsing or checking it again."""
        shape, literals = shaped
        found = direct_lookup(query, table)
        key_type = table.schema.key[0].type
        values = [key_from_value(value, key_type) for value in literals]
        written = written_keys(query, table)
        if found is None or query.limit is not None or written != values or \
                any(type(a) is not type(b) for a, b in zip(written, values)):
            return
        if len(self.key_lookups) >= MAX_KEY_LOOKUP_SHAPES:
            self.key_lookups.clear()
        self.key_lookups[shape] = KeyLookup(table, view, self._pull_settings(session), found[1],
                                            _keys_shown(query, table), _source_schema_text(query, table))

    def _known_lookup(self, sql: str, known: KeyLookup, values: list, session) -> RowStream | None:
        """A statement of a shape learnt by _learn_key_lookup, answered from its literals; None
        when its table was replaced or the settings changed since (or it would wait)."""
        table, view = known.table, known.view
        if self.metastore.get(table.name) is not table or self.materialized.get(table.name) is not view or \
                self._pull_settings(session) != known.settings or not self._caught_up_now([table.name]):
            return None
        key_type = table.schema.key[0].type
        keys = [(key_from_value(value, key_type),) for value in dict.fromkeys(values)]
        if any(key is None for key, in keys) or not view.lock.acquire(blocking=False):
            return None
        try:
            return self._lookup_rows(sql, table, view, keys, known.columns, known.keys_shown,
                                     schema_text=known.schema_text)
        finally:
            view.lock.release()

    def _pull_settings(self, session) -> tuple:
        return tuple(session.properties.get(name, self.properties.get(name)) for name in PULL_SETTINGS)

    def _pull_tables(self, query: ast.Query) -> list[pull_sql.Table] | None:
        """The current rows of every table a pull query reads, all taken at one moment; None
        when a source is not a table (the ordinary path then answers, or explains why not)."""
        relations = [query.source] + [j.relation for j in query.joins]
        sources = [self.metastore.get(r.name) for r in relations]
        if any(s is None or not s.is_table for s in sources):
            return None
        views = []
        for source in sources:
            view = self.materialized.get(source.name)
            if view is None:
                if not source.is_source:
                    return None  # not queryable: the ordinary path says so
                view = MaterializedTable(source)
                view.load_topic(self.log)
            views.append(view)
        locks = sorted({id(v): v for v in views}.values(), key=lambda v: v.table.name)
        for view in locks:  # every table's lock at once: one consistent cut across them
            view.lock.acquire()
        try:
            snapshots = [v.snapshot() for v in views]
        finally:
            for view in reversed(locks):
                view.lock.release()
        tables = []
        for relation, source, batch in zip(relations, sources, snapshots):
            names = [name for name, _ in sql_pull.columns_of(source)]
            tables.append(pull_sql.Table(relation.alias or relation.name, source,
                                         pa.Table.from_batches([batch]).select(names)))
        return tables

    def _sql_pull_query(self, text: str, query: ast.Query, tables: list) -> RowStream:
        plan = sql_pull.plan_sql_pull(query, [sql_pull.PullSource(t.alias, t.source) for t in tables])
        names, types, result = pull_sql.run(plan, tables)
        columns = [result.column(i).to_pylist() for i in range(result.num_columns)]
        rows = [list(row) for row in zip(*columns)]
        query_id = _pull_id(tables[0].source.name)
        return RowStream(text, query_id, names, [str(t) for t in types], lambda: iter(rows), lambda: None,
                         complete=True)

    def _direct_pull_query(self, text: str, query: ast.Query, table) -> RowStream | None:
        """A key lookup that only picks columns, answered from the table's rows; None when the
        query is not one, or the table has no materialized rows here (the planner answers)."""
        view = self.materialized.get(table.name)
        found = direct_lookup(query, table) if view is not None else None
        if found is None:
            return None
        keys, columns = found
        return self._lookup_rows(text, table, view, keys, columns, _keys_shown(query, table), query.limit,
                                 _source_schema_text(query, table))

    def _lookup_rows(self, text: str, table, view, keys: list, columns: list, keys_shown: tuple,
                     limit: int | None = None, schema_text: str | None = None) -> RowStream:
        """The rows of these keys in the view (a key it lacks gives none), as `columns` pick them."""
        rows = []
        for key in keys:
            for (stored_key, _, _), (_, values) in view.lookup(key)[:1]:
                row = [thaw(k) for k in stored_key] + list(values)
                rows.append([row[position] for _, position, _ in columns])
        if limit is not None:
            rows = rows[:limit]
        return RowStream(text, _pull_id(table.name), [name for name, _, _ in columns], [str(t) for _, _, t in columns],
                         lambda: iter(rows), lambda: None, key_columns=keys_shown, complete=True,
                         schema_text=schema_text)

    def _pull_query(self, text: str, query: ast.Query, plan: QueryPlan) -> RowStream:
        """The current rows of a materialized table that match the query."""
        source = plan.source.source
        view = self.materialized.get(source.name)
        if view is None:
            if not source.is_source:
                raise KsqlStatementError(
                    f"The `{source.name}` table isn't queryable. To derive a queryable table, you can do "
                    f"'CREATE TABLE QUERYABLE_{source.name} AS SELECT * FROM {source.name}'. See "
                    f"https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a "
                    f"push query.")
            view = MaterializedTable(source)
            view.load_topic(self.log)

        pipeline = Pipeline(plan, "pull")
        batch = pipeline.apply(view.snapshot(key_lookup(query, source)))
        # On a table a filter turns non-matching rows into tombstones; a pull query leaves them out.
        batch = batch.filter(pc.invert(batch.column(NULL_VALUE)))
        columns = [c for c, _ in plan.steps[-1].columns]
        values = [batch.column(c.name).to_pylist() for c in columns]
        rows = [[v[i] for v in values] for i in range(batch.num_rows)]
        if query.limit is not None:
            rows = rows[:query.limit]
        query_id = _pull_id(source.name)
        key_names = {c.name for c in source.schema.key}
        if source.window_type is not None:
            key_names |= {"WINDOWSTART", "WINDOWEND"}
        items = projected_names(query, source)
        keys = tuple(name for name, expr in items if isinstance(expr, ast.ColumnRef) and expr.name in key_names)
        return RowStream(text, query_id, [c.name for c in columns], [str(c.type) for c in columns],
                         lambda: iter(rows), lambda: None, key_columns=keys, complete=True,
                         schema_text=_source_schema_text(query, source))

    def pull_owner(self, text: str) -> str | None:
        """The URL of the server that owns the key a pull query looks up, when that is another
        server (several servers on Kafka): ksqlDB answers a key lookup where its state lives.
        None: answer here (not a key lookup, this server owns it, or the owner is not known)."""
        if not self.log.shared:
            return None
        try:
            statement = parse_statement(text)
        except KsqlError:
            return None
        if not isinstance(statement, ast.QueryStatement) or statement.query.emit is not None \
                or statement.query.joins:
            return None
        table = self.metastore.get(statement.query.source.name)
        query = next((q for q in list(self.queries.values()) if table is not None and q.sink is table), None)
        keys = key_lookup(statement.query, table) if query is not None and query.scale_out else None
        if not keys:
            return None
        key_format = make_format(table.key_format, table.schema.key, key=True, options=table.key_options())
        serialized = key_format.encode([pa.array([k[0] for k in keys], T.to_arrow(table.schema.key[0].type))], len(keys))
        partitions = {int(p) for p in partitions_for(serialized, table.partitions)}
        first_source = query.plan.sources[0].topic
        wanted = {(first_source, p) for p in partitions} if query.partition_local else {(first_source, 0)}
        for instance, url, assigned in self.log.group_members(query.id):
            if wanted <= set(assigned):
                return None if instance == self.log.instance_id or not url else url
        return None


def _source_schema_text(query: ast.Query, source) -> str | None:
    """The header schema ksqlDB gives SELECT * on a source table with header columns: the
    table's own, key, headers, then values (None: the result columns' own serve)."""
    schema = source.schema
    if not (source.is_source and schema.headers and source.window_type is None
            and len(query.select) == 1 and isinstance(query.select[0], ast.SelectAll)):
        return None
    return ", ".join(c.describe() for c in schema.key + schema.headers + schema.value)
