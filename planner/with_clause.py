"""Reading a CREATE statement's WITH clause: which properties it may hold and their types
(as Kafka's ConfigDef reads them), the schema ids and names it gives, its TIMESTAMP column
and WINDOW_SIZE."""
from __future__ import annotations

from ksql.parser.errors import KsqlStatementError
from ksql.planner.schema import LogicalSchema


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
        raise KsqlStatementError("The TIMESTAMP column set in the WITH clause does not exist in the schema: "
                                 f"'{name.upper()}'")
    # ksqlDB's checks, in its order (TimestampExtractionPolicyFactory)
    if column.type.base == "STRING":
        if "TIMESTAMP_FORMAT" not in props:
            raise KsqlStatementError("A String timestamp field has been specified without also specifying the "
                                     "timestamp_format")
    elif "TIMESTAMP_FORMAT" in props:
        raise KsqlStatementError("'TIMESTAMP_FORMAT' set in the WITH clause can only be used when the timestamp "
                                 "column is of type STRING.")
    elif column.type.base not in ("BIGINT", "TIMESTAMP"):
        raise KsqlStatementError(
            f"Timestamp column, `{column.name}`, should be LONG(INT64), TIMESTAMP, or a String with a "
            f"timestamp_format specified.")
    return column.name


# the formats whose schemas have a name a WITH clause may give
_NAMED_SCHEMA_FORMATS = ("AVRO", "PROTOBUF", "PROTOBUF_NOSR", "JSON_SR")


def schema_properties(props: dict, key_format: str | None = None, value_format: str | None = None) -> dict:
    """KEY_SCHEMA_ID, VALUE_SCHEMA_ID, KEY_SCHEMA_FULL_NAME and VALUE_SCHEMA_FULL_NAME of a WITH
    clause (VALUE_AVRO_SCHEMA_FULL_NAME is the older spelling of the last, for AVRO only)."""
    out = {}
    for part, fmt in (("key", key_format), ("value", value_format)):
        out[f"{part}_schema_id"] = int_property(props, f"{part.upper()}_SCHEMA_ID")
        full_name = props.get(f"{part.upper()}_SCHEMA_FULL_NAME")
        supported = _NAMED_SCHEMA_FORMATS
        if full_name is None and part == "value" and props.get("VALUE_AVRO_SCHEMA_FULL_NAME") is not None:
            full_name, supported = props["VALUE_AVRO_SCHEMA_FULL_NAME"], ("AVRO",)
        if full_name is not None and fmt is not None:
            if fmt not in supported:
                raise KsqlStatementError(f"{fmt} does not support the following configs: [fullSchemaName]")
            if not str(full_name).strip():
                raise KsqlStatementError("fullSchemaName cannot be empty. Format configuration: {fullSchemaName=}")
        out[f"{part}_schema_full_name"] = None if full_name is None else str(full_name).strip()
        nullable = props.get(f"{part.upper()}_PROTOBUF_NULLABLE_REPRESENTATION")
        if nullable is not None and str(nullable).upper() not in ("WRAPPER", "OPTIONAL"):
            raise KsqlStatementError(f"Invalid {part.upper()}_PROTOBUF_NULLABLE_REPRESENTATION: {nullable} "
                                     f"(WRAPPER or OPTIONAL)")
        out[f"{part}_nullable_representation"] = None if nullable is None else str(nullable).upper()
    return out


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
