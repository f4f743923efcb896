"""`ksql server` started from the command line: its options and properties file, logging, the
listeners, and hypercorn serving the app (HTTP/1.1 and h2c, TLS when given)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys


from ksql import __version__
from ksql.auth import MAX_FAILURES, hash_password, load_users
from ksql.engine import KsqlEngine
from ksql.properties import engine_properties, read_properties
from ksql.server.app import KsqlServer
from ksql.server.protocol import LOOPBACK, SHUTDOWN_SECONDS


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
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            runner.run(_serve(server, host, args.port, properties.get("ssl.certificate.location"),
                              properties.get("ssl.key.location")))
    finally:
        server.state = "TERMINATED"
        engine.close()
    return 0


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


def _event_loop_factory():
    """uvloop's event loop where it is installed: it takes about a tenth off what a short request
    costs the server (a key lookup over HTTP); None is asyncio's own loop."""
    try:
        import uvloop
    except ImportError:  # (not built for Windows)
        return None
    return uvloop.new_event_loop


def _log_to_stderr(level: str = "INFO") -> None:
    """The server's own messages from `level` on (at INFO: requests, queries starting, failing,
    taking partitions over), other libraries' at WARNING, in ksqlDB's layout: [time] LEVEL
    message (logger)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(message)s (%(name)s)"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    # the layout shows no process: not asking for its id saves a system call per request's line
    logging.logProcesses = logging.logMultiprocessing = False
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


async def _serve(server, host: str, port: int, certfile: str | None = None,
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
