"""Reading a CREATE statement's WITH clause: which properties it may hold, their types, and
the key and value formats and schema ids they name."""
from __future__ import annotations



from ksql.errors import KsqlStatementError
from ksql.planner.metastore import DataSource
from ksql.planner.schema import LogicalSchema
from ksql.results import StatusResult
from ksql.runtime.log.names import InvalidTopicName, check_topic_name
from ksql.runtime.formats.make import make_format


# What the WITH clause of CREATE STREAM/TABLE and of CREATE ... AS SELECT may hold (ksqlDB's
# CreateConfigs and CommonCreateConfigs); anything else is refused by name.
CREATE_AS_PROPERTIES = frozenset({
    "KAFKA_TOPIC", "PARTITIONS", "REPLICAS", "RETENTION_MS", "FORMAT", "KEY_FORMAT", "VALUE_FORMAT",
    "TIMESTAMP", "TIMESTAMP_FORMAT", "WRAP_SINGLE_VALUE", "KEY_DELIMITER", "VALUE_DELIMITER",
    "KEY_SCHEMA_ID", "VALUE_SCHEMA_ID", "KEY_SCHEMA_FULL_NAME", "VALUE_SCHEMA_FULL_NAME",
    "VALUE_AVRO_SCHEMA_FULL_NAME", "KEY_PROTOBUF_NULLABLE_REPRESENTATION", "VALUE_PROTOBUF_NULLABLE_REPRESENTATION",
})


CREATE_PROPERTIES = CREATE_AS_PROPERTIES | {"WINDOW_TYPE", "WINDOW_SIZE", "SOURCED_BY_CONNECTOR"}


def check_with_clause(props: dict, allowed: frozenset) -> None:
    unknown = [name for name in props if name not in allowed]
    if unknown:
        raise KsqlStatementError(f"Invalid config variable(s) in the WITH clause: {','.join(unknown)}")


def normalize_properties(props: dict) -> dict:
    return {k.upper(): v for k, v in props.items()}


def int_property(props: dict, name: str, default=None):
    """A whole-number WITH property (PARTITIONS, REPLICAS, ...), refused as Kafka's ConfigDef
    refuses a value that is not an INT."""
    value = props.get(name)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31:
        return value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
        if number is not None and -2**31 <= number < 2**31:
            return number
    raise KsqlStatementError(f"Invalid value {value} for configuration {name}: Not a number of type INT")


def bool_prop(value) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def timestamp_column(props: dict, schema: LogicalSchema) -> str | None:
    name = props.get("TIMESTAMP")
    if name is None:
        return None
    name = str(name)
    column = schema.find(name) or schema.find(name.upper())
    if column is None:
        raise KsqlStatementError(f"The TIMESTAMP column set in the WITH clause does not exist in the schema: '{name}'")
    if column.type.base not in ("BIGINT", "TIMESTAMP", "STRING"):
        raise KsqlStatementError(
            f"Timestamp column, `{column.name}`, should be LONG(INT64), TIMESTAMP, or a String with a "
            f"timestamp_format specified.")
    if column.type.base == "STRING" and "TIMESTAMP_FORMAT" not in props:
        raise KsqlStatementError(
            f"Timestamp column, `{column.name}`, should be LONG(INT64), TIMESTAMP, or a String with a "
            f"timestamp_format specified.")
    return column.name


def schema_properties(props: dict) -> dict:
    """KEY_SCHEMA_ID, VALUE_SCHEMA_ID, KEY_SCHEMA_FULL_NAME and VALUE_SCHEMA_FULL_NAME of a WITH clause."""
    out = {}
    for part in ("key", "value"):
        out[f"{part}_schema_id"] = int_property(props, f"{part.upper()}_SCHEMA_ID")
        full_name = props.get(f"{part.upper()}_SCHEMA_FULL_NAME")
        out[f"{part}_schema_full_name"] = None if full_name is None else str(full_name)
        nullable = props.get(f"{part.upper()}_PROTOBUF_NULLABLE_REPRESENTATION")
        if nullable is not None and str(nullable).upper() not in ("WRAPPER", "OPTIONAL"):
            raise KsqlStatementError(f"Invalid {part.upper()}_PROTOBUF_NULLABLE_REPRESENTATION: {nullable} "
                                     f"(WRAPPER or OPTIONAL)")
        out[f"{part}_nullable_representation"] = None if nullable is None else str(nullable).upper()
    return out


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


def window_size(text) -> int | None:
    """'30 SECONDS' -> 30000."""
    if text is None:
        return None
    amount, _, unit = str(text).strip().partition(" ")
    scale = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
    name = unit.strip().upper().rstrip("S")
    if not amount.isdigit() or name not in scale:
        raise KsqlStatementError(f"Invalid WINDOW_SIZE: '{text}'. Use a number and a unit, like '10 SECONDS'.")
    return int(amount) * scale[name]


def check_no_map_keys(columns) -> None:
    """Maps have no stable serialized form, so a key holding one would not find its partition."""
    for column in columns:
        if "MAP<" in str(column.type).upper():
            raise KsqlStatementError(
                f"Map keys, including types that contain maps, are not supported as they may lead to unexpected "
                f"behavior due to inconsistent serialization. Key column name: `{column.name}`. Column type: "
                f"{column.type}. See https://github.com/confluentinc/ksql/issues/6621 for more.")


def check_key_format(key_format: str, sink: DataSource) -> None:
    try:
        make_format(key_format, sink.schema.key, key=True, options=sink.key_options())
    except KsqlStatementError as error:
        columns = ", ".join(f"`{c.name}` {c.type} KEY" for c in sink.schema.key)
        raise KsqlStatementError(f"Key format does not support schema.\nformat: {key_format}\nschema: "
                                 f"Persistence{{columns=[{columns}], features=[]}}\nreason: {error}") from None
