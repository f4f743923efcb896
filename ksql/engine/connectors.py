"""CREATE SOURCE|SINK CONNECTOR, DROP CONNECTOR, DESCRIBE CONNECTOR, SHOW [SOURCE|SINK]
CONNECTORS and SHOW CONNECTOR PLUGINS, answered with ksqlDB's entities and error texts.

With `ksql.connect.url` the statements go to that Kafka Connect cluster, which keeps the
connectors; on Kafka with `ksql.connect.worker.config`, to a worker this server runs itself.
Otherwise the engine runs its built-in connectors on the embedded log; their statements go to
the command topic like any other, so they come back after a restart and go on from the
position they committed."""
from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

from ksql.errors import KsqlStatementError
from ksql.parser import ast
from ksql.results import EntityResult
from ksql.engine.connect_backends import ConnectError, EmbeddedConnect, RemoteConnect, start_worker, worker_settings
from ksql.engine.session import Session


LOG = logging.getLogger("ksql.engine")


class ConnectorExists(KsqlStatementError):
    error_code = 40900  # ksqlDB answers 409 Conflict


class ConnectRefused(KsqlStatementError):
    """Kafka Connect refused the request: its HTTP status becomes the error code, as in ksqlDB."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.error_code = status * 100


class ConnectorStatements:
    """The connector statements, as part of KsqlEngine (a mixin: its methods run on the engine)."""

    _connect_backend = None

    @property
    def connect(self):
        """Where this engine's connectors run (made on first use)."""
        if self._connect_backend is None:
            url = self.properties.get("ksql.connect.url")
            if url:
                self._connect_backend = RemoteConnect(str(url))
            elif self.log.shared and self.properties.get("ksql.connect.worker.config"):
                try:
                    worker = start_worker(self.properties)
                except ConnectError as error:
                    raise KsqlStatementError(str(error)) from None
                self._connect_backend = RemoteConnect(worker.url, worker=worker)
            else:
                folder = self.properties.get("ksql.connect.file.dir") or Path(self.data_dir) / "connect-files"
                self._connect_backend = EmbeddedConnect(self.log, str(folder), worker_settings(self.properties))
        return self._connect_backend

    def _connectors(self):
        """The backend the statements go to (the built-in connectors run on the embedded log only)."""
        backend = self.connect
        if backend.embedded and self.log.shared:
            raise KsqlStatementError("On Kafka, connectors run on Kafka Connect: set ksql.connect.url to the URL "
                                     "of a Connect worker, or ksql.connect.worker.config to run one in this server.")
        return backend

    def _start_connectors(self) -> None:
        """After the command topic's replay: start the built-in connectors it created; on Kafka,
        the Connect worker this server runs, if it runs one (it goes on with its connectors)."""
        if not self.background:
            return
        if self.log.shared and self.properties.get("ksql.connect.worker.config") \
                and not self.properties.get("ksql.connect.url"):
            try:
                self.connect
            except KsqlStatementError as error:  # the server runs on; connector statements say why
                LOG.error("%s", error)
        if self._connect_backend is not None:
            self._connect_backend.start_all()

    def _close_connectors(self) -> None:
        if self._connect_backend is not None:
            self._connect_backend.close()

    def _exec_CreateConnector(self, stmt: ast.CreateConnector, text: str, session: Session):
        backend = self._connectors()
        name = stmt.name
        config = {key: _setting_text(value) for key, value in stmt.properties.items()}
        config["name"] = name
        if any(existing.lower() == name.lower() for existing in self._connector_names(backend)):
            if stmt.if_not_exists:
                return EntityResult(text, "warning_entity", {"message": f"Connector {name} already exists"})
            raise ConnectorExists(f"Connector {name} already exists")
        problems = backend.validate(config)
        if problems:
            raise KsqlStatementError("Validation error: " + "\n".join(problems))
        try:
            info = backend.create(name, config, start=self.background and not self._replaying)
        except ConnectError as error:
            raise ConnectRefused(f"Failed to create connector: {error}", error.status) from None
        if backend.embedded:
            self._record_command(text, session)
        return EntityResult(text, "connector_info", {"info": info})

    def _exec_DropConnector(self, stmt: ast.DropConnector, text: str, session: Session):
        backend = self._connectors()
        try:
            backend.delete(stmt.name)
        except ConnectError as error:
            if error.status == 404 and stmt.if_exists:
                return EntityResult(text, "warning_entity", {"message": f"Connector '{stmt.name}' does not exist."})
            return EntityResult(text, "error_entity", {"errorMessage": str(error)})
        if backend.embedded:
            self._record_command(text, session)
        return EntityResult(text, "drop_connector", {"connectorName": stmt.name})

    def _exec_DescribeConnector(self, stmt: ast.DescribeConnector, text: str, session: Session):
        backend = self._connectors()
        try:
            status = backend.status(stmt.name)
            info = backend.info(stmt.name)
            topics = backend.topics(stmt.name)
        except ConnectError as error:
            return EntityResult(text, "error_entity", {"errorMessage": str(error)})
        sources = [self._describe(source, False, text).item for source in self.metastore.sources()
                   if source.topic in topics and not source.is_internal]
        return EntityResult(text, "connector_description", {
            "connectorClass": info["config"].get("connector.class"), "status": status, "sources": sources,
            "topics": topics})

    def _show_connectors(self, what: str, text: str):
        backend = self._connectors()
        if what == "CONNECTOR PLUGINS":
            try:
                plugins = backend.plugins()
            except ConnectError as error:
                raise KsqlStatementError(f"Failed to list connector plugins: {error}") from None
            return EntityResult(text, "connector_plugins_list", {"connectorsPlugins": plugins})
        scope = what.split()[0].lower() if " " in what else None
        connectors, warnings = [], []
        for name in self._connector_names(backend):
            try:
                info = backend.info(name)
                status = backend.status(name)
            except ConnectError as error:
                warnings.append({"message": f"Could not describe connector {name}: {error}"})
                continue
            if scope is None or info["type"] == scope:
                connectors.append({"name": name, "type": info["type"], "className": info["config"].get("connector.class"),
                                   "state": summarize_state(status)})
        return EntityResult(text, "connector_list", {"connectors": connectors, "warnings": warnings})

    @staticmethod
    def _connector_names(backend) -> list[str]:
        try:
            return backend.names()
        except ConnectError as error:
            raise KsqlStatementError(f"Failed to check for existing connector: {error}") from None


def summarize_state(status: dict) -> str:
    """ksqlDB's one-line state of a connector: its own state, or RUNNING / WARNING with how many
    of its tasks run."""
    state = status["connector"]["state"]
    if state != "RUNNING":
        return state
    tasks = status.get("tasks", [])
    running = sum(1 for t in tasks if t["state"] == "RUNNING")
    shown = "WARNING" if tasks and running == 0 else "RUNNING"
    return f"{shown} ({running}/{len(tasks)} tasks RUNNING)"


def _setting_text(value) -> str:
    """A WITH value as Kafka Connect receives it: every setting a string (booleans as Java writes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
