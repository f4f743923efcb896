"""The ASGI layers every request passes through: ksqlDB's content type, the access log, timing,
the request-size limit and basic authentication."""
from __future__ import annotations

import logging
import time


from ksql.auth import credentials
from ksql.server.protocol import KSQL_JSON, error_response, TooLarge


ACCESS = logging.getLogger("ksql.access")
MAX_TIMED_PATHS = 100  # request paths timed each under its own label


class ContentType:
    """ASGI middleware: a client that asks for ksqlDB's versioned JSON type (Accept:
    application/vnd.ksql.v1+json) gets its JSON answers labelled so, as ksqlDB does."""

    def __init__(self, app, server):
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


class AccessLog:
    """ASGI middleware: one line per request when its response ends, in the NCSA layout Jetty
    writes for ksqlDB: address, user, time, request line, status, bytes, duration in ms. Status
    codes in ksql.logging.server.skipped.response.codes are left out."""

    def __init__(self, app, server):
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
                line = (f'{(scope.get("client") or ("-",))[0]} - {user[0] if user else "-"} '
                        f'[{time.strftime("%d/%b/%Y:%H:%M:%S %z")}] "{scope["method"]} {target} '
                        f'HTTP/{scope.get("http_version", "1.1")}" {status} {sent} "-" '
                        f'"{headers.get(b"user-agent", b"-").decode(errors="replace")}" '
                        f'{int((time.perf_counter() - started) * 1000)}')
                # a record made here: ACCESS.info would also look for the caller's source line,
                # which the layout does not show, a cost a short request notices
                ACCESS.handle(ACCESS.makeRecord(ACCESS.name, logging.INFO, __file__, 0, line, None, None))


class Timing:
    """ASGI middleware: request latency by endpoint."""

    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.histograms = {}  # path: its histogram (labels() takes a lock and builds a key per call)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        timed = False

        async def timed_send(message):
            nonlocal timed
            if message["type"] == "http.response.start" and not timed:
                timed = True
                path = scope["path"] if not scope["path"].startswith("/status/") else "/status/..."
                histogram = self.histograms.get(path)
                if histogram is None:
                    # paths are what clients send: past so many, one series holds the rest, so
                    # requests for made-up paths cannot grow the metrics without bound
                    if len(self.histograms) >= MAX_TIMED_PATHS:
                        path = "(other)"
                    histogram = self.histograms.setdefault(path, self.server.latency.labels(path))
                histogram.observe(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)


class BodyLimit:
    """Refuses request bodies larger than the server's limit (413), whether the client declares
    their length or streams them, before they are held in memory."""

    def __init__(self, app, server):
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
                    raise TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        response = error_response(41300, f"The request body is larger than the limit of {self.limit} bytes.")
        await response(scope, receive, send)


class BasicAuth:
    """ASGI middleware: HTTP basic authentication against the users file (health checks are
    open). The check itself runs off the event loop (ksql/auth.py)."""

    OPEN_PATHS = ("/healthcheck", "/chc/live", "/chc/ready")

    def __init__(self, app, server):
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
            response = error_response(42900, f"Too many failed logins from {address}: try again in {wait} seconds.")
            response.headers["Retry-After"] = str(wait)
            return await response(scope, receive, send)
        given = credentials(dict(scope.get("headers") or []).get(b"authorization", b""))
        if given is not None and await authenticator.check(*given, address):
            return await self.app(scope, receive, send)
        if given is None and dict(scope.get("headers") or []).get(b"authorization"):
            authenticator.record_failure(address)  # an unreadable header counts as a failure too
        response = error_response(40100, "Unauthorized")
        response.headers["WWW-Authenticate"] = 'Basic realm="ksql"'
        await response(scope, receive, send)
