# from developer-guide/ksqldb-reference/run-script.md
"""RUN SCRIPT from the shell, on the embedded engine and against a server: the statements of
the file run (CREATE, CREATE AS SELECT, INSERT, SET, DROP), queries are refused before any
statement runs, and a server runs only the text the shell sends, never a file of its own."""
from __future__ import annotations

import subprocess

import httpx
import pytest

from processes import KSQL, Server

SCRIPT = """\
CREATE STREAM orders (id INT KEY, item STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
SET 'auto.offset.reset' = 'earliest';
INSERT INTO orders (id, item) VALUES (1, 'apple');
INSERT INTO orders (id, item) VALUES (2, 'pear');
CREATE STREAM loud AS SELECT id, UCASE(item) AS item FROM orders;
CREATE TABLE counts AS SELECT item, COUNT(*) AS n FROM loud GROUP BY item;
CREATE STREAM scratch (id INT KEY) WITH (kafka_topic='scratch', value_format='JSON', partitions=1);
DROP STREAM scratch;
"""


def ksql(tmp_path, *args):
    return subprocess.run(KSQL + list(args), cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.fixture
def scripts(tmp_path):
    (tmp_path / "setup.sql").write_text(SCRIPT)
    (tmp_path / "with_query.sql").write_text(
        "CREATE STREAM never (id INT KEY) WITH (kafka_topic='never', value_format='JSON', partitions=1);\n"
        "SELECT * FROM orders EMIT CHANGES;\n")
    return tmp_path


def test_run_script_on_the_embedded_engine(scripts):
    done = ksql(scripts, "--data-dir", "d", "-e", "RUN SCRIPT 'setup.sql'; SELECT * FROM loud EMIT CHANGES LIMIT 2;")
    assert done.returncode == 0, done.stderr
    assert "Source `SCRATCH` (topic: scratch) was dropped." in done.stdout  # the last statement's answer
    assert "APPLE" in done.stdout and "PEAR" in done.stdout  # (SET in the script holds after it)
    listed = ksql(scripts, "--data-dir", "d", "-e", "SHOW STREAMS;").stdout
    assert " LOUD " in listed and "SCRATCH" not in listed

    refused = ksql(scripts, "--data-dir", "d", "-e", "RUN SCRIPT 'with_query.sql'; SHOW STREAMS;")
    assert refused.returncode == 1
    assert refused.stderr.startswith("<command line>:1:1: The following statement types should be issued to the "
                                     "websocket endpoint '/query':\n\t* PRINT\n\t* SELECT\n")
    assert "NEVER" not in ksql(scripts, "--data-dir", "d", "-e", "SHOW STREAMS;").stdout  # nothing of it ran


def test_run_script_against_a_server(scripts):
    server = Server(scripts / "data")
    try:
        done = ksql(scripts, "--server", server.url, "-e", "RUN SCRIPT 'setup.sql';")
        assert done.returncode == 0, done.stderr
        rows = httpx.post(server.url + "/query", timeout=30, json={
            "ksql": "SELECT * FROM counts;", "streamsProperties": {}}).json()
        assert sorted(r["row"]["columns"] for r in rows if "row" in r) == [["APPLE", 1], ["PEAR", 1]]
        refused = ksql(scripts, "--server", server.url, "-e", "RUN SCRIPT 'with_query.sql';")
        assert refused.returncode == 1 and "should be issued to the websocket endpoint '/query'" in refused.stderr
        assert "NEVER" not in server.ksql("SHOW STREAMS;").text
        # the server's "Line: L, Col: C" counts in the one statement it got; the shell, in its script
        unresolved = ksql(scripts, "--server", server.url, "-e",
                          "CREATE STREAM pos (id INT KEY, v INT) WITH (kafka_topic='pos', value_format='JSON', "
                          "partitions=1);\nCREATE STREAM pos2 AS SELECT id,\n  nope FROM pos;")
        assert unresolved.returncode == 1
        assert "<command line>:3:3: SELECT column 'NOPE' cannot be resolved.\n" in unresolved.stderr

        # as ksqlDB's own CLI sends it: the script's text rides in a property
        sent = server.ksql("RUN SCRIPT '/some/script.sql';", **{
            "ksql.run.script.statements": "CREATE STREAM sent (id INT KEY) WITH (kafka_topic='sent', "
                                          "value_format='JSON', partitions=1);"})
        assert sent.status_code == 200 and sent.json()[0]["commandStatus"]["message"] == "Stream created"
        # without it the server refuses, rather than read a file of its own
        missing = server.ksql("RUN SCRIPT '/etc/hostname';")
        assert missing.status_code == 400
        assert missing.json()["message"] == "Request is missing script content"
    finally:
        server.stop()
