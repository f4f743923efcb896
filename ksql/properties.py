"""Properties files (`key=value` lines, as ksqlDB's server reads them) and which properties
the engine takes: its own `ksql.*` ones and the Kafka client settings."""
from __future__ import annotations

# Kafka client settings the engine accepts as they are; the same and the TLS ones (ssl.*,
# which at the top level configure the REST listener) are also accepted as
# `ksql.streams.<name>`, ksqlDB's spelling for its Kafka clients.
_KAFKA_PLAIN = ("bootstrap.servers", "security.protocol", "sasl.", "processing.guarantee")


def read_properties(path: str) -> dict:
    properties = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "!")) and "=" in line:
                key, _, value = line.partition("=")
                properties[key.strip()] = value.strip()
    return properties


def engine_properties(properties: dict) -> dict:
    """The properties of a file that configure the engine (the rest is the server's)."""
    return {k: v for k, v in properties.items() if k.startswith("ksql.") or k.startswith(_KAFKA_PLAIN)}
