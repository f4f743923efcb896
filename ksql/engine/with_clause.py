"""What the engine checks of a CREATE statement beyond its WITH clause (planner/with_clause.py):
that Kafka would accept the topic name, that the name is free, that the key can be written."""
from __future__ import annotations


from ksql.errors import KsqlError, KsqlStatementError
from ksql.planner.metastore import DataSource
from ksql.planner.schema import check_no_map_key
from ksql.results import StatusResult
from ksql.runtime.log.names import InvalidTopicName, check_topic_name
from ksql.runtime.formats.make import make_format


def checked_topic_name(name) -> str:
    """The topic a statement names, if Kafka would accept the name."""
    try:
        return check_topic_name(str(name))
    except InvalidTopicName as error:
        raise KsqlStatementError(str(error)) from None


def name_taken(stmt, existing: DataSource | None, text: str) -> StatusResult | None:
    """CREATE of a name in use: a message with IF NOT EXISTS, an error without OR REPLACE."""
    if existing is None or stmt.or_replace:
        return None
    kind = stmt.kind.lower()
    if stmt.if_not_exists:
        return StatusResult(text, f"Cannot add {kind} {stmt.name}: A {kind} with the same name already exists.")
    raise KsqlStatementError(
        f"Cannot add {kind} '{stmt.name}': A {existing.kind.lower()} with the same name already exists")


def check_no_map_keys(columns) -> None:
    """Maps have no stable serialized form, so a key holding one would not find its partition."""
    for column in columns:
        check_no_map_key(column.name, column.type)


def check_key_format(key_format: str, sink: DataSource) -> None:
    try:
        make_format(key_format, sink.schema.key, key=True, options=sink.key_options())
    except KsqlStatementError as error:
        columns = ", ".join(f"`{c.name}` {c.type} KEY" for c in sink.schema.key)
        raise KsqlStatementError(f"Key format does not support schema.\nformat: {key_format}\nschema: "
                                 f"Persistence{{columns=[{columns}], features=[]}}\nreason: {error}") from None


REGISTRY_FORMATS = ("AVRO", "JSON_SR", "PROTOBUF")  # the formats whose schemas live in the registry


def register_schemas(source: DataSource, always: bool) -> None:
    """Register a source's key and value schemas when its statement runs, as ksqlDB does: a
    CREATE STREAM/TABLE registers them unless the subject has a schema already (always=False),
    a CREATE ... AS SELECT always does (a new version when its schema changed). Formats given a
    schema id register nothing."""
    from ksql.runtime.formats import schema_registry

    for format_name, columns, key, options in (
            (source.key_format, source.schema.key, True, source.key_options()),
            (source.value_format, source.schema.value, False, source.value_options())):
        if format_name not in REGISTRY_FORMATS or not columns or options.get("schema_id") is not None:
            continue
        serde = make_format(format_name, columns, key=key, options=options)
        if serde.subject is None or (not always and schema_registry.current().latest(serde.subject) is not None):
            continue
        try:
            serde.register()
        except KsqlError as error:
            raise KsqlStatementError(f"Could not register schema for topic: {error}") from None


# Which wrapping of a single value column each format can write (the others ignore the setting).
_WRAPPINGS = {"JSON": (True, False), "JSON_SR": (True, False), "AVRO": (True, False), "PROTOBUF": (True,),
              "PROTOBUF_NOSR": (True,), "KAFKA": (False,), "DELIMITED": (False,)}


def with_default_wrapping(props: dict, value_format: str, value_columns, properties: dict) -> dict:
    """The WITH clause with WRAP_SINGLE_VALUE taken from ksql.persistence.wrap.single.values when
    it gives none, the value is one column and its format can do what the setting says."""
    setting = properties.get("ksql.persistence.wrap.single.values")
    if "WRAP_SINGLE_VALUE" in props or len(value_columns) != 1 or setting in (None, ""):
        return props
    wrap = str(setting).strip().lower() == "true"
    if wrap not in _WRAPPINGS.get(value_format, ()):
        return props
    return {**props, "WRAP_SINGLE_VALUE": wrap}
