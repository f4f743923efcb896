"""Where connectors run: a Kafka Connect cluster at `ksql.connect.url` (its REST API), or, on
the embedded log, the engine's own built-in connectors. Both answer in Kafka Connect's terms
(ConnectorInfo, ConnectorStateInfo), which the connector statements pass on as ksqlDB does."""
from __future__ import annotations

from pathlib import Path

import httpx

from ksql.runtime.connect import ConfigError, built_in, make_task

VERSION = "1.0"  # of the built-in connectors (SHOW CONNECTOR PLUGINS)


class ConnectError(Exception):
    """Kafka Connect refused a request: its HTTP status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class EmbeddedConnect:
    """The built-in connectors, each a task on a thread of this process."""

    embedded = True

    def __init__(self, log, file_dir: str, worker: dict | None = None):
        self.log = log
        self.file_dir = file_dir
        self.worker = worker or {}  # the worker's settings (its default converters)
        self.tasks: dict = {}  # name -> ConnectorTask

    def names(self) -> list[str]:
        return list(self.tasks)

    def validate(self, config: dict) -> list[str]:
        """What is wrong with these settings ("setting - reason" each), without creating anything."""
        try:
            make_task(config.get("name", ""), config, self.log, self.file_dir, self.worker)
        except ConfigError as error:
            return error.problems
        return []

    def create(self, name: str, config: dict, start: bool = True) -> dict:
        task = make_task(name, config, self.log, self.file_dir, self.worker)
        Path(self.file_dir).mkdir(parents=True, exist_ok=True)
        task.prepare()
        self.tasks[name] = task
        if start:
            task.start()
        return self.info(name)

    def start_all(self) -> None:
        for task in self.tasks.values():
            if task.state == "UNASSIGNED":
                task.start()

    def _task(self, name: str):
        task = self.tasks.get(name)
        if task is None:
            raise ConnectError(404, f"Connector {name} not found")
        return task

    def info(self, name: str) -> dict:
        task = self._task(name)
        return {"name": name, "config": dict(task.config), "tasks": [{"connector": name, "task": 0}],
                "type": task.kind}

    def status(self, name: str) -> dict:
        return self._task(name).status()

    def topics(self, name: str) -> list[str]:
        return self._task(name).topics()

    def delete(self, name: str) -> None:
        self._task(name).stop()
        del self.tasks[name]

    def plugins(self) -> list[dict]:
        return [{"className": name, "type": kind, "version": VERSION} for name, kind in built_in().items()]

    def close(self) -> None:
        for task in self.tasks.values():
            task.stop()


def worker_settings(properties: dict) -> dict:
    """The worker's settings, as ksqlDB gives its embedded worker: the properties file named by
    `ksql.connect.worker.config`, then the server's properties prefixed `connect.` (what
    KSQL_CONNECT_VALUE_CONVERTER and the like set in ksqlDB's container images)."""
    settings = {}
    path = properties.get("ksql.connect.worker.config")
    if path:
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "!")) and ("=" in line or ":" in line):
                key, _, value = line.partition("=") if "=" in line else line.partition(":")
                settings[key.strip()] = value.strip()
    settings.update({k[len("connect."):]: str(v) for k, v in properties.items() if k.startswith("connect.")})
    return settings


def start_worker(properties: dict):
    """On Kafka, with `ksql.connect.worker.config` set: a Kafka Connect worker of this server's
    own (Apache Kafka's connect-runtime, fetched with Maven once), named after the service id
    unless its settings name it, so a restarted server finds its connectors again."""
    from ksql.connect_worker import ConnectUnavailable, ConnectWorker

    service = str(properties.get("ksql.service.id", "default_"))
    settings = {"group.id": f"{service}connect", "config.storage.topic": f"_{service}connect-configs",
                "offset.storage.topic": f"_{service}connect-offsets",
                "status.storage.topic": f"_{service}connect-statuses", **worker_settings(properties)}
    try:
        return ConnectWorker(str(properties["bootstrap.servers"]), settings=settings).start()
    except ConnectUnavailable as error:
        raise ConnectError(503, f"The Kafka Connect worker did not start: {error}") from None


class RemoteConnect:
    """A Kafka Connect cluster, through its REST API (as ksqlDB's `ksql.connect.url`)."""

    embedded = False

    def __init__(self, url: str, timeout: float = 30, worker=None):
        self.client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self.worker = worker  # the worker this server runs itself (ksqlDB's embedded Connect), if any

    def _call(self, method: str, path: str, body=None):
        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise ConnectError(503, f"Could not reach Kafka Connect at {self.client.base_url}: {error}") from None
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise ConnectError(response.status_code, message)
        return response.json() if response.content else None

    def names(self) -> list[str]:
        return self._call("GET", "/connectors")

    def validate(self, config: dict) -> list[str]:
        connector_class = config.get("connector.class", "")
        try:
            result = self._call("PUT", f"/connector-plugins/{connector_class}/config/validate", config)
        except ConnectError as error:
            return [str(error)]
        values = [c.get("value") or {} for c in result.get("configs", [])]
        return [f"{v['name']} - {'. '.join(v['errors'])}" for v in values if v.get("errors")]

    def create(self, name: str, config: dict, start: bool = True) -> dict:
        return self._call("POST", "/connectors", {"name": name, "config": config})

    def info(self, name: str) -> dict:
        return self._call("GET", f"/connectors/{name}")

    def status(self, name: str) -> dict:
        return self._call("GET", f"/connectors/{name}/status")

    def topics(self, name: str) -> list[str]:
        return self._call("GET", f"/connectors/{name}/topics").get(name, {}).get("topics", [])

    def delete(self, name: str) -> None:
        self._call("DELETE", f"/connectors/{name}")

    def plugins(self) -> list[dict]:
        return [{"className": p["class"], "type": p.get("type"), "version": p.get("version")}
                for p in self._call("GET", "/connector-plugins")]

    def start_all(self) -> None:
        """(Connect runs its connectors itself.)"""

    def close(self) -> None:
        self.client.close()
        if self.worker is not None:
            self.worker.stop()
