"""Persistent queries: CREATE ... AS SELECT, INSERT INTO ... SELECT, TERMINATE, PAUSE and RESUME,
and starting a planned query on the runtime with its sink, changelog and repartition topics."""
from __future__ import annotations

import logging

import re


from ksql.errors import KsqlError, KsqlPreparationError, KsqlStatementError
from ksql.parser import (ast)
from ksql.planner.aggregation import AggregateNode, limit_collections
from ksql.planner.metastore import DataSource
from ksql.planner.plan import QueryPlan, cast_to_sink, plan_query, same_columns
from ksql.planner.schema import LogicalSchema
from ksql.planner.upgrades import check_plan_upgrade
from ksql.parser.parse import parse_statement
from ksql.results import StatusResult
from ksql.runtime import processing_log
from ksql.runtime.log.embedded import TopicError, make_records
from ksql.runtime.materialized import MaterializedTable
from ksql.runtime.log.names import file_name
from ksql.runtime.query import RETRY_BACKOFF, PersistentQuery
from ksql.planner.partitioning import join_repartitions, keeps_state, needs_repartition
from ksql.runtime.formats.make import make_format
from ksql.runtime.state import DEFAULT_MAX_ENTRIES, StateLimits
from ksql.engine.session import Session
from ksql.engine.with_clause import (check_key_format, check_no_map_keys, checked_topic_name, name_taken,
                                     register_schemas, with_default_wrapping)
from ksql.planner.with_clause import (CREATE_AS_PROPERTIES, bool_prop, check_with_clause, int_property,
                                      normalize_properties, schema_properties, timestamp_column)
from ksql.runtime.pipeline import Pipeline

LOG = logging.getLogger("ksql.engine")


def _check_runs(plan) -> None:
    """Run the plan's operators over no rows: an expression that cannot be evaluated for any row
    (a type Arrow refuses) fails the statement now, rather than the query later."""
    pipeline = Pipeline(plan, "check")
    try:
        pipeline.run_joined([(0, 0, make_records([], [], []), [], 0)]) if plan.joins is not None \
            else pipeline.run(make_records([], [], []), 0)
    except KsqlError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever the runtime refuses, said as a statement error
        raise KsqlStatementError(f"The query cannot run: {error}") from None
    finally:
        pipeline.store.close()


def check_upgrade(existing: DataSource, schema: LogicalSchema) -> None:
    """CREATE OR REPLACE may add value columns at the end; everything else must stay."""
    def changed(old, new):
        return [c for i, c in enumerate(old) if i >= len(new) or (new[i].name, new[i].type) != (c.name, c.type)]

    table = existing.is_table
    keys = changed(existing.schema.key, schema.key)
    if keys or len(schema.key) != len(existing.schema.key):
        listed = ", ".join(f"`{c.name}` {c.type} KEY" for c in keys or existing.schema.key)
        reason = f"Key columns must be identical. The following key columns are changed, missing or reordered: [{listed}]"
    else:
        values = changed(existing.schema.value, schema.value)
        if not values:
            return
        listed = ", ".join(f"`{c.name}` {c.type}" for c in values)
        reason = f"The following columns are changed, missing or reordered: [{listed}]"
    raise KsqlStatementError(
        f"Cannot upgrade data source: DataSource '`{existing.name}`' has schema = "
        f"{existing.schema.describe(table)} which is not upgrade compatible with {schema.describe(table)}. "
        f"({reason})")


def _window_retention(plan) -> int | None:
    """How long a windowed aggregation keeps a window: RETENTION, else size + grace."""
    return plan.window.retention if plan.window is not None else None


def _check_query_id(query_id: str) -> str:
    """A QUERY_ID given in a WITH clause, under ksqlDB's rules."""
    prefixes = ("INSERTQUERY_", "CTAS_", "CSAS_", "CST_")
    if query_id.startswith(prefixes):
        raise KsqlStatementError(f"Query IDs must not start with a reserved query ID prefix "
                                 f"({', '.join(prefixes)}). Got '{query_id}'.")
    if not re.fullmatch(r"[A-Za-z0-9_]+", query_id):
        raise KsqlStatementError(f"Query IDs may contain only alphanumeric characters and '_'. Got: '{query_id}'")
    return query_id


class PersistentQueries:
    """Persistent queries, as part of KsqlEngine (a mixin)."""

    def _exec_CreateAsSelect(self, stmt: ast.CreateAsSelect, text: str, session: Session):
        existing = self.metastore.get(stmt.name)
        kind = stmt.kind.lower()
        refused = name_taken(stmt, existing, text)
        if refused is not None:
            return refused
        if stmt.query.limit is not None:
            raise KsqlStatementError(f"CREATE {stmt.kind} AS SELECT statements don't support LIMIT clause.")
        plan = limit_collections(plan_query(stmt.query, self.metastore, sink=stmt.name, persistent=True),
                                 self.properties)
        _check_runs(plan)
        source = plan.source.source
        if any(s.is_table and s.window_type is not None for s in plan.sources):
            raise KsqlStatementError("KSQL does not support persistent queries on windowed tables.")
        if stmt.kind == "TABLE" and not plan.produces_table:
            raise KsqlStatementError(
                "Invalid result type. Your SELECT query produces a STREAM. "
                "Please use CREATE STREAM AS SELECT statement instead.")
        if stmt.kind == "STREAM" and plan.produces_table:
            raise KsqlStatementError(
                "Invalid result type. Your SELECT query produces a TABLE. "
                "Please use CREATE TABLE AS SELECT statement instead.")
        props = normalize_properties(stmt.properties)
        check_with_clause(props, CREATE_AS_PROPERTIES)
        key_format, value_format = self._formats(props, defaults=source)
        merged = {**self.properties, **session.properties}
        if not plan.schema.key and key_format != "NONE" and stmt.query.partition_by:
            if "KEY_FORMAT" in props:
                raise KsqlStatementError("Key format specified for stream without key columns.")
            key_format = "NONE"
        if plan.schema.key and key_format == "NONE" and plan.joins is not None and "KEY_FORMAT" not in props \
                and "FORMAT" not in props:
            # a join of keyless sources is keyed: the key format of a keyed input, else DELIMITED
            key_format = next((s.key_format for s in plan.sources if s.key_format != "NONE"), "DELIMITED")
        elif plan.schema.key and key_format == "NONE" and "KEY_FORMAT" not in props and "FORMAT" not in props:
            # a keyless source given a key (PARTITION BY, GROUP BY): the default key format
            key_format = str(merged.get("ksql.persistence.default.format.key") or "KAFKA").upper()
        # a topic the statement does not name: the sink's name after ksql.output.topic.name.prefix
        topic_name = checked_topic_name(props.get(
            "KAFKA_TOPIC", str(merged.get("ksql.output.topic.name.prefix") or "") + stmt.name))
        props = with_default_wrapping(props, value_format, plan.schema.value, merged)
        partitions = int_property(props, "PARTITIONS", source.partitions)
        replicas = int_property(props, "REPLICAS")
        window_type, window_size = None, None
        if plan.window is not None:
            window_type, window_size = plan.window.kind, plan.window.size
        elif not any(isinstance(s, AggregateNode) for s in plan.steps):
            # a query over windowed sources keeps their windowed keys (a join, its left source's),
            # unless it groups them anew
            window_type, window_size = source.window_type, source.window_size
        sink = DataSource(
            name=stmt.name, kind=stmt.kind, schema=plan.schema, topic=topic_name,
            key_format=key_format, value_format=value_format, sql=text,
            value_delimiter=str(props.get("VALUE_DELIMITER", source.value_delimiter if value_format == source.value_format else ",")),
            wrap_single_value=bool_prop(props.get("WRAP_SINGLE_VALUE")),
            **schema_properties(props, key_format, value_format),
            partitions=partitions,
            timestamp_column=timestamp_column(props, plan.schema),
            timestamp_format=props.get("TIMESTAMP_FORMAT"),
            window_type=window_type,
            window_size=window_size,
            window_retention=_window_retention(plan),
        )
        check_no_map_keys(sink.schema.key)
        check_key_format(key_format, sink)
        make_format(value_format, sink.schema.value, key=False, options=sink.value_options())
        offset = self._next_command_offset()
        query_id = f"{'CSAS' if stmt.kind == 'STREAM' else 'CTAS'}_{stmt.name}_{offset}"
        if existing is not None:
            replaced = self._replace_target(existing, stmt, plan)
            if replaced is not None:
                query_id = replaced
        query_id = self._recorded_query_id(query_id)
        existing_topic = self.log.topic(topic_name)
        if existing_topic is None:
            self._create_topic(topic_name, partitions, "compact" if sink.is_table else "delete",
                                  replicas=replicas)
        elif "PARTITIONS" in props and existing_topic.partitions != partitions and not self._replaying:
            raise KsqlStatementError(
                f"A Kafka topic with the name '{topic_name}' already exists, with different partition/replica "
                f"configuration than required. KSQL expects {partitions} partitions (topic has "
                f"{existing_topic.partitions}), 1 replication factor (topic has 1).")
        sink.partitions = self.log.topic(topic_name).partitions
        if not self._replaying:
            register_schemas(sink, always=True)
        self._record_command(text, session, query_id)
        self.metastore.put(sink)
        self._start_query(query_id, "CSAS" if stmt.kind == "STREAM" else "CTAS", text, plan, sink, session)
        return StatusResult(text, f"Created query with ID {query_id}", f"{kind}/`{stmt.name}`/create",
                            query_id)

    def _replace_target(self, existing: DataSource, stmt: ast.CreateAsSelect, plan: QueryPlan) -> str | None:
        """CREATE OR REPLACE of a query's sink: stop the old query; the new one keeps its id
        and goes on from the old one's committed offsets."""
        if existing.kind != stmt.kind:
            raise KsqlStatementError(
                f"Cannot add {stmt.kind.lower()} '{stmt.name}': A {existing.kind.lower()} with the same "
                f"name already exists")
        check_upgrade(existing, plan.schema)
        writers = [q for q in existing.write_queries if q in self.queries and self.queries[q].kind != "INSERT"]
        if not writers:
            return None
        query_id = writers[0]
        old = self.queries[query_id]
        old_statement = parse_statement(old.sql)
        if isinstance(old_statement, ast.CreateAsSelect):
            check_plan_upgrade(old_statement.query, old.plan, stmt.query, plan)
        self.queries.pop(query_id)
        old.stop()
        for source in old.plan.sources:
            source.read_queries.discard(query_id)
        existing.write_queries.discard(query_id)
        return query_id

    def _exec_InsertInto(self, stmt: ast.InsertInto, text: str, session: Session):
        sink = self.metastore.get(stmt.target)
        if sink is None:
            raise KsqlPreparationError(f"Source `{stmt.target}` does not exist.", stmt.target_position)
        if sink.is_table:
            raise KsqlPreparationError(
                f"INSERT INTO can only be used to insert into a stream. {stmt.target} is a table.")
        if sink.is_source:
            raise KsqlStatementError(f"Cannot insert into read-only stream: {stmt.target}")
        plan = limit_collections(plan_query(stmt.query, self.metastore, sink=stmt.target, persistent=True),
                                 self.properties)
        _check_runs(plan)
        if plan.source.source.is_table:
            raise KsqlStatementError(
                f"Incompatible data sink and query result. Data sink ({stmt.target}) type is STREAM but "
                f"select query result is TABLE.")
        if not same_columns(plan.schema, sink.schema):
            plan = cast_to_sink(plan, sink.schema) or plan
        if not same_columns(plan.schema, sink.schema):
            raise KsqlStatementError(
                f"Incompatible schema between results and sink.\n"
                f"Result schema is {plan.schema.describe()}\n"
                f"Sink schema is {sink.schema.describe()}")
        offset = self._next_command_offset()
        props = normalize_properties(stmt.properties)
        given = props.get("QUERY_ID")
        query_id = f"INSERTQUERY_{offset}" if given is None else _check_query_id(str(given).upper())
        query_id = self._recorded_query_id(query_id)
        if query_id in self.queries:
            raise KsqlStatementError(f"Query ID '{query_id}' already exists.")
        self._record_command(text, session, query_id)
        self._start_query(query_id, "INSERT", text, plan, sink, session)
        return StatusResult(text, f"Created query with ID {query_id}", f"stream/`{stmt.target}`/create",
                            query_id)

    def _start_query(self, query_id: str, kind: str, text: str, plan: QueryPlan, sink: DataSource,
                     session: Session) -> None:
        changelog = self._changelog_topic(query_id)
        stateful = keeps_state(plan)
        # as many changelog partitions as source partitions: a query spread over servers keeps
        # each source partition's state in the changelog partition of that number
        partitions = max(self.log.topic(s.topic).partitions for s in plan.sources)
        if stateful and self.log.topic(changelog) is None:
            self._create_topic(changelog, partitions, "compact")
        scale_out = self.background and self.log.shared
        repartition = None
        if scale_out and needs_repartition(plan):
            repartition = self._repartition_topic(query_id)
            if self.log.topic(repartition) is None:
                self._create_topic(repartition, partitions)
        join_topics = None
        moved = join_repartitions(plan) if scale_out else ()
        if moved:  # each input not partitioned by the join's key, through a topic of its own
            join_topics = {index: self._join_repartition_topic(query_id, ("left", "right")[index]) for index in moved}
            kept = [s.topic for index, s in enumerate(plan.sources) if index not in moved]
            count = self.log.topic(kept[0]).partitions if kept else partitions
            for topic in join_topics.values():
                if self.log.topic(topic) is None:
                    self._create_topic(topic, count)
        view = None
        if sink.is_table:
            view = self.materialized[sink.name] = MaterializedTable(sink)
        query = PersistentQuery(query_id, kind, text, plan, sink, self.log,
                                session.offset_reset(self.properties), changelog, view,
                                self._state_limits(query_id), self.processing_log_topic,
                                scale_out=scale_out, repartition_topic=repartition,
                                retry_backoff=self._retry_backoff(), join_repartition_topics=join_topics,
                                threads=self._stream_threads())
        self.queries[query_id] = query
        for source in plan.sources:
            source.read_queries.add(query_id)
        sink.write_queries.add(query_id)
        LOG.info("query %s starts: %s", query_id, " ".join(text.split()))
        if self.background:
            query.start()
        else:
            query.prepare()

    def _exec_Terminate(self, stmt: ast.Terminate, text: str, session: Session):
        if stmt.query_id is None:
            ids = list(self.queries)
        else:
            query_id = stmt.query_id.upper()
            if query_id not in self.queries:
                raise KsqlStatementError(f"Unknown queryId: {stmt.query_id}")
            ids = [query_id]
        self._record_command(text, session)
        for query_id in ids:
            self._terminate(query_id)
        return StatusResult(text, "Query terminated.", "terminate/" + (ids[0] if len(ids) == 1 else "ALL") + "/execute")

    def _terminate(self, query_id: str) -> None:
        query = self.queries.pop(query_id)
        query.stop()
        LOG.info("query %s terminated", query_id)
        for internal in (self._changelog_topic(query_id), self._repartition_topic(query_id),
                         self._join_repartition_topic(query_id, "left"), self._join_repartition_topic(query_id, "right")):
            if self.log.topic(internal) is not None:
                try:
                    self.log.delete_topic(internal)
                except TopicError:
                    pass  # another server running the query deleted it first
        for source in self.metastore.sources():
            source.read_queries.discard(query_id)
            source.write_queries.discard(query_id)
        self.log.delete_group(query_id)

    def _paused_queries(self, query_id: str | None) -> list[PersistentQuery]:
        if query_id is None:
            return list(self.queries.values())
        query = self.queries.get(query_id.upper())
        if query is None:
            raise KsqlStatementError(f"Unknown queryId: {query_id}")
        return [query]

    def _exec_PauseQuery(self, stmt: ast.PauseQuery, text: str, session: Session):
        queries = self._paused_queries(stmt.query_id)
        self._record_command(text, session)
        for query in queries:
            query.pause()
        return StatusResult(text, "Query paused.", None)

    def _exec_ResumeQuery(self, stmt: ast.ResumeQuery, text: str, session: Session):
        queries = self._paused_queries(stmt.query_id)
        self._record_command(text, session)
        for query in queries:
            query.resume()
        return StatusResult(text, "Query resumed.", None)

    def _retry_backoff(self) -> tuple[float, float]:
        """How long a failed query waits before it is restarted, first and at most, in seconds."""
        first = float(self.properties.get("ksql.query.retry.backoff.initial.ms", RETRY_BACKOFF[0] * 1000))
        most = float(self.properties.get("ksql.query.retry.backoff.max.ms", RETRY_BACKOFF[1] * 1000))
        return first / 1000, max(first, most) / 1000

    def _stream_threads(self) -> int:
        """Worker processes a query that keeps no state computes its batches in
        (ksql.streams.num.stream.threads; 1: the query's own thread)."""
        value = self.properties.get("ksql.streams.num.stream.threads", 1)
        try:
            return max(int(value), 1)
        except (TypeError, ValueError):
            raise KsqlStatementError(f"Invalid value for ksql.streams.num.stream.threads: {value!r}") from None

    def _state_limits(self, query_id: str) -> StateLimits:
        """A query's state: this many entries in memory (ksql.state.max.entries), the rest
        spilled to a file under the data folder."""
        entries = int(self.properties.get("ksql.state.max.entries", DEFAULT_MAX_ENTRIES))
        return StateLimits(entries, str(self.log.root / "state" / file_name(query_id)))

    def _repartition_topic(self, query_id: str) -> str:
        return f"_confluent-ksql-{self.service_id}query_{query_id}-Aggregate-GroupBy-repartition"

    def _join_repartition_topic(self, query_id: str, side: str) -> str:
        return f"_confluent-ksql-{self.service_id}query_{query_id}-Join-{side}-repartition"

    def _changelog_topic(self, query_id: str) -> str:
        return f"_confluent-ksql-{self.service_id}query_{query_id}-Aggregate-Materialize-changelog"

    def _log_entries(self, entries: list[bytes]) -> None:
        self.log.append(self.processing_log_topic, 0, processing_log.records(entries))
