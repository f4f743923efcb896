"""What the REST API speaks besides its routes: content types, ksqlDB's error codes and error
bodies, and the limits every request is held to."""
from __future__ import annotations


import orjson
from starlette.responses import JSONResponse

from ksql.planner.values import json_default as _json_default


KSQL_JSON = "application/vnd.ksql.v1+json"


DELIMITED = "application/vnd.ksqlapi.delimited.v1"


FORWARDED_HEADER = "X-Ksql-Forwarded"  # marks a pull query one server sent to another


# ksqlDB's error codes: HTTP status * 100 + n.
BAD_REQUEST, BAD_STATEMENT, QUERY_ENDPOINT, NOT_FOUND, SERVER_ERROR = 40000, 40001, 40002, 40400, 50000


SERVICE_UNAVAILABLE = 50300


# what a request may not override: fixed when the server starts (ksqlDB's ImmutableProperties)
IMMUTABLE_PROPERTIES = frozenset({
    "ksql.service.id", "ksql.extension.dir", "ksql.persistent.prefix", "ksql.internal.topic.replicas",
    "ksql.schema.registry.url", "ksql.streams.state.dir", "ksql.connect.url", "ksql.access.validator.enable",
    "ksql.properties.overrides.denylist", "bootstrap.servers", "ksql.streams.bootstrap.servers",
})


COMMAND_WAIT_SECONDS = 5.0  # how long a request waits for the commandSequenceNumber it names


MAX_REQUEST_BYTES = 16 * 1024 * 1024  # a request body past this is refused (413)


MAX_STATEMENTS = 10_000  # statements in one /ksql request


LOOPBACK = ("127.0.0.1", "localhost", "::1")


SHUTDOWN_SECONDS = 5.0  # after SIGTERM, how long open responses may take to finish


MAX_PUSH_QUERIES = 100  # push queries open at once (ksql.max.push.queries, ksqlDB's default)


def error_response(code: int, message: str, statement: str | None = None, entities=None) -> JSONResponse:
    body = {"@type": "statement_error" if statement is not None else "generic_error",
            "error_code": code, "message": message}
    if statement is not None:
        body["statementText"] = statement
        body["entities"] = entities or []
    return JSONResponse(body, status_code=code // 100)


def dumps(value) -> bytes:
    return orjson.dumps(value, default=_json_default)


def row_error(message: str, code: int = BAD_REQUEST) -> dict:
    return {"@type": "generic_error", "error_code": code, "message": message, "status": "error"}


class TooLarge(Exception):
    pass


class TooLong:
    """An /inserts-stream line past the request limit."""


class BadRequest(Exception):
    pass


class Invalid:
    def __init__(self, reason: str):
        self.reason = reason

    def __str__(self):
        return self.reason
