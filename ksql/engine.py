"""The engine facade: `KsqlEngine(data_dir).execute(sql)` runs statements end to end.

text -> ksql.parser (AST) -> ksql.planner (metastore, plan) -> ksql.runtime (log, queries).
Every statement that changes the metastore is appended to the command topic; at start-up
the engine replays it, so streams, tables and persistent queries survive a restart.
"""
from __future__ import annotations

import base64
import decimal
import logging
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ksql import __version__
from ksql.errors import KsqlError, KsqlStatementError, KsqlSyntaxError
from ksql.parser import (ast, define_variable, parse_statement, split_statements, substitute_variables,
                         undefine_variable)
from ksql.planner import types as T
from ksql.planner.expressions import Scope, cast_to, compile_expression
from ksql.planner.aggregation import AggregateNode
from ksql.planner.library import FUNCTIONS
from ksql.planner.metastore import DataSource, MetaStore
from ksql.planner import pull_rules
from ksql.planner.plan import NULL_VALUE, FilterNode, QueryPlan, plan_query
from ksql.planner.schema import HEADER, KEY, ROWOFFSET, ROWPARTITION, ROWTIME, VALUE, Column, LogicalSchema
from ksql.results import DescribeResult, ListResult, RowStream, StatusResult, TextResult
from ksql.runtime import processing_log, pull_sql
from ksql.runtime import schema_registry
from ksql.runtime.log import EmbeddedLog, TopicError, make_records
from ksql.runtime.partition_file import BrokerError, TopicExists
from ksql.runtime.materialized import MaterializedTable
from ksql.runtime.murmur2 import partitions_for
from ksql.runtime.names import InvalidTopicName, check_topic_name, file_name
from ksql.runtime.query import RETRY_BACKOFF, PersistentQuery, TransientQuery
from ksql.runtime.repartition import needs_repartition
from ksql.runtime.formats import make_format
from ksql.runtime.state import DEFAULT_MAX_ENTRIES, StateLimits

LOG = logging.getLogger("ksql.engine")

DEFAULT_PROPERTIES = {
    "auto.offset.reset": "latest",
    "ksql.service.id": "default_",
    "ksql.persistence.default.format.key": "KAFKA",
}

_OFFSET_RESET_KEYS = ("auto.offset.reset", "ksql.streams.auto.offset.reset")
PULL_CATCH_UP_SECONDS = 2.0  # how long a pull query waits for its tables' queries to catch up
COMMAND_POLL_SECONDS = 0.5  # how soon a server runs statements another server wrote (Kafka)


@dataclass
class Session:
    """Per-client state: SET properties and DEFINEd variables. A server's sessions are
    `remote`: their statements never read this machine's files (RUN SCRIPT)."""

    properties: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)
    remote: bool = False

    def offset_reset(self, defaults: dict) -> str:
        for key in _OFFSET_RESET_KEYS:
            if key in self.properties:
                return str(self.properties[key]).lower()
        return str(defaults.get("auto.offset.reset", "latest")).lower()


class StatementFailed(KsqlError):
    """A statement of a script failed; carries its position in the script."""

    def __init__(self, error: KsqlError, statement: str, line: int, column: int):
        self.error = error
        self.statement = statement
        self.line = line
        self.column = column
        super().__init__(str(error))


class KsqlEngine:
    def __init__(self, data_dir: str = "ksql-data", properties: dict | None = None,
                 background: bool = True):
        """background=False runs no query threads: the caller drives them with drain(),
        which makes tests deterministic."""
        self.properties = {**DEFAULT_PROPERTIES, **(properties or {})}
        self.background = background
        self.service_id = str(self.properties["ksql.service.id"])
        self.command_topic = f"_confluent-ksql-{self.service_id}_command_topic"
        self.processing_log_topic = processing_log.topic_for(self.service_id)
        self.log = open_log(data_dir, self.properties)
        self.schema_registry = open_registry(self.log, self.properties)
        schema_registry.install(self.schema_registry)
        self.metastore = MetaStore()
        self.queries: dict[str, PersistentQuery] = {}
        self.materialized: dict[str, MaterializedTable] = {}  # CTAS tables, for pull queries
        self.command_statuses: dict[str, str] = {}  # command id -> last status message (REST /status)
        self.command_sequence = -1  # the offset of the last command run, here or replayed
        self._recorded: int | None = None
        self.session = Session()
        self._lock = threading.RLock()
        self._replaying = False
        self._replay_query_id: str | None = None  # replaying: the query id its command recorded
        from ksql.udf import load_extensions

        load_extensions(self.properties.get("ksql.extension.dir"))
        self._closing = threading.Event()
        self._ensure_internal_topics()
        self._replay()
        self._follower = None
        if background and self.log.shared:
            self._follower = threading.Thread(target=self._follow_commands, name="command-runner", daemon=True)
            self._follower.start()

    # ---------------------------------------------------------------- start-up

    def _ensure_internal_topics(self) -> None:
        if self.log.topic(self.command_topic) is None:
            self._create_topic(self.command_topic, 1)
        if self.log.topic(self.processing_log_topic) is None:
            self._create_topic(self.processing_log_topic, 1)
        sql = processing_log.stream_sql(self.processing_log_topic)
        source = self._source_from_create(parse_statement(sql), sql)
        source.is_internal = True
        self.metastore.put(source)

    def _create_topic(self, name: str, partitions: int, cleanup_policy: str = "delete",
                      replicas: int | None = None) -> None:
        """Create a topic this engine found missing; another server sharing the service id may
        have made it a moment ago, which is as good."""
        try:
            self.log.create_topic(name, partitions, cleanup_policy, replicas=replicas)
        except TopicExists:
            deadline = time.monotonic() + 10  # (a topic just made has no leaders for a moment)
            while self.log.topic(name) is None:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _replay(self) -> None:
        """Rebuild the metastore and restart persistent queries from the command topic."""
        self._command_offset = 0
        self._own_commands: set[int] = set()  # offsets of the commands this engine wrote
        self._run_new_commands()

    def _run_new_commands(self) -> None:
        """Run the commands appended since the last call, but those this engine wrote (it ran
        them when it wrote them)."""
        with self._lock:
            self._replaying = True
            try:
                while True:
                    batch, next_offset = self.log.read(self.command_topic, 0, self._command_offset)
                    if batch is None:
                        self._command_offset = next_offset
                        break
                    for command_offset, value in zip(batch.column(0).to_pylist(), batch.column(3).to_pylist()):
                        if command_offset not in self._own_commands:
                            self._run_command(command_offset, orjson.loads(value))
                        self._command_offset = command_offset + 1
                    self._command_offset = next_offset
            finally:
                self._replaying = False

    def _run_command(self, offset: int, command: dict) -> None:
        session = Session(properties=command.get("properties", {}))
        self._replay_query_id = command.get("queryId")
        try:
            self._execute_one(command["statement"], session, offset)
        except BrokerError:
            raise  # the brokers failed it, not the statement: it is run again at the next poll
        except KsqlError as error:  # a command that no longer applies is skipped
            LOG.warning("could not run `%s` from the command topic: %s", command["statement"], error)

    def wait_for_command(self, sequence: int, timeout: float) -> bool:
        """Until the command at this offset of the command topic has run here (False at the
        timeout): a client that got the number from one server reads its effect from another."""
        deadline = time.monotonic() + timeout
        while True:
            if self._command_offset > sequence:
                return True
            if time.monotonic() > deadline:
                return False
            if self._follower is None:
                self._run_new_commands()
                if self._command_offset > sequence:
                    return True
            self.log.wait(0.05)

    def _follow_commands(self) -> None:
        """Servers sharing a service id (on Kafka) run each other's statements: poll the
        command topic for commands other servers wrote."""
        while not self._closing.wait(COMMAND_POLL_SECONDS):
            try:
                self._run_new_commands()
            except Exception:  # noqa: BLE001 - a failed poll is retried at the next one
                LOG.exception("reading the command topic failed")

    def _record_command(self, text: str, session: Session, query_id: str | None = None) -> int:
        """Append a metastore-changing statement (and the id of the query it starts) to the
        command topic; returns its offset."""
        if self._replaying:
            return self._replay_offset
        command = {"statement": text, "properties": session.properties}
        if query_id is not None:
            command["queryId"] = query_id
        value = orjson.dumps(command)
        offset = self.log.append(self.command_topic, 0, make_records([None], [value], [_now()]))
        self._own_commands.add(offset)
        self._recorded = offset
        if offset == self._command_offset:  # nobody else's came between: already run here
            self._command_offset = offset + 1
        return offset

    def _next_command_offset(self) -> int:
        if self._replaying:
            return self._replay_offset
        return self.log.end_offset(self.command_topic, 0)

    def _recorded_query_id(self, query_id: str) -> str:
        """Replaying, the id the statement's query got when it first ran: the offset a server
        saw before appending may not be where its command landed, if another server appended
        at the same moment, and every server must name the query (its group) alike."""
        recorded = self._replay_query_id
        return recorded if self._replaying and recorded else query_id

    # ---------------------------------------------------------------- executing

    def execute(self, sql: str, session: Session | None = None) -> list:
        """Run every statement of `sql`; stops at the first error (raised as StatementFailed)."""
        session = session or self.session
        results = []
        for piece in split_statements(sql):
            text = substitute_variables(piece.text, session.variables)
            try:
                results.append(self._execute_one(text, session))
            except KsqlSyntaxError as error:
                positioned = error.with_offset(piece.line - 1, piece.column - 1)
                raise StatementFailed(positioned, piece.text, positioned.line, positioned.column) from None
            except KsqlError as error:
                raise StatementFailed(error, piece.text, piece.line, piece.column) from None
            except RecursionError:
                failure = KsqlStatementError(f"The statement nests too deeply: its expressions may nest at most "
                                             f"about {MAX_NESTING:,} levels.")
                raise StatementFailed(failure, piece.text, piece.line, piece.column) from None
            except Exception as error:  # noqa: BLE001 - a bug must not take the caller down with a traceback
                LOG.exception("statement failed unexpectedly: %s", piece.text)
                failure = KsqlError(f"Internal error ({type(error).__name__}): {error}")
                raise StatementFailed(failure, piece.text, piece.line, piece.column) from None
        return results

    def _execute_one(self, text: str, session: Session, replay_offset: int | None = None):
        _check_size(text)
        statement = parse_statement(text)
        handler = HANDLERS.get(type(statement))
        if handler is None:
            raise KsqlStatementError(f"{type(statement).__name__} statements are not supported yet.")
        with self._lock:
            self._replay_offset = replay_offset
            self._recorded = None
            result = handler(self, statement, text, session)
            recorded = replay_offset if replay_offset is not None else self._recorded
            if isinstance(result, StatusResult) and recorded is not None:
                # its place in the command topic: the sequence number clients wait for, and the
                # status /status gives, after a restart too (rebuilt by the replay)
                result.sequence = recorded
                if result.command_id:
                    self.command_statuses[result.command_id] = result.message
                self.command_sequence = max(self.command_sequence, recorded)
            return result

    # ---------------------------------------------------------------- DDL

    def _exec_CreateSource(self, stmt: ast.CreateSource, text: str, session: Session):
        existing = self.metastore.get(stmt.name)
        kind = stmt.kind.lower()
        if stmt.or_replace and (stmt.is_source or (existing is not None and existing.is_source)):
            raise KsqlStatementError(f"Cannot add {kind} '{stmt.name}': CREATE OR REPLACE is not supported on "
                                     f"source {kind}s.")
        refused = _name_taken(stmt, existing, text)
        if refused is not None:
            return refused
        source = self._source_from_create(stmt, text)
        if existing is not None:
            _check_upgrade(existing, source.schema)
            source.read_queries, source.write_queries = existing.read_queries, existing.write_queries
        topic = self.log.topic(source.topic)
        props = _normalize_properties(stmt.properties)
        partitions = _int_property(props, "PARTITIONS")
        replicas = _int_property(props, "REPLICAS")
        if topic is None:
            if partitions is None:
                raise KsqlStatementError(
                    f"Topic '{source.topic}' does not exist. If you want to create a new topic for the "
                    f"{kind} please re-run the statement providing the required 'PARTITIONS' configuration "
                    f"in the WITH clause (and optionally 'REPLICAS'). For example: "
                    f"CREATE {stmt.kind} {stmt.name} (ID INT) WITH (KAFKA_TOPIC='{source.topic}', "
                    f"PARTITIONS=2, REPLICAS=1, FORMAT='JSON');")
            self._create_topic(source.topic, partitions, "compact" if source.is_table else "delete",
                                  replicas=replicas)
        elif partitions is not None and partitions != topic.partitions and not self._replaying:
            raise KsqlStatementError(
                f"A Kafka topic with the name '{source.topic}' already exists, with different partition/replica "
                f"configuration than required. KSQL expects {partitions} partitions (topic has "
                f"{topic.partitions}), 1 replication factor (topic has 1).")
        source.partitions = self.log.topic(source.topic).partitions
        self._record_command(text, session)
        self.metastore.put(source)
        noun = "Stream" if stmt.kind == "STREAM" else "Table"
        return StatusResult(text, f"{noun} created", f"{kind}/`{stmt.name}`/create")

    def _source_from_create(self, stmt: ast.CreateSource, text: str) -> DataSource:
        props = _normalize_properties(stmt.properties)
        _check_with_clause(props, _CREATE_PROPERTIES)
        key_format, value_format = self._formats(props)  # an unknown format is the first thing to report
        if not stmt.columns and not {"AVRO", "JSON_SR", "PROTOBUF"} & {key_format, value_format}:
            raise KsqlStatementError(
                "The statement does not define any columns. Column definitions are required unless the "
                "formats support schema inference (AVRO, PROTOBUF, JSON_SR).")
        columns = []
        for element in stmt.columns:
            sql_type = T.from_ref(element.type, self.metastore.types)
            if element.name in ("ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART", "WINDOWEND"):
                raise KsqlStatementError(f"'{element.name}' is a reserved column name. "
                                         f"You cannot use it as a name for a column.")
            if element.constraint == "PRIMARY KEY" and stmt.kind == "STREAM":
                raise KsqlStatementError(
                    f"Column `{element.name}` is a 'PRIMARY KEY' column: please use 'KEY' for streams.\n"
                    f"Tables have PRIMARY KEYs, which are unique and NON NULL.\n"
                    f"Streams have KEYs, which have no uniqueness or NON NULL constraints.")
            if element.constraint == "KEY" and stmt.kind == "TABLE":
                raise KsqlStatementError(
                    f"Column `{element.name}` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\n"
                    f"Tables have PRIMARY KEYs, which are unique and NON NULL.\n"
                    f"Streams have KEYs, which have no uniqueness or NON NULL constraints.")
            if element.constraint in ("KEY", "PRIMARY KEY"):
                namespace = KEY
            elif element.constraint in ("HEADERS", "HEADER"):
                namespace = HEADER
            else:
                namespace = VALUE
            columns.append(Column(element.name, sql_type, namespace, element.header_key))
        columns += self._inferred_columns(props, key_format, value_format, columns)
        headers = [c for c in columns if c.namespace == HEADER]
        if sum(1 for c in headers if c.header_key is None) and len(headers) > 1:
            raise KsqlStatementError("Schema already contains a HEADERS column.")
        header_keys = [c.header_key for c in headers if c.header_key is not None]
        repeated = next((k for k in header_keys if header_keys.count(k) > 1), None)
        if repeated is not None:
            raise KsqlStatementError(f"Schema already contains a HEADER('{repeated}') column.")
        names = [c.name for c in columns]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise KsqlStatementError(f"Duplicate column names: {duplicate}")
        if stmt.kind == "TABLE" and not any(c.namespace == KEY for c in columns):
            raise KsqlStatementError(
                f"Tables require a PRIMARY KEY. Please define the PRIMARY KEY.\n"
                f"Use a partial schema to define the primary key and still load the value columns from "
                f"the Schema Registry, for example:\n"
                f"\tCREATE TABLE {stmt.name} (ID INT PRIMARY KEY) WITH (...);")
        schema = LogicalSchema(tuple(sorted(columns, key=lambda c: 0 if c.namespace == KEY else 1)))
        topic = props.get("KAFKA_TOPIC")
        if topic is None:
            raise KsqlStatementError("Missing required property \"KAFKA_TOPIC\" which has no default value.")
        key_format, value_format = self._formats(props)
        source = DataSource(
            name=stmt.name, kind=stmt.kind, schema=schema, topic=_topic_name(topic), key_format=key_format,
            value_format=value_format, sql=text, is_source=stmt.is_source,
            value_delimiter=str(props.get("VALUE_DELIMITER", ",")),
            key_delimiter=str(props.get("KEY_DELIMITER", ",")),
            wrap_single_value=_bool_prop(props.get("WRAP_SINGLE_VALUE")),
            **_schema_properties(props),
            timestamp_column=_timestamp_column(props, schema),
            timestamp_format=props.get("TIMESTAMP_FORMAT"),
            window_type=str(props["WINDOW_TYPE"]).upper() if "WINDOW_TYPE" in props else None,
            window_size=_window_size(props.get("WINDOW_SIZE")),
        )
        # Fail now, not when the first record arrives, if a format cannot hold the columns.
        make_format(key_format, schema.key, key=True, options=source.key_options())
        make_format(value_format, schema.value, key=False, options=source.value_options())
        return source

    def _inferred_columns(self, props: dict, key_format: str, value_format: str, declared: list) -> list[Column]:
        """Key or value columns the statement leaves out, read from the topic's schema in the
        registry (the latest of `<topic>-key` / `<topic>-value`, or KEY_SCHEMA_ID /
        VALUE_SCHEMA_ID): a record's fields, or one column ROWKEY / ROWVAL for a bare type."""
        from ksql.runtime import avro, json_sr, protobuf

        topic = props.get("KAFKA_TOPIC")
        out = []
        for part, fmt, namespace, single in (("key", key_format, KEY, "ROWKEY"), ("value", value_format, VALUE, "ROWVAL")):
            if fmt not in ("AVRO", "JSON_SR", "PROTOBUF") or topic is None or any(
                    c.namespace == namespace for c in declared):
                continue
            schema_id = props.get(f"{part.upper()}_SCHEMA_ID")
            if schema_id is not None:
                found_id = _int_property(props, f"{part.upper()}_SCHEMA_ID")
                _, text = self.schema_registry.schema(found_id)
            else:
                latest = self.schema_registry.latest(f"{topic}-{part}")
                if latest is None:
                    if part == "key":
                        continue  # no key schema: the source has no key columns
                    raise KsqlStatementError(
                        f"Schema for message {part}s on topic '{topic}' does not exist in the Schema Registry."
                        f"\nSubject: {topic}-{part}")
                found_id, text = latest[0], latest[3]
            infer = {"AVRO": avro.inferred_columns, "JSON_SR": json_sr.inferred_columns,
                     "PROTOBUF": protobuf.inferred_columns}[fmt]
            # named by id, the schema's own spelling is kept (as ksqlDB does)
            for name, sql_type in infer(found_id, text, part == "key", schema_id is not None,
                                        props.get(f"{part.upper()}_SCHEMA_FULL_NAME")):
                out.append(Column(name or single, sql_type, namespace))
        return out

    def _formats(self, props: dict, defaults: DataSource | None = None) -> tuple[str, str]:
        both = props.get("FORMAT")
        for which in ("KEY_FORMAT", "VALUE_FORMAT"):
            if both is not None and which in props:
                raise KsqlStatementError(
                    f"Cannot supply both '{which}' and 'FORMAT' properties, as 'FORMAT' sets both key and value "
                    f"formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'.")
        key_format = props.get("KEY_FORMAT", both)
        value_format = props.get("VALUE_FORMAT", both)
        if key_format is None:
            key_format = defaults.key_format if defaults else self.properties[
                "ksql.persistence.default.format.key"]
        if value_format is None:
            value_format = defaults.value_format if defaults else self.properties.get(
                "ksql.persistence.default.format.value")
        if value_format is None:
            raise KsqlStatementError(
                "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. "
                "Either provide one or set a default via the 'ksql.persistence.default.format.value' config.")
        key_format, value_format = str(key_format).upper(), str(value_format).upper()
        from ksql.runtime.serdes import KNOWN_FORMATS

        for name in (key_format, value_format):
            if name not in KNOWN_FORMATS:
                raise KsqlStatementError(f"Unknown format: {name}")
        return key_format, value_format

    def _exec_DropSource(self, stmt: ast.DropSource, text: str, session: Session):
        source = self.metastore.get(stmt.name)
        kind = stmt.kind.lower()
        if source is None:
            if stmt.if_exists:
                return StatusResult(text, f"Source `{stmt.name}` does not exist.")
            raise KsqlStatementError(f"{kind.capitalize()} {stmt.name} does not exist.")
        if source.kind != stmt.kind:
            raise KsqlStatementError(
                f"Incompatible data source type is {source.kind}, but statement was DROP {stmt.kind}")
        if source.is_internal:
            raise KsqlStatementError(f"Cannot drop {stmt.name}: it is the engine's processing log.")
        if source.is_source and stmt.delete_topic:
            raise KsqlStatementError(f"Cannot delete topic for read-only source: {stmt.name}")
        readers = sorted({self.queries[q].sink.name for q in source.read_queries if q in self.queries})
        if readers:
            raise KsqlStatementError(
                f"Cannot drop {stmt.name}.\nThe following streams and/or tables read from this source: "
                f"[{', '.join(readers)}].\nYou need to drop them before dropping {stmt.name}.")
        inserts = sorted(q for q in source.write_queries if q in self.queries and self.queries[q].kind == "INSERT")
        if inserts:
            raise KsqlStatementError(
                f"Cannot drop {stmt.name}.\nThe following queries write into this source: "
                f"[{', '.join(inserts)}].\nYou need to terminate them before dropping {stmt.name}.")
        # The query that created the source goes with it.
        for query_id in sorted(q for q in source.write_queries if q in self.queries):
            self._terminate(query_id)
        self._record_command(text, session)
        self.metastore.remove(stmt.name)
        if stmt.delete_topic and self.log.topic(source.topic) is not None:
            still_used = any(s.topic == source.topic for s in self.metastore.sources())
            if not still_used:
                self.log.delete_topic(source.topic)
        return StatusResult(text, f"Source `{stmt.name}` (topic: {source.topic}) was dropped.",
                            f"{kind}/`{stmt.name}`/drop")

    # ---------------------------------------------------------------- persistent queries

    def _exec_CreateAsSelect(self, stmt: ast.CreateAsSelect, text: str, session: Session):
        existing = self.metastore.get(stmt.name)
        kind = stmt.kind.lower()
        refused = _name_taken(stmt, existing, text)
        if refused is not None:
            return refused
        if stmt.query.limit is not None:
            raise KsqlStatementError(f"CREATE {stmt.kind} AS SELECT statements don't support LIMIT clause.")
        plan = plan_query(stmt.query, self.metastore, sink=stmt.name, persistent=True)
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
        props = _normalize_properties(stmt.properties)
        _check_with_clause(props, _CREATE_AS_PROPERTIES)
        key_format, value_format = self._formats(props, defaults=source)
        if not plan.schema.key and key_format != "NONE" and stmt.query.partition_by:
            if "KEY_FORMAT" in props:
                raise KsqlStatementError("Key format specified for stream without key columns.")
            key_format = "NONE"
        if plan.schema.key and key_format == "NONE" and plan.joins is not None and "KEY_FORMAT" not in props \
                and "FORMAT" not in props:
            # a join of keyless sources is keyed: the key format of a keyed input, else DELIMITED
            key_format = next((s.key_format for s in plan.sources if s.key_format != "NONE"), "DELIMITED")
        topic_name = _topic_name(props.get("KAFKA_TOPIC", stmt.name))
        partitions = _int_property(props, "PARTITIONS", source.partitions)
        replicas = _int_property(props, "REPLICAS")
        window_type, window_size = None, None
        if plan.window is not None:
            window_type, window_size = plan.window.kind, plan.window.size
        elif plan.joins is None:  # a query over one windowed stream keeps its windowed keys
            window_type, window_size = source.window_type, source.window_size
        sink = DataSource(
            name=stmt.name, kind=stmt.kind, schema=plan.schema, topic=topic_name,
            key_format=key_format, value_format=value_format, sql=text,
            value_delimiter=str(props.get("VALUE_DELIMITER", source.value_delimiter if value_format == source.value_format else ",")),
            wrap_single_value=_bool_prop(props.get("WRAP_SINGLE_VALUE")),
            **_schema_properties(props),
            partitions=partitions,
            timestamp_column=_timestamp_column(props, plan.schema),
            timestamp_format=props.get("TIMESTAMP_FORMAT"),
            window_type=window_type,
            window_size=window_size,
            window_retention=_window_retention(plan),
        )
        _check_key_format(key_format, sink)
        _check_no_map_keys(sink.schema.key)
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
        _check_upgrade(existing, plan.schema)
        writers = [q for q in existing.write_queries if q in self.queries and self.queries[q].kind != "INSERT"]
        if not writers:
            return None
        query_id = writers[0]
        old = self.queries.pop(query_id)
        old.stop()
        for source in old.plan.sources:
            source.read_queries.discard(query_id)
        existing.write_queries.discard(query_id)
        return query_id

    def _exec_InsertInto(self, stmt: ast.InsertInto, text: str, session: Session):
        sink = self.metastore.get(stmt.target)
        if sink is None:
            raise KsqlStatementError(f"{stmt.target} does not exist.")
        if sink.is_table:
            raise KsqlStatementError(
                f"INSERT INTO can only be used to insert into a stream. {stmt.target} is a table.")
        if sink.is_source:
            raise KsqlStatementError(f"Cannot insert into read-only stream: {stmt.target}")
        plan = plan_query(stmt.query, self.metastore, sink=stmt.target, persistent=True)
        _check_runs(plan)
        if plan.source.source.is_table:
            raise KsqlStatementError(
                f"Incompatible data sink and query result. Data sink ({stmt.target}) type is STREAM but "
                f"select query result is TABLE.")
        if [(c.name, c.type, c.namespace) for c in plan.schema.columns] != \
                [(c.name, c.type, c.namespace) for c in sink.schema.columns]:
            raise KsqlStatementError(
                f"Incompatible schema between results and sink.\n"
                f"Result schema is {plan.schema.describe()}\n"
                f"Sink schema is {sink.schema.describe()}")
        offset = self._next_command_offset()
        props = _normalize_properties(stmt.properties)
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
        stateful = plan.joins is not None or any(
            isinstance(step, AggregateNode) or isinstance(step, FilterNode) and step.key_fields and step.table
            for step in plan.steps)
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
        view = None
        if sink.is_table:
            view = self.materialized[sink.name] = MaterializedTable(sink)
        query = PersistentQuery(query_id, kind, text, plan, sink, self.log,
                                session.offset_reset(self.properties), changelog, view,
                                self._state_limits(query_id), self.processing_log_topic,
                                scale_out=scale_out, repartition_topic=repartition,
                                retry_backoff=self._retry_backoff())
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
        for internal in (self._changelog_topic(query_id), self._repartition_topic(query_id)):
            if self.log.topic(internal) is not None:
                try:
                    self.log.delete_topic(internal)
                except TopicError:
                    pass  # another server running the query deleted it first
        for source in self.metastore.sources():
            source.read_queries.discard(query_id)
            source.write_queries.discard(query_id)
        self.log.delete_group(query_id)

    # ---------------------------------------------------------------- DML

    def _exec_InsertValues(self, stmt: ast.InsertValues, text: str, session: Session):
        target = self.metastore.get(stmt.target)
        if target is None:
            raise KsqlStatementError(f"Cannot insert values into an unknown stream/table: {stmt.target}")
        if target.is_source:
            raise KsqlStatementError(f"Cannot insert values into read-only {target.kind.lower()}: {stmt.target}")
        schema = target.schema
        writable = [c for c in schema.columns if c.namespace != HEADER]
        names = list(stmt.columns) or [c.name for c in writable]
        if len(names) != len(stmt.values):
            raise KsqlStatementError(
                f"Failed to prepare statement: Expected number columns and values to match: "
                f"{len(names)}, {len(stmt.values)}")
        values = {}
        empty = pa.RecordBatch.from_arrays([pa.array([0])], names=["__ROW"])
        scope = Scope()
        for name, expr in zip(names, stmt.values):
            column = schema.find(name)
            if name == ROWTIME:
                column = Column(ROWTIME, T.BIGINT)
            if name in (ROWPARTITION, ROWOFFSET):
                raise KsqlStatementError(f"Inserting into column `{name}` is not allowed.")
            if column is None:
                raise KsqlStatementError(f"Column name {name} does not exist.")
            if column.namespace == HEADER:
                raise KsqlStatementError(f"Cannot insert into HEADER columns: {name}")
            compiled = compile_expression(expr, scope)
            values[name] = _insert_value(name, column.type, compiled, empty)
        key_columns, value_columns = schema.key, schema.value
        if target.is_table:
            for column in key_columns:
                if column.name not in values or values[column.name][0].as_py() is None:
                    raise KsqlStatementError(f"Failed to insert values into '{target.name}'. "
                                             f"Value for primary key column(s) {column.name} is required for tables")
        key_format = make_format(target.key_format, key_columns, key=True, options=target.key_options())
        value_format = make_format(target.value_format, value_columns, key=False, options=target.value_options())

        def column_array(c):
            return values[c.name] if c.name in values else pa.nulls(1, T.to_arrow(c.type))

        keys = key_format.encode([column_array(c) for c in key_columns], 1)
        payloads = value_format.encode([column_array(c) for c in value_columns], 1)
        rowtime = values[ROWTIME][0].as_py() if ROWTIME in values else _now()
        partition = int(partitions_for(keys, target.partitions, int(time.time_ns()))[0])
        self.log.append(target.topic, partition, make_records(keys, payloads, [rowtime]))
        return StatusResult(text, "Inserted", None)

    def insert_row(self, target: str, row: dict) -> None:
        """Insert one row given as JSON-like values by column name (REST /inserts-stream)."""
        from ksql.runtime.serdes import _json_reader

        with self._lock:
            source = self.metastore.get(target)
            if source is None:
                raise KsqlStatementError(f"Cannot insert values into an unknown stream/table: {target}")
            if source.is_source:
                raise KsqlStatementError(f"Cannot insert values into read-only {source.kind.lower()}: {target}")
            by_name = {k.upper(): v for k, v in row.items()}
            unknown = [k for k in by_name if source.schema.find(k) is None and k != ROWTIME]
            if unknown:
                raise KsqlStatementError(f"Column name {unknown[0]} does not exist.")

            def array(column):
                value = _json_reader(column.type)(by_name.get(column.name.upper()))
                return pa.array([value], T.to_arrow(column.type))

            key_columns, value_columns = source.schema.key, source.schema.value
            key_format = make_format(source.key_format, key_columns, key=True, options=source.key_options())
            value_format = make_format(source.value_format, value_columns, key=False, options=source.value_options())
            keys = key_format.encode([array(c) for c in key_columns], 1)
            values = value_format.encode([array(c) for c in value_columns], 1)
            rowtime = int(by_name.get(ROWTIME) or _now())
            partition = int(partitions_for(keys, source.partitions, int(time.time_ns()))[0])
            self.log.append(source.topic, partition, make_records(keys, values, [rowtime]))

    # ---------------------------------------------------------------- queries

    def _exec_QueryStatement(self, stmt: ast.QueryStatement, text: str, session: Session):
        query = stmt.query
        if query.emit is None:
            self._catch_up([query.source.name] + [j.relation.name for j in query.joins])
        if query.emit is None and pull_sql.needs_sql(query):
            tables = self._pull_tables(query)
            if tables is not None:
                return self._sql_pull_query(text, query, tables)
        merged = {**self.properties, **session.properties}
        if query.emit is None and query.limit is not None and \
                str(merged.get("ksql.query.pull.limit.clause.enabled", "true")).lower() == "false":
            raise KsqlStatementError(
                "LIMIT clause in pull queries is currently disabled. You can enable them by setting "
                "ksql.query.pull.limit.clause.enabled=true. See https://cnfl.io/queries for more info.\n"
                "Add EMIT CHANGES if you intended to issue a push query.")
        if query.limit is not None and query.limit < 0:
            raise KsqlStatementError("Pull queries don't support negative integers in the LIMIT clause. "
                                     "See https://cnfl.io/queries for more info." if query.emit is None else
                                     "Push queries don't support negative integers in the LIMIT clause.")
        target = self.metastore.get(query.source.name)
        if query.emit is None:
            pull_rules.check_any(query)
        if query.emit is None and not query.joins and target is not None and target.is_table:
            pull_rules.check(query, target, {**self.properties, **session.properties})
        if query.order_by:
            raise KsqlStatementError("ORDER BY is only supported in pull queries on tables "
                                     "(queries without EMIT CHANGES).")
        plan = plan_query(query, self.metastore)
        source = plan.source.source
        push = query.emit is not None
        if not push and source.is_table:
            return self._pull_query(text, query, plan)
        if query.emit == "FINAL":
            raise KsqlStatementError("EMIT FINAL is only supported for windowed aggregations.")
        query_id = f"transient_{source.name}_{uuid.uuid4().int % 10**19}"
        offset_reset = session.offset_reset(self.properties)
        transient = TransientQuery(query_id, plan, self.log, offset_reset, push, on_log=self._log_entries,
                                   state_limits=self._state_limits(query_id))
        columns = [c for c, _ in plan.steps[-1].columns]
        return RowStream(text, query_id, [c.name for c in columns], [str(c.type) for c in columns],
                         transient.rows, transient.close, limit=query.limit, poll=transient.poll, push=push)

    def _catch_up(self, names: list[str], timeout: float = PULL_CATCH_UP_SECONDS) -> None:
        """Before a pull query: give the queries that build these tables a moment to process what
        their sources already hold, so a pull query sees the writes made before it (a table
        created a moment ago, rows just inserted)."""
        if not self.background:
            return  # the caller drives the queries (drain())
        wanted = {name.upper() for name in names}
        building = [q for q in list(self.queries.values()) if q.sink.name in wanted and q.state == "RUNNING"]
        deadline = time.monotonic() + timeout
        for query in building:  # a query just started first restores its state
            query.prepared.wait(max(deadline - time.monotonic(), 0))
        # what the sources hold now: later writes need not be waited for (under a steady load
        # the queries never have nothing left to read)
        targets = [(q, {tp: self.log.end_offset(*tp) for tp in dict(q.positions)}) for q in building]
        while time.monotonic() < deadline and any(
                q.positions.get(tp, 0) < end for q, ends in targets for tp, end in ends.items()):
            self.log.wait(0.02)
        # with several servers, a view follows its table's topic: let it read what is there now
        following = [(q.view, {p: self.log.end_offset(q.sink.topic, p) for p in range(q.sink.partitions)})
                     for q in building if q.scale_out and q.view is not None]
        while time.monotonic() < deadline and not all(view.caught_up(ends) for view, ends in following):
            self.log.wait(0.02)

    def _retry_backoff(self) -> tuple[float, float]:
        """How long a failed query waits before it is restarted, first and at most, in seconds."""
        first = float(self.properties.get("ksql.query.retry.backoff.initial.ms", RETRY_BACKOFF[0] * 1000))
        most = float(self.properties.get("ksql.query.retry.backoff.max.ms", RETRY_BACKOFF[1] * 1000))
        return first / 1000, max(first, most) / 1000

    def _state_limits(self, query_id: str) -> StateLimits:
        """A query's state: this many entries in memory (ksql.state.max.entries), the rest
        spilled to a file under the data folder."""
        entries = int(self.properties.get("ksql.state.max.entries", DEFAULT_MAX_ENTRIES))
        return StateLimits(entries, str(self.log.root / "state" / file_name(query_id)))

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
            names = [name for name, _ in pull_sql.columns_of(source)]
            tables.append(pull_sql.Table(relation.alias or relation.name, source,
                                         pa.Table.from_batches([batch]).select(names)))
        return tables

    def _sql_pull_query(self, text: str, query: ast.Query, tables: list) -> RowStream:
        names, types, result = pull_sql.run(query, tables)
        columns = [result.column(i).to_pylist() for i in range(result.num_columns)]
        rows = [list(row) for row in zip(*columns)]
        query_id = f"pull_{tables[0].source.name}_{uuid.uuid4().int % 10**19}"
        return RowStream(text, query_id, names, [str(t) for t in types], lambda: iter(rows), lambda: None)

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
        from ksql.runtime.query import Pipeline

        pipeline = Pipeline(plan, "pull")
        batch = pipeline.apply(view.snapshot(_key_lookup(query, source)))
        # On a table a filter turns non-matching rows into tombstones; a pull query leaves them out.
        batch = batch.filter(pc.invert(batch.column(NULL_VALUE)))
        columns = [c for c, _ in plan.steps[-1].columns]
        values = [batch.column(c.name).to_pylist() for c in columns]
        rows = [[v[i] for v in values] for i in range(batch.num_rows)]
        if query.limit is not None:
            rows = rows[:query.limit]
        query_id = f"pull_{source.name}_{uuid.uuid4().int % 10**19}"
        key_names = {c.name for c in source.schema.key}
        if source.window_type is not None:
            key_names |= {"WINDOWSTART", "WINDOWEND"}
        items = _projected_names(query, source)
        keys = tuple(name for name, expr in items if isinstance(expr, ast.ColumnRef) and expr.name in key_names)
        return RowStream(text, query_id, [c.name for c in columns], [str(c.type) for c in columns],
                         lambda: iter(rows), lambda: None, key_columns=keys)

    def _log_entries(self, entries: list[bytes]) -> None:
        self.log.append(self.processing_log_topic, 0, processing_log.records(entries))

    def _exec_Print(self, stmt: ast.Print, text: str, session: Session):
        topic = self.log.topic(stmt.topic)
        if topic is None:
            topic = next((t for t in self.log.topics() if t.name.upper() == stmt.topic.upper()), None)
        if topic is None:
            raise KsqlStatementError(f"Could not find topic '{stmt.topic}', or the KSQL user does not have "
                                     f"permissions to list the topic. Topic names are case-sensitive.")
        closed = threading.Event()
        log = self.log
        from_beginning = stmt.from_beginning or session.offset_reset(self.properties) == "earliest"

        def lines():
            positions = {p: (log.start_offset(topic.name, p) if from_beginning else log.end_offset(topic.name, p))
                         for p in range(topic.partitions)}
            printed, seen = 0, 0
            interval = stmt.interval or 1
            while not closed.is_set():
                progressed = False
                for p in positions:
                    batch, next_offset = log.read(topic.name, p, positions[p])
                    positions[p] = next_offset
                    if batch is None:
                        continue
                    progressed = True
                    for ts, key, value in zip(batch.column(1).to_pylist(), batch.column(2).to_pylist(),
                                              batch.column(3).to_pylist()):
                        seen += 1
                        if (seen - 1) % interval:
                            continue
                        yield _print_line(ts, key, value, p)
                        printed += 1
                        if stmt.limit is not None and printed >= stmt.limit:
                            return
                if not progressed:
                    log.wait(0.2)

        return RowStream(text, f"print_{topic.name}", [], [], lines, closed.set, is_print=True)

    # ---------------------------------------------------------------- introspection

    def _exec_Show(self, stmt: ast.Show, text: str, session: Session):
        what = stmt.what
        if what in ("STREAMS", "TABLES"):
            kind = what[:-1]
            sources = self.metastore.sources(kind)
            items = [{"type": kind, "name": s.name, "topic": s.topic, "keyFormat": s.key_format,
                      "valueFormat": s.value_format, "isWindowed": False} for s in sources]
            headers = [f"{kind.capitalize()} Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"]
            rows = [[i["name"], i["topic"], i["keyFormat"], i["valueFormat"], "false"] for i in items]
            return ListResult(text, what.lower(), headers, rows, items)
        if what == "TOPICS":
            topics = [t for t in self.log.topics() if stmt.all or not t.name.startswith("_")]
            items = [{"name": t.name, "replicaInfo": [1] * t.partitions} for t in topics]
            rows = [[t.name, t.partitions, 1] for t in topics]
            return ListResult(text, "kafka_topics", ["Kafka Topic", "Partitions", "Partition Replicas"], rows, items)
        if what == "QUERIES":
            items = [_running_query(q) for q in self.queries.values()]
            rows = [[i["id"], "PERSISTENT", i["state"], ", ".join(i["sinks"]),
                     ", ".join(i["sinkKafkaTopics"]), " ".join(i["queryString"].split())] for i in items]
            return ListResult(text, "queries", ["Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic",
                                                "Query String"], rows, items)
        if what == "PROPERTIES":
            merged = {**self.properties, **session.properties}
            items = [{"name": k, "scope": "KSQL", "value": str(v)} for k, v in sorted(merged.items())]
            rows = [[i["name"], "SESSION" if i["name"] in session.properties else "", i["value"]] for i in items]
            return ListResult(text, "properties", ["Property", "Level", "Value"], rows, items)
        if what == "FUNCTIONS":
            items = _function_list()
            rows = [[i["name"], i["type"], i["category"]] for i in items]
            return ListResult(text, "function_names", ["Function Name", "Type", "Category"], rows, items)
        if what == "VARIABLES":
            items = [{"name": k, "value": v} for k, v in sorted(session.variables.items())]
            return ListResult(text, "variables", ["Variable Name", "Value"],
                              [[i["name"], i["value"]] for i in items], items)
        if what == "TYPES":
            items = [{"name": n, "schema": str(t)} for n, t in sorted(self.metastore.types.items())]
            return ListResult(text, "type_list", ["Type Name", "Schema"],
                              [[i["name"], i["schema"]] for i in items], items)
        if what in ("CONNECTORS", "CONNECTOR PLUGINS"):
            raise KsqlStatementError("Connectors are not supported: there is no Kafka Connect integration yet.")
        raise KsqlStatementError(f"SHOW {what} is not supported yet.")

    def _exec_Describe(self, stmt: ast.Describe, text: str, session: Session):
        if stmt.name in ("STREAMS", "TABLES") and self.metastore.get(stmt.name) is None:
            return self._exec_Show(ast.Show(stmt.name, True), text, session)
        source = self.metastore.get(stmt.name)
        if source is None:
            raise KsqlStatementError(f"Could not find STREAM/TABLE '{stmt.name}' in the Metastore")
        rows = []
        for column in source.schema.columns:
            suffix = {KEY: "(primary key)" if source.is_table else "(key)", HEADER: "(header)"}.get(column.namespace, "")
            rows.append([column.name, f"{column.type}{(' ' + suffix) if suffix else ''}"])
        details = []
        if stmt.extended:
            details = [("Type", source.kind), ("Key format", source.key_format),
                       ("Value format", source.value_format), ("Kafka topic", f"{source.topic} (partitions: "
                       f"{source.partitions}, replication: 1)"), ("Statement", source.sql)]
            for query_id in sorted(source.write_queries):
                q = self.queries.get(query_id)
                if q:
                    details.append(("Write query", f"{q.id} [{q.state}] in: {q.records_in}, out: {q.records_out}"
                                    + (f", error: {q.error}" if q.error else "")))
            for query_id in sorted(source.read_queries):
                details.append(("Read query", query_id))
        def running(ids):
            return [_running_query(self.queries[q]) for q in sorted(ids) if q in self.queries]

        statistics = ""
        if stmt.extended:
            writers = [self.queries[q] for q in source.write_queries if q in self.queries]
            statistics = ", ".join(f"{q.id}: records in {q.records_in}, out {q.records_out}" for q in writers)
        # the fields and their order of ksqlDB's SourceDescription entity
        item = {"name": source.name, "windowType": source.window_type,
                "readQueries": running(source.read_queries), "writeQueries": running(source.write_queries),
                "fields": [{"name": c.name, "schema": _schema_entity(c.type), **({"type": c.namespace}
                           if c.namespace != VALUE else {})} for c in source.schema.columns],
                "type": source.kind, "timestamp": source.timestamp_column or "", "statistics": statistics,
                "errorStats": "", "extended": stmt.extended, "keyFormat": source.key_format,
                "valueFormat": source.value_format, "topic": source.topic, "partitions": source.partitions,
                "replication": 1, "statement": source.sql, "queryOffsetSummaries": [], "sourceConstraints": sorted(  # what is made from it: it cannot be dropped before them
                    {self.queries[q].sink.name for q in source.read_queries if q in self.queries}),
                "clusterStatistics": [], "clusterErrorStats": []}
        return DescribeResult(text, "sourceDescription", f"Name                 : {source.name}",
                              ["Field", "Type"], rows, details, item)

    def _exec_DescribeFunction(self, stmt: ast.DescribeFunction, text: str, session: Session):
        item = next((i for i in _function_list() if i["name"] == stmt.name), None)
        if item is None:
            raise KsqlStatementError(f"Can't find any functions with the name '{stmt.name}'")
        lines = [f"Name        : {item['name']}", f"Type        : {item['type']}",
                 f"Category    : {item['category']}", f"Description : {item['description']}"]
        lines += [f"Signature   : {s}" for s in item["signatures"]]
        # ksqlDB's FunctionDescriptionList: one entry per signature, its arguments and result
        entity = {"name": item["name"], "description": item["description"], "author": "",
                  "version": __version__, "path": "internal", "type": item["type"],
                  "functions": [_signature_entity(s, item["description"]) for s in item["signatures"]]}
        return TextResult(text, "describe_function", "\n".join(lines), entity)

    def _exec_Explain(self, stmt: ast.Explain, text: str, session: Session):
        if stmt.query is not None:
            plan = plan_query(stmt.query, self.metastore)
            statement = text.strip()
            statement = statement[len("EXPLAIN"):].strip() if statement.upper().startswith("EXPLAIN") else statement
            explained = plan.explain()
            return TextResult(text, "queryDescription", explained, {"queryDescription": _query_description(
                "", statement, plan, [], explained, {}, None)})
        query = self.queries.get(stmt.query_id.upper())
        if query is None:
            raise KsqlStatementError(f"Query with id:{stmt.query_id} does not exist, "
                                     f"use SHOW QUERIES to view the full set of running queries.")
        explained = query.plan.explain(query.sink.name)
        description = _query_description(query.id, query.sql, query.plan, [query.sink.name], explained,
                                         dict(getattr(query, "properties", {}) or {}), query.state)
        return TextResult(text, "queryDescription",
                          f"ID           : {query.id}\nQuery type   : PERSISTENT\nSQL          : {query.sql}\n"
                          f"State        : {query.state}\n\nExecution plan\n--------------\n" + explained,
                          {"queryDescription": description})

    def _exec_AlterSource(self, stmt: ast.AlterSource, text: str, session: Session):
        source = self.metastore.get(stmt.name)
        if source is None:
            raise KsqlStatementError(f"Source {stmt.name} does not exist.")
        if source.kind != stmt.kind:
            raise KsqlStatementError(f"Incompatible data source type is {source.kind}, but statement was "
                                     f"ALTER {stmt.kind}")
        if source.is_source:
            kind = stmt.kind.lower()
            raise KsqlStatementError(f"Cannot alter {kind} '{stmt.name}': ALTER operations are not supported on "
                                     f"source {kind}s.")
        if any(self.queries.get(q) and self.queries[q].kind != "INSERT" for q in source.write_queries):
            raise KsqlStatementError("ALTER command is not supported for CREATE ... AS statements.")
        columns = list(source.schema.columns)
        for element in stmt.columns:
            if source.schema.find(element.name) is not None or any(c.name == element.name for c in columns):
                raise KsqlStatementError(f"Cannot add column `{element.name}` to schema. "
                                         f"A column with the same name already exists.")
            columns.append(Column(element.name, T.from_ref(element.type, self.metastore.types)))
        self._record_command(text, session)
        source.schema = LogicalSchema(tuple(columns))
        source.sql = text if not source.sql else source.sql
        return StatusResult(text, f"{'Stream' if source.kind == 'STREAM' else 'Table'} {stmt.name} altered.",
                            f"{stmt.kind.lower()}/`{stmt.name}`/alter")

    def _exec_CreateType(self, stmt: ast.CreateType, text: str, session: Session):
        if stmt.name in self.metastore.types:
            if stmt.if_not_exists:
                return StatusResult(text, f"Type {stmt.name} already exists.")
            raise KsqlStatementError(f"Cannot register custom type '{stmt.name}' since it is already registered "
                                     f"with type: {self.metastore.types[stmt.name]}")
        sql_type = T.from_ref(stmt.type, self.metastore.types)
        self._record_command(text, session)
        self.metastore.types[stmt.name] = sql_type
        return StatusResult(text, f"Registered custom type with name '{stmt.name}' and SQL type {sql_type}",
                            f"type/`{stmt.name}`/create")

    def _exec_DropType(self, stmt: ast.DropType, text: str, session: Session):
        if stmt.name not in self.metastore.types:
            if stmt.if_exists:
                return StatusResult(text, f"Type {stmt.name} does not exist.")
            raise KsqlStatementError(f"Type {stmt.name} does not exist.")
        self._record_command(text, session)
        del self.metastore.types[stmt.name]
        return StatusResult(text, f"Dropped type '{stmt.name}'", f"type/`{stmt.name}`/drop")

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

    def _exec_AlterSystem(self, stmt: ast.AlterSystem, text: str, session: Session):
        raise KsqlStatementError("ALTER SYSTEM is not supported: set server properties in the "
                                 "configuration file, or per session with SET.")

    def _exec_CreateConnector(self, stmt, text, session):
        raise KsqlStatementError("Connectors are not supported: there is no Kafka Connect integration yet.")

    _exec_DropConnector = _exec_CreateConnector
    _exec_DescribeConnector = _exec_CreateConnector

    def _exec_AssertTopic(self, stmt: ast.AssertTopic, text: str, session: Session):
        deadline = time.monotonic() + (stmt.timeout or 0) / 1000
        while True:
            topic = self.log.topic(stmt.name)
            if (topic is not None) == stmt.exists:
                break
            if time.monotonic() >= deadline:
                state = "does not exist" if stmt.exists else "exists"
                raise KsqlStatementError(f"Topic {stmt.name} {state}.")
            self.log.wait(0.1)
        if topic is not None and "PARTITIONS" in {k.upper() for k in stmt.properties}:
            wanted = _int_property(_normalize_properties(stmt.properties), "PARTITIONS")
            if wanted != topic.partitions:
                raise KsqlStatementError(f"Mismatched configuration for topic {stmt.name}: For config "
                                         f"partitions, expected {wanted} got {topic.partitions}")
        return StatusResult(text, f"Topic {stmt.name} {'exists' if stmt.exists else 'does not exist'}.",
                            None, kind="assert_topic")

    def _exec_AssertSchema(self, stmt, text, session):
        raise KsqlStatementError("ASSERT SCHEMA needs a schema registry, which is not supported yet.")

    def _exec_RunScript(self, stmt: ast.RunScript, text: str, session: Session):
        if session.remote:  # the CLI reads the file and sends its statements, as ksqlDB's does
            raise KsqlStatementError("Do not know how to validate statement of type: class "
                                     "io.confluent.ksql.parser.tree.RunScript. RUN SCRIPT runs in the CLI, "
                                     "which reads the file on its own machine.")
        try:
            with open(stmt.path, encoding="utf-8") as f:
                script = f.read()
        except OSError as error:
            raise KsqlStatementError(f"Failed to read script file {stmt.path}: {error.strerror}") from None
        results = self.execute(script, session)
        return results[-1] if results else StatusResult(text, "Script ran: no statements.")

    # ---------------------------------------------------------------- session

    def _exec_SetProperty(self, stmt: ast.SetProperty, text: str, session: Session):
        if stmt.name in _OFFSET_RESET_KEYS and stmt.value.lower() not in ("earliest", "latest", "none"):
            raise KsqlStatementError(
                f"Invalid value {stmt.value} for configuration auto.offset.reset: "
                f"String must be one of: latest, earliest, none")
        session.properties[stmt.name] = stmt.value
        return StatusResult(text, f"Successfully changed local property '{stmt.name}' to '{stmt.value}'.")

    def _exec_UnsetProperty(self, stmt: ast.UnsetProperty, text: str, session: Session):
        session.properties.pop(stmt.name, None)
        return StatusResult(text, f"Successfully unset local property '{stmt.name}'.")

    def _exec_DefineVariable(self, stmt: ast.DefineVariable, text: str, session: Session):
        define_variable(session.variables, stmt.name, stmt.value)
        return StatusResult(text, f"Defined variable {stmt.name}.")

    def _exec_UndefineVariable(self, stmt: ast.UndefineVariable, text: str, session: Session):
        if not undefine_variable(session.variables, stmt.name):
            return StatusResult(text, f"Variable '{stmt.name}' is not defined.")
        return StatusResult(text, f"Undefined variable {stmt.name}.")

    def drain(self, max_rounds: int = 100_000) -> None:
        """Without background threads: step every query until none has input left."""
        for _ in range(max_rounds):
            progressed = False
            for query in list(self.queries.values()):
                progressed |= query.step()
            if not progressed:
                return
        raise KsqlError("queries did not become idle")

    def cluster_members(self) -> list[dict]:
        """The servers running this engine's persistent queries, the source partitions each
        processes and how far it is in each ((position, end offset)): this one alone on the
        embedded log; on Kafka, every member of the queries' consumer groups."""
        local = {"instance": getattr(self.log, "instance_id", ""), "url": self.properties.get(
            "ksql.advertised.listener", ""), "local": True, "queries": {}, "lags": {},
            # the state stores of each query (ksqlDB names an aggregation's so)
            "stores": {q.id: ["Aggregate-Aggregate-Materialize"] for q in list(self.queries.values())
                       if q.changelog and self.log.topic(q.changelog) is not None}}
        if not self.log.shared:
            for query in list(self.queries.values()):
                positions = dict(query.positions)
                local["queries"][query.id] = sorted(positions)
                local["lags"][query.id] = {tp: (offset, self.log.end_offset(*tp))
                                           for tp, offset in sorted(positions.items())}
            return [local]
        members = {local["instance"]: local}
        for query in list(self.queries.values()):
            committed = self.log.committed(query.id, stable=False)  # a report: never wait on a dead server
            for instance, url, assigned in self.log.group_members(query.id):
                member = members.setdefault(instance, {"instance": instance, "url": url, "local": False,
                                                       "queries": {}, "lags": {}, "stores": local["stores"]})
                if not query.partition_local:  # processed by the owner of the first partition
                    first = (query.plan.sources[0].topic, 0)
                    assigned = query._source_partitions() if first in assigned else []
                member["queries"][query.id] = sorted(assigned)
                member["lags"][query.id] = {tp: (committed.get(tp, 0), self.log.end_offset(*tp))
                                            for tp in sorted(assigned)}
        return list(members.values())

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
        keys = _key_lookup(statement.query, table) if query is not None and query.scale_out else None
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

    def _repartition_topic(self, query_id: str) -> str:
        return f"_confluent-ksql-{self.service_id}query_{query_id}-Aggregate-GroupBy-repartition"

    def _changelog_topic(self, query_id: str) -> str:
        return f"_confluent-ksql-{self.service_id}query_{query_id}-Aggregate-Materialize-changelog"

    # ---------------------------------------------------------------- shutdown

    def close(self) -> None:
        if self._closing.is_set():
            return  # closed already
        self._closing.set()
        if self._follower is not None:
            self._follower.join(timeout=10)
        for query in list(self.queries.values()):
            query.stop()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- helpers


def _query_description(query_id: str, statement: str, plan, sinks: list[str], explained: str,
                       overridden: dict, state: str | None) -> dict:
    """ksqlDB's QueryDescription entity (EXPLAIN): the query's output fields, what it reads and
    writes, and its plan (also given as the topology: there is no Kafka Streams one here)."""
    windowed = next((s.window_type for s in plan.sources if s.window_type), None)
    return {"id": query_id, "statementText": statement, "windowType": windowed,
            "fields": [{"name": c.name, "schema": _schema_entity(c.type), **({"type": c.namespace}
                       if c.namespace != VALUE else {})} for c in plan.schema.columns],
            "sources": sorted({s.name for s in plan.sources}), "sinks": sinks, "topology": explained,
            "executionPlan": explained, "overriddenProperties": overridden, "ksqlHostQueryStatus": {},
            "queryType": "PERSISTENT" if query_id else "PUSH", "queryErrors": [], "tasksMetadata": [],
            "state": state or ""}


# Which method runs each kind of statement (the AST class the parser gives).
HANDLERS = {
    ast.CreateSource: KsqlEngine._exec_CreateSource,
    ast.DropSource: KsqlEngine._exec_DropSource,
    ast.CreateAsSelect: KsqlEngine._exec_CreateAsSelect,
    ast.InsertInto: KsqlEngine._exec_InsertInto,
    ast.Terminate: KsqlEngine._exec_Terminate,
    ast.InsertValues: KsqlEngine._exec_InsertValues,
    ast.QueryStatement: KsqlEngine._exec_QueryStatement,
    ast.Print: KsqlEngine._exec_Print,
    ast.Show: KsqlEngine._exec_Show,
    ast.Describe: KsqlEngine._exec_Describe,
    ast.DescribeFunction: KsqlEngine._exec_DescribeFunction,
    ast.Explain: KsqlEngine._exec_Explain,
    ast.AlterSource: KsqlEngine._exec_AlterSource,
    ast.CreateType: KsqlEngine._exec_CreateType,
    ast.DropType: KsqlEngine._exec_DropType,
    ast.PauseQuery: KsqlEngine._exec_PauseQuery,
    ast.ResumeQuery: KsqlEngine._exec_ResumeQuery,
    ast.AlterSystem: KsqlEngine._exec_AlterSystem,
    ast.CreateConnector: KsqlEngine._exec_CreateConnector,
    ast.AssertTopic: KsqlEngine._exec_AssertTopic,
    ast.AssertSchema: KsqlEngine._exec_AssertSchema,
    ast.RunScript: KsqlEngine._exec_RunScript,
    ast.SetProperty: KsqlEngine._exec_SetProperty,
    ast.UnsetProperty: KsqlEngine._exec_UnsetProperty,
    ast.DefineVariable: KsqlEngine._exec_DefineVariable,
    ast.UndefineVariable: KsqlEngine._exec_UndefineVariable,
}


def _running_query(query) -> dict:
    """ksqlDB's RunningQuery entity (SHOW QUERIES, DESCRIBE's read and write queries)."""
    return {"queryString": query.sql, "sinks": [query.sink.name], "sinkKafkaTopics": [query.sink.topic],
            "id": query.id, "statusCount": {query.state: 1}, "queryType": "PERSISTENT", "state": query.state}


def _schema_entity(sql_type) -> dict:
    """A type as ksqlDB's REST schema object: MAP and ARRAY name their member's schema, STRUCT
    lists its fields."""
    fields = member = None
    if sql_type.base == "STRUCT":
        fields = [{"name": name, "schema": _schema_entity(t)} for name, t in sql_type.params]
    elif sql_type.base == "ARRAY":
        member = _schema_entity(sql_type.params[0])
    elif sql_type.base == "MAP":
        member = _schema_entity(sql_type.params[1])
    return {"type": sql_type.base, "fields": fields, "memberSchema": member}


def _signature_entity(signature: str, description: str) -> dict:
    """A signature such as 'SUBSTRING(s STRING, position INT [, length INT]) -> STRING' as
    ksqlDB's FunctionInfo: each argument's name, type and whether it repeats, the result type."""
    head, _, result = signature.partition("->")
    inside = head[head.find("(") + 1:head.rfind(")")] if "(" in head else ""
    arguments, depth, current = [], 0, ""
    for char in inside + ",":
        if char == "," and depth == 0:
            word = current.strip().strip("[]").strip()
            if word:
                variadic = word.endswith("...")
                name, _, kind = word.rstrip(".").strip().partition(" ")
                if name:
                    arguments.append({"name": name, "type": kind.strip() or "ANY", "description": "",
                                      "isVariadic": variadic})
                elif variadic and arguments:
                    arguments[-1]["isVariadic"] = True
            current = ""
            continue
        depth += char in "(<" or -(char in ")>")
        current += char
    return {"arguments": arguments, "returnType": result.strip() or "ANY", "description": description,
            "argumentTypes": [a["type"] for a in arguments]}


def _function_list() -> list[dict]:
    """Every function: scalar, aggregate, table and lambda, with their descriptions."""
    from ksql.planner.aggregates import AGGREGATES
    from ksql.planner.plan import TABLE_FUNCTIONS

    items = [{"name": f.name, "type": "TABLE" if f.name in TABLE_FUNCTIONS else "SCALAR",
              "category": f.category or "OTHER", "description": f.description,
              "signatures": list(f.signatures)} for f in FUNCTIONS.values()]
    items += [{"name": a.name, "type": "AGGREGATE", "category": "AGGREGATE", "description": a.description,
               "signatures": []} for a in AGGREGATES.values()]
    items += [{"name": "EXPLODE", "type": "TABLE", "category": "TABLE",
               "description": "One row per element of an array.", "signatures": ["EXPLODE(a ARRAY)"]},
              {"name": "CUBE_EXPLODE", "type": "TABLE", "category": "TABLE",
               "description": "One row per combination of the array's elements and NULLs.",
               "signatures": ["CUBE_EXPLODE(a ARRAY)"]}]
    items += [{"name": name, "type": "SCALAR", "category": "LAMBDA", "description": text, "signatures": [sig]}
              for name, text, sig in [
                  ("TRANSFORM", "Applies a lambda to each element (or map entry).",
                   "TRANSFORM(a ARRAY, x => ...)  TRANSFORM(m MAP, (k, v) => key, (k, v) => value)"),
                  ("FILTER", "Keeps the elements (or entries) for which a lambda is true.",
                   "FILTER(a ARRAY, x => ...)  FILTER(m MAP, (k, v) => ...)"),
                  ("REDUCE", "Folds the elements into one value with a lambda.",
                   "REDUCE(a ARRAY, initial, (state, x) => ...)")]]
    seen, unique = set(), []
    for item in sorted(items, key=lambda i: i["name"]):
        if item["name"] not in seen:
            seen.add(item["name"])
            unique.append(item)
    return unique


def expr_text(expr) -> str:
    from ksql.planner.format import format_expression

    return format_expression(expr)


# Numbers coerce to a wider type only (type-coercion.md): INTEGER, BIGINT, DECIMAL, DOUBLE.
_NUMERIC_WIDTH = {"INTEGER": 0, "BIGINT": 1, "DECIMAL": 2, "DOUBLE": 3}


def _assignable(source: T.SqlType, target: T.SqlType) -> bool:
    if source.is_numeric and target.is_numeric:
        return _NUMERIC_WIDTH[source.base] <= _NUMERIC_WIDTH[target.base]
    if source.base == "STRING" and target.base in ("TIMESTAMP", "DATE", "TIME", "BYTES"):
        return True
    return source.base == target.base


def _insert_value(name: str, target: T.SqlType, compiled, empty: pa.RecordBatch) -> pa.Array:
    """An INSERT VALUES expression's value as the column's type, refused as ksqlDB refuses it:
    a narrower number type (99999999999 is a BIGINT), or a decimal that does not fit."""
    value = compiled.column(empty)
    if compiled.type is not None and compiled.type != target and not _assignable(compiled.type, target):
        raise KsqlStatementError(f"Expected type {target} for field {name} but got "
                                 f"{compiled.type.base}({_java_text(value[0].as_py())})")
    if target.base == "DECIMAL" and compiled.type is not None and compiled.type.base in ("INTEGER", "BIGINT", "DECIMAL"):
        _ensure_decimal_fits(value[0].as_py(), target)
    return cast_to(compiled, target).column(empty)


def _ensure_decimal_fits(value, target: T.SqlType) -> None:
    """ksqlDB's DecimalUtil.ensureFit: no overflow, no rounding."""
    if value is None:
        return
    number = decimal.Decimal(value)
    digits = target.precision - target.scale
    if abs(number) >= decimal.Decimal(10) ** digits:
        raise KsqlStatementError(
            f"Numeric field overflow: A field with precision {target.precision} and scale {target.scale} "
            f"must round to an absolute value less than 10^{digits}. Got {_java_text(number)}")
    scale = max(-number.as_tuple().exponent, 0)
    if scale > target.scale and number != number.quantize(decimal.Decimal(1).scaleb(-target.scale)):
        precision = max(len(number.as_tuple().digits), scale)
        raise KsqlStatementError(
            f"Cannot fit decimal '{_java_text(number)}' into DECIMAL({target.precision}, {target.scale}) "
            f"without rounding. (Requires {precision},{scale})")


def _java_text(value) -> str:
    """A value as Java's toString shows it in ksqlDB's messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value) if "e" not in repr(value) else f"{value:E}".replace("E+", "E")
    return str(value)


def _projected_names(query: ast.Query, source: DataSource) -> list[tuple[str, object]]:
    """(output name, expression) of the plain column items, with * expanded."""
    items = []
    for item in query.select:
        if isinstance(item, ast.SelectAll):
            window = ["WINDOWSTART", "WINDOWEND"] if source.window_type is not None else []
            names = [c.name for c in source.schema.key] + window + [c.name for c in source.schema.value]
            items += [(name, ast.ColumnRef(name)) for name in names]
        elif isinstance(item, ast.SelectExpression) and isinstance(item.expression, ast.ColumnRef):
            items.append((item.alias or item.expression.name, item.expression))
    return items


def _key_lookup(query: ast.Query, source: DataSource) -> list[tuple] | None:
    """The keys of `key = literal` or `key IN (literals)` (alone or AND-ed with other
    conditions) on a single-key table, in the order written: the rows come back in that order,
    and the full WHERE still filters them."""
    key = source.schema.key
    if len(key) != 1:
        return None
    conditions, pending = [], [query.where]
    while pending:
        condition = pending.pop(0)
        if isinstance(condition, ast.LogicalOp) and condition.op == "AND":
            pending[:0] = [condition.left, condition.right]
        elif condition is not None:
            conditions.append(condition)
    for condition in conditions:
        literals = _key_literals(condition, key[0].name)
        if literals is None:
            continue
        values = [_key_value(literal, key[0].type) for literal in literals]
        if all(v is not None for v in values):
            return [(v,) for v in dict.fromkeys(values)]
    return None


def _key_literals(condition, key_name: str) -> list | None:
    """The literals of `key = x`, `key IN (x, y)` or `key = x OR key = y`, in order."""
    if isinstance(condition, ast.BinaryOp) and condition.op == "=":
        for column, literal in ((condition.left, condition.right), (condition.right, condition.left)):
            if isinstance(column, ast.ColumnRef) and column.name == key_name:
                return [literal]
    if isinstance(condition, ast.InList) and not condition.negated and \
            isinstance(condition.value, ast.ColumnRef) and condition.value.name == key_name:
        return list(condition.items)
    if isinstance(condition, ast.LogicalOp) and condition.op == "OR":
        left, right = _key_literals(condition.left, key_name), _key_literals(condition.right, key_name)
        return left + right if left is not None and right is not None else None
    return None


def _key_value(literal, key_type: T.SqlType):
    """A literal as a value of the key's type, or None when it is not one."""
    if not isinstance(literal, ast.Literal) or literal.value is None or isinstance(literal.value, bool):
        return None
    if key_type.base == "STRING":
        return literal.value if isinstance(literal.value, str) else None
    if isinstance(literal.value, str):
        return None
    if key_type.base in ("INTEGER", "BIGINT"):
        return int(literal.value) if float(literal.value).is_integer() else None
    if key_type.base == "DOUBLE":
        return float(literal.value)
    return None


def _window_retention(plan) -> int | None:
    """How long a windowed aggregation keeps a window: RETENTION, else size + grace."""
    window = plan.window
    if window is None:
        return None
    if window.retention is not None:
        return window.retention
    from ksql.runtime.operators.aggregate import DEFAULT_GRACE_MS

    emit_final = any(getattr(step, "emit_final", False) for step in plan.steps)
    grace = window.grace if window.grace is not None else (0 if emit_final else DEFAULT_GRACE_MS)
    return window.size + grace


def _window_size(text) -> int | None:
    """'30 SECONDS' -> 30000."""
    if text is None:
        return None
    amount, _, unit = str(text).strip().partition(" ")
    scale = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
    name = unit.strip().upper().rstrip("S")
    if not amount.isdigit() or name not in scale:
        raise KsqlStatementError(f"Invalid WINDOW_SIZE: '{text}'. Use a number and a unit, like '10 SECONDS'.")
    return int(amount) * scale[name]


def _name_taken(stmt, existing: DataSource | None, text: str) -> StatusResult | None:
    """CREATE of a name in use: a message with IF NOT EXISTS, an error without OR REPLACE."""
    if existing is None or stmt.or_replace:
        return None
    kind = stmt.kind.lower()
    if stmt.if_not_exists:
        return StatusResult(text, f"Cannot add {kind} {stmt.name}: A {kind} with the same name already exists.")
    raise KsqlStatementError(
        f"Cannot add {kind} '{stmt.name}': A {existing.kind.lower()} with the same name already exists")


def _schema_properties(props: dict) -> dict:
    """KEY_SCHEMA_ID, VALUE_SCHEMA_ID, KEY_SCHEMA_FULL_NAME and VALUE_SCHEMA_FULL_NAME of a WITH clause."""
    out = {}
    for part in ("key", "value"):
        out[f"{part}_schema_id"] = _int_property(props, f"{part.upper()}_SCHEMA_ID")
        full_name = props.get(f"{part.upper()}_SCHEMA_FULL_NAME")
        out[f"{part}_schema_full_name"] = None if full_name is None else str(full_name)
        nullable = props.get(f"{part.upper()}_PROTOBUF_NULLABLE_REPRESENTATION")
        if nullable is not None and str(nullable).upper() not in ("WRAPPER", "OPTIONAL"):
            raise KsqlStatementError(f"Invalid {part.upper()}_PROTOBUF_NULLABLE_REPRESENTATION: {nullable} "
                                     f"(WRAPPER or OPTIONAL)")
        out[f"{part}_nullable_representation"] = None if nullable is None else str(nullable).upper()
    return out


def open_registry(log, properties: dict):
    """The schema registry at ksql.schema.registry.url, else the one embedded in the log."""
    url = properties.get("ksql.schema.registry.url")
    if url:
        return schema_registry.RemoteRegistry(url, properties.get("ksql.schema.registry.basic.auth.user.info"))
    return schema_registry.EmbeddedRegistry(log)


def open_log(data_dir: str, properties: dict):
    """The Kafka cluster named by `bootstrap.servers`, else the embedded log in data_dir."""
    from ksql.runtime.kafka_log import KafkaLog, client_config, exactly_once

    config = client_config(properties)
    if config is None:
        return EmbeddedLog(data_dir)
    return KafkaLog(config, data_dir, str(properties["ksql.service.id"]), exactly_once(properties),
                    str(properties.get("ksql.advertised.listener", "")))


def _check_runs(plan) -> None:
    """Run the plan's operators over no rows: an expression that cannot be evaluated for any row
    (a type Arrow refuses) fails the statement now, rather than the query later."""
    from ksql.runtime.log import make_records
    from ksql.runtime.query import Pipeline

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


def _check_no_map_keys(columns) -> None:
    """Maps have no stable serialized form, so a key holding one would not find its partition."""
    for column in columns:
        if "MAP<" in str(column.type).upper():
            raise KsqlStatementError(
                f"Map keys, including types that contain maps, are not supported as they may lead to unexpected "
                f"behavior due to inconsistent serialization. Key column name: `{column.name}`. Column type: "
                f"{column.type}. See https://github.com/confluentinc/ksql/issues/6621 for more.")


def _check_key_format(key_format: str, sink: DataSource) -> None:
    try:
        make_format(key_format, sink.schema.key, key=True, options=sink.key_options())
    except KsqlStatementError as error:
        columns = ", ".join(f"`{c.name}` {c.type} KEY" for c in sink.schema.key)
        raise KsqlStatementError(f"Key format does not support schema.\nformat: {key_format}\nschema: "
                                 f"Persistence{{columns=[{columns}], features=[]}}\nreason: {error}") from None


def _check_upgrade(existing: DataSource, schema: LogicalSchema) -> None:
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


# Limits on one statement, checked before it is parsed: parsing and planning take time and
# memory in proportion to its size, while the engine serves everyone else.
MAX_STATEMENT_LENGTH = 1_000_000  # characters
MAX_STATEMENT_TOKENS = 100_000  # words, numbers, strings and symbols
_TOKEN = re.compile(r"'(?:[^']|'')*'|`[^`]*`|\"[^\"]*\"|\w+|[^\w\s]")
# Planning and evaluating an expression recurse once per level of nesting; the recursion limit
# is raised (at import) so statements a program generates fit, and deeper ones get a clear error.
MAX_NESTING = 3_000
sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))


def _check_size(text: str) -> None:
    if len(text) > MAX_STATEMENT_LENGTH:
        raise KsqlStatementError(f"The statement is {len(text):,} characters long: a statement may have at most "
                                 f"{MAX_STATEMENT_LENGTH:,}.")
    if len(text) > MAX_STATEMENT_TOKENS:  # (fewer characters cannot make more tokens)
        tokens = sum(1 for _ in _TOKEN.finditer(text))
        if tokens > MAX_STATEMENT_TOKENS:
            raise KsqlStatementError(f"The statement has {tokens:,} words and symbols: a statement may have at "
                                     f"most {MAX_STATEMENT_TOKENS:,}.")


# What the WITH clause of CREATE STREAM/TABLE and of CREATE ... AS SELECT may hold (ksqlDB's
# CreateConfigs and CommonCreateConfigs); anything else is refused by name.
_CREATE_AS_PROPERTIES = frozenset({
    "KAFKA_TOPIC", "PARTITIONS", "REPLICAS", "RETENTION_MS", "FORMAT", "KEY_FORMAT", "VALUE_FORMAT",
    "TIMESTAMP", "TIMESTAMP_FORMAT", "WRAP_SINGLE_VALUE", "KEY_DELIMITER", "VALUE_DELIMITER",
    "KEY_SCHEMA_ID", "VALUE_SCHEMA_ID", "KEY_SCHEMA_FULL_NAME", "VALUE_SCHEMA_FULL_NAME",
    "VALUE_AVRO_SCHEMA_FULL_NAME", "KEY_PROTOBUF_NULLABLE_REPRESENTATION", "VALUE_PROTOBUF_NULLABLE_REPRESENTATION",
})
_CREATE_PROPERTIES = _CREATE_AS_PROPERTIES | {"WINDOW_TYPE", "WINDOW_SIZE", "SOURCED_BY_CONNECTOR"}


def _check_with_clause(props: dict, allowed: frozenset) -> None:
    unknown = [name for name in props if name not in allowed]
    if unknown:
        raise KsqlStatementError(f"Invalid config variable(s) in the WITH clause: {','.join(unknown)}")


def _normalize_properties(props: dict) -> dict:
    return {k.upper(): v for k, v in props.items()}


def _int_property(props: dict, name: str, default=None):
    """A whole-number WITH property (PARTITIONS, REPLICAS, ...), refused as Kafka's ConfigDef
    refuses a value that is not an INT."""
    value = props.get(name)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31:
        return value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
        if number is not None and -2**31 <= number < 2**31:
            return number
    raise KsqlStatementError(f"Invalid value {value} for configuration {name}: Not a number of type INT")


def _topic_name(name) -> str:
    """The topic a statement names, if Kafka would accept the name."""
    try:
        return check_topic_name(str(name))
    except InvalidTopicName as error:
        raise KsqlStatementError(str(error)) from None


def _check_query_id(query_id: str) -> str:
    """A QUERY_ID given in a WITH clause, under ksqlDB's rules."""
    prefixes = ("INSERTQUERY_", "CTAS_", "CSAS_", "CST_")
    if query_id.startswith(prefixes):
        raise KsqlStatementError(f"Query IDs must not start with a reserved query ID prefix "
                                 f"({', '.join(prefixes)}). Got '{query_id}'.")
    if not re.fullmatch(r"[A-Za-z0-9_]+", query_id):
        raise KsqlStatementError(f"Query IDs may contain only alphanumeric characters and '_'. Got: '{query_id}'")
    return query_id


def _bool_prop(value) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def _timestamp_column(props: dict, schema: LogicalSchema) -> str | None:
    name = props.get("TIMESTAMP")
    if name is None:
        return None
    name = str(name)
    column = schema.find(name) or schema.find(name.upper())
    if column is None:
        raise KsqlStatementError(f"The TIMESTAMP column set in the WITH clause does not exist in the schema: '{name}'")
    if column.type.base not in ("BIGINT", "TIMESTAMP", "STRING"):
        raise KsqlStatementError(
            f"Timestamp column, `{column.name}`, should be LONG(INT64), TIMESTAMP, or a String with a "
            f"timestamp_format specified.")
    if column.type.base == "STRING" and "TIMESTAMP_FORMAT" not in props:
        raise KsqlStatementError(
            f"Timestamp column, `{column.name}`, should be LONG(INT64), TIMESTAMP, or a String with a "
            f"timestamp_format specified.")
    return column.name


def _now() -> int:
    return int(time.time() * 1000)


def _print_line(timestamp: int, key: bytes | None, value: bytes | None, partition: int) -> str:
    moment = datetime.fromtimestamp(timestamp / 1000, tz=timezone.utc)
    stamp = moment.strftime("%Y/%m/%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} Z"
    return f"rowtime: {stamp}, key: {_print_bytes(key)}, value: {_print_bytes(value)}, partition: {partition}"


def _print_bytes(data: bytes | None) -> str:
    if data is None:
        return "<null>"
    if len(data) in (4, 8) and any(b < 32 for b in data):
        return str(int.from_bytes(data, "big", signed=True))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode()
