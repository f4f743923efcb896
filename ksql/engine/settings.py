"""The server settings the engine reads, with the defaults reference/server-configuration.md
gives them (where the engine's own default differs, the engine's), for SHOW PROPERTIES.
Settings a user gives that are not listed here are shown too, as given."""
from __future__ import annotations

DEFAULTS = {
    "ksql.service.id": "default_",
    "ksql.extension.dir": "ext",
    "ksql.persistence.default.format.key": "KAFKA",
    "ksql.persistence.default.format.value": "",
    "ksql.persistence.wrap.single.values": "",
    "ksql.output.topic.name.prefix": "",
    "ksql.internal.topic.replicas": "1",
    "ksql.query.pull.limit.clause.enabled": "true",
    "ksql.query.pull.table.scan.enabled": "true",
    "ksql.query.pull.range.scan.enabled": "true",
    "ksql.query.retry.backoff.initial.ms": "15000",
    "ksql.query.retry.backoff.max.ms": "900000",
    "ksql.max.push.queries": "100",
    "ksql.assert.topic.default.timeout.ms": "1000",
    "ksql.assert.schema.default.timeout.ms": "1000",
    "ksql.schema.registry.url": "",
    "ksql.connect.url": "http://localhost:8083",
    "ksql.access.validator.enable": "auto",
    "ksql.streams.auto.offset.reset": "latest",
}

# a session's auto.offset.reset is the streams setting ksqlDB shows under its full name
_ALIASES = {"auto.offset.reset": "ksql.streams.auto.offset.reset"}


def effective_properties(server: dict, session: dict) -> tuple[list[dict], list[str], list[str]]:
    """ksqlDB's SHOW PROPERTIES entity parts: every setting in effect as {name, scope, value},
    the names a session overrides, and the names still at their default."""
    given_server = {_ALIASES.get(k, k): str(v) for k, v in server.items()}
    given_session = {_ALIASES.get(k, k): str(v) for k, v in session.items()}
    values = {**DEFAULTS, **given_server, **given_session}
    items = [{"name": name, "scope": _scope(name), "value": value} for name, value in sorted(values.items())]
    overwritten = sorted(given_session)
    defaults = sorted(n for n in DEFAULTS if n not in given_server and n not in given_session)
    return items, overwritten, defaults


def _scope(name: str) -> str:
    if name.startswith("ksql.streams."):
        return "STREAMS"
    if name.startswith("ksql."):
        return "KSQL"
    return "CLIENT"
