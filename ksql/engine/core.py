"""The engine facade: `KsqlEngine(data_dir).execute(sql)` runs statements end to end; each
statement goes to the handler of its AST class (HANDLERS), in the module of its family.

text -> ksql.parser (AST) -> ksql.planner (metastore, plan) -> ksql.runtime (log, queries).
Every statement that changes the metastore is appended to the command topic; at start-up
the engine replays it, so streams, tables and persistent queries survive a restart.
"""
from __future__ import annotations

import logging
import threading

from ksql.errors import KsqlError, KsqlPreparationError, KsqlStatementError, KsqlSyntaxError
from ksql.parser import ast, in_script, parse_statement, split_statements, substitute_variables
from ksql.planner.metastore import MetaStore
from ksql.results import StatusResult
from ksql.runtime import processing_log
from ksql.runtime.formats import schema_registry
from ksql.runtime.materialized import MaterializedTable
from ksql.runtime.query import PersistentQuery
from ksql.engine.backends import open_log, open_registry
from ksql.engine.commands import CommandTopic
from ksql.engine.connectors import ConnectorStatements
from ksql.engine.ddl import DdlStatements
from ksql.engine.describe import Introspection
from ksql.engine.inserts import Inserts
from ksql.engine.limits import MAX_NESTING, check_size, tune_garbage_collector
from ksql.engine.pull import KeyLookup, PullQueries
from ksql.engine.queries import PersistentQueries
from ksql.engine.select import SelectStatements
from ksql.engine.session import DEFAULT_PROPERTIES, Session, SessionStatements, StatementFailed
from ksql.planner import functions
from ksql.udf import load_extensions


LOG = logging.getLogger("ksql.engine")


class KsqlEngine(CommandTopic, DdlStatements, PersistentQueries, Inserts, SelectStatements, PullQueries,
                 Introspection, SessionStatements, ConnectorStatements):
    """Runs statements: each kind by its handler (HANDLERS), found in the module of its family."""

    def __init__(self, data_dir: str = "ksql-data", properties: dict | None = None,
                 background: bool = True):
        """background=False runs no query threads: the caller drives them with drain(),
        which makes tests deterministic."""
        self.properties = {**DEFAULT_PROPERTIES, **(properties or {})}
        self.background = background
        self.service_id = str(self.properties["ksql.service.id"])
        self.command_topic = f"_confluent-ksql-{self.service_id}_command_topic"
        self.processing_log_topic = processing_log.topic_for(self.service_id)
        self.data_dir = data_dir
        self.log = open_log(data_dir, self.properties)
        self.schema_registry = open_registry(self.log, self.properties)
        schema_registry.install(self.schema_registry)
        self.metastore = MetaStore()
        self.queries: dict[str, PersistentQuery] = {}
        self.materialized: dict[str, MaterializedTable] = {}  # CTAS tables, for pull queries
        self.key_lookups: dict[str, KeyLookup] = {}  # statement shape -> the key lookup it is (pull.py)
        self.command_statuses: dict[str, str] = {}  # command id -> last status message (REST /status)
        self.command_sequence = -1  # the offset of the last command run, here or replayed
        self._recorded: int | None = None
        self.session = Session()
        self._lock = threading.RLock()
        self._replaying = False
        self._replay_query_id: str | None = None  # replaying: the query id its command recorded

        if str(self.properties.get("ksql.udf.collect.metrics", "false")).lower() == "true":
            functions.CALL_METRICS = functions.CALL_METRICS or {}  # (kept: counts from earlier engines stay)
        if str(self.properties.get("ksql.udfs.enabled", "true")).lower() != "false":
            load_extensions(self.properties.get("ksql.extension.dir"), self.properties)
        tune_garbage_collector()
        self._closing = threading.Event()
        self._ensure_internal_topics()
        self._replay()
        self._start_connectors()
        self._follower = None
        if background and self.log.shared:
            self._follower = threading.Thread(target=self._follow_commands, name="command-runner", daemon=True)
            self._follower.start()

    def execute(self, sql: str, session: Session | None = None, at: tuple[int, int] = (1, 1)) -> list:
        """Run every statement of `sql`; stops at the first error (raised as StatementFailed,
        positioned in the caller's script, where `sql` starts at line and column `at`)."""
        session = session or self.session
        results = []
        for piece in split_statements(sql):
            text = substitute_variables(piece.text, session.variables)
            line, column = in_script((piece.line, piece.column), at)
            try:
                results.append(self._execute_one(text, session))
            except KsqlSyntaxError as error:
                positioned = error.within((line, column))
                raise StatementFailed(positioned, piece.text, positioned.line, positioned.column) from None
            except KsqlError as error:
                raise _located(error, piece.text, line, column) from None
            except RecursionError:
                failure = KsqlStatementError(f"The statement nests too deeply: its expressions may nest at most "
                                             f"about {MAX_NESTING:,} levels.")
                raise StatementFailed(failure, piece.text, line, column) from None
            except Exception as error:  # noqa: BLE001 - a bug must not take the caller down with a traceback
                LOG.exception("statement failed unexpectedly: %s", piece.text)
                failure = KsqlError(f"Internal error ({type(error).__name__}): {error}")
                raise StatementFailed(failure, piece.text, line, column) from None
        return results

    def _execute_one(self, text: str, session: Session, replay_offset: int | None = None):
        check_size(text)
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

    def command_runner_alive(self) -> bool:
        """Whether statements from the command topic still run here: on a shared log, the thread
        that follows other servers' commands is alive (alone, each runs as it is made)."""
        return self._follower is None or self._follower.is_alive()

    def drain(self, max_rounds: int = 100_000) -> None:
        """Without background threads: step every query until none has input left."""
        for _ in range(max_rounds):
            progressed = False
            for query in list(self.queries.values()):
                progressed |= query.step()
            if not progressed:
                return
        raise KsqlError("queries did not become idle")

    def close(self) -> None:
        if self._closing.is_set():
            return  # closed already
        self._closing.set()
        if self._follower is not None:
            self._follower.join(timeout=10)
        self._close_connectors()
        for query in list(self.queries.values()):
            query.stop()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


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
    ast.DropConnector: KsqlEngine._exec_DropConnector,
    ast.DescribeConnector: KsqlEngine._exec_DescribeConnector,
    ast.AssertTopic: KsqlEngine._exec_AssertTopic,
    ast.AssertSchema: KsqlEngine._exec_AssertSchema,
    ast.RunScript: KsqlEngine._exec_RunScript,
    ast.SetProperty: KsqlEngine._exec_SetProperty,
    ast.UnsetProperty: KsqlEngine._exec_UnsetProperty,
    ast.DefineVariable: KsqlEngine._exec_DefineVariable,
    ast.UndefineVariable: KsqlEngine._exec_UndefineVariable,
}


def _located(error: KsqlError, statement: str, line: int, column: int) -> StatementFailed:
    """A statement's error, at the statement (line, column in the script), or, when it points
    at something inside it (a column reference), there, as ksqlDB says it: "Line: L, Col: C: ...";
    after "Exception while preparing statement: " when ksqlDB finds it before planning."""
    placed = type(error) in (KsqlStatementError, KsqlPreparationError)
    position = getattr(error, "position", None) if placed else None
    preparing = "Exception while preparing statement: " if isinstance(error, KsqlPreparationError) else ""
    if position is None and not preparing:
        return StatementFailed(error, statement, line, column)
    where = ""
    if position is not None:
        line, column = in_script(position, (line, column))
        where = f"Line: {line}, Col: {column}: "
    return StatementFailed(type(error)(f"{preparing}{where}{error}"), statement, line, column)
