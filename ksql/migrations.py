"""`ksql-migrations` (also `ksql migrations`): ksqlDB's migrations tool. A project is a folder
with `ksql-migrations.properties` and `migrations/V<6 digits>__<Description>.sql` files; the
tool applies the files in version order to a server over its REST API, and keeps what it
applied in a metadata stream (MIGRATION_EVENTS) and the table of each version's latest event
(MIGRATION_SCHEMA_VERSIONS), so any server, ksqlDB's or ours, knows its schema version.

The commands, options, files, metadata and messages are those of ksqlDB's tool
(operate-and-deploy/migrations-tool.md, reference/migrations-tool-configuration.md)."""
from __future__ import annotations

import argparse
import hashlib
import re
import ssl
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from ksql.client import KsqlClient, KsqlClientError
from ksql.errors import KsqlError
from ksql.parser import ast, define_variable, parse_statement, split_statements, undefine_variable
from ksql.parser.scripts import substitute_variables

CONFIG_FILE = "ksql-migrations.properties"
MIGRATIONS_DIR = "migrations"
NONE = "<none>"
CURRENT = "CURRENT"
NOT_APPLICABLE = "N/A"
COLUMNS = ("VERSION_KEY", "VERSION", "NAME", "STATE", "CHECKSUM", "STARTED_ON", "COMPLETED_ON", "PREVIOUS",
           "ERROR_REASON")
# statements a migration may not hold (they read rather than change the server)
_UNSUPPORTED = ("DESCRIBE", "EXPLAIN", "SELECT", "PRINT", "SHOW", "LIST")
_FILE_NAME = re.compile(r"V([0-9]{6})__(.*)\.sql")
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
# how long a written metadata event may take to reach the metadata table
_SETTLE_SECONDS = 30.0

_DEFAULTS = {
    "ksql.migrations.stream.name": "MIGRATION_EVENTS",
    "ksql.migrations.table.name": "MIGRATION_SCHEMA_VERSIONS",
    "ksql.migrations.topic.replicas": "1",
    "ssl.alpn": "false",
    "ssl.verify.host": "true",
}
# what `new-project` writes below the server's URL, commented out (the reference page's settings)
_OPTIONAL_SETTINGS = [
    ("Migrations metadata", ["ksql.migrations.stream.name", "ksql.migrations.table.name",
                             "ksql.migrations.stream.topic.name", "ksql.migrations.table.topic.name",
                             "ksql.migrations.topic.replicas"]),
    ("TLS (used when ksql.server.url is https)", ["ssl.truststore.location", "ssl.truststore.password",
                                                  "ssl.keystore.location", "ssl.keystore.password",
                                                  "ssl.key.password", "ssl.key.alias", "ssl.alpn",
                                                  "ssl.verify.host"]),
    ("HTTP basic authentication", ["ksql.auth.basic.username", "ksql.auth.basic.password"]),
    ("The migrations folder, if not 'migrations' beside this file", ["ksql.migrations.dir.override"]),
]


class MigrationError(Exception):
    """A command cannot go on: its message is printed and the tool exits with 1."""


# ---------------------------------------------------------------- configuration

def read_properties(path: Path) -> dict[str, str]:
    """A Java properties file's `key=value` (or `key: value`) lines; `#` and `!` start comments."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"([^=:\s]+)\s*[=:]?\s*(.*)", line)
        if match:
            values[match.group(1)] = match.group(2).strip()
    return values


@dataclass
class Config:
    path: Path
    values: dict[str, str]

    @classmethod
    def load(cls, path: str | None) -> "Config":
        if not path:
            raise MigrationError("Config file path must be specified with --config-file (-c).")
        file = Path(path)
        if not file.is_file():
            raise MigrationError(f"Config file does not exist: {path}")
        config = cls(file, read_properties(file))
        if not config.get("ksql.server.url"):
            raise MigrationError(f"Missing required property: ksql.server.url (in {path})")
        return config

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value not in (None, "") else _DEFAULTS.get(name)

    @property
    def stream(self) -> str:
        return self.get("ksql.migrations.stream.name")

    @property
    def table(self) -> str:
        return self.get("ksql.migrations.table.name")

    def topic(self, kind: str, service_id: str) -> str:
        """The metadata stream's or table's topic: set, or `<service id>ksql_<name>`."""
        name = self.stream if kind == "stream" else self.table
        return self.get(f"ksql.migrations.{kind}.topic.name") or f"{service_id}ksql_{name}"

    @property
    def migrations_dir(self) -> Path:
        override = self.get("ksql.migrations.dir.override")
        return Path(override) if override else self.path.resolve().parent / MIGRATIONS_DIR


def connect(config: Config, headers: dict | None = None) -> KsqlClient:
    """A client for the configured server: basic authentication and TLS as the file says."""
    url = config.get("ksql.server.url")
    verify = True
    if url.lower().startswith("https"):
        verify = ssl.create_default_context(cafile=config.get("ssl.truststore.location"))
        if config.get("ssl.verify.host").lower() == "false":
            verify.check_hostname = False
        keystore = config.get("ssl.keystore.location")
        if keystore:  # a PEM file with the client's certificate chain and key
            verify.load_cert_chain(keystore, password=config.get("ssl.key.password")
                                   or config.get("ssl.keystore.password"))
        if config.get("ssl.alpn").lower() == "true":
            verify.set_alpn_protocols(["http/1.1"])
    return KsqlClient(url, config.get("ksql.auth.basic.username"), config.get("ksql.auth.basic.password"),
                      verify=verify, headers=headers)


# ---------------------------------------------------------------- migration files

@dataclass(frozen=True)
class MigrationFile:
    version: int
    name: str
    path: Path

    def checksum(self) -> str:
        """The MD5 of the file's bytes, in hex: what the metadata keeps to notice a file that changed."""
        return hashlib.md5(self.path.read_bytes()).hexdigest()


def migration_files(directory: Path) -> list[MigrationFile]:
    """The project's migration files, by version."""
    if not directory.is_dir():
        raise MigrationError(f"{directory} is not a directory.")
    found: dict[int, MigrationFile] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        match = _FILE_NAME.fullmatch(path.name)
        if not match:
            raise MigrationError(f"File path does not match expected pattern V<six digit number>__<name>.sql: "
                                 f"{path.name}")
        version = int(match.group(1))
        if version == 0:
            raise MigrationError(f"Version number must be positive - found {path.name}")
        if version in found:
            raise MigrationError(f"Found multiple migration files for version {version}")
        found[version] = MigrationFile(version, match.group(2).replace("_", " "), path)
    return [found[v] for v in sorted(found)]


def file_for(version: int, directory: Path) -> MigrationFile | None:
    return next((f for f in migration_files(directory) if f.version == version), None)


# ---------------------------------------------------------------- the metadata on the server

def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Metadata:
    """The migrations stream and table on the server."""

    def __init__(self, client: KsqlClient, config: Config):
        self.client = client
        self.config = config

    def exists(self) -> tuple[bool, bool]:
        """Whether the metadata stream and the metadata table exist."""
        names = set()
        for statement in ("LIST STREAMS;", "LIST TABLES;"):
            for entity in self.client.ksql(statement):
                names |= {s["name"].upper() for s in entity.get("streams", []) + entity.get("tables", [])}
        return self.config.stream.upper() in names, self.config.table.upper() in names

    def require(self) -> None:
        if not self.exists()[1]:
            raise MigrationError(f"Migrations metadata table {self.config.table} does not exist. Run "
                                 "`ksql-migrations initialize-metadata` first.")

    def row(self, key: str) -> dict | None:
        """The latest event of a version (or of CURRENT), as {column: value}, or None."""
        sql = f"SELECT * FROM {self.config.table} WHERE version_key = {_quoted(key)};"
        try:
            metadata, rows = self.client.stream(sql)
            rows = list(rows)
        except KsqlError as error:
            raise MigrationError(f"Could not query {self.config.table}: {error}") from None
        if not rows:
            return None
        return {name.upper(): value for name, value in zip(metadata["columnNames"], rows[0])}

    def write(self, key: str, migration: MigrationFile, state: str, started: str, completed: str,
              previous: str, error: str | None = None) -> None:
        """Add an event for one key, then wait until the table shows it."""
        values = [key, str(migration.version), migration.name, state, migration.checksum(), started, completed,
                  previous, error or NOT_APPLICABLE]
        acks = self.client.insert(self.config.stream, [dict(zip(COLUMNS, values))])
        failed = [a for a in acks if a.get("status") != "ok"]
        if failed:
            raise MigrationError(f"Failed to write to {self.config.stream}: {failed[0].get('message', failed[0])}")
        deadline = time.monotonic() + _SETTLE_SECONDS
        while time.monotonic() < deadline:
            row = self.row(key)
            if row and row["STATE"] == state and row["VERSION"] == str(migration.version) \
                    and row["STARTED_ON"] == started:
                return
            time.sleep(0.05)
        raise MigrationError(f"The event for version {migration.version} ({state}) did not reach "
                             f"{self.config.table} within {_SETTLE_SECONDS:.0f} s.")

    def current(self) -> str:
        row = self.row(CURRENT)
        return row["VERSION"] if row else NONE

    def info(self, version: str) -> dict:
        row = self.row(version)
        if row is None:
            raise MigrationError(f"Failed to query state for migration with version {version}: no such migration "
                                 "is present in the migrations metadata table")
        return row

    def latest_migrated(self, refuse_running: bool = True) -> str:
        """The newest version whose migration completed: CURRENT's, or the one before it when
        CURRENT failed (or, unless refused, is still RUNNING)."""
        current = self.current()
        if current == NONE:
            return NONE
        info = self.info(current)
        if info["STATE"] == "MIGRATED":
            return current
        if info["STATE"] == "RUNNING" and refuse_running:
            raise MigrationError(f"Migration version {current} has status RUNNING: another apply is running, or "
                                 "one was stopped. If none is running, mark it ERROR (see the migrations tool's "
                                 "troubleshooting).")
        previous = info["PREVIOUS"]
        if previous == NONE:
            return NONE
        _check_migrated(previous, self.info(previous), current)
        return previous


def _check_migrated(version: str, info: dict, next_version: str) -> None:
    if info["STATE"] != "MIGRATED":
        raise MigrationError(f"Discovered version with previous version that does not have status MIGRATED. "
                             f"Version: {next_version}. Previous version: {version}. Previous version status: "
                             f"{info['STATE']}")


def validate_applied(metadata: Metadata, version: str, directory: Path) -> None:
    """From `version` back to the first migration applied, each one MIGRATED and its file
    unchanged since (the checksum kept in the metadata)."""
    files = {f.version: f for f in migration_files(directory)}
    next_version = None
    while version != NONE:
        info = metadata.info(version)
        if next_version is not None:
            _check_migrated(version, info, next_version)
        elif info["STATE"] != "MIGRATED":
            raise MigrationError(f"Migration version {version} has status {info['STATE']}, not MIGRATED.")
        local = files.get(int(version))
        if local is None:
            raise MigrationError(f"No migration file with version {version} exists.")
        if local.checksum() != info["CHECKSUM"]:
            raise MigrationError(f"Migration version {version} does not match its file: the metadata has checksum "
                                 f"{info['CHECKSUM']}, {local.path} has {local.checksum()}.")
        next_version, version = version, info["PREVIOUS"]


# ---------------------------------------------------------------- the statements of a file

@dataclass(frozen=True)
class Command:
    text: str  # with variables substituted
    statement: ast.Statement


def file_commands(content: str, variables: dict[str, str]) -> list[Command]:
    """A migration file's statements, checked before any of them runs; DEFINE and UNDEFINE
    apply, in order, to the statements after them (only in this file)."""
    variables = dict(variables)
    commands = []
    for piece in split_statements(content):
        text = piece.text.strip()
        words = _COMMENT.sub(" ", text).replace(";", " ").split()
        if not words:  # only comments
            continue
        first = words[0].upper()
        if first in _UNSUPPORTED:
            raise MigrationError(f"'{first}' statements are not supported.")
        if first == "RUN" and len(words) > 1 and words[1].upper() == "SCRIPT":
            raise MigrationError("'RUN SCRIPT' statements are not supported.")
        text = substitute_variables(text, variables)
        try:
            statement = parse_statement(text)
        except KsqlError as error:
            raise MigrationError(f"Failed to parse the statement. Statement: {text}. Reason: {error}") from None
        if isinstance(statement, ast.DefineVariable):
            define_variable(variables, statement.name, statement.value)
        elif isinstance(statement, ast.UndefineVariable):
            undefine_variable(variables, statement.name)
        commands.append(Command(text, statement))
    return commands


def run_commands(client: KsqlClient, commands: list[Command]) -> None:
    """Send a file's statements one by one; SET and UNSET hold for the rest of the file."""
    properties: dict[str, str] = {}
    for command in commands:
        statement = command.statement
        if isinstance(statement, ast.SetProperty):
            properties[statement.name] = statement.value
        elif isinstance(statement, ast.UnsetProperty):
            properties.pop(statement.name, None)
        elif not isinstance(statement, (ast.DefineVariable, ast.UndefineVariable)):
            try:
                client.ksql(command.text, properties)
            except KsqlError as error:
                raise MigrationError(f"Failed to execute sql: {command.text}. Error: {error}") from None


# ---------------------------------------------------------------- commands

def new_project(directory: str, url: str) -> None:
    root = Path(directory)
    config = root / CONFIG_FILE
    if config.exists():
        raise MigrationError(f"Cannot create a new project: {config} already exists.")
    print(f"Creating new migrations project at {root}")
    for folder in (root, root / MIGRATIONS_DIR):
        if not folder.is_dir():
            print(f"Creating directory: {folder}")
            folder.mkdir(parents=True)
    print(f"Creating file: {config}")
    lines = [f"ksql.server.url={url}"]
    print(f"Writing to config file: {lines[0]}")
    for title, names in _OPTIONAL_SETTINGS:
        lines += ["", f"# {title}"] + [f"# {name}={_DEFAULTS.get(name, '')}" for name in names]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("Migrations project directory created successfully")


def initialize(config: Config) -> None:
    client = connect(config)
    try:
        service_id = client.info().get("ksqlServiceId", "default_")
    except KsqlError as error:
        raise MigrationError(f"Could not reach the ksqlDB server at {client.url}: {error}") from None
    replicas = config.get("ksql.migrations.topic.replicas")
    stream = (f"CREATE STREAM {config.stream} (\n  version_key  STRING KEY,\n  version      STRING,\n"
              "  name         STRING,\n  state        STRING,\n  checksum     STRING,\n"
              "  started_on   STRING,\n  completed_on STRING,\n  previous     STRING,\n"
              f"  error_reason STRING\n) WITH (\n  KAFKA_TOPIC='{config.topic('stream', service_id)}',\n"
              f"  VALUE_FORMAT='JSON',\n  PARTITIONS=1,\n  REPLICAS={replicas}\n);")
    latest = ",\n".join(f"    LATEST_BY_OFFSET({c}) AS {c}" for c in COLUMNS[1:])
    table = (f"CREATE TABLE {config.table}\n  WITH (KAFKA_TOPIC='{config.topic('table', service_id)}')\n"
             f"  AS SELECT\n    version_key,\n{latest}\n  FROM {config.stream}\n  GROUP BY version_key;")
    print("Initializing migrations metadata")
    for kind, name, statement in (("stream", config.stream, stream), ("table", config.table, table)):
        print(f"Creating {kind}: {name}")
        try:
            client.ksql(statement, {"auto.offset.reset": "earliest"})
        except KsqlError as error:
            raise MigrationError(f"Failed to create {kind} {name}: {error}") from None
    print("Migrations metadata initialized successfully")


def create(config: Config, description: str, version: int | None) -> None:
    directory = config.migrations_dir
    files = migration_files(directory)
    if version is None:
        version = files[-1].version + 1 if files else 1
    if not 0 < version <= 999_999:
        raise MigrationError(f"Invalid version: {version}. A version is a number from 1 to 999999.")
    if any(f.version == version for f in files):
        raise MigrationError(f"Found existing migration file for version {version}")
    path = directory / f"V{version:06d}__{description.replace(' ', '_')}.sql"
    print(f"Creating migration file: {path}")
    path.write_text("", encoding="utf-8")
    print("Migration file successfully created")


def apply(config: Config, args) -> None:
    headers = read_headers(args.headers) if args.headers else None
    client = connect(config, headers)
    metadata = Metadata(client, config)
    metadata.require()
    if args.dry_run:
        print("This is a dry run. No ksqlDB statements will be submitted to the ksqlDB server.")
    print("Validating current migration state before applying new migrations")
    previous = metadata.latest_migrated()
    validate_applied(metadata, previous, config.migrations_dir)
    minimum = 1 if previous == NONE else int(previous) + 1
    print("Loading migration files")
    files = [f for f in migration_files(config.migrations_dir) if f.version >= minimum]
    if args.version is not None:
        chosen = file_for(args.version, config.migrations_dir)
        if chosen is None:
            raise MigrationError(f"No migration file with version {args.version} exists.")
        if chosen.version < minimum:
            raise MigrationError(f"Version {args.version} is not newer than the latest applied version "
                                 f"{previous}.")
        files = [chosen]
    elif args.until is not None:
        files = [f for f in files if f.version <= args.until]
    elif args.next:
        if not files:
            raise MigrationError("No eligible migrations found.")
        files = files[:1]
    print(f"{len(files)} migration file(s) loaded." if files else "No eligible migrations found.")
    variables = dict(args.define or [])
    for migration in files:
        print(f"Applying migration version {migration.version}: {migration.name}")
        content = migration.path.read_text(encoding="utf-8")
        print(f"{migration.path} contents:\n{content}")
        if args.dry_run:
            print("Dry run complete. No migrations were actually applied.")
            continue
        if previous != NONE:
            _check_migrated(previous, metadata.info(previous), str(migration.version))
        started = str(_now())
        for key in (CURRENT, str(migration.version)):
            metadata.write(key, migration, "RUNNING", started, "", previous)
        try:
            run_commands(client, file_commands(content, variables))
        except MigrationError as error:
            try:
                for key in (CURRENT, str(migration.version)):
                    metadata.write(key, migration, "ERROR", started, str(_now()), previous, str(error))
            except (MigrationError, KsqlError, httpx.HTTPError) as unrecorded:  # the first error is the one to show
                raise MigrationError(f"{error}\n(and the ERROR state could not be recorded: {unrecorded})") from None
            raise
        completed = str(_now())
        for key in (CURRENT, str(migration.version)):
            metadata.write(key, migration, "MIGRATED", started, completed, previous)
        print("Successfully migrated")
        previous = str(migration.version)


def info(config: Config) -> None:
    metadata = Metadata(connect(config), config)
    metadata.require()
    current = metadata.current()
    print(f"Current migration version: {current}")
    files = migration_files(config.migrations_dir)
    if not files:
        print("No migrations files found")
        return
    header = ["Version", "Name", "State", "Previous Version", "Started On", "Completed On", "Error Reason"]
    rows = []
    for migration in files:
        row = metadata.row(str(migration.version))
        if row is None:
            rows.append([str(migration.version), migration.name, "PENDING"] + [NOT_APPLICABLE] * 4)
        else:
            rows.append([str(migration.version), row["NAME"], row["STATE"], row["PREVIOUS"],
                         _shown_time(row["STARTED_ON"]), _shown_time(row["COMPLETED_ON"]),
                         row["ERROR_REASON"] or NOT_APPLICABLE])
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = "-" * (sum(widths) + 3 * len(widths) + 1)

    def shown(cells):
        return " " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " "

    print("\n".join([line, shown(header), line] + [shown(r) for r in rows] + [line]))


def validate(config: Config) -> None:
    metadata = Metadata(connect(config), config)
    metadata.require()
    validate_applied(metadata, metadata.latest_migrated(refuse_running=False), config.migrations_dir)
    print("Successfully validated checksums for migrations that have already been applied")


def destroy(config: Config) -> None:
    client = connect(config)
    print("Cleaning migrations metadata stream and table from ksqlDB server")
    stream_exists, table_exists = Metadata(client, config).exists()
    if not stream_exists and not table_exists:
        print("No migrations metadata found")
        return
    if table_exists:
        queries = [q["id"] for entity in client.ksql("SHOW QUERIES;") for q in entity.get("queries", [])
                   if config.table.upper() in {s.upper() for s in q.get("sinks", [])}]
        if queries:
            print(f"Found {len(queries)} {'query' if len(queries) == 1 else 'queries'} writing to the metadata "
                  f"table. Query ID: {', '.join(queries)}")
        for query in queries:
            print(f"Terminating query with ID: {query}")
            client.ksql(f"TERMINATE {query};")
        print(f"Dropping migrations metadata table: {config.table}")
        client.ksql(f"DROP TABLE {config.table} DELETE TOPIC;")
    if stream_exists:
        print(f"Dropping migrations metadata stream: {config.stream}")
        client.ksql(f"DROP STREAM {config.stream} DELETE TOPIC;")
    print("Migrations metadata cleaned successfully")


def read_headers(path: str) -> dict[str, str]:
    """A headers file: one `Name: value` or `Name=value` per line."""
    headers = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = re.match(r"\s*([^:=\s]+)\s*[:=]\s*(.*)", line)
        if not match:
            raise MigrationError(f"Invalid line {number} in the headers file {path}: expected 'Name: value' or "
                                 "'Name=value'.")
        headers[match.group(1)] = match.group(2).strip()
    return headers


def _now() -> int:
    return int(time.time() * 1000)


def _shown_time(millis: str | None) -> str:
    """A stored time (epoch milliseconds) as the tool shows it, in this machine's time zone."""
    if not millis or not millis.isdigit():
        return NOT_APPLICABLE
    moment = datetime.fromtimestamp(int(millis) / 1000).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} " + moment.strftime("%Z")


# ---------------------------------------------------------------- the command line

_COMMANDS = {
    "apply": "Migrates the metadata schema to a new schema version.",
    "create": "Creates a blank migration file with the specified description, which can then be populated with "
              "ksqlDB statements and applied as the next schema version.",
    "destroy-metadata": "Destroys all ksqlDB server resources related to migrations, including the migrations "
                        "metadata stream and table and their underlying Kafka topics. WARNING: this is not "
                        "reversible!",
    "help": "Display help information",
    "info": "Displays information about the current and available migrations.",
    "initialize-metadata": "Initializes the migrations schema metadata (ksqlDB stream and table) on the ksqlDB "
                           "server.",
    "new-project": "Creates a new migrations project directory structure and config file.",
    "validate": "Validates applied migrations against local files.",
}


def _variable(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    return name, value


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(prog="ksql-migrations", description="Manage a ksqlDB server's metadata schema "
                                     "with migration files.")
    parser.add_argument("-c", "--config-file", help="the project's ksql-migrations.properties")
    commands = parser.add_subparsers(dest="command", metavar="<command>")
    sub = {name: commands.add_parser(name, help=text, description=text) for name, text in _COMMANDS.items()}
    sub["new-project"].add_argument("project_path")
    sub["new-project"].add_argument("server_url")
    sub["create"].add_argument("-v", "--version", type=int)
    sub["create"].add_argument("description")
    target = sub["apply"].add_mutually_exclusive_group(required=True)
    target.add_argument("-a", "--all", action="store_true", help="apply every migration not applied yet")
    target.add_argument("-n", "--next", action="store_true", help="apply the next migration")
    target.add_argument("-u", "--until", type=int, help="apply the migrations up to this version")
    target.add_argument("-v", "--version", type=int, help="apply this version only")
    sub["apply"].add_argument("-d", "--define", type=_variable, action="append", metavar="NAME=VALUE",
                              help="a variable for every file, as DEFINE at its start")
    sub["apply"].add_argument("--headers", help="a file of request headers, one 'Name: value' per line")
    sub["apply"].add_argument("--dry-run", action="store_true", help="show what would be applied, send nothing")
    sub["help"].add_argument("topic", nargs="?")
    return parser, sub


def main(argv: list[str] | None = None) -> int:
    parser, sub = _parser()
    args = parser.parse_args(argv)
    if args.command in (None, "help"):
        (sub[args.topic] if getattr(args, "topic", None) in sub else parser).print_help()
        return 0
    began = time.monotonic()
    try:
        if args.command == "new-project":
            new_project(args.project_path, args.server_url)
        else:
            config = Config.load(args.config_file)
            {"initialize-metadata": initialize, "info": info, "validate": validate,
             "destroy-metadata": destroy}.get(args.command, lambda c: None)(config)
            if args.command == "create":
                create(config, args.description, args.version)
            elif args.command == "apply":
                apply(config, args)
    except (MigrationError, KsqlClientError, KsqlError, OSError) as error:
        print(str(error), file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        print(f"Failed to reach the ksqlDB server: {error}", file=sys.stderr)
        return 1
    finally:
        print(f"Execution time: {time.monotonic() - began:.4f} seconds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
