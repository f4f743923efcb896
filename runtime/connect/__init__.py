"""Built-in connectors: Kafka Connect's vocabulary (connector classes, their settings and
converters) run inside the engine on the embedded log, each as a task of its own with its
position committed in the same transaction as the records it writes."""
from ksql.runtime.connect.registry import built_in, make_task
from ksql.runtime.connect.task import ConfigError, ConnectorTask

__all__ = ["ConfigError", "ConnectorTask", "built_in", "make_task"]
