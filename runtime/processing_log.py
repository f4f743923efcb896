"""The processing log: a record that cannot be processed is described here, as in ksqlDB,
and the query goes on. It is a topic with a stream over it, KSQL_PROCESSING_LOG."""
from __future__ import annotations

import base64
import time

import orjson

from ksql.runtime.log.embedded import make_records

TOPIC = "default_ksql_processing_log"  # ksqlDB's name: <service id>ksql_processing_log
STREAM = "KSQL_PROCESSING_LOG"

# Error types, as ksqlDB numbers them.
DESERIALIZATION_ERROR = 0
RECORD_PROCESSING_ERROR = 1
PRODUCTION_ERROR = 2
SERIALIZATION_ERROR = 3

def topic_for(service_id: str) -> str:
    return f"{service_id}ksql_processing_log"


def stream_sql(topic: str = TOPIC) -> str:
    """The CREATE STREAM statement of the processing-log stream over its topic."""
    return (
        f"CREATE STREAM {STREAM} ("
        "LOGGER STRING, LEVEL STRING, `TIME` BIGINT, MESSAGE STRUCT<"
        "`TYPE` INTEGER, "
        "DESERIALIZATIONERROR STRUCT<TARGET STRING, ERRORMESSAGE STRING, RECORDB64 STRING, "
        "CAUSE ARRAY<STRING>, `topic` STRING>, "
        "RECORDPROCESSINGERROR STRUCT<ERRORMESSAGE STRING, RECORD STRING, CAUSE ARRAY<STRING>>, "
        "PRODUCTIONERROR STRUCT<ERRORMESSAGE STRING>, "
        "SERIALIZATIONERROR STRUCT<TARGET STRING, ERRORMESSAGE STRING, RECORD STRING, "
        "CAUSE ARRAY<STRING>, `topic` STRING>>"
        f") WITH (KAFKA_TOPIC='{topic}', VALUE_FORMAT='JSON');"
    )


def deserialization_errors(query_id: str, topic: str, target: str, errors: dict[int, str],
                           payloads: list, partition: int, offsets: list) -> list[bytes]:
    """One processing-log entry (JSON) per record that failed to deserialize. The last cause
    says where the record is, as Kafka's consumer words it."""
    now = int(time.time() * 1000)
    entries = []
    for row, message in sorted(errors.items()):
        payload = payloads[row]
        where = f"Error deserializing {target} for partition {topic}-{partition} at offset {offsets[row]}"
        entries.append(orjson.dumps({
            "LOGGER": f"processing.{query_id}.KsqlTopic.Source.deserializer",
            "LEVEL": "ERROR",
            "TIME": now,
            "MESSAGE": {
                "TYPE": DESERIALIZATION_ERROR,
                "DESERIALIZATIONERROR": {
                    "TARGET": target,
                    "ERRORMESSAGE": f"Failed to deserialize {target} from topic: {topic}. {message}",
                    "RECORDB64": base64.b64encode(payload).decode() if payload is not None else None,
                    "CAUSE": [message, where],
                    "topic": topic,
                },
                "RECORDPROCESSINGERROR": None,
                "PRODUCTIONERROR": None,
                "SERIALIZATIONERROR": None,
            },
        }))
    return entries


def processing_error(query_id: str, message: str, row) -> bytes:
    """A processing-log entry for a record that failed inside a query."""
    return _row_entry(f"processing.{query_id}.Project", RECORD_PROCESSING_ERROR, "RECORDPROCESSINGERROR", {
        "ERRORMESSAGE": f"Error processing record: {message}", "RECORD": _row_text(row), "CAUSE": [message]})


def function_error(query_id: str, message: str) -> bytes:
    """A processing-log entry for a function that failed on a value (the value is then NULL)."""
    return _row_entry(f"processing.{query_id}.Project", RECORD_PROCESSING_ERROR, "RECORDPROCESSINGERROR", {
        "ERRORMESSAGE": f"Error computing expression: {message}", "RECORD": None, "CAUSE": [message]})


def serialization_error(query_id: str, message: str, row, topic: str) -> bytes:
    """A processing-log entry for an output row the sink's format could not write."""
    return _row_entry(f"processing.{query_id}.{topic}", SERIALIZATION_ERROR, "SERIALIZATIONERROR", {
        "ERRORMESSAGE": f"Error serializing message to topic: {topic}. {message}", "RECORD": _row_text(row),
        "CAUSE": [message], "TOPIC": topic})


def _row_text(row) -> str:
    """A one-row batch as JSON, without the engine's own columns."""
    record = {k: v for k, v in row.to_pylist()[0].items() if not k.startswith("__")}
    return orjson.dumps(record, default=str).decode()


def _row_entry(logger: str, kind: int, field: str, error: dict) -> bytes:
    message = {"TYPE": kind, "DESERIALIZATIONERROR": None, "RECORDPROCESSINGERROR": None,
               "PRODUCTIONERROR": None, "SERIALIZATIONERROR": None}
    message[field] = error
    return orjson.dumps({"LOGGER": logger, "LEVEL": "ERROR", "TIME": int(time.time() * 1000), "MESSAGE": message})


def records(entries: list[bytes]):
    now = int(time.time() * 1000)
    return make_records([None] * len(entries), entries, [now] * len(entries))
