# from reference/migrations-tool-configuration.md
"""`ksql-migrations` against a real `ksql server` subprocess, as the migrations tool's pages
describe it (operate-and-deploy/migrations-tool.md, reference/migrations-tool-configuration.md):
a project's files applied in version order, the metadata stream and table that record them,
info, validate, a failed migration, and the clean-up."""
from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest

from processes import KSQL, Server

from ksql.migrations import MigrationError, file_commands, read_headers, read_properties


def migrations(tmp_path, *args):
    """`ksql migrations ARGS` run as users run it: (exit code, stdout, stderr)."""
    done = subprocess.run(KSQL + ["migrations", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def rows(server, sql):
    response = httpx.post(server.url + "/query", timeout=30, json={
        "ksql": sql, "streamsProperties": {"auto.offset.reset": "earliest"}})
    return [line["row"]["columns"] for line in response.json() if "row" in line]


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path / "data")
    yield running
    running.stop()


def test_a_project_from_creation_to_clean_up(tmp_path, server):
    code, out, _ = migrations(tmp_path, "new-project", "proj", server.url)
    assert code == 0
    assert out.splitlines()[:6] == [
        "Creating new migrations project at proj", "Creating directory: proj", "Creating directory: proj/migrations",
        "Creating file: proj/ksql-migrations.properties", f"Writing to config file: ksql.server.url={server.url}",
        "Migrations project directory created successfully"]
    assert re.fullmatch(r"Execution time: \d+\.\d{4} seconds", out.splitlines()[-1])
    properties = tmp_path / "proj" / "ksql-migrations.properties"
    # the URL set, the other settings present but commented out
    assert read_properties(properties) == {"ksql.server.url": server.url}
    assert "# ksql.migrations.table.name=MIGRATION_SCHEMA_VERSIONS" in properties.read_text()
    config = ["-c", str(properties)]

    code, out, _ = migrations(tmp_path, *config, "initialize-metadata")
    assert code == 0 and out.splitlines()[:4] == [
        "Initializing migrations metadata", "Creating stream: MIGRATION_EVENTS",
        "Creating table: MIGRATION_SCHEMA_VERSIONS", "Migrations metadata initialized successfully"]
    topics = {t["name"] for t in server.ksql("SHOW TOPICS;").json()[0]["topics"]}
    # topics named <service id>ksql_<name> (the service id's default is "default_")
    assert {"default_ksql_MIGRATION_EVENTS", "default_ksql_MIGRATION_SCHEMA_VERSIONS"} <= topics

    assert migrations(tmp_path, *config, "create", "Initial_setup")[1].startswith(
        f"Creating migration file: {tmp_path / 'proj/migrations/V000001__Initial_setup.sql'}\n"
        "Migration file successfully created\n")
    assert migrations(tmp_path, *config, "create", "Add users")[0] == 0  # spaces become underscores
    assert migrations(tmp_path, *config, "create", "-v", "5", "Later")[0] == 0
    folder = tmp_path / "proj" / "migrations"
    assert sorted(p.name for p in folder.iterdir()) == [
        "V000001__Initial_setup.sql", "V000002__Add_users.sql", "V000005__Later.sql"]
    (folder / "V000005__Later.sql").unlink()
    (folder / "V000001__Initial_setup.sql").write_text(
        "CREATE STREAM pageviews (id INT KEY, page STRING) WITH (kafka_topic='pageviews', value_format='JSON',"
        " partitions=1);\nINSERT INTO pageviews (id, page) VALUES (1, '${start}');\n")
    (folder / "V000002__Add_users.sql").write_text(
        "SET 'auto.offset.reset' = 'earliest';\n"
        "CREATE TABLE users (user_id VARCHAR PRIMARY KEY, email VARCHAR) WITH (KAFKA_TOPIC='users', FORMAT='JSON',"
        " PARTITIONS=1);\n")

    # a dry run shows the file and sends nothing
    code, out, _ = migrations(tmp_path, *config, "apply", "--next", "--dry-run", "-d", "start=home")
    assert code == 0
    assert out.splitlines()[:6] == [
        "This is a dry run. No ksqlDB statements will be submitted to the ksqlDB server.",
        "Validating current migration state before applying new migrations", "Loading migration files",
        "1 migration file(s) loaded.", "Applying migration version 1: Initial setup",
        f"{folder / 'V000001__Initial_setup.sql'} contents:"]
    assert "Dry run complete. No migrations were actually applied." in out
    assert "PAGEVIEWS" not in server.ksql("SHOW STREAMS;").text

    code, out, _ = migrations(tmp_path, *config, "apply", "--next", "-d", "start=home")
    assert code == 0 and "Successfully migrated" in out
    # the variable given with -d was substituted
    assert rows(server, "SELECT * FROM pageviews EMIT CHANGES LIMIT 1;") == [[1, "home"]]

    code, out, _ = migrations(tmp_path, *config, "info")
    lines = out.splitlines()
    assert lines[0] == "Current migration version: 1"
    cells = [[cell.strip() for cell in line.split("|")] for line in lines if "|" in line]
    assert cells[0] == ["Version", "Name", "State", "Previous Version", "Started On", "Completed On",
                        "Error Reason"]
    assert cells[1][:4] == ["1", "Initial setup", "MIGRATED", "<none>"] and cells[1][6] == "N/A"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+", cells[1][4])
    assert cells[2] == ["2", "Add users", "PENDING", "N/A", "N/A", "N/A", "N/A"]

    code, out, _ = migrations(tmp_path, *config, "apply", "--all")
    assert code == 0 and "Applying migration version 2: Add users" in out
    assert "USERS" in server.ksql("SHOW TABLES;").text
    # the metadata is an ordinary table: the current version under the key CURRENT
    assert rows(server, "SELECT version, state, previous FROM MIGRATION_SCHEMA_VERSIONS "
                        "WHERE version_key = 'CURRENT';") == [["2", "MIGRATED", "1"]]
    code, out, _ = migrations(tmp_path, *config, "apply", "--all")
    assert code == 0 and "No eligible migrations found." in out

    assert migrations(tmp_path, *config, "validate")[1].startswith(
        "Successfully validated checksums for migrations that have already been applied")
    # an applied file that changed fails validation, and the apply after it
    applied = (folder / "V000001__Initial_setup.sql").read_text()
    (folder / "V000001__Initial_setup.sql").write_text(applied + "-- edited\n")
    code, _, err = migrations(tmp_path, *config, "validate")
    assert code == 1 and "Migration version 1 does not match its file" in err
    assert migrations(tmp_path, *config, "apply", "--all")[0] == 1
    (folder / "V000001__Initial_setup.sql").write_text(applied)

    # a statement the server refuses: the version is recorded as ERROR with the reason
    (folder / "V000003__Broken.sql").write_text(
        "CREATE STREAM clicks (id INT KEY) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);\n"
        "CREATE STREAM bad AS SELECT nope FROM clicks;\n")
    code, out, err = migrations(tmp_path, *config, "apply", "--all")
    assert code == 1
    assert "Failed to execute sql: CREATE STREAM bad AS SELECT nope FROM clicks;. Error: " in err
    cells = [[c.strip() for c in line.split("|")] for line in migrations(tmp_path, *config, "info")[1].splitlines()
             if "|" in line]
    assert cells[3][:4] == ["3", "Broken", "ERROR", "2"]
    assert cells[3][6].startswith("Failed to execute sql: CREATE STREAM bad")
    # fixed, it is applied again on top of version 2
    (folder / "V000003__Broken.sql").write_text(
        "CREATE STREAM IF NOT EXISTS clicks (id INT KEY) WITH (kafka_topic='clicks', value_format='JSON', "
        "partitions=1);\n")
    code, out, _ = migrations(tmp_path, *config, "apply", "--all")
    assert code == 0 and "Applying migration version 3: Broken" in out
    assert migrations(tmp_path, *config, "info")[1].startswith("Current migration version: 3\n")

    code, out, _ = migrations(tmp_path, *config, "destroy-metadata")
    assert code == 0
    assert out.splitlines()[:6] == [
        "Cleaning migrations metadata stream and table from ksqlDB server",
        "Found 1 query writing to the metadata table. Query ID: CTAS_MIGRATION_SCHEMA_VERSIONS_1",
        "Terminating query with ID: CTAS_MIGRATION_SCHEMA_VERSIONS_1",
        "Dropping migrations metadata table: MIGRATION_SCHEMA_VERSIONS",
        "Dropping migrations metadata stream: MIGRATION_EVENTS", "Migrations metadata cleaned successfully"]
    listed = server.ksql("SHOW STREAMS; SHOW TABLES; SHOW TOPICS;").text
    assert "MIGRATION_" not in listed and "PAGEVIEWS" in listed  # what the migrations made stays
    code, _, err = migrations(tmp_path, *config, "info")
    assert code == 1 and "Run `ksql-migrations initialize-metadata` first." in err


def test_settings_from_the_configuration_reference(tmp_path, server):
    """Metadata names and topics from the file, a migrations folder elsewhere, and the errors
    of a missing file or setting."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    properties = tmp_path / "ksql-migrations.properties"
    properties.write_text(f"ksql.server.url={server.url}\nksql.migrations.stream.name=EVENTS_OF_MIGRATIONS\n"
                          "ksql.migrations.table.name=VERSIONS\nksql.migrations.table.topic.name=versions_topic\n"
                          f"ksql.migrations.dir.override={other}\n")
    config = ["-c", str(properties)]
    code, out, _ = migrations(tmp_path, *config, "initialize-metadata")
    assert code == 0 and "Creating stream: EVENTS_OF_MIGRATIONS" in out and "Creating table: VERSIONS" in out
    topics = {t["name"] for t in server.ksql("SHOW TOPICS;").json()[0]["topics"]}
    assert {"default_ksql_EVENTS_OF_MIGRATIONS", "versions_topic"} <= topics
    assert migrations(tmp_path, *config, "create", "First")[0] == 0
    assert (other / "V000001__First.sql").is_file()
    (other / "V000001__First.sql").write_text("SHOW STREAMS;\n")
    code, _, err = migrations(tmp_path, *config, "apply", "-a")
    assert code == 1 and "'SHOW' statements are not supported." in err

    code, _, err = migrations(tmp_path, "-c", str(tmp_path / "missing.properties"), "info")
    assert code == 1 and "Config file does not exist" in err
    (tmp_path / "empty.properties").write_text("# nothing\n")
    code, _, err = migrations(tmp_path, "-c", str(tmp_path / "empty.properties"), "info")
    assert code == 1 and "ksql.server.url" in err


def test_basic_authentication_from_the_properties_file(tmp_path):
    users = tmp_path / "users"
    subprocess.run([sys.executable, "-m", "ksql.cli", "server", "--add-user", "ann", "--users-file", str(users)],
                   input="s3cret\n", text=True, check=True, timeout=60)
    (tmp_path / "server.properties").write_text(f"authentication.users.file={users}\n")
    secured = Server(tmp_path / "data", "--config", str(tmp_path / "server.properties"))
    try:
        properties = tmp_path / "ksql-migrations.properties"
        properties.write_text(f"ksql.server.url={secured.url}\nksql.auth.basic.username=ann\n"
                              "ksql.auth.basic.password=nope\n")
        code, _, err = migrations(tmp_path, "-c", str(properties), "initialize-metadata")
        assert code == 1 and err == f"Could not reach the ksqlDB server at {secured.url}: Unauthorized\n"
        properties.write_text(properties.read_text().replace("=nope", "=s3cret"))
        assert migrations(tmp_path, "-c", str(properties), "initialize-metadata")[0] == 0
    finally:
        secured.stop()


def test_a_files_statements_are_checked_before_any_runs():
    # DEFINE holds for the statements after it in the same file; -d values come first
    commands = file_commands("DEFINE t = 'x';\nCREATE STREAM ${t} (id INT) WITH (kafka_topic='${t}', "
                             "value_format='JSON', partitions=1);\nUNDEFINE t;\n", {"t": "ignored"})
    assert commands[1].text.startswith("CREATE STREAM x (id INT) WITH (kafka_topic='x'")
    for text, first in (("DESCRIBE s;", "DESCRIBE"), ("explain q;", "EXPLAIN"), ("PRINT t;", "PRINT"),
                        ("LIST STREAMS;", "LIST"), ("  select * from s;", "SELECT")):
        with pytest.raises(MigrationError, match=f"^'{first}' statements are not supported.$"):
            file_commands(text, {})
    with pytest.raises(MigrationError, match="'RUN SCRIPT' statements are not supported."):
        file_commands("RUN SCRIPT 'x.sql';", {})
    with pytest.raises(MigrationError, match="^Failed to parse the statement. Statement: CREATE STREAMS x;"):
        file_commands("CREATE STREAM a (id INT) WITH (kafka_topic='a', value_format='JSON');\nCREATE STREAMS x;", {})


def test_a_headers_file_takes_colons_or_equals(tmp_path):
    path = tmp_path / "headers.txt"
    path.write_text("X-My-Custom-Header: abcdefg\nX-My-Other-Custom-Header=asdfgh\n\n")
    assert read_headers(str(path)) == {"X-My-Custom-Header": "abcdefg", "X-My-Other-Custom-Header": "asdfgh"}
    path.write_text("no separator here\n")
    with pytest.raises(MigrationError, match="line 1"):
        read_headers(str(path))
