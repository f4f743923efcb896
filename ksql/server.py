"""`ksql server`: the engine behind ksqlDB's REST API (starlette on hypercorn, HTTP/1.1 and h2c).

Statements go to POST /ksql, queries to POST /query (ksqlDB's chunked JSON array) and POST
/query-stream (one JSON line per row, or a JSON array with Accept: application/json), rows to
POST /inserts-stream. Entities and error bodies carry ksqlDB's `@type` and `error_code`.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import functools
import json
import logging
import signal
import sys
import threading
import time

import orjson
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from ksql import __version__
from ksql.auth import MAX_FAILURES, Authenticator, credentials, hash_password, load_users
from ksql.engine import KsqlEngine, Session, StatementFailed
from ksql.errors import KsqlError
from ksql.planner.values import json_default as _json_default
from ksql.properties import engine_properties, read_properties
from ksql.registry_api import registry_routes
from ksql.results import DescribeResult, ListResult, RowStream, StatusResult, TextResult, TombstoneRow
from ksql.parser import split_statements

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


def _error(code: int, message: str, statement: str | None = None, entities=None) -> JSONResponse:
    body = {"@type": "statement_error" if statement is not None else "generic_error",
            "error_code": code, "message": message}
    if statement is not None:
        body["statementText"] = statement
        body["entities"] = entities or []
    return JSONResponse(body, status_code=code // 100)


def _dumps(value) -> bytes:
    return orjson.dumps(value, default=_json_default)


def _row_value(value, shape=None):
    """A result value as ksqlDB's REST API writes it (maps and structs as objects), shaped by
    its column type where known (so an empty map is {} rather than [])."""
    if value is None:
        return None
    kind = shape[0] if shape else None
    if kind == "MAP":
        pairs = value.items() if isinstance(value, dict) else value
        return {str(k): _row_value(v, shape[1]) for k, v in pairs}
    if kind == "ARRAY":
        return [_row_value(v, shape[1]) for v in value]
    if kind == "STRUCT" and isinstance(value, dict):
        return {k: _row_value(v, shape[1].get(k)) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): _row_value(v) for k, v in value}
        return [_row_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _row_value(v) for k, v in value.items()}
    if isinstance(value, datetime.datetime):  # ksqlDB's TIMESTAMP: always milliseconds
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="milliseconds") if value.microsecond else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _schema_of(type_text: str) -> dict:
    """A column type's text as ksqlDB's REST schema object (the /ws/query header)."""
    shape = _shape(type_text)
    base = type_text.split("<")[0].split("(")[0].strip().upper()
    if shape is None:
        return {"type": base, "fields": None, "memberSchema": None}
    parts = _top_level_split(type_text.strip()[len(base) + 1:-1])
    if base == "STRUCT":
        fields = []
        for part in parts:
            name, _, kind = part.strip().partition(" ")
            fields.append({"name": name.strip("`"), "schema": _schema_of(kind)})
        return {"type": base, "fields": fields, "memberSchema": None}
    return {"type": base, "fields": None, "memberSchema": _schema_of(parts[-1])}


def row_values(row, column_types) -> list:
    """A result row as ksqlDB's REST API writes it, each value shaped by its column's type."""
    return [_row_value(v, _shape(t)) for v, t in zip(row, column_types)]


@functools.lru_cache(maxsize=256)
def _shape(type_text: str):
    """("MAP" | "ARRAY", element shape), ("STRUCT", {field: shape}) or None, from a type's text."""
    text = type_text.strip()
    upper = text.upper()
    for kind in ("ARRAY", "MAP", "STRUCT"):
        if upper.startswith(kind + "<") and text.endswith(">"):
            parts = _top_level_split(text[len(kind) + 1:-1])
            if kind == "ARRAY":
                return kind, _shape(parts[0])
            if kind == "MAP":
                return kind, _shape(parts[-1])
            fields = {}
            for part in parts:
                name, _, field_type = part.strip().partition(" ")
                fields[name.strip("`")] = _shape(field_type)
            return kind, fields
    return None


def _top_level_split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


MAX_REQUEST_BYTES = 16 * 1024 * 1024  # a request body past this is refused (413)
MAX_STATEMENTS = 10_000  # statements in one /ksql request
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SHUTDOWN_SECONDS = 5.0  # after SIGTERM, how long open responses may take to finish
MAX_PUSH_QUERIES = 100  # push queries open at once (ksql.max.push.queries, ksqlDB's default)


class KsqlServer:
    def __init__(self, engine: KsqlEngine, users: dict[str, str] | None = None,
                 max_request_bytes: int = MAX_REQUEST_BYTES, max_login_failures: int = MAX_FAILURES):
        self.engine = engine
        self.max_request_bytes = max_request_bytes
        self.users = users or {}  # name -> scrypt hash; empty: no authentication
        self.authenticator = Authenticator(self.users, max_login_failures)
        self.queries: dict[str, RowStream] = {}  # open push queries, by id, for /close-query
        self.cluster_id: str | None = None  # asked of the log once, for /info
        self.lock = threading.Lock()
        self.state = "READY"
        self.registry, self.latency, self.forwarded = _metrics(self)

    def app(self) -> Starlette:
        handlers = {
            404: lambda request, exc: _error(NOT_FOUND, f"No such endpoint: {request.method} {request.url.path}"),
            405: lambda request, exc: _error(40500, f"Method {request.method} not allowed on {request.url.path}"),
            500: lambda request, exc: _error(SERVER_ERROR, f"Internal error: {exc}"),
        }
        return Starlette(exception_handlers=handlers, routes=[
            Route("/ksql", self.ksql, methods=["POST"]),
            Route("/query", self.query, methods=["POST"]),
            Route("/query-stream", self.query_stream, methods=["POST"]),
            Route("/close-query", self.close_query, methods=["POST"]),
            Route("/inserts-stream", self.inserts_stream, methods=["POST"]),
            Route("/info", self.info, methods=["GET"]),
            Route("/", self.info, methods=["GET"]),
            Route("/healthcheck", self.healthcheck, methods=["GET"]),
            Route("/status", self.statuses, methods=["GET"]),
            Route("/status/{type}/{entity}/{action}", self.status, methods=["GET"]),
            Route("/v1/metadata", self.metadata, methods=["GET"]),
            Route("/v1/metadata/id", self.metadata, methods=["GET"]),
            Route("/is_valid_property/{name}", self.valid_property, methods=["GET"]),
            Route("/clusterStatus", self.cluster_status, methods=["GET"]),
            Route("/ksql/terminate", self.terminate_cluster, methods=["POST"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            WebSocketRoute("/ws/query", self.ws_query),
            *registry_routes(self.engine),
        ], middleware=[Middleware(_AccessLog, server=self), Middleware(_ContentType, server=self),
                       Middleware(_Timing, server=self),
                       Middleware(_BasicAuth, server=self),
                       Middleware(_BodyLimit, server=self)])

    # -- request helpers

    async def _body(self, request: Request) -> dict:
        raw = await request.body()
        try:
            # orjson refuses what json accepts and cannot answer with: unpaired surrogates,
            # nesting past 1024 levels, NaN
            body = orjson.loads(raw or b"{}")
        except ValueError as error:
            raise _BadRequest(f"Invalid JSON in request: {error}") from None
        if not isinstance(body, dict):
            raise _BadRequest("The request body must be a JSON object.")
        return body

    def _session(self, body: dict, properties_field: str) -> Session:
        properties = body.get(properties_field) or {}
        variables = body.get("sessionVariables") or {}
        if not isinstance(properties, dict) or not isinstance(variables, dict):
            raise _BadRequest(f"'{properties_field}' and 'sessionVariables' must be JSON objects.")
        refused = self._prohibited(properties)
        if refused:
            raise _BadRequest(refused)
        return Session(properties={k: str(v) for k, v in properties.items()},
                       variables={k: str(v) for k, v in variables.items()}, remote=True)

    # -- /ksql

    async def ksql(self, request: Request) -> Response:
        try:
            body = await self._body(request)
            session = self._session(body, "streamsProperties")
        except _BadRequest as error:
            return _error(BAD_REQUEST, str(error))
        text = body.get("ksql")
        if not isinstance(text, str) or not text.strip():
            return _error(BAD_REQUEST, "The request must have a 'ksql' field with the statements to run.")
        waited = body.get("commandSequenceNumber")
        if waited is not None:  # run after the commands up to that one (another server's too)
            if not isinstance(waited, int) or isinstance(waited, bool):
                return _error(BAD_REQUEST, "commandSequenceNumber must be a whole number.")
            if not await run_in_threadpool(self.engine.wait_for_command, waited, COMMAND_WAIT_SECONDS):
                return _error(SERVICE_UNAVAILABLE, f"Timeout while waiting for command sequence number of {waited}."
                                                   f" This server has run the commands up to "
                                                   f"{self.engine.command_sequence}.")
        return await run_in_threadpool(self._run_statements, text, session)

    def _run_statements(self, text: str, session: Session) -> Response:
        try:
            return self._run_each(text, session)
        finally:
            if len(text) > 1_000_000:
                _return_memory()

    def _run_each(self, text: str, session: Session) -> Response:
        entities = []
        pieces = split_statements(text)
        if len(pieces) > MAX_STATEMENTS:
            return _error(BAD_REQUEST, f"The request has {len(pieces):,} statements: at most {MAX_STATEMENTS:,} "
                                       f"may be sent in one request.")
        for piece in pieces:
            try:
                results = self.engine.execute(piece.text, session)
            except StatementFailed as failure:
                return _error(BAD_STATEMENT, str(failure.error), piece.text, entities)
            except KsqlError as error:
                return _error(BAD_STATEMENT, str(error), piece.text, entities)
            for result in results:
                if isinstance(result, RowStream):
                    result.close()
                    return _error(QUERY_ENDPOINT, "The following statement types should be issued to the "
                                  "websocket endpoint '/query':\n\t* PRINT\n\t* SELECT", piece.text, entities)
                entities.append(self._entity(result))
        return Response(_dumps(entities), media_type=KSQL_JSON)

    def _entity(self, result) -> dict:
        if isinstance(result, StatusResult):
            return {"@type": "currentStatus", "statementText": result.statement,
                    "commandId": result.command_id,
                    "commandStatus": {"status": "SUCCESS", "message": result.message, "queryId": result.query_id},
                    "commandSequenceNumber": result.sequence, "warnings": []}
        if isinstance(result, ListResult):
            field = {"kafka_topics": "topics", "function_names": "functions", "type_list": "types"}.get(
                result.kind, result.kind)
            entity = {"@type": result.kind, "statementText": result.statement, field: result.items, "warnings": []}
            if result.kind == "properties":
                entity["overwrittenProperties"] = []
                entity["defaultProperties"] = []
            return entity
        if isinstance(result, DescribeResult):
            return {"@type": result.kind, "statementText": result.statement, "sourceDescription": result.item,
                    "warnings": []}
        if isinstance(result, TextResult):
            return {"@type": result.kind, "statementText": result.statement, "text": result.text,
                    **result.item, "warnings": []}
        return {"@type": "warning_entity", "statementText": "", "message": str(result)}

    # -- queries

    def _start_query(self, text: str, session: Session) -> RowStream:
        results = self.engine.execute(text, session)
        if len(results) != 1 or not isinstance(results[0], RowStream):
            raise _BadRequest("The request must hold exactly one SELECT or PRINT statement.")
        stream = results[0]
        if stream.push:  # each runs until closed, holding state and rows for its client
            limit = int(self.engine.properties.get("ksql.max.push.queries", MAX_PUSH_QUERIES))
            with self.lock:
                running = sum(1 for s in self.queries.values() if s.push)
                if running >= limit:
                    stream.close()
                    raise _BadRequest(
                        f"Not running the push query: {running} are running, the limit "
                        f"(ksql.max.push.queries) is {limit}. Close some, or raise the limit.")
                self.queries[stream.query_id] = stream
            return stream
        self.queries[stream.query_id] = stream
        return stream

    async def _open(self, request: Request, sql_field: str, properties_field: str) -> RowStream | Response:
        """Start the query a request holds, or the error response to send instead."""
        accept = request.headers.get("accept", "")
        if "protobuf" in accept:  # rows as protobuf messages are not offered: say so, not JSON
            return _error(40600, f"The rows of a query are sent as JSON (application/json, "
                                 f"application/vnd.ksql.v1+json or {DELIMITED}), not as {accept}.")
        body = {}
        try:
            body = await self._body(request)
            session = self._session(body, properties_field)
            return await run_in_threadpool(self._start_query, str(body.get(sql_field, "")), session)
        except _BadRequest as error:
            return _error(BAD_REQUEST, str(error))
        except StatementFailed as failure:
            return _error(BAD_STATEMENT, str(failure.error), failure.statement)
        except KsqlError as error:
            return _error(BAD_STATEMENT, str(error), str(body.get(sql_field, "")))

    async def _rows(self, request: Request, stream: RowStream):
        """A query's rows as they come. Push queries are polled without holding a thread, and end
        when the client goes away."""
        try:
            if stream.poll is None:  # pull queries and PRINT
                async for row in iterate_in_threadpool(stream.rows()):
                    yield row
                return
            while True:
                rows, done = await run_in_threadpool(stream.poll)
                for row in rows:
                    yield row
                if done or await request.is_disconnected():
                    return
                if not rows:
                    await asyncio.sleep(0.05)
        finally:
            stream.close()
            self.queries.pop(stream.query_id, None)

    async def _forward(self, request: Request, field: str) -> Response | None:
        """A key lookup on a table another server owns goes to that server (several servers on
        Kafka); None: answer here, as also when the owner cannot be reached."""
        if request.headers.get(FORWARDED_HEADER):
            return None  # already forwarded once: never bounce
        try:
            sql = (await self._body(request)).get(field)
        except _BadRequest:
            return None
        if not isinstance(sql, str):
            return None
        owner = await run_in_threadpool(self.engine.pull_owner, sql)
        if owner is None:
            return None
        import httpx

        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept", "authorization")}
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.post(owner + request.url.path, content=await request.body(),
                                           headers={**headers, FORWARDED_HEADER: "1"})
        except httpx.HTTPError:
            return None
        self.forwarded.inc()
        return Response(answer.content, status_code=answer.status_code,
                        media_type=answer.headers.get("content-type"))

    async def query(self, request: Request) -> Response:
        """ksqlDB's /query: a JSON array streamed element by element."""
        forwarded = await self._forward(request, "ksql")
        if forwarded is not None:
            return forwarded
        stream = await self._open(request, "ksql", "streamsProperties")
        if isinstance(stream, Response):
            return stream

        async def chunks():
            schema = stream.schema()
            yield b"[" + _dumps({"header": {"queryId": stream.query_id, "schema": schema}})
            count = 0
            async for row in self._rows(request, stream):
                count += 1
                if stream.is_print:
                    yield b",\n" + _dumps({"row": {"columns": [row]}})
                else:
                    entry = {"columns": row_values(row, stream.column_types)}
                    if isinstance(row, TombstoneRow):
                        entry["tombstone"] = True  # a table row was deleted
                    yield b",\n" + _dumps({"row": entry})
            final = "Limit Reached" if count and stream.column_names and count == _limit(stream) else "Query Completed"
            yield b",\n" + _dumps({"finalMessage": final}) + b"]\n"

        return StreamingResponse(chunks(), media_type=KSQL_JSON)

    async def query_stream(self, request: Request) -> Response:
        """ksqlDB's /query-stream: a metadata line then one JSON array per row."""
        forwarded = await self._forward(request, "sql")
        if forwarded is not None:
            return forwarded
        stream = await self._open(request, "sql", "properties")
        if isinstance(stream, Response):
            return stream
        as_array = "application/json" in request.headers.get("accept", "")
        if stream.is_print:
            return self._print_lines(request, stream, as_array)
        metadata = {"queryId": stream.query_id, "columnNames": stream.column_names,
                    "columnTypes": stream.column_types}

        async def lines():
            yield (b"[" if as_array else b"") + _dumps(metadata) + (b"" if as_array else b"\n")
            async for row in self._rows(request, stream):
                values = [row] if stream.is_print else row_values(row, stream.column_types)
                yield (b"," + _dumps(values)) if as_array else _dumps(values) + b"\n"
            if as_array:
                yield b"]"

        return StreamingResponse(lines(), media_type="application/json" if as_array else DELIMITED)

    def _print_lines(self, request: Request, stream: RowStream, as_array: bool) -> Response:
        """PRINT on /query-stream: the records as plain text lines, no header (ksqlDB offers
        only the delimited content type for it)."""
        if as_array:
            stream.close()
            self.queries.pop(stream.query_id, None)
            return _error(40600, f"PRINT answers with {DELIMITED} only: the Accept header asked for "
                                 f"{request.headers.get('accept')}.")

        async def lines():
            async for line in self._rows(request, stream):
                yield line.encode() + b"\n"

        return StreamingResponse(lines(), media_type=DELIMITED)

    async def ws_query(self, websocket) -> None:
        """ksqlDB's /ws/query: ?request={"ksql": ..., "streamsProperties": ...} (URL-encoded);
        the answer is a text message with the columns, then one {"row": ...} message per row; the
        server closes with 1000 when the query ends, 1003 and the reason when it cannot run."""
        await websocket.accept()
        params = websocket.query_params
        try:
            if params.get("version") not in (None, "v1"):
                raise _BadRequest(f"Received invalid api version: {params.get('version')}")
            try:
                body = json.loads(params.get("request") or "")
            except ValueError as error:
                raise _BadRequest(f"Error parsing request: {error}") from None
            if not isinstance(body, dict) or not str(body.get("ksql") or "").strip():
                raise _BadRequest('Error parsing request: "ksql" field of "request" must be populated')
            session = self._session(body, "streamsProperties")
            stream = await run_in_threadpool(self._start_query, str(body["ksql"]), session)
        except (KsqlError, _BadRequest) as error:
            failure = error.error if isinstance(error, StatementFailed) else error
            await websocket.close(1003, str(failure)[:120])  # a close reason has at most 123 bytes
            return
        try:
            await websocket.send_text(_dumps([{"name": name, "schema": _schema_of(kind)} for name, kind in
                                              zip(stream.column_names, stream.column_types)]).decode())
            while True:
                if stream.poll is None:  # pull queries and PRINT: all there is, read off the event loop
                    rows, done = await run_in_threadpool(lambda: list(stream.rows())), True
                else:
                    rows, done = await run_in_threadpool(stream.poll)
                for row in rows:
                    value = [row] if stream.is_print else row_values(row, stream.column_types)
                    await websocket.send_text(_dumps({"row": {"columns": value}}).decode())
                if done:
                    break
                if not rows:
                    await asyncio.sleep(0.05)
            await websocket.close(1000, "done")
        except Exception:  # noqa: BLE001 - the client went away: the query ends with it
            pass
        finally:
            stream.close()
            self.queries.pop(stream.query_id, None)

    async def close_query(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except _BadRequest as error:
            return _error(BAD_REQUEST, str(error))
        stream = self.queries.pop(str(body.get("queryId")), None)
        if stream is None:
            return _error(BAD_REQUEST, f"No query with id {body.get('queryId')}")
        stream.close()
        return Response(b"", status_code=200)

    async def inserts_stream(self, request: Request) -> Response:
        """The first JSON object names the target; each following line is a row, inserted and
        acknowledged as it arrives (the request body may stay open as long as the client likes)."""
        batches = self._body_lines(request)
        try:
            first, *rest = await batches.__anext__()
            header = json.loads(first)
        except (StopAsyncIteration, ValueError, RecursionError):
            header = None
        if not isinstance(header, dict) or "target" not in header:
            return _error(BAD_REQUEST, "The first JSON object must name the target stream: {\"target\": \"S\"}")
        named = str(header["target"])
        target = named.strip("`") if named.startswith("`") else named.upper()
        as_array = "application/json" in request.headers.get("accept", "")

        async def all_batches():
            if rest:
                yield rest
            async for batch in batches:
                yield batch

        def ack_bytes(ack: dict, seq: int) -> bytes:
            ack["seq"] = seq
            return ((b"," if seq else b"") + _dumps(ack)) if as_array else _dumps(ack) + b"\n"

        async def acks():
            seq = 0
            if as_array:
                yield b"["
            async for lines in all_batches():  # the rows that arrived together go in together
                if isinstance(lines, _TooLong):  # nothing after it can be read as rows: the end
                    yield ack_bytes(_row_error(f"The row is larger than the limit of {self.max_request_bytes} "
                                               f"bytes; no more rows are read from this request.", 41300), seq)
                    break
                rows = []
                for line in lines:
                    try:
                        rows.append(json.loads(line))
                    except (ValueError, RecursionError) as error:
                        rows.append(_Invalid(f"Invalid JSON row: {error}"))
                out = []
                for ack in await run_in_threadpool(self._insert_rows, target, rows):
                    out.append(ack_bytes(ack, seq))
                    seq += 1
                yield b"".join(out)
            if as_array:
                yield b"]"

        return _DuplexResponse(acks(), media_type="application/json" if as_array else DELIMITED)

    async def _body_lines(self, request: Request):
        """The request body's non-blank lines, a list per chunk as chunks arrive; a line longer
        than the request limit ends the stream (with _TooLong, not held in memory)."""
        pending = b""
        async for chunk in request.stream():
            pending += chunk
            *complete, pending = pending.split(b"\n")
            too_long = next((i for i, line in enumerate(complete) if len(line) > self.max_request_bytes), None)
            lines = [line for line in complete[:too_long] if line.strip()]
            if lines:
                yield lines
            if too_long is not None or len(pending) > self.max_request_bytes:
                yield _TooLong()
                return
        if pending.strip():
            yield [pending]

    def _insert_rows(self, target: str, rows: list) -> list[dict]:
        acks = []
        for row in rows:
            try:
                if isinstance(row, _Invalid) or not isinstance(row, dict):
                    raise KsqlError(f"Invalid JSON row: {row}")
                self.engine.insert_row(target, row)
                acks.append({"status": "ok"})
            except Exception as error:  # noqa: BLE001 - a bad row gets an error ack, the rest go on
                acks.append(_row_error(str(error)))
        return acks

    # -- status and metadata

    async def metrics(self, request: Request) -> Response:
        """Prometheus text format: per query records in and out and state; per server open
        push queries and request latencies."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def info(self, request: Request) -> Response:
        if self.cluster_id is None:
            self.cluster_id = await run_in_threadpool(self.engine.log.cluster_id)
        return JSONResponse({"KsqlServerInfo": {"version": __version__, "kafkaClusterId": self.cluster_id,
                                                "ksqlServiceId": self.engine.service_id,
                                                "serverStatus": "RUNNING" if self.state == "READY" else self.state}})

    async def healthcheck(self, request: Request) -> Response:
        healthy = {"isHealthy": True}
        return JSONResponse({"isHealthy": True, "details": {"metastore": healthy, "kafka": healthy,
                                                            "commandRunner": healthy},
                             "serverState": self.state})

    async def statuses(self, request: Request) -> Response:
        return JSONResponse({"commandStatuses": {k: "SUCCESS" for k in self.engine.command_statuses}})

    async def status(self, request: Request) -> Response:
        p = request.path_params
        command_id = f"{p['type']}/{p['entity']}/{p['action']}"
        message = self.engine.command_statuses.get(command_id)
        if message is None and not p["entity"].startswith("`"):  # the docs' form: stream/PAGEVIEWS/create
            message = self.engine.command_statuses.get(f"{p['type']}/`{p['entity']}`/{p['action']}")
        if message is None:
            return _error(NOT_FOUND, f"Command not found: {command_id}")
        return JSONResponse({"status": "SUCCESS", "message": message})

    async def metadata(self, request: Request) -> Response:
        return JSONResponse({"version": __version__, "clusterId": {"scope": {"path": [], "clusters": {
            "kafka-cluster": "embedded", "ksql-cluster": "default_"}}}})

    async def valid_property(self, request: Request) -> Response:
        name = request.path_params["name"]
        refused = self._prohibited([name])
        if refused:
            return _error(BAD_REQUEST, refused)
        if name.startswith(("ksql.", "auto.offset.reset", "cache.max.bytes.buffering", "processing.guarantee")):
            return JSONResponse(True)
        return _error(BAD_REQUEST, f"Not recognizable as ksql, streams, consumer, or producer property: '{name}'")

    def _prohibited(self, names) -> str | None:
        """ksqlDB's refusal of overrides of properties fixed at start-up (and those the server's
        ksql.properties.overrides.denylist names); None when all may be set."""
        denied = IMMUTABLE_PROPERTIES | {n.strip() for n in str(self.engine.properties.get(
            "ksql.properties.overrides.denylist", "")).split(",") if n.strip()}
        refused = sorted(n for n in names if n in denied)
        if not refused:
            return None
        return (f"One or more properties overrides set locally are prohibited by the KSQL server (use UNSET to "
                f"reset their default value): [{', '.join(refused)}]")

    async def cluster_status(self, request: Request) -> Response:
        url = f"{request.url.scheme}://{request.url.hostname}:{request.url.port}"
        members = await run_in_threadpool(self.engine.cluster_members)
        now = int(time.time() * 1000)
        hosts = {}
        for member in members:
            where = member["url"] or url if member["local"] else member["url"]
            host = _host_port(where) if where else member["instance"]  # ksqlDB's keys: host:port
            hosts[host] = {
                "hostAlive": True, "lastStatusUpdateMs": now, "local": member["local"],
                "activeStandbyPerQuery": {
                    query: {"activeStores": member["stores"].get(query, []) if parts else [],
                            "activePartitions": [{"topic": t, "partition": p} for t, p in parts],
                            "standByStores": [], "standByPartitions": []}
                    for query, parts in member["queries"].items()},
                "hostStoreLags": {"stateStoreLags": {
                    f"_confluent-ksql-{self.engine.service_id}query_{query}#{store}": _store_lags(lags)
                    for query, lags in member["lags"].items() for store in member["stores"].get(query, [])},
                    "updateTimeMs": now}}
        return JSONResponse({"clusterStatus": hosts})

    async def terminate_cluster(self, request: Request) -> Response:
        await run_in_threadpool(self.engine.execute, "TERMINATE ALL;")
        self.state = "TERMINATING"
        return JSONResponse({"@type": "currentStatus", "statementText": "TERMINATE CLUSTER;",
                             "commandStatus": {"status": "SUCCESS", "message": "Cluster terminated."}})


def _metrics(server: KsqlServer):
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from prometheus_client.core import GaugeMetricFamily

    registry = CollectorRegistry()
    latency = Histogram("ksql_request_seconds", "Time to answer a request (to the first byte for streams).",
                        ["path"], registry=registry)

    class QueryCollector:
        def collect(self):
            records_in = GaugeMetricFamily("ksql_query_records_in", "Records read by a persistent query.",
                                           labels=["query"])
            records_out = GaugeMetricFamily("ksql_query_records_out", "Rows written by a persistent query.",
                                            labels=["query"])
            running = GaugeMetricFamily("ksql_query_running", "1 when a persistent query runs.", labels=["query"])
            errors = GaugeMetricFamily("ksql_query_errors", "Records of a persistent query that went to the "
                                       "processing log.", labels=["query"])
            late = GaugeMetricFamily("ksql_query_late_records", "Records dropped because their windows had "
                                     "closed.", labels=["query"])
            lag = GaugeMetricFamily("ksql_query_lag", "Input records not yet processed.", labels=["query"])
            state = GaugeMetricFamily("ksql_query_state_entries", "Entries in a query's state store.",
                                      labels=["query"])
            for query in list(server.engine.queries.values()):
                records_in.add_metric([query.id], query.records_in)
                records_out.add_metric([query.id], query.records_out)
                running.add_metric([query.id], 1 if query.state == "RUNNING" else 0)
                errors.add_metric([query.id], query.errors)
                late.add_metric([query.id], query.late_records)
                lag.add_metric([query.id], query.lag)
                state.add_metric([query.id], query.state_entries)
            yield from (records_in, records_out, running, errors, late, lag, state)
            pushes = GaugeMetricFamily("ksql_push_queries_open", "Push queries being served.")
            pushes.add_metric([], len(server.queries))
            yield pushes

    registry.register(QueryCollector())
    forwarded = Counter("ksql_pull_queries_forwarded", "Pull queries sent on to the server owning their key.",
                        registry=registry)
    return registry, latency, forwarded


ACCESS = logging.getLogger("ksql.access")


class _ContentType:
    """ASGI middleware: a client that asks for ksqlDB's versioned JSON type (Accept:
    application/vnd.ksql.v1+json) gets its JSON answers labelled so, as ksqlDB does."""

    def __init__(self, app, server: KsqlServer):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or KSQL_JSON.encode() not in dict(scope.get("headers") or []).get(
                b"accept", b""):
            return await self.app(scope, receive, send)

        async def labelled(message):
            if message["type"] == "http.response.start":
                message["headers"] = [(k, KSQL_JSON.encode() if k == b"content-type" and
                                       v.split(b";")[0].strip() == b"application/json" else v)
                                      for k, v in message.get("headers", [])]
            await send(message)

        await self.app(scope, receive, labelled)


class _AccessLog:
    """ASGI middleware: one line per request when its response ends, in the NCSA layout Jetty
    writes for ksqlDB: address, user, time, request line, status, bytes, duration in ms. Status
    codes in ksql.logging.server.skipped.response.codes are left out."""

    def __init__(self, app, server: KsqlServer):
        self.app = app
        self.skipped = {code.strip() for code in str(server.engine.properties.get(
            "ksql.logging.server.skipped.response.codes", "")).split(",") if code.strip()}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not ACCESS.isEnabledFor(logging.INFO):
            return await self.app(scope, receive, send)
        started, status, sent = time.perf_counter(), 500, 0

        async def counted(message):
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            if str(status) not in self.skipped:
                headers = dict(scope.get("headers") or [])
                user = credentials(headers.get(b"authorization", b""))
                target = scope["path"] + (f"?{scope['query_string'].decode()}" if scope.get("query_string") else "")
                ACCESS.info('%s - %s [%s] "%s %s HTTP/%s" %d %d "-" "%s" %d',
                            (scope.get("client") or ("-",))[0], user[0] if user else "-",
                            time.strftime("%d/%b/%Y:%H:%M:%S %z"), scope["method"], target,
                            scope.get("http_version", "1.1"), status, sent,
                            headers.get(b"user-agent", b"-").decode(errors="replace"),
                            (time.perf_counter() - started) * 1000)


class _Timing:
    """ASGI middleware: request latency by endpoint."""

    def __init__(self, app, server: KsqlServer):
        self.app = app
        self.server = server

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        import time

        started = time.perf_counter()
        timed = False

        async def timed_send(message):
            nonlocal timed
            if message["type"] == "http.response.start" and not timed:
                timed = True
                path = scope["path"] if not scope["path"].startswith("/status/") else "/status/..."
                self.server.latency.labels(path).observe(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)


class _BodyLimit:
    """Refuses request bodies larger than the server's limit (413), whether the client declares
    their length or streams them, before they are held in memory."""

    def __init__(self, app, server: KsqlServer):
        self.app = app
        self.limit = server.max_request_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] == "/inserts-stream":  # a stream of rows: its lines are limited, not its length
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        response = _error(41300, f"The request body is larger than the limit of {self.limit} bytes.")
        await response(scope, receive, send)


class _DuplexResponse(StreamingResponse):
    """A streamed response written while the request body is still being read (the acks of
    /inserts-stream): it must not take the request's messages to watch for a disconnect."""

    async def __call__(self, scope, receive, send):
        await self.stream_response(send)


def _return_memory() -> None:
    """Give the memory a large request used back to the system (glibc keeps freed memory for
    the process otherwise)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class _TooLarge(Exception):
    pass


class _TooLong:
    """An /inserts-stream line past the request limit."""


def _row_error(message: str, code: int = BAD_REQUEST) -> dict:
    return {"@type": "generic_error", "error_code": code, "message": message, "status": "error"}


def _limit(stream: RowStream):
    return getattr(stream, "limit", None)


class _BadRequest(Exception):
    pass


class _Invalid:
    def __init__(self, reason: str):
        self.reason = reason

    def __str__(self):
        return self.reason


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ksql server", description="Run the engine with ksqlDB's REST API.")
    parser.add_argument("--port", type=int, help="port to listen on (default: the config's listeners, else 8088)")
    parser.add_argument("--host", help="address to listen on (default: 127.0.0.1 without users, else 0.0.0.0)")
    parser.add_argument("--data-dir", default="ksql-data")
    parser.add_argument("--bootstrap-servers", metavar="HOST:PORT,...",
                        help="run on this Kafka cluster instead of the embedded log")
    parser.add_argument("--config", help="a properties file (key=value lines): authentication.users.file, "
                                         "authentication.max.failures (failed logins per address a minute, 10), "
                                         "ssl.certificate.location, ssl.key.location, ksql.* properties, "
                                         "Kafka client settings (bootstrap.servers, security.protocol, sasl.*, "
                                         "ksql.streams.ssl.*)")
    parser.add_argument("--schema-registry-url", metavar="URL",
                        help="a Confluent-compatible schema registry for AVRO (default: the embedded one, "
                             "served here under /subjects and /schemas)")
    parser.add_argument("--add-user", metavar="NAME", help="add a user (password read from standard input) "
                                                          "to --users-file, then exit")
    parser.add_argument("--users-file", help="with --add-user: the users file to write")
    parser.add_argument("--allow-plaintext-auth", action="store_true",
                        help="serve basic authentication without TLS on an address other machines can "
                             "reach (passwords cross the network in clear text)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper,
                        help="the server's own messages from this level on (default INFO: requests, queries "
                             "starting, failing, moving; also ksql.log.level in --config)")
    args = parser.parse_args(argv)
    if args.add_user:
        if not args.users_file:
            parser.error("--add-user needs --users-file")
        password = sys.stdin.readline().rstrip("\n")
        with open(args.users_file, "a", encoding="utf-8") as f:
            f.write(f"{args.add_user}:{hash_password(password)}\n")
        return 0
    properties = read_properties(args.config) if args.config else {}
    if args.bootstrap_servers:
        properties["bootstrap.servers"] = args.bootstrap_servers
    if args.schema_registry_url:
        properties["ksql.schema.registry.url"] = args.schema_registry_url
    users = load_users(properties["authentication.users.file"]) if properties.get("authentication.users.file") else {}
    listener = _listener(properties.get("listeners", ""))
    if listener is not None:  # ksqlDB's listeners=http://host:port (the first one); flags win
        args.host = args.host or listener[0]
        args.port = args.port or listener[1]
    args.port = args.port or 8088
    host = args.host or ("0.0.0.0" if users else "127.0.0.1")
    scheme = "https" if properties.get("ssl.certificate.location") else "http"
    if users and scheme == "http" and host not in LOOPBACK and not args.allow_plaintext_auth:
        print(f"ksql server: not starting: users are configured, but without TLS their passwords would cross "
              f"the network in clear text on {host}:{args.port}. Configure TLS (ssl.certificate.location and "
              f"ssl.key.location), listen on 127.0.0.1 (--host), or pass --allow-plaintext-auth.",
              file=sys.stderr)
        return 2
    _log_to_stderr(args.log_level or str(properties.get("ksql.log.level", "INFO")).upper())
    settings = engine_properties(properties)
    settings.setdefault("ksql.advertised.listener", f"{scheme}://{host}:{args.port}")
    engine = KsqlEngine(args.data_dir, settings)
    server = KsqlServer(engine, users, max_login_failures=int(properties.get(
        "authentication.max.failures", MAX_FAILURES)))
    try:
        asyncio.run(_serve(server, host, args.port, properties.get("ssl.certificate.location"),
                           properties.get("ssl.key.location")))
    finally:
        server.state = "TERMINATED"
        engine.close()
    return 0


def _store_lags(lags: dict) -> dict:
    """A state store's lag by partition, as ksqlDB reports it: how far the query has read the
    partitions that feed the store (the repartition topic's when it has one) against their ends."""
    by_partition = {}
    for (topic, partition), (position, end) in sorted(lags.items(), key=lambda item: "repartition" in item[0][0]):
        by_partition[str(partition)] = {"currentOffsetPosition": position, "endOffsetPosition": end,
                                        "offsetLag": max(end - position, 0)}
    return {"lagByPartition": dict(sorted(by_partition.items(), key=lambda item: int(item[0]))),
            "size": len(by_partition)}


def _host_port(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _listener(listeners: str) -> tuple[str, int] | None:
    """(host, port) of the first of ksqlDB's `listeners` URLs; None when there is none."""
    from urllib.parse import urlsplit

    first = listeners.split(",")[0].strip()
    if not first:
        return None
    try:
        url = urlsplit(first)
        port = url.port
    except ValueError:
        raise SystemExit(f"ksql server: listeners={listeners!r} is not a URL like http://0.0.0.0:8088") from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise SystemExit(f"ksql server: listeners={listeners!r} is not a URL like http://0.0.0.0:8088")
    return url.hostname, port or 8088


def _log_to_stderr(level: str = "INFO") -> None:
    """The server's own messages from `level` on (at INFO: requests, queries starting, failing,
    taking partitions over), other libraries' at WARNING, in ksqlDB's layout: [time] LEVEL
    message (logger)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(message)s (%(name)s)"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    ours = logging.getLogger("ksql")  # (silent as a library: see ksql/__init__.py)
    ours.addHandler(handler)
    ours.setLevel(getattr(logging, level, logging.INFO))


def _one_frame_per_write() -> None:
    """Over HTTP/2, hypercorn queues a response's writes and sends what has queued up as one
    DATA frame, so rows written close together shared a frame. ksqlDB sends each write on its
    own, and clients read a frame as one row: here each write waits until it has gone out."""
    try:
        from hypercorn.protocol.events import Body, Data
        from hypercorn.protocol.h2 import H2Protocol, StreamBuffer
    except ImportError:  # a hypercorn laid out otherwise: rows may then share frames, nothing worse
        return
    if getattr(H2Protocol, "_ksql_frame_per_write", False) or not hasattr(StreamBuffer, "drain"):
        return
    queued = H2Protocol.stream_send

    async def stream_send(self, event) -> None:
        await queued(self, event)
        if isinstance(event, (Body, Data)):
            buffer = self.stream_buffers.get(event.stream_id)
            if buffer is not None:
                await buffer.drain()

    H2Protocol.stream_send = stream_send
    H2Protocol._ksql_frame_per_write = True


async def _serve(server: KsqlServer, host: str, port: int, certfile: str | None = None,
                 keyfile: str | None = None) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    _one_frame_per_write()
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = None
    if certfile and keyfile:
        config.certfile, config.keyfile = certfile, keyfile
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    scheme = "https" if certfile and keyfile else "http"
    note = " (basic authentication)" if server.users else \
        (" (local connections only: no users are configured)" if host in ("127.0.0.1", "localhost") else
         " (WARNING: no users are configured, anyone who can connect can run statements)")
    print(f"ksql server {__version__} listening on {scheme}://{host}:{port}{note}", flush=True)
    serving = asyncio.ensure_future(serve(server.app(), config, shutdown_trigger=stop.wait))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([serving, stopped], return_when=asyncio.FIRST_COMPLETED)
    for stream in list(server.queries.values()):
        stream.close()  # push queries end, so their responses can finish
    try:
        await asyncio.wait_for(asyncio.shield(serving), SHUTDOWN_SECONDS)
    except asyncio.TimeoutError:
        # a client that stopped reading keeps its response from finishing: stop anyway
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)


# ---------------------------------------------------------------- users


class _BasicAuth:
    """ASGI middleware: HTTP basic authentication against the users file (health checks are
    open). The check itself runs off the event loop (ksql/auth.py)."""

    OPEN_PATHS = ("/healthcheck", "/chc/live", "/chc/ready")

    def __init__(self, app, server: KsqlServer):
        self.app = app
        self.server = server

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or not self.server.users or scope["path"] in self.OPEN_PATHS:
            return await self.app(scope, receive, send)
        authenticator = self.server.authenticator
        address = (scope.get("client") or ("", 0))[0]
        wait = authenticator.retry_after(address)
        if scope["type"] == "websocket":  # the handshake carries the same header; refused: closed
            given = credentials(dict(scope.get("headers") or []).get(b"authorization", b""))
            if not wait and given is not None and await authenticator.check(*given, address):
                return await self.app(scope, receive, send)
            await receive()  # the connect message
            return await send({"type": "websocket.close", "code": 1008})
        if wait:
            response = _error(42900, f"Too many failed logins from {address}: try again in {wait} seconds.")
            response.headers["Retry-After"] = str(wait)
            return await response(scope, receive, send)
        given = credentials(dict(scope.get("headers") or []).get(b"authorization", b""))
        if given is not None and await authenticator.check(*given, address):
            return await self.app(scope, receive, send)
        if given is None and dict(scope.get("headers") or []).get(b"authorization"):
            authenticator.record_failure(address)  # an unreadable header counts as a failure too
        response = _error(40100, "Unauthorized")
        response.headers["WWW-Authenticate"] = 'Basic realm="ksql"'
        await response(scope, receive, send)
