"""`ksql server`: the engine behind ksqlDB's REST API (starlette on hypercorn, HTTP/1.1 and h2c).

Statements go to POST /ksql, queries to POST /query (ksqlDB's chunked JSON array) and POST
/query-stream (one JSON line per row, or a JSON array with Accept: application/json), rows to
POST /inserts-stream. Entities and error bodies carry ksqlDB's `@type` and `error_code`.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
import time

import orjson
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from ksql.auth import MAX_FAILURES, Authenticator
from ksql.engine import KsqlEngine, Session, StatementFailed
from ksql.errors import KsqlError
from ksql.registry_api import registry_routes
from ksql.results import (DescribeResult, DescriptionsResult, EntityResult, ListResult, RowStream, StatusResult,
                          TextResult, TombstoneRow, entity_json)
from ksql.parser import split_statements
from ksql.server.console import console_routes, page, wants_page
from ksql.server.middleware import AccessLog, BasicAuth, BodyLimit, ContentType, Timing
from ksql.server.protocol import (BAD_REQUEST, BAD_STATEMENT, COMMAND_WAIT_SECONDS, DELIMITED,
                                  FORWARDED_HEADER, IMMUTABLE_PROPERTIES, KSQL_JSON,
                                  MAX_PUSH_QUERIES, MAX_REQUEST_BYTES, MAX_STATEMENTS, NOT_FOUND,
                                  QUERY_ENDPOINT, SERVER_ERROR, SERVICE_UNAVAILABLE, BadRequest,
                                  dumps, error_response, Invalid, row_error, TooLong)
from ksql.server.metrics import PullQueryMetrics, metrics_registry
from ksql.server.status import StatusEndpoints
from ksql.server.values import row_values, schema_of


class KsqlServer(StatusEndpoints):
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
        self.pull_metrics = PullQueryMetrics()
        self.registry, self.latency, self.forwarded = metrics_registry(self)

    def app(self) -> Starlette:
        handlers = {
            404: lambda request, exc: error_response(NOT_FOUND, f"No such endpoint: {request.method} {request.url.path}"),
            405: lambda request, exc: error_response(40500, f"Method {request.method} not allowed on {request.url.path}"),
            500: lambda request, exc: error_response(SERVER_ERROR, f"Internal error: {exc}"),
        }
        return Starlette(exception_handlers=handlers, routes=[
            Route("/ksql", self.ksql, methods=["POST"]),
            Route("/query", self.query, methods=["POST"]),
            Route("/query-stream", self.query_stream, methods=["POST"]),
            Route("/close-query", self.close_query, methods=["POST"]),
            Route("/inserts-stream", self.inserts_stream, methods=["POST"]),
            Route("/info", self.info, methods=["GET"]),
            Route("/", self.root, methods=["GET"]),
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
            *console_routes(self.engine),
        ], middleware=[Middleware(AccessLog, server=self), Middleware(ContentType, server=self),
                       Middleware(Timing, server=self),
                       Middleware(BasicAuth, server=self),
                       Middleware(BodyLimit, server=self)])

    async def root(self, request: Request) -> Response:
        """The console for a browser; the server's info for an API client (as /info)."""
        return page() if wants_page(request) else await self.info(request)

    # -- request helpers

    async def _body(self, request: Request) -> dict:
        raw = await request.body()
        try:
            # orjson refuses what json accepts and cannot answer with: unpaired surrogates,
            # nesting past 1024 levels, NaN
            body = orjson.loads(raw or b"{}")
        except ValueError as error:
            raise BadRequest(f"Invalid JSON in request: {error}") from None
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        return body

    def _session(self, body: dict, properties_field: str) -> Session:
        properties = body.get(properties_field) or {}
        variables = body.get("sessionVariables") or {}
        if not isinstance(properties, dict) or not isinstance(variables, dict):
            raise BadRequest(f"'{properties_field}' and 'sessionVariables' must be JSON objects.")
        refused = self._prohibited(properties)
        if refused:
            raise BadRequest(refused)
        return Session(properties={k: str(v) for k, v in properties.items()},
                       variables={k: str(v) for k, v in variables.items()}, remote=True)

    # -- /ksql

    async def ksql(self, request: Request) -> Response:
        try:
            body = await self._body(request)
            session = self._session(body, "streamsProperties")
        except BadRequest as error:
            return error_response(BAD_REQUEST, str(error))
        text = body.get("ksql")
        if not isinstance(text, str) or not text.strip():
            return error_response(BAD_REQUEST, "The request must have a 'ksql' field with the statements to run.")
        waited = body.get("commandSequenceNumber")
        if waited is not None:  # run after the commands up to that one (another server's too)
            if not isinstance(waited, int) or isinstance(waited, bool):
                return error_response(BAD_REQUEST, "commandSequenceNumber must be a whole number.")
            if not await run_in_threadpool(self.engine.wait_for_command, waited, COMMAND_WAIT_SECONDS):
                return error_response(SERVICE_UNAVAILABLE, f"Timeout while waiting for command sequence number of {waited}."
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
            return error_response(BAD_REQUEST, f"The request has {len(pieces):,} statements: at most {MAX_STATEMENTS:,} "
                                       f"may be sent in one request.")
        for piece in pieces:
            try:
                results = self.engine.execute(piece.text, session, at=(piece.line, piece.column))
            except StatementFailed as failure:
                return error_response(_error_code(failure.error), str(failure.error), piece.text, entities)
            except KsqlError as error:
                return error_response(_error_code(error), str(error), piece.text, entities)
            for result in results:
                if isinstance(result, RowStream):
                    result.close()
                    return error_response(QUERY_ENDPOINT, "The following statement types should be issued to the "
                                  "websocket endpoint '/query':\n\t* PRINT\n\t* SELECT", piece.text, entities)
                entities.append(self._entity(result))
        return Response(dumps(entities), media_type=KSQL_JSON)

    def _entity(self, result) -> dict:
        if isinstance(result, StatusResult):
            return {"@type": "currentStatus", "statementText": result.statement,
                    "commandId": result.command_id,
                    "commandStatus": {"status": "SUCCESS", "message": result.message, "queryId": result.query_id},
                    "commandSequenceNumber": result.sequence, "warnings": []}
        if isinstance(result, ListResult):
            field = {"kafka_topics": "topics", "kafka_topics_extended": "topics", "function_names": "functions",
                     "type_list": "types"}.get(
                result.kind, result.kind)
            return {"@type": result.kind, "statementText": result.statement, field: result.items, **result.extra,
                    "warnings": []}
        if isinstance(result, DescriptionsResult):
            return {"@type": "source_descriptions", "statementText": result.statement,
                    "sourceDescriptions": [d.item for d in result.descriptions], "warnings": []}
        if isinstance(result, DescribeResult):
            return {"@type": result.kind, "statementText": result.statement, "sourceDescription": result.item,
                    "warnings": []}
        if isinstance(result, TextResult):
            return {"@type": result.kind, "statementText": result.statement, "text": result.text,
                    **result.item, "warnings": []}
        if isinstance(result, EntityResult):
            return entity_json(result)
        return {"@type": "warning_entity", "statementText": "", "message": str(result)}

    # -- queries

    def _start_query(self, text: str, session: Session) -> RowStream:
        results = self.engine.execute(text, session)
        if len(results) != 1 or not isinstance(results[0], RowStream):
            raise BadRequest("The request must hold exactly one SELECT or PRINT statement.")
        stream = results[0]
        if stream.push:  # each runs until closed, holding state and rows for its client
            limit = int(self.engine.properties.get("ksql.max.push.queries", MAX_PUSH_QUERIES))
            with self.lock:
                running = sum(1 for s in self.queries.values() if s.push)
                if running >= limit:
                    stream.close()
                    raise BadRequest(
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
            return error_response(40600, f"The rows of a query are sent as JSON (application/json, "
                                 f"application/vnd.ksql.v1+json or {DELIMITED}), not as {accept}.")
        body = {}
        began = time.monotonic()
        failed = True
        try:
            body = await self._body(request)
            session = self._session(body, properties_field)
            text = str(body.get(sql_field, ""))
            # a key lookup is answered here on the event loop when that cannot wait on anything:
            # handing it to a thread costs more than the lookup, and the two contend for the GIL
            stream = self.engine.quick_pull(text, session)
            if stream is not None:
                self.queries[stream.query_id] = stream
            else:
                stream = await run_in_threadpool(self._start_query, text, session)
            failed = False
            return stream
        except BadRequest as error:
            return error_response(BAD_REQUEST, str(error))
        except StatementFailed as failure:
            return error_response(BAD_STATEMENT, str(failure.error), failure.statement)
        except KsqlError as error:
            return error_response(BAD_STATEMENT, str(error), str(body.get(sql_field, "")))
        finally:
            if _is_pull(body.get(sql_field)):  # (the rows of a pull query are all found by now)
                self.pull_metrics.record(time.monotonic() - began, error=failed)

    async def _rows(self, request: Request, stream: RowStream):
        """A query's rows as they come. Push queries are polled without holding a thread, and end
        when the client goes away."""
        try:
            if stream.complete:  # every row in memory already: no thread to wait on
                for row in stream.rows():
                    yield row
                return
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
            self._closed(stream)

    def _closed(self, stream: RowStream) -> None:
        stream.close()
        self.queries.pop(stream.query_id, None)

    async def _forward(self, request: Request, field: str) -> Response | None:
        """A key lookup on a table another server owns goes to that server (several servers on
        Kafka); None: answer here, as also when the owner cannot be reached."""
        if not self.engine.log.shared or request.headers.get(FORWARDED_HEADER):
            return None  # already forwarded once (never bounce), or one server on its own log
        try:
            sql = (await self._body(request)).get(field)
        except BadRequest:
            return None
        if not isinstance(sql, str):
            return None
        owner = await run_in_threadpool(self.engine.pull_owner, sql)
        if owner is None:
            return None
        import httpx

        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept", "authorization")}
        began = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.post(owner + request.url.path, content=await request.body(),
                                           headers={**headers, FORWARDED_HEADER: "1"})
        except httpx.HTTPError:
            return None
        self.forwarded.inc()
        self.pull_metrics.record(time.monotonic() - began, remote=True, error=answer.status_code >= 400)
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

        header = b"[" + dumps({"header": {"queryId": stream.query_id, "schema": stream.schema()}})

        def row_entry(row) -> bytes:
            if stream.is_print:
                return b",\n" + dumps({"row": {"columns": [row]}})
            entry = {"columns": row_values(row, stream.column_types)}
            if isinstance(row, TombstoneRow):
                entry["tombstone"] = True  # a table row was deleted
            return b",\n" + dumps({"row": entry})

        def final(count: int) -> bytes:
            limited = count and stream.column_names and count == _limit(stream)
            return b",\n" + dumps({"finalMessage": "Limit Reached" if limited else "Query Completed"}) + b"]\n"

        if stream.complete:  # a pull query on a table: every row is here, one response body
            try:
                entries = [row_entry(row) for row in stream.rows()]
            finally:
                self._closed(stream)
            return Response(b"".join([header, *entries, final(len(entries))]), media_type=KSQL_JSON)

        async def chunks():
            yield header
            count = 0
            async for row in self._rows(request, stream):
                count += 1
                yield row_entry(row)
            yield final(count)

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
            yield (b"[" if as_array else b"") + dumps(metadata) + (b"" if as_array else b"\n")
            async for row in self._rows(request, stream):
                values = [row] if stream.is_print else row_values(row, stream.column_types)
                yield (b"," + dumps(values)) if as_array else dumps(values) + b"\n"
            if as_array:
                yield b"]"

        return StreamingResponse(lines(), media_type="application/json" if as_array else DELIMITED)

    def _print_lines(self, request: Request, stream: RowStream, as_array: bool) -> Response:
        """PRINT on /query-stream: the records as plain text lines, no header (ksqlDB offers
        only the delimited content type for it)."""
        if as_array:
            stream.close()
            self.queries.pop(stream.query_id, None)
            return error_response(40600, f"PRINT answers with {DELIMITED} only: the Accept header asked for "
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
                raise BadRequest(f"Received invalid api version: {params.get('version')}")
            try:
                body = json.loads(params.get("request") or "")
            except ValueError as error:
                raise BadRequest(f"Error parsing request: {error}") from None
            if not isinstance(body, dict) or not str(body.get("ksql") or "").strip():
                raise BadRequest('Error parsing request: "ksql" field of "request" must be populated')
            session = self._session(body, "streamsProperties")
            stream = await run_in_threadpool(self._start_query, str(body["ksql"]), session)
        except (KsqlError, BadRequest) as error:
            failure = error.error if isinstance(error, StatementFailed) else error
            await websocket.close(1003, str(failure)[:120])  # a close reason has at most 123 bytes
            return
        try:
            await websocket.send_text(dumps([{"name": name, "schema": schema_of(kind)} for name, kind in
                                              zip(stream.column_names, stream.column_types)]).decode())
            while True:
                if stream.poll is None:  # pull queries and PRINT: all there is, read off the event loop
                    rows, done = await run_in_threadpool(lambda: list(stream.rows())), True
                else:
                    rows, done = await run_in_threadpool(stream.poll)
                for row in rows:
                    value = [row] if stream.is_print else row_values(row, stream.column_types)
                    await websocket.send_text(dumps({"row": {"columns": value}}).decode())
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
        except BadRequest as error:
            return error_response(BAD_REQUEST, str(error))
        stream = self.queries.pop(str(body.get("queryId")), None)
        if stream is None:
            return error_response(BAD_REQUEST, f"No query with id {body.get('queryId')}")
        # it stops at once (and no longer counts against ksql.max.push.queries); letting go of
        # its consumer can take a while on Kafka, which neither this client (a shell's Ctrl-C
        # waits for the answer) nor the server's other requests wait for
        threading.Thread(target=stream.close, name=f"close-{body.get('queryId')}", daemon=True).start()
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
            return error_response(BAD_REQUEST, "The first JSON object must name the target stream: {\"target\": \"S\"}")
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
            return ((b"," if seq else b"") + dumps(ack)) if as_array else dumps(ack) + b"\n"

        async def acks():
            seq = 0
            if as_array:
                yield b"["
            async for lines in all_batches():  # the rows that arrived together go in together
                if isinstance(lines, TooLong):  # nothing after it can be read as rows: the end
                    yield ack_bytes(row_error(f"The row is larger than the limit of {self.max_request_bytes} "
                                               f"bytes; no more rows are read from this request.", 41300), seq)
                    break
                rows = []
                for line in lines:
                    try:
                        rows.append(json.loads(line))
                    except (ValueError, RecursionError) as error:
                        rows.append(Invalid(f"Invalid JSON row: {error}"))
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
        than the request limit ends the stream (with TooLong, not held in memory)."""
        pending = b""
        async for chunk in request.stream():
            pending += chunk
            *complete, pending = pending.split(b"\n")
            too_long = next((i for i, line in enumerate(complete) if len(line) > self.max_request_bytes), None)
            lines = [line for line in complete[:too_long] if line.strip()]
            if lines:
                yield lines
            if too_long is not None or len(pending) > self.max_request_bytes:
                yield TooLong()
                return
        if pending.strip():
            yield [pending]

    def _insert_rows(self, target: str, rows: list) -> list[dict]:
        acks = []
        for row in rows:
            try:
                if isinstance(row, Invalid) or not isinstance(row, dict):
                    raise KsqlError(f"Invalid JSON row: {row}")
                self.engine.insert_row(target, row)
                acks.append({"status": "ok"})
            except Exception as error:  # noqa: BLE001 - a bad row gets an error ack, the rest go on
                acks.append(row_error(str(error)))
        return acks

    # -- property overrides

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


class _DuplexResponse(StreamingResponse):
    """A streamed response written while the request body is still being read (the acks of
    /inserts-stream): it must not take the request's messages to watch for a disconnect."""

    async def __call__(self, scope, receive, send):
        await self.stream_response(send)


_SELECT = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*SELECT\b", re.IGNORECASE | re.DOTALL)
_EMIT_CHANGES = re.compile(r"\bEMIT\s+CHANGES\b", re.IGNORECASE)


def _is_pull(sql) -> bool:
    """Whether a query's text is a pull query (a SELECT without EMIT CHANGES), for its metrics."""
    return isinstance(sql, str) and bool(_SELECT.match(sql)) and not _EMIT_CHANGES.search(sql)


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


def _limit(stream: RowStream):
    return getattr(stream, "limit", None)


def _error_code(error) -> int:
    """The error code (and so the HTTP status) of a statement's failure: its own where it has
    one (a connector that exists: 40900, as ksqlDB answers), else 40001."""
    return getattr(error, "error_code", None) or BAD_STATEMENT
