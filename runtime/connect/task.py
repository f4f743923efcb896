"""A connector's task: one thread that polls its source (or the topics it sinks) and writes
what it got, with the position it reached, in one commit of the log. A restart reads the
position back, so it neither loses nor repeats records.

Settings are read as Kafka Connect reads them (every value a string, each connector's own
list of settings with their defaults), and refused with Connect's texts, each naming its
setting."""
from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

from ksql.runtime.connect.converters import converter
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.murmur2 import partitions_for

LOG = logging.getLogger("ksql.connect")

REQUIRED = object()  # a setting without a default value


class ConfigError(Exception):
    """Settings a connector refuses: one "setting - reason" line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class ConnectorStopped(Exception):
    """A connector that has finished its work (its task then shows FAILED with the reason, as
    Kafka Connect shows a task that threw)."""


class ConnectorTask:
    """What every built-in connector shares: its settings, its thread, its state.

    Subclasses set `kind` ("source" or "sink"), `connector_class`, `settings` ({name: default,
    or REQUIRED}) and implement `step()` (one poll: True when it moved records) and `topics()`."""

    kind = "source"
    connector_class = ""
    settings: dict = {}
    long_settings: tuple = ()  # numeric settings Connect declares as LONG (the others: INT)

    def __init__(self, name: str, config: dict, log, file_dir: str, worker: dict | None = None):
        self.name = name
        self.config = config
        self.worker = worker or {}  # the worker's settings: converters a connector does not set
        self.log = log
        self.file_dir = file_dir
        self.group = f"connect-{name}"  # its committed position (as Kafka Connect names a sink's group)
        self.state = "UNASSIGNED"
        self.trace: str | None = None
        self.worker_id = f"{socket.gethostname()}:embedded"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        problems: list[str] = []
        self.values = {key: self._setting(key, default, problems) for key, default in self.settings.items()}
        self.configure(problems)
        if problems:
            raise ConfigError(problems)

    # -- settings

    def _setting(self, key: str, default, problems: list[str]):
        value = self.config.get(key)
        if value is None or value == "":
            if default is REQUIRED:
                problems.append(f'{key} - Missing required configuration "{key}" which has no default value.')
            return None if default is REQUIRED else default
        if isinstance(default, bool):
            if value.lower() not in ("true", "false"):
                problems.append(f"{key} - Invalid value {value} for configuration {key}: Expected value to be "
                                f"either true or false")
                return default
            return value.lower() == "true"
        if isinstance(default, int):
            try:
                return int(value)
            except ValueError:
                problems.append(f"{key} - Invalid value {value} for configuration {key}: Not a number of type "
                                f"{'LONG' if key in self.long_settings else 'INT'}")
                return default
        return value

    def configure(self, problems: list[str]) -> None:
        """Check settings that depend on each other; append what is wrong to `problems`."""

    def converter(self, role: str, problems: list[str]):
        """The key or value converter: the connector's own setting, else the worker's."""
        return converter({**self.worker, **self.config}, role, problems)

    def path_of(self, key: str, problems: list[str]) -> Path | None:
        """A file setting, resolved inside the folder connectors may use (ksql.connect.file.dir):
        a connector never reads or writes outside it."""
        value = self.values.get(key)
        if value is None:
            return None
        root = Path(self.file_dir).resolve()
        path = (root / value).resolve()
        if path != root and root not in path.parents:
            problems.append(f"{key} - {value} is outside the folder connectors may use ({root}); put the file "
                            f"there, or point ksql.connect.file.dir at its folder")
            return None
        return path

    # -- running

    def topics(self) -> list[str]:
        raise NotImplementedError

    def step(self) -> bool:
        raise NotImplementedError

    def prepare(self) -> None:
        """When the connector is created (not when its settings are only checked)."""

    def open(self) -> None:
        """Before the first poll (after the settings were checked)."""

    def pause_after(self, progressed: bool) -> float:
        """Seconds to wait before the next poll."""
        return 0.0 if progressed else 0.25

    def start(self) -> None:
        """Run the task on a thread of its own until stop()."""
        self.state = "RUNNING"
        self._thread = threading.Thread(target=self._run, name=f"connector-{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.open()
        except Exception as error:  # noqa: BLE001 - the task fails, the server goes on
            self._fail(f"{type(error).__name__}: {error}")
            return
        while not self._stop.is_set():
            try:
                progressed = self.step()
            except ConnectorStopped as stopped:
                self._fail(str(stopped))
                return
            except Exception as error:  # noqa: BLE001 - the task fails, the server goes on
                LOG.exception("connector %s failed", self.name)
                self._fail(f"{type(error).__name__}: {error}")
                return
            self._stop.wait(self.pause_after(progressed))

    def _fail(self, reason: str) -> None:
        self.state = "FAILED"
        self.trace = reason

    def drain(self, max_rounds: int = 10_000) -> None:
        """Without a thread (tests): poll until nothing more comes, or the task stops."""
        self.state = "RUNNING"
        self.open()
        for _ in range(max_rounds):
            try:
                if not self.step():
                    return
            except ConnectorStopped as stopped:
                self._fail(str(stopped))
                return

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> dict:
        """Kafka Connect's connector status: the connector's state and its one task's."""
        task = {"id": 0, "state": self.state, "worker_id": self.worker_id}
        if self.trace:
            task["trace"] = self.trace
        connector = "RUNNING" if self.state in ("RUNNING", "FAILED") else self.state
        return {"name": self.name, "connector": {"state": connector, "worker_id": self.worker_id},
                "tasks": [task], "type": self.kind}


POSITION = "__position"  # where a source task's position is kept among its group's offsets


class SourceTask(ConnectorTask):
    """A connector that writes records to a topic: each batch and the position it reached in
    one transaction."""

    def __init__(self, name: str, config: dict, log, file_dir: str, worker: dict | None = None):
        super().__init__(name, config, log, file_dir, worker)
        self.position = log.committed(self.group).get((POSITION, 0), 0)
        self._next_partition = 0  # records without a key go round the partitions

    def write(self, records: dict[str, tuple[list, list]], position: int) -> None:
        """Append {topic: (keys, values)} and commit them with the position they reach."""
        now = int(time.time() * 1000)
        txn = self.log.begin(self.group)
        try:
            for topic, (keys, values) in records.items():
                for partition, chosen in self._partitions(topic, keys).items():
                    txn.append(topic, partition, make_records([keys[i] for i in chosen], [values[i] for i in chosen],
                                                              [now] * len(chosen)))
            txn.commit({(POSITION, 0): position})
        except BaseException:
            txn.abort()
            raise
        self.position = position

    def prepare(self) -> None:
        """When the connector is created: the topics it writes exist from then on (a stream can be
        declared over them at once), as a broker that creates topics on first use makes them,
        with one partition."""
        for topic in self.topics():
            self._topic(topic)

    def _topic(self, topic: str):
        info = self.log.topic(topic)
        if info is None:
            self.log.create_topic(topic, 1)
            info = self.log.topic(topic)
        return info

    def _partitions(self, topic: str, keys: list) -> dict[int, list[int]]:
        """The records of each partition: by key as Kafka's producers choose, else round-robin."""
        info = self._topic(topic)
        partitions = partitions_for(keys, info.partitions, self._next_partition)
        self._next_partition += len(keys)
        chosen: dict[int, list[int]] = {}
        for i, partition in enumerate(partitions.tolist()):
            chosen.setdefault(partition, []).append(i)
        return chosen
