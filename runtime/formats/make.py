"""The format of a topic's keys or values, by name: KAFKA, JSON, DELIMITED and NONE (runtime/serdes.py),
AVRO (runtime/avro.py), JSON_SR (runtime/json_sr.py), PROTOBUF and PROTOBUF_NOSR (runtime/protobuf.py).
The schema-registry formats build on serdes' classes, so the choice among them lives here,
above them all."""
from __future__ import annotations

from ksql.parser.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.schema import Column
from ksql.runtime.formats.serdes import DelimitedFormat, JsonFormat, KafkaFormat, NoneFormat


# what ksqlDB says of a MAP with keys other than STRING, per format
_STRING_MAP_KEYS_ONLY = {
    "AVRO": "Avro only supports MAPs with STRING keys",
    "JSON": "JSON only supports MAP types with STRING keys",
    "JSON_SR": "JSON only supports MAP types with STRING keys",
    "PROTOBUF": "PROTOBUF format only supports MAP types with STRING keys",
    "PROTOBUF_NOSR": "PROTOBUF format only supports MAP types with STRING keys",
}


def make_format(name: str, columns: tuple[Column, ...], *, key: bool, options: dict | None = None):
    name = name.upper()
    options = options or {}
    _check_maps(name, columns, key)
    if options.get("wrap_single_value") is not None and not key:
        if len(columns) != 1:
            raise KsqlStatementError("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas")
        if name in ("KAFKA", "DELIMITED") and options.get("wrap_single_value"):
            raise KsqlStatementError(f"Format '{name}' does not support 'WRAP_SINGLE_VALUE' set to 'true'.")
        if name == "PROTOBUF" and options.get("wrap_single_value") is False:  # a message is always a record
            raise KsqlStatementError(f"Format '{name}' does not support 'WRAP_SINGLE_VALUE' set to 'false'.")
    if name == "JSON":
        return JsonFormat(columns, key=key, wrap=options.get("wrap_single_value"))
    if name == "KAFKA":
        return KafkaFormat(columns, key=key)
    if name == "DELIMITED":
        return DelimitedFormat(columns, options.get("delimiter", ","), options.get("topic"))
    if name == "NONE":
        if columns:
            listed = ", ".join(f"`{c.name}` {c.type}{' KEY' if key else ''}" for c in columns)
            raise KsqlStatementError(f"The 'NONE' format can only be used when no columns are defined. Got: [{listed}]")
        return NoneFormat()
    if name == "AVRO":
        from ksql.runtime.formats.avro import AvroFormat

        return AvroFormat(columns, key=key, topic=options.get("topic"), wrap=options.get("wrap_single_value"),
                          schema_id=options.get("schema_id"), full_name=options.get("full_name"))
    if name == "JSON_SR":
        from ksql.runtime.formats.json_sr import JsonSrFormat

        return JsonSrFormat(columns, key=key, topic=options.get("topic"), wrap=options.get("wrap_single_value"),
                            schema_id=options.get("schema_id"))
    if name in ("PROTOBUF", "PROTOBUF_NOSR"):
        from ksql.runtime.formats.protobuf import ProtobufFormat

        return ProtobufFormat(columns, key=key, topic=options.get("topic"), registry=name == "PROTOBUF",
                              schema_id=options.get("schema_id"), full_name=options.get("full_name"),
                              nullable=options.get("nullable"))
    raise KsqlStatementError(f"Unknown format: {name}")


def _check_maps(name: str, columns: tuple[Column, ...], key: bool) -> None:
    """ksqlDB's refusal of MAPs with keys other than STRING in the formats that cannot write
    them (a MAP anywhere in a key is refused before a format is chosen)."""
    if name not in _STRING_MAP_KEYS_ONLY:
        return
    for column in columns:
        if any(m.params[0].base != "STRING" for m in T.maps_in(column.type)):
            raise KsqlStatementError(_STRING_MAP_KEYS_ONLY[name])


