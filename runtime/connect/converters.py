"""Kafka Connect's converters: how a connector's keys and values become record bytes and back.

The embedded worker's defaults are the ones ksqlDB's quickstarts set: keys as strings, values
as JSON without the schema envelope. A connector's own `key.converter` /
`value.converter` (and `...converter.schemas.enable`) settings override them."""
from __future__ import annotations

import orjson

STRING = "org.apache.kafka.connect.storage.StringConverter"
JSON = "org.apache.kafka.connect.json.JsonConverter"
BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter"
WORKER_DEFAULTS = {"key.converter": STRING, "value.converter": JSON, "value.converter.schemas.enable": "false",
                   "key.converter.schemas.enable": "false"}


class Converter:
    """One of the converters above; `schema` is a Connect schema (JSON form) for the envelope."""

    def __init__(self, kind: str, schemas_enable: bool):
        self.kind = kind
        self.schemas_enable = schemas_enable

    def to_bytes(self, value, schema: dict | None = None) -> bytes | None:
        if value is None:
            return None
        if self.kind == STRING:
            return (value if isinstance(value, str) else orjson.dumps(value).decode()
                    if isinstance(value, (dict, list)) else str(value)).encode()
        if self.kind == BYTES:
            return value if isinstance(value, bytes) else str(value).encode()
        if self.schemas_enable:
            return orjson.dumps({"schema": schema, "payload": value})
        return orjson.dumps(value)

    def to_text(self, raw: bytes | None) -> str:
        """A record's key or value as a sink writes it: text, JSON values re-serialized compactly."""
        if raw is None:
            return "null"
        if self.kind != JSON:
            return raw.decode("utf-8", "replace")
        value = orjson.loads(raw)
        if self.schemas_enable and isinstance(value, dict) and "payload" in value:
            value = value["payload"]
        return value if isinstance(value, str) else orjson.dumps(value).decode()


def converter(config: dict, role: str, problems: list[str]) -> Converter:
    """The key or value (`role`) converter a connector's settings ask for."""
    setting = f"{role}.converter"
    kind = config.get(setting) or WORKER_DEFAULTS[setting]
    if kind not in (STRING, JSON, BYTES):
        problems.append(f"{setting} - {kind} is not one of the converters the embedded worker runs: "
                        f"{STRING}, {JSON}, {BYTES}")
        kind = WORKER_DEFAULTS[setting]
    enable = config.get(f"{setting}.schemas.enable") or WORKER_DEFAULTS[f"{setting}.schemas.enable"]
    return Converter(kind, enable.lower() == "true")
