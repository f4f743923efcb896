"""The `ksql` command: the REPL (default), `ksql run FILE.sql`, `ksql test ...`, `ksql server`,
`ksql migrations ...` (also installed as `ksql-migrations`), `ksql repair --data-dir D`."""
from __future__ import annotations

import argparse
import sys
import tempfile

from ksql import __version__
from ksql.errors import KsqlError
from ksql.repl.script import run_script, without_shell_commands


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KsqlError as error:  # the engine could not start (data folder in use, cluster unreachable)
        print(f"ksql: {error}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":
        return _run_command(argv[1:])
    if argv and argv[0] == "server":
        from ksql.server import main as server_main

        return server_main(argv[1:])
    if argv and argv[0] == "test":
        from ksql.testing.cli import main as test_main

        return test_main(argv[1:])
    if argv and argv[0] == "migrations":
        from ksql.migrations import main as migrations_main

        return migrations_main(argv[1:])
    if argv and argv[0] == "repair":
        return _repair_command(argv[1:])
    return _repl_command(argv)


def _repair_command(argv: list[str]) -> int:
    """`ksql repair --data-dir D`: cut the damaged bytes out of the embedded log's partitions
    that start-up refused (a checksum that fails before the last durable write)."""
    from ksql.runtime.log.embedded import EmbeddedLog

    parser = argparse.ArgumentParser(prog="ksql repair", description=(
        "Cut damaged frames out of the embedded log. Start-up refuses a partition whose file holds "
        "bytes that are not whole frames with good checksums where durable data was; this removes "
        "those bytes (the records in them are lost; the frames after them stay, with their offsets) "
        "so the partition can be read and written again. Stop every ksql process using the data "
        "directory first."))
    parser.add_argument("--data-dir", required=True, help="the embedded log's data directory")
    parser.add_argument("--dry-run", action="store_true", help="only list the damaged partitions")
    args = parser.parse_args(argv)
    log = EmbeddedLog(args.data_dir)
    try:
        damaged = log.damaged()
        if not damaged:
            print(f"No damaged partitions in {args.data_dir}.")
            return 0
        if args.dry_run:
            for reason in damaged:
                print(reason)
            return 1
        for line in log.repair():
            print(line)
        return 0
    finally:
        log.close()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="where the embedded log keeps its data")
    parser.add_argument("-d", "--define", action="append", default=[], metavar="NAME=VALUE",
                        help="define a variable for ${NAME} substitution (repeatable)")
    parser.add_argument("--output", choices=["TABULAR", "JSON"], default="TABULAR", type=str.upper)
    parser.add_argument("--set", action="append", default=[], metavar="PROPERTY=VALUE",
                        help="set a property, as SET 'PROPERTY'='VALUE' would (repeatable)")
    parser.add_argument("--extension-dir", help="a folder of Python files defining functions (see ksql.udf)")
    parser.add_argument("--bootstrap-servers", metavar="HOST:PORT,...",
                        help="run on this Kafka cluster instead of the embedded log")
    parser.add_argument("--config", help="a properties file of ksql.* properties and Kafka client settings "
                                         "(bootstrap.servers, security.protocol, sasl.*, ksql.streams.ssl.*)")
    parser.add_argument("--schema-registry-url", metavar="URL",
                        help="a Confluent-compatible schema registry for AVRO (default: one embedded in the log)")


def _repl_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ksql", description="Streaming SQL: the interactive shell. "
                                     "Subcommands: `ksql run FILE.sql`, `ksql test ...`, `ksql server`, `ksql repair`.")
    _common(parser)
    parser.add_argument("-f", "--file", help="run the statements of a file and exit")
    parser.add_argument("-e", "--execute", help="run these statements and exit")
    parser.add_argument("--version", action="version", version=f"ksql {__version__}")
    parser.add_argument("--server", help="connect to a running `ksql server` (or ksqlDB) at this URL")
    parser.add_argument("-u", "--user", help="user name for the server's basic authentication")
    parser.add_argument("-p", "--password", help="password for the server's basic authentication")
    parser.add_argument("url", nargs="?", help="same as --server URL")
    args = parser.parse_args(argv)
    url = args.server or args.url
    if url:
        from ksql.client import RemoteEngine

        from ksql.client import KsqlClientError

        try:
            engine = RemoteEngine(url, args.user, args.password)
        except KsqlClientError as error:  # it answered, but no
            if error.status == 401:
                who = f"user '{args.user}'" if args.user else "no user (pass -u NAME -p PASSWORD)"
                print(f"ksql: the server at {url} refused the login of {who}: wrong user name or password.",
                      file=sys.stderr)
            else:
                print(f"ksql: the server at {url} answered {error.status}: {error}", file=sys.stderr)
            return 2
        except Exception as error:  # noqa: BLE001 - any connection failure gets one clear line
            print(f"ksql: cannot reach a server at {url}: {error}", file=sys.stderr)
            return 2
        _session_settings(engine, args)
    else:
        engine = _engine(args.data_dir or "ksql-data", args)
    try:
        if args.execute is not None:
            return run_script(engine, args.execute, "<command line>", sys.stdout, sys.stderr, args.output)
        if args.file is not None:
            return _run_file(engine, args.file, args.output)
        if not sys.stdin.isatty():
            return run_script(engine, without_shell_commands(sys.stdin.read()), "<stdin>", sys.stdout,
                              sys.stderr, args.output)
        from ksql.repl.app import Repl

        def connect(other_url: str):
            from ksql.client import RemoteEngine

            return RemoteEngine(other_url, args.user, args.password)

        shell = Repl(engine, url or args.data_dir or "ksql-data", output=args.output, remote=bool(url),
                     connect=connect)
        try:
            return shell.run()
        finally:
            engine = shell.engine  # `server URL` may have switched engines
    finally:
        engine.close()


def _run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ksql run", description="Run a SQL script; stop at the first error.")
    _common(parser)
    parser.add_argument("file", help="the .sql script")
    args = parser.parse_args(argv)
    if args.data_dir:
        engine = _engine(args.data_dir, args)
        try:
            return _run_file(engine, args.file, args.output)
        finally:
            engine.close()
    with tempfile.TemporaryDirectory(prefix="ksql-run-") as data_dir:
        engine = _engine(data_dir, args)
        try:
            return _run_file(engine, args.file, args.output)
        finally:
            engine.close()


def _engine(data_dir: str, args):
    from ksql.engine import KsqlEngine

    from ksql.properties import engine_properties, read_properties

    properties = engine_properties(read_properties(args.config)) if args.config else {}
    if args.extension_dir:
        properties["ksql.extension.dir"] = args.extension_dir
    if args.bootstrap_servers:
        properties["bootstrap.servers"] = args.bootstrap_servers
    if args.schema_registry_url:
        properties["ksql.schema.registry.url"] = args.schema_registry_url
    engine = KsqlEngine(data_dir, properties)
    _session_settings(engine, args)
    return engine


def _session_settings(engine, args) -> None:
    """--define and --set, as DEFINE and SET would (local or remote)."""
    for item in args.define:
        name, _, value = item.partition("=")
        engine.session.variables[name.strip()] = value
    for item in args.set:
        name, _, value = item.partition("=")
        engine.session.properties[name.strip()] = value


def _run_file(engine, path: str, output: str) -> int:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        print(f"ksql: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    return run_script(engine, text, path, sys.stdout, sys.stderr, output)


if __name__ == "__main__":
    sys.exit(main())

