"""Where the engine keeps its topics and schemas: the embedded log or a Kafka cluster, the
embedded schema registry or a remote one."""
from __future__ import annotations



from ksql.runtime.formats import schema_registry
from ksql.runtime.log.embedded import EmbeddedLog


def open_registry(log, properties: dict):
    """The schema registry at ksql.schema.registry.url, else the one embedded in the log."""
    url = properties.get("ksql.schema.registry.url")
    if url:
        return schema_registry.RemoteRegistry(url, properties.get("ksql.schema.registry.basic.auth.user.info"))
    return schema_registry.EmbeddedRegistry(log)


def open_log(data_dir: str, properties: dict):
    """The Kafka cluster named by `bootstrap.servers`, else the embedded log in data_dir."""
    from ksql.runtime.log.kafka import KafkaLog, client_config, exactly_once

    config = client_config(properties)
    if config is None:
        return EmbeddedLog(data_dir)
    return KafkaLog(config, data_dir, str(properties["ksql.service.id"]), exactly_once(properties),
                    str(properties.get("ksql.advertised.listener", "")))
