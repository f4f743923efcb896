"""The built-in connector classes, by the names Kafka Connect finds a plugin by."""
from __future__ import annotations

from ksql.runtime.connect.datagen import DatagenTask
from ksql.runtime.connect.files import FileSinkTask, FileSourceTask
from ksql.runtime.connect.postgres import PostgresCdcTask
from ksql.runtime.connect.task import ConfigError, ConnectorTask


TASKS = (DatagenTask, FileSourceTask, FileSinkTask, PostgresCdcTask)


def _classes() -> dict[str, type]:
    names = {}
    for task in TASKS:
        full = task.connector_class
        short = full.rsplit(".", 1)[-1]
        # Kafka Connect finds a plugin by its class name, its simple name, or that without "Connector"
        for alias in (full, short, short.removesuffix("Connector")):
            names[alias.lower()] = task
    return names


def built_in() -> dict[str, str]:
    """The connector classes the engine runs itself, each with its kind (source or sink)."""
    return {task.connector_class: task.kind for task in sorted(TASKS, key=lambda t: t.connector_class)}


def make_task(name: str, config: dict, log, file_dir: str, worker: dict | None = None) -> ConnectorTask:
    """The task for a connector's settings (and the worker's: its converters); ConfigError names
    each setting that is wrong."""
    connector_class = config.get("connector.class")
    if connector_class is None:
        shown = ", ".join(f"{k}={v}" for k, v in config.items())
        raise ConfigError([f"Connector config {{{shown}}} contains no connector type"])
    if not connector_class.strip():
        raise ConfigError(["Connector type cannot be empty"])
    task = _classes().get(connector_class.strip().lower())
    if task is None:
        raise ConfigError([f"Failed to find any class that implements Connector and which name matches "
                           f"{connector_class}, available connectors are: {', '.join(built_in())}"])
    return task(name, config, log, file_dir, worker)
