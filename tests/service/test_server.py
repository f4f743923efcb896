"""`ksql server` as a real subprocess over real HTTP, spoken to as ksqlDB clients do."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import wait_for
from processes import Server, Terminal, backend_args, free_port, websocket_messages


@pytest.fixture
def server(tmp_path, backend):
    running = Server(tmp_path / "data", *backend_args(backend))
    yield running
    if running.process.poll() is None:
        running.stop()


def test_statements_inserts_and_push_query(server):
    response = server.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', "
                           "partitions=1); CREATE STREAM upper AS SELECT id, UCASE(v) AS v FROM s;",
                           **{"auto.offset.reset": "earliest"})
    assert response.status_code == 200
    entities = response.json()
    assert [e["@type"] for e in entities] == ["currentStatus", "currentStatus"]
    assert entities[0]["commandStatus"] == {"status": "SUCCESS", "message": "Stream created", "queryId": None}
    assert entities[1]["commandStatus"]["queryId"] == "CSAS_UPPER_1"
    inserts = httpx.post(server.url + "/inserts-stream", content=b'{"target": "S"}\n{"ID": 1, "V": "a"}\n'
                                                                 b'{"ID": 2, "V": "b"}\n{"ID": "x"}\n', timeout=30)
    acks = [json.loads(line) for line in inserts.text.splitlines()]
    assert acks[:2] == [{"status": "ok", "seq": 0}, {"status": "ok", "seq": 1}]
    assert acks[2]["status"] == "error" and acks[2]["seq"] == 2
    stream = httpx.post(server.url + "/query-stream", timeout=30, json={
        "sql": "SELECT * FROM upper EMIT CHANGES LIMIT 2;", "properties": {"auto.offset.reset": "earliest"}})
    lines = [json.loads(line) for line in stream.text.splitlines()]
    assert lines[0]["columnNames"] == ["ID", "V"] and lines[0]["columnTypes"] == ["INTEGER", "STRING"]
    assert lines[1:] == [[1, "A"], [2, "B"]]


def test_query_endpoint_and_errors(server):
    server.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                "INSERT INTO s (id, v) VALUES (1, 'a');")
    response = httpx.post(server.url + "/query", timeout=30, json={
        "ksql": "SELECT * FROM s EMIT CHANGES LIMIT 1;", "streamsProperties": {"auto.offset.reset": "earliest"}})
    body = json.loads(response.text)
    assert body[0]["header"]["schema"] == "`ID` INTEGER, `V` STRING"
    assert body[1:] == [{"row": {"columns": [1, "a"]}}, {"finalMessage": "Limit Reached"}]
    printed = httpx.post(server.url + "/query-stream", timeout=30, json={"sql": "PRINT s FROM BEGINNING LIMIT 1;"})
    # (the streaming API's docs: plain text lines, and 406 for any other content type)
    assert printed.headers["content-type"] == "application/vnd.ksqlapi.delimited.v1"
    lines = printed.text.splitlines()
    # the formats PRINT takes the key and value to be (print.md), then the record
    assert lines[:2] == ["Key format: KAFKA_INT or KAFKA_STRING", "Value format: JSON or KAFKA_STRING"]
    assert len(lines) == 3 and lines[2].startswith("rowtime: ")
    assert lines[2].endswith(', key: 1, value: {"V":"a"}, partition: 0')
    refused = httpx.post(server.url + "/query-stream", timeout=30, headers={"Accept": "application/json"},
                         json={"sql": "PRINT s FROM BEGINNING LIMIT 1;"})
    assert refused.status_code == 406 and refused.json()["error_code"] == 40600
    error = server.ksql("SELECT * FROM s;")
    assert error.status_code == 400 and error.json()["error_code"] == 40002
    missing = server.ksql("DROP STREAM nope;")
    assert missing.status_code == 400
    assert missing.json() == {"@type": "statement_error", "error_code": 40001,
                              "message": "Stream NOPE does not exist.", "statementText": "DROP STREAM nope;",
                              "entities": []}
    unknown = httpx.get(server.url + "/nope")
    assert unknown.status_code == 404 and unknown.json()["error_code"] == 40400
    malformed = httpx.post(server.url + "/ksql", content=b"{not json")
    assert malformed.status_code == 400 and malformed.json()["@type"] == "generic_error"
    huge = httpx.post(server.url + "/ksql", content=b'{"ksql": "' + b" " * (17 * 1024 * 1024) + b'"}', timeout=30)
    assert huge.status_code == 413 and huge.json()["error_code"] == 41300
    syntax = server.ksql("SELEC 1;")
    assert syntax.json()["message"].startswith("line 1:1: Syntax Error at or near 'SELEC'")
    info = httpx.get(server.url + "/info").json()["KsqlServerInfo"]
    assert info["serverStatus"] == "RUNNING" and info["ksqlServiceId"] == "default_"  # ksql.service.id
    assert len(info["kafkaClusterId"]) == 22 and info == httpx.get(server.url + "/info").json()["KsqlServerInfo"]
    metrics = httpx.get(server.url + "/metrics").text
    assert 'ksql_request_seconds_count{path="/ksql"}' in metrics
    assert "ksql_push_queries_open 0.0" in metrics


def test_made_up_paths_cannot_grow_the_request_metrics_without_bound(server):
    from ksql.server.middleware import MAX_TIMED_PATHS

    with httpx.Client(base_url=server.url) as client:
        for i in range(MAX_TIMED_PATHS + 20):
            assert client.get(f"/made-up-{i}").status_code == 404
    metrics = httpx.get(server.url + "/metrics").text
    paths = set(re.findall(r'ksql_request_seconds_count\{path="([^"]*)"\}', metrics))
    assert len(paths) == MAX_TIMED_PATHS + 1 and "(other)" in paths
    assert 'ksql_request_seconds_count{path="(other)"}' in metrics


def test_http2_pull_query_and_restart_keeps_queries(server, tmp_path, backend):
    server.ksql("CREATE STREAM s (id INT KEY, n INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                "CREATE TABLE totals AS SELECT id, SUM(n) AS total FROM s GROUP BY id;",
                **{"auto.offset.reset": "earliest"})
    server.ksql("INSERT INTO s (id, n) VALUES (1, 5); INSERT INTO s (id, n) VALUES (1, 7);")
    with httpx.Client(http1=False, http2=True, timeout=30) as client:
        def pull():
            r = client.post(server.url + "/query-stream", json={"sql": "SELECT * FROM totals WHERE id = 1;"},
                            headers={"Accept": "application/json"})
            assert r.http_version == "HTTP/2"
            return r.json()[1:] == [[1, 12]] and r.json()
        wait_for(pull)
    assert server.stop() == 0
    restarted = Server(tmp_path / "data", *backend_args(backend))
    try:
        restarted.ksql("INSERT INTO s (id, n) VALUES (1, 1);")
        def total():
            r = httpx.post(restarted.url + "/query-stream", json={"sql": "SELECT * FROM totals WHERE id = 1;"},
                           timeout=30)
            return [json.loads(line) for line in r.text.splitlines()][1:] == [[1, 13]]
        wait_for(total)
        queries = restarted.ksql("SHOW QUERIES;").json()[0]["queries"]
        assert [q["id"] for q in queries] == ["CTAS_TOTALS_1"]
    finally:
        restarted.stop()


def http2_data_frames(port: int, path: str, body: dict, accept: str | None = None) -> list[bytes]:
    """The payload of each DATA frame of one HTTP/2 (prior knowledge) response, as a client's
    frame parser sees them."""
    import h2.connection
    import h2.events

    connection = h2.connection.H2Connection()
    connection.initiate_connection()
    headers = [(":method", "POST"), (":path", path), (":scheme", "http"), (":authority", f"127.0.0.1:{port}"),
               ("content-type", "application/json")] + ([("accept", accept)] if accept else [])
    connection.send_headers(1, headers)
    connection.send_data(1, json.dumps(body).encode(), end_stream=True)
    frames = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(connection.data_to_send())
        ended = False
        while not ended:
            data = sock.recv(65536)
            assert data, "the server closed the connection"
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    frames.append(event.data)
                    connection.acknowledge_received_data(event.flow_controlled_length, 1)
                ended = ended or isinstance(event, h2.events.StreamEnded)
            sock.sendall(connection.data_to_send())
    return [frame for frame in frames if frame]


def test_http2_sends_one_row_per_frame(server):
    """Clients read an HTTP/2 DATA frame as one row (ksqlDB writes each row on its own)."""
    server.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);")
    httpx.post(server.url + "/inserts-stream", timeout=30, content=b'{"target": "S"}\n' + b"".join(
        b'{"ID": %d, "V": "v%d"}\n' % (i, i) for i in range(40)))
    push = {"sql": "SELECT * FROM s EMIT CHANGES LIMIT 40;", "properties": {"auto.offset.reset": "earliest"}}
    frames = http2_data_frames(server.port, "/query-stream", push)
    assert json.loads(frames[0])["columnNames"] == ["ID", "V"]
    assert [json.loads(frame) for frame in frames[1:]] == [[i, f"v{i}"] for i in range(40)]
    assert all(frame.endswith(b"\n") and frame.count(b"\n") == 1 for frame in frames)
    pulled = http2_data_frames(server.port, "/query", {"ksql": push["sql"], "streamsProperties": push["properties"]})
    assert len(pulled) == 42  # the header, 40 rows, the final message


def test_describe_and_explain_have_ksqldbs_entity_fields(server):
    """The fields of ksqlDB's SourceDescription and QueryDescription entities (the /ksql doc
    page), read and write queries as RunningQuery objects, nested schemas, TIMESTAMP in millis."""
    server.ksql("CREATE STREAM s (id INT KEY, tags ARRAY<STRING>, pos STRUCT<x INT, y INT>, ts TIMESTAMP) "
                "WITH (kafka_topic='s', value_format='JSON', partitions=1, timestamp='ts');"
                "CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY id;"
                "INSERT INTO s (id, tags, pos, ts) VALUES (1, ARRAY['a'], STRUCT(x := 1, y := 2), "
                "'2019-07-09T01:00:00');", **{"auto.offset.reset": "earliest"})
    source = server.ksql("DESCRIBE s;").json()[0]["sourceDescription"]
    assert {"name", "readQueries", "writeQueries", "fields", "type", "timestamp", "statistics", "errorStats",
            "extended", "keyFormat", "valueFormat", "topic", "partitions", "replication", "statement",
            "windowType"} <= set(source)
    assert (source["timestamp"], source["replication"], source["windowType"]) == ("TS", 1, None)
    assert [q["id"] for q in source["readQueries"]] == ["CTAS_T_1"] and source["writeQueries"] == []
    assert source["readQueries"][0]["sinks"] == ["T"] and source["readQueries"][0]["state"] == "RUNNING"
    fields = {f["name"]: f["schema"] for f in source["fields"]}
    assert fields["TAGS"] == {"type": "ARRAY", "fields": None, "memberSchema": {
        "type": "STRING", "fields": None, "memberSchema": None}}
    assert [f["name"] for f in fields["POS"]["fields"]] == ["X", "Y"]
    table = server.ksql("DESCRIBE t EXTENDED;").json()[0]["sourceDescription"]
    assert table["windowType"] == "TUMBLING" and [q["id"] for q in table["writeQueries"]] == ["CTAS_T_1"]
    explained = server.ksql("EXPLAIN CTAS_T_1;").json()[0]
    assert explained["@type"] == "queryDescription"
    description = explained["queryDescription"]
    assert description["id"] == "CTAS_T_1" and description["sources"] == ["S"] and description["sinks"] == ["T"]
    assert [f["name"] for f in description["fields"]] == ["ID", "N"]
    assert description["executionPlan"] and "overriddenProperties" in description
    # is_valid_property (its doc page): true, or ksqlDB's refusal of a property fixed at start-up
    assert httpx.get(server.url + "/is_valid_property/auto.offset.reset").json() is True
    refused = httpx.get(server.url + "/is_valid_property/ksql.service.id")
    assert refused.status_code == 400 and refused.json() == {
        "@type": "generic_error", "error_code": 40000, "message": "One or more properties overrides set locally "
        "are prohibited by the KSQL server (use UNSET to reset their default value): [ksql.service.id]"}
    assert server.ksql("SHOW STREAMS;", **{"ksql.service.id": "x"}).status_code == 400
    protobuf = httpx.post(server.url + "/query", timeout=30, headers={"Accept": "application/vnd.ksql.v1+protobuf"},
                          json={"ksql": "SELECT * FROM t;"})
    assert protobuf.status_code == 406 and protobuf.json()["error_code"] == 40600
    function = server.ksql("DESCRIBE FUNCTION UCASE;").json()[0]
    assert function["@type"] == "describe_function" and function["name"] == "UCASE"
    assert [(a["name"], a["type"]) for a in function["functions"][0]["arguments"]] == [("s", "STRING")]
    assert {"returnType", "description", "argumentTypes"} <= set(function["functions"][0])
    rows = httpx.post(server.url + "/query-stream", timeout=30, json={
        "sql": "SELECT ts FROM s EMIT CHANGES LIMIT 1;", "properties": {"auto.offset.reset": "earliest"}})
    assert rows.text.splitlines()[1] == '["2019-07-09T01:00:00.000"]'


def test_python_client_and_remote_cli(server):
    from ksql.client import KsqlClient

    client = KsqlClient(server.url)
    try:
        assert client.info()["serverStatus"] == "RUNNING"
        entities = client.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', "
                               "value_format='JSON', partitions=1);")
        assert entities[0]["commandStatus"]["message"] == "Stream created"
        assert client.insert("S", [{"ID": 1, "V": "a"}]) == [{"status": "ok", "seq": 0}]
        rows = list(client.query("SELECT * FROM s EMIT CHANGES LIMIT 1;", {"auto.offset.reset": "earliest"}))
        assert rows == [[1, "a"]]
    finally:
        client.close()
    result = subprocess.run([sys.executable, "-m", "ksql.cli", server.url, "-e",
                             "SET 'auto.offset.reset'='earliest'; SELECT v FROM s EMIT CHANGES LIMIT 1; "
                             "SELECT * FROM nope;"], capture_output=True, text=True, timeout=60)
    assert "| a " in result.stdout
    assert result.returncode == 1
    assert "Exception while preparing statement: NOPE does not exist." in result.stderr
    # a syntax error reads as in the local shell: its place in the script, a caret under the token
    bad = "SHOW STREAMS;\n  SELEC 1;"
    remote = subprocess.run([sys.executable, "-m", "ksql.cli", server.url, "-e", bad], capture_output=True,
                            text=True, timeout=60)
    local = subprocess.run([sys.executable, "-m", "ksql.cli", "--data-dir", str(Path(server.log_path).parent / "l"),
                            "-e", bad], capture_output=True, text=True, timeout=60)
    assert remote.stderr.startswith("<command line>:2:3: Syntax Error at or near 'SELEC'; expected")
    assert remote.returncode == local.returncode == 1 and remote.stderr == local.stderr
    # RUN SCRIPT reads the file where the shell runs, and sends its statements
    script = Path(server.log_path).parent / "script.sql"  # (the server's folder, not the working one)
    script.write_text("CREATE STREAM t (id INT KEY) WITH (kafka_topic='t', value_format='JSON', partitions=1);")
    result = subprocess.run([sys.executable, "-m", "ksql.cli", server.url, "-e", f"RUN SCRIPT '{script}';"],
                            capture_output=True, text=True, timeout=60)
    assert "Stream created" in result.stdout and result.returncode == 0


def test_many_push_queries_at_once_and_disconnects_end_them(server):
    import asyncio

    server.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);")

    async def one_query(client, i):
        async with client.stream("POST", server.url + "/query-stream",
                                 json={"sql": f"SELECT * FROM s WHERE id = {i} EMIT CHANGES LIMIT 1;",
                                       "properties": {"auto.offset.reset": "earliest"}}) as response:
            lines = []
            async for line in response.aiter_lines():
                if line.strip():
                    lines.append(json.loads(line))
            return lines

    async def run():
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as client:
            tasks = [asyncio.create_task(one_query(client, i)) for i in range(100)]
            rows = [{"ID": i, "V": f"v{i}"} for i in range(100)]
            body = "\n".join(json.dumps(r) for r in [{"target": "S"}] + rows)
            acks = await client.post(server.url + "/inserts-stream", content=body.encode())
            assert acks.text.count('"ok"') == 100
            return await asyncio.gather(*tasks)

    results = asyncio.run(run())
    assert [r[1:] for r in results] == [[[i, f"v{i}"]] for i in range(100)]

    def open_push_queries() -> float:
        metrics = httpx.get(server.url + "/metrics", timeout=30).text
        return float(next(line.split()[1] for line in metrics.splitlines() if line.startswith("ksql_push_queries_open ")))

    with httpx.stream("POST", server.url + "/query-stream", timeout=30,
                      json={"sql": "SELECT * FROM s EMIT CHANGES;"}) as response:
        lines = response.iter_lines()
        assert "queryId" in json.loads(next(lines))
        wait_for(lambda: open_push_queries() == 1)
    # The client went away: the server ends the push query and forgets it.
    wait_for(lambda: open_push_queries() == 0)


def test_basic_authentication(tmp_path):
    users = tmp_path / "users"
    subprocess.run([sys.executable, "-m", "ksql.cli", "server", "--add-user", "ann", "--users-file", str(users)],
                   input="s3cret\n", text=True, check=True, timeout=60)
    assert "s3cret" not in users.read_text() and users.read_text().startswith("ann:scrypt$")
    config = tmp_path / "server.properties"
    # (the walk below fails many logins on purpose: see test_hostile_requests for the limit)
    config.write_text(f"authentication.users.file={users}\nauthentication.max.failures=1000\n")
    secured = Server(tmp_path / "data", "--config", str(config))
    try:
        denied = httpx.post(secured.url + "/ksql", json={"ksql": "SHOW STREAMS;"})
        assert denied.status_code == 401 and denied.json()["error_code"] == 40100
        wrong = httpx.post(secured.url + "/ksql", json={"ksql": "SHOW STREAMS;"}, auth=("ann", "nope"))
        assert wrong.status_code == 401
        allowed = httpx.post(secured.url + "/ksql", json={"ksql": "SHOW STREAMS;"}, auth=("ann", "s3cret"))
        assert allowed.status_code == 200 and allowed.json()[0]["@type"] == "streams"
        # every route but the health checks refuses anonymous and wrong credentials
        for path, method in routes(tmp_path):
            for auth in (None, ("ann", "nope"), ("bob", "s3cret")):
                answer = httpx.request(method, secured.url + path, auth=auth, json={}, timeout=30)
                if path in ("/healthcheck", "/chc/live", "/chc/ready"):
                    assert answer.status_code == 200, (method, path)
                else:
                    assert answer.status_code == 401, (method, path, auth, answer.status_code)
        # the web console too: no page and none of its files without credentials
        for path in ("/", "/console/index.html", "/console/console.js", "/console/words"):
            assert httpx.get(secured.url + path, headers={"Accept": "text/html"}).status_code == 401, path
        page = httpx.get(secured.url + "/", headers={"Accept": "text/html"}, auth=("ann", "s3cret"))
        assert page.status_code == 200 and "<title>ksql console</title>" in page.text
    finally:
        secured.stop()


def routes(tmp_path) -> list[tuple[str, str]]:
    """(path, method) of every route the server has, path parameters filled in."""
    import re

    from ksql.engine import KsqlEngine
    from ksql.server import KsqlServer

    engine = KsqlEngine(str(tmp_path / "routes"), background=False)
    try:
        app = KsqlServer(engine, {}).app()
        found = [(re.sub(r"{[^}]+}", "x", route.path), method) for route in app.routes
                 for method in sorted(getattr(route, "methods", {"GET"}) - {"HEAD"})]
    finally:
        engine.close()
    assert len(found) > 15  # the walk covers the API, not a stub
    return found


def test_rest_values_follow_the_column_type():
    from ksql.server import row_values

    row = [[], [("a", [])], b"!", {"F": [("k", 1)]}]
    types = ["MAP<STRING, INTEGER>", "MAP<STRING, MAP<STRING, INTEGER>>", "BYTES",
             "STRUCT<`F` MAP<STRING, INTEGER>>"]
    assert row_values(row, types) == [{}, {"a": {}}, "IQ==", {"F": {"k": 1}}]


def test_push_query_on_a_table_shows_deleted_rows(server):
    server.ksql("CREATE STREAM s (k INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                "CREATE TABLE positive AS SELECT k, SUM(v) AS total FROM s GROUP BY k HAVING SUM(v) > 0;"
                "INSERT INTO s (k, v) VALUES (1, 10); INSERT INTO s (k, v) VALUES (1, -20);"
                "INSERT INTO s (k, v) VALUES (1, 21);", **{"auto.offset.reset": "earliest"})
    response = httpx.post(server.url + "/query", timeout=30, json={
        "ksql": "SELECT * FROM positive EMIT CHANGES LIMIT 3;", "streamsProperties": {"auto.offset.reset": "earliest"}})
    body = json.loads(response.text)
    assert body[1:] == [{"row": {"columns": [1, 10]}}, {"row": {"columns": [1, None], "tombstone": True}},
                        {"row": {"columns": [1, 11]}}, {"finalMessage": "Limit Reached"}]
    # (at least once on Kafka, output is readable a moment before the query records its progress)
    lines = ('ksql_query_records_in{query="CTAS_POSITIVE_1"} 3.0', 'ksql_query_lag{query="CTAS_POSITIVE_1"} 0.0',
             'ksql_query_errors{query="CTAS_POSITIVE_1"} 0.0', 'ksql_query_late_records{query="CTAS_POSITIVE_1"} 0.0')
    wait_for(lambda: all(line in httpx.get(server.url + "/metrics").text for line in lines), timeout=10)


def test_a_stalled_client_holds_back_only_its_own_query(server):
    server.ksql("CREATE STREAM big (id INT KEY, v STRING) WITH (kafka_topic='big', value_format='JSON', partitions=1);")
    rows = [{"ID": i, "V": "x" * 8000} for i in range(5_000)]
    body = "\n".join(json.dumps(r) for r in [{"target": "BIG"}] + rows)
    assert httpx.post(server.url + "/inserts-stream", content=body.encode(), timeout=120).text.count('"ok"') == 5_000

    stalled = socket.create_connection(("127.0.0.1", server.port))
    request = json.dumps({"sql": "SELECT * FROM big EMIT CHANGES;",
                          "properties": {"auto.offset.reset": "earliest"}}).encode()
    stalled.sendall(b"POST /query-stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: " + str(len(request)).encode() + b"\r\n\r\n" + request)
    try:
        # The stalled client reads nothing; another client's query still gets its rows.
        response = httpx.post(server.url + "/query-stream", timeout=30, json={
            "sql": "SELECT id FROM big WHERE id = 4999 EMIT CHANGES LIMIT 1;",
            "properties": {"auto.offset.reset": "earliest"}})
        assert [json.loads(line) for line in response.text.splitlines()][1:] == [[4999]]
        # and the server still answers everyone else
        assert httpx.get(server.url + "/healthcheck", timeout=5).json()["isHealthy"]
    finally:
        stalled.close()


def test_push_queries_past_the_limit_are_refused_until_one_ends(tmp_path):
    config = tmp_path / "server.properties"
    config.write_text("ksql.max.push.queries=2\n")
    server = Server(tmp_path / "data", "--config", str(config))
    try:
        server.ksql("CREATE STREAM s (id INT KEY) WITH (kafka_topic='s', value_format='JSON', partitions=1);")
        push = {"sql": "SELECT * FROM s EMIT CHANGES;"}
        with httpx.stream("POST", server.url + "/query-stream", json=push, timeout=30) as first, \
                httpx.stream("POST", server.url + "/query-stream", json=push, timeout=30) as second:
            assert first.status_code == second.status_code == 200
            refused = httpx.post(server.url + "/query-stream", json=push, timeout=30)
            assert refused.status_code == 400
            assert refused.json()["message"] == ("Not running the push query: 2 are running, the limit "
                                                 "(ksql.max.push.queries) is 2. Close some, or raise the limit.")
            # pull queries and stream scans are not push queries
            assert httpx.post(server.url + "/query-stream", json={"sql": "SELECT * FROM s;"}, timeout=30).status_code == 200
            lines = first.iter_lines()  # (kept: a dropped line iterator closes the connection)
            query_id = json.loads(next(lines))["queryId"]
            assert httpx.post(server.url + "/close-query", json={"queryId": query_id}, timeout=30).status_code == 200
            with httpx.stream("POST", server.url + "/query-stream", json=push, timeout=30) as third:
                assert third.status_code == 200
    finally:
        server.stop()


def test_the_remote_shell_shows_push_query_rows_as_they_come(server, tmp_path):
    server.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                "INSERT INTO s (id, v) VALUES (1, 'before');")
    term = Terminal([server.url], tmp_path)
    try:
        term.expect("ksql>")
        term.send("SET 'auto.offset.reset'='earliest';\r")
        term.expect("Successfully changed")
        term.mark()
        term.send("SELECT * FROM s EMIT CHANGES;\r")
        term.expect("before")
        httpx.post(server.url + "/inserts-stream", content=b'{"target": "S"}\n{"ID": 2, "V": "live"}\n', timeout=30)
        term.expect("live")  # a row inserted while the query runs shows up
        term.mark()
        term.send("\x03")
        term.expect("ksql>")
        term.send("exit\r")
    finally:
        term.close()
    # --set applies in remote mode too: the push query reads from the start and ends at its LIMIT
    result = subprocess.run([sys.executable, "-m", "ksql.cli", server.url, "--set", "auto.offset.reset=earliest",
                             "-e", "SELECT v FROM s EMIT CHANGES LIMIT 2;"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "| before " in result.stdout and "| live " in result.stdout


def test_command_sequence_numbers_and_statuses_outlive_a_restart(server, tmp_path, backend):
    """commandSequenceNumber is the command's place in the command topic: it goes on after a
    restart, /status still knows earlier commands, and a request naming one waits for it."""
    first = server.ksql("CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', "
                        "partitions=1); CREATE STREAM c AS SELECT * FROM s;").json()
    numbers = [e["commandSequenceNumber"] for e in first]
    assert numbers == [numbers[0], numbers[0] + 1]
    assert server.stop() == 0
    restarted = Server(tmp_path / "data", *backend_args(backend))
    try:
        status = httpx.get(restarted.url + "/status/stream/`S`/create", timeout=10)
        assert status.json() == {"status": "SUCCESS", "message": "Stream created"}
        assert "stream/`C`/create" in httpx.get(restarted.url + "/status", timeout=10).json()["commandStatuses"]
        later = httpx.post(restarted.url + "/ksql", timeout=30, json={
            "ksql": "CREATE STREAM d AS SELECT * FROM s;", "commandSequenceNumber": numbers[1]}).json()
        assert later[0]["commandSequenceNumber"] == numbers[1] + 1
        ahead = httpx.post(restarted.url + "/ksql", timeout=30, json={
            "ksql": "SHOW STREAMS;", "commandSequenceNumber": numbers[1] + 50})
        assert ahead.status_code == 503 and "command sequence number of" in ahead.json()["message"]
    finally:
        restarted.stop()


def test_listeners_from_the_config_and_the_request_log(tmp_path):
    """ksqlDB's `listeners=` picks the address; each request is logged when it ends
    ([time] INFO <NCSA line> (ksql.access)), but the status codes the config skips."""
    port = free_port()
    config = tmp_path / "server.properties"
    config.write_text(f"listeners=http://127.0.0.1:{port}\nksql.logging.server.skipped.response.codes=404\n")
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "ksql.cli", "server", "--data-dir", str(tmp_path / "d"),
                                    "--config", str(config)], stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy():
            try:
                return httpx.get(url + "/healthcheck", timeout=1).status_code == 200
            except httpx.HTTPError:
                assert process.poll() is None, log.read_text()
                return False

        wait_for(healthy)
        assert httpx.get(url + "/info", headers={"User-Agent": "probe/1"}).status_code == 200
        assert httpx.get(url + "/nope").status_code == 404
        wait_for(lambda: "/info" in log.read_text())
        line = next(line for line in log.read_text().splitlines() if "/info" in line)
        assert re.fullmatch(r'\[[\d\- :,]+\] INFO 127\.0\.0\.1 - - \[[^\]]+\] "GET /info HTTP/1\.1" 200 \d+ "-" '
                            r'"probe/1" \d+ \(ksql\.access\)', line), line
        assert "/nope" not in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)
    # --log-level WARNING: no request lines
    quiet_log = tmp_path / "quiet.log"
    port = free_port()
    with open(quiet_log, "wb") as output:
        quiet = subprocess.Popen([sys.executable, "-m", "ksql.cli", "server", "--data-dir", str(tmp_path / "q"),
                                  "--port", str(port), "--log-level", "warning"], stdout=output,
                                 stderr=subprocess.STDOUT)
    try:
        def answering():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthcheck", timeout=1).status_code == 200
            except httpx.HTTPError:
                assert quiet.poll() is None, quiet_log.read_text()
                return False

        wait_for(answering)
        httpx.get(f"http://127.0.0.1:{port}/info")
    finally:
        quiet.terminate()
        quiet.wait(timeout=30)
    assert "ksql.access" not in quiet_log.read_text()


def test_the_websocket_query_endpoint(server):
    """ksqlDB's /ws/query: the columns, then one row message each; closed with 1000 at the
    end, 1003 and the reason when the query cannot run."""
    from urllib.parse import quote

    server.ksql("CREATE STREAM s (id INT KEY, tags ARRAY<STRING>) WITH (kafka_topic='s', value_format='JSON', "
                "partitions=1); INSERT INTO s (id, tags) VALUES (1, ARRAY['a']); "
                "INSERT INTO s (id, tags) VALUES (2, ARRAY['b', 'c']);")
    request = json.dumps({"ksql": "SELECT * FROM s EMIT CHANGES LIMIT 2;",
                          "streamsProperties": {"auto.offset.reset": "earliest"}})
    messages, code, reason = websocket_messages(server.port, "/ws/query?request=" + quote(request))
    assert (code, reason) == (1000, "done")
    assert json.loads(messages[0]) == [
        {"name": "ID", "schema": {"type": "INTEGER", "fields": None, "memberSchema": None}},
        {"name": "TAGS", "schema": {"type": "ARRAY", "fields": None, "memberSchema": {
            "type": "STRING", "fields": None, "memberSchema": None}}}]
    assert [json.loads(m) for m in messages[1:]] == [{"row": {"columns": [1, ["a"]]}},
                                                    {"row": {"columns": [2, ["b", "c"]]}}]
    missing = json.dumps({"ksql": "SELECT * FROM nope EMIT CHANGES;"})
    assert websocket_messages(server.port, "/ws/query?request=" + quote(missing)) == (
        [], 1003, "Exception while preparing statement: NOPE does not exist.")
    assert websocket_messages(server.port, "/ws/query")[1:] == (
        1003, "Error parsing request: Expecting value: line 1 column 1 (char 0)")


def test_cluster_status_names_hosts_and_stores_as_ksqldb(server):
    server.ksql("CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                "CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s GROUP BY id; CREATE STREAM c AS SELECT * FROM s;")
    host = f"127.0.0.1:{server.port}"  # host:port, as ksqlDB's KsqlHostInfo

    def status():
        return httpx.get(server.url + "/clusterStatus", timeout=10).json()["clusterStatus"]

    assert list(status()) == [host]
    # every query is listed at once; on Kafka its partitions (and so its store) once its
    # consumer group has given them
    assert set(status()[host]["activeStandbyPerQuery"]) == {"CTAS_T_1", "CSAS_C_2"}
    queries = wait_for(lambda: (q := status()[host]["activeStandbyPerQuery"])["CTAS_T_1"]["activeStores"] and q)
    assert queries["CTAS_T_1"]["activeStores"] == ["Aggregate-Aggregate-Materialize"]
    assert queries["CSAS_C_2"]["activeStores"] == []  # a query without state has no store


def test_one_ctrl_c_stops_a_remote_push_query_right_after_its_first_rows(server):
    server.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                "INSERT INTO s (id, v) VALUES (1, 'first'); INSERT INTO s (id, v) VALUES (2, 'second');")
    term = Terminal([server.url], Path(server.log_path).parent)
    term.expect("ksql>")
    term.send("SET 'auto.offset.reset'='earliest';\r")
    term.expect("Successfully changed")
    for _ in range(3):
        term.mark()
        term.send("SELECT * FROM s EMIT CHANGES;\r")
        term.expect("second")
        term.mark()
        term.send("\x03")  # once, as soon as the rows show
        term.expect("ksql>", timeout=5)
    term.send("exit\r")
    assert term.close() == 0


def test_connector_statements_answer_with_ksqldbs_entities(tmp_path):
    datagen = "io.confluent.kafka.connect.datagen.DatagenConnector"
    create = (f"CREATE SOURCE CONNECTOR gen WITH ('connector.class'='{datagen}', 'kafka.topic'='orders', "
              "'quickstart'='orders', 'max.interval'='20');")
    running = Server(tmp_path / "data")
    try:
        [created] = running.ksql(create).json()
        assert created == {"@type": "connector_info", "statementText": create, "warnings": [], "info": {
            "name": "GEN", "type": "source", "tasks": [{"connector": "GEN", "task": 0}],
            "config": {"connector.class": datagen, "kafka.topic": "orders", "quickstart": "orders",
                       "max.interval": "20", "name": "GEN"}}}
        conflict = running.ksql(create)
        assert conflict.status_code == 409
        assert conflict.json()["error_code"] == 40900 and conflict.json()["message"] == "Connector GEN already exists"
        assert running.ksql("CREATE STREAM orders (orderid INT, itemid STRING) WITH (kafka_topic='orders', "
                            "value_format='JSON');").status_code == 200
        rows = httpx.post(running.url + "/query", json={"ksql": "SELECT orderid FROM orders EMIT CHANGES LIMIT 3;",
                                                        "streamsProperties": {"auto.offset.reset": "earliest"}},
                          timeout=60).json()
        assert [r["row"]["columns"] for r in rows if "row" in r] == [[0], [1], [2]]
        [listed] = running.ksql("SHOW CONNECTORS;").json()
        assert listed == {"@type": "connector_list", "statementText": "SHOW CONNECTORS;", "warnings": [],
                          "connectors": [{"name": "GEN", "type": "source", "className": datagen,
                                          "state": "RUNNING (1/1 tasks RUNNING)"}]}
        [described] = running.ksql("DESCRIBE CONNECTOR gen;").json()
        assert described["@type"] == "connector_description" and described["connectorClass"] == datagen
        assert described["status"]["connector"]["state"] == "RUNNING"
        assert [(t["id"], t["state"]) for t in described["status"]["tasks"]] == [(0, "RUNNING")]
        assert described["topics"] == ["orders"] and [s["name"] for s in described["sources"]] == ["ORDERS"]
        shell = subprocess.run([sys.executable, "-m", "ksql.cli", running.url, "-e",
                                "SHOW CONNECTORS; DESCRIBE CONNECTOR gen;"], capture_output=True, text=True, timeout=60)
        assert "RUNNING (1/1 tasks RUNNING)" in shell.stdout and "Related Topics" in shell.stdout
        running.stop()

        running = Server(tmp_path / "data")  # the connector comes back with the server
        assert running.ksql("SHOW CONNECTORS;").json()[0]["connectors"][0]["name"] == "GEN"
        [dropped] = running.ksql("DROP CONNECTOR gen;").json()
        assert dropped == {"@type": "drop_connector", "statementText": "DROP CONNECTOR gen;", "connectorName": "GEN",
                           "warnings": []}
    finally:
        if running.process.poll() is None:
            running.stop()
