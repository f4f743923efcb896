"""Unmodified ksqlDB clients from the npm registry against a real `ksql server`: what each call
returns must be what the client's README and ksqlDB's REST API documentation say."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import wait_for  # noqa: E402
from processes import Server  # noqa: E402

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def node_modules():
    """The clients of package-lock.json, installed once (a lock keeps parallel workers from
    installing at the same time). Outside CI a machine without node skips; in CI it must run."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if not (npm and node):
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed in CI to run the third-party ksqlDB clients")
        pytest.skip("no node/npm on this machine")
    with open(HERE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = HERE / "node_modules" / ".package-lock.json"
        if not installed.exists() or installed.stat().st_mtime < (HERE / "package-lock.json").stat().st_mtime:
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, done.stdout + done.stderr
    return node


def run_client(node: str, script: str, *args) -> dict:
    done = subprocess.run([node, str(HERE / script), *map(str, args)], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_npm_ksqldb_client(node_modules, tmp_path):
    server = Server(tmp_path / "data")
    try:
        out = run_client(node_modules, "ksqldb_client.js", server.port)
    finally:
        server.stop()
    created = out["createStream"]
    assert created["status"] == 200
    assert created["data"]["rows"][0]["commandStatus"] == {"status": "SUCCESS", "message": "Stream created",
                                                           "queryId": None}
    table = out["createTable"]["data"]["rows"][0]
    assert table["commandStatus"]["status"] == "SUCCESS" and table["commandStatus"]["queryId"] == "CTAS_FASTEST_1"
    # insertInto: one ack per row, {"status": "ok", "seq": 0} (a request of its own each)
    assert [i["data"]["rows"] for i in out["inserts"]] == [[{"status": "ok", "seq": 0}]] * 3
    # streamQuery from earliest: every row, mapped to the column names of the metadata
    push = out["push"]
    assert push["status"] == 200 and push["metadata"]["columnNames"] == ["ID", "NAME", "SPEED"]
    assert push["metadata"]["columnTypes"] == ["INTEGER", "STRING", "DOUBLE"]
    assert push["rows"] == [{"ID": 1, "NAME": "ann", "SPEED": 10.5}, {"ID": 2, "NAME": "bo", "SPEED": 7.25},
                            {"ID": 1, "NAME": "ann", "SPEED": 12}]
    # terminatePushQuery ends an open push query: 200 without an error, and the stream ends
    assert out["terminate"] == {"status": 200}
    assert out["terminated"] == {"status": 200, "firstRow": {"NAME": "ann"}}
    pull = out["pull"]
    assert pull["status"] == 200 and pull["data"]["rows"] == [{"ID": 1, "TOP": 12}]
    assert pull["data"]["metadata"]["columnNames"] == ["ID", "TOP"]
    assert {s["name"]: (s["topic"], s["valueFormat"]) for s in out["streams"]}["RIDERS"] == ("riders", "JSON")
    assert [(t["name"], t["type"]) for t in out["tables"]] == [("FASTEST", "TABLE")]
    assert [(q["id"], q["state"], q["sinks"]) for q in out["queries"]] == [("CTAS_FASTEST_1", "RUNNING",
                                                                            ["FASTEST"])]
    described = out["describe"]
    assert (described["name"], described["type"], described["topic"]) == ("RIDERS", "STREAM", "riders")
    assert [(f["name"], f["schema"]["type"], f.get("type")) for f in described["fields"]] == [
        ("ID", "INTEGER", "KEY"), ("NAME", "STRING", None), ("SPEED", "DOUBLE", None)]
    # errors come back as ksqlDB's error entity, with the HTTP status
    assert out["queryError"]["status"] == 400
    assert out["queryError"]["error"]["error_code"] == 40001 and "NOPE" in out["queryError"]["error"]["message"]
    assert out["statementError"] == {"status": 400, "error": {
        "@type": "statement_error", "error_code": 40001, "message": "Stream NOPE does not exist.",
        "statementText": "DROP STREAM nope;", "entities": []}}


def test_cubes_ksql_driver(node_modules, tmp_path):
    """Cube reads the schema, loads a pre-aggregation from the earliest offset
    ('ksql.streams.auto.offset.reset'), and streams it with the window columns when DESCRIBE
    says the table is windowed."""
    server = Server(tmp_path / "data")
    try:
        out = run_client(node_modules, "cube_ksql_driver.js", server.port)
        loaded = {}

        def pulled():
            response = httpx.post(server.url + "/query-stream", timeout=30, json={
                "sql": "SELECT status, n FROM `prod-orders_by_status`;"})
            loaded["rows"] = [json.loads(line) for line in response.text.splitlines()[1:]]
            return loaded["rows"] == [["new", 1]]

        wait_for(pulled)  # the order inserted before the table was made: read from the earliest
        dropped = run_client(node_modules, "cube_ksql_driver.js", server.port, "drop")
    finally:
        server.stop()
    assert out["connected"] and out["created"]["commandStatus"]["message"] == "Stream created"
    assert out["inserted"]["commandStatus"]["status"] == "SUCCESS"
    assert {t["tableName"] for t in out["tables"]} >= {"ORDERS"}
    assert out["schema"][""]["ORDERS"] == [{"name": "ID", "type": "INTEGER"}, {"name": "STATUS", "type": "STRING"},
                                           {"name": "AMOUNT", "type": "DOUBLE"}, {"name": "TS", "type": "TIMESTAMP"}]
    assert out["loaded"]["commandStatus"]["status"] == "SUCCESS"
    download = out["download"]
    assert download["types"] == [{"name": "STATUS", "type": "text"}, {"name": "WINDOWSTART", "type": "int"},
                                 {"name": "WINDOWEND", "type": "int"}, {"name": "N", "type": "bigint"}]
    assert download["partitions"] == 2 and download["streamingTable"] == "prod-orders_by_status"
    assert dropped["dropped"]["commandStatus"]["status"] == "SUCCESS"
    assert dropped["error"] == "ksql API error for 'DROP STREAM nope;': Stream NOPE does not exist."
