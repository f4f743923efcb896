"""Hostile requests against a running `ksql server`: random bodies, wrong types, deep nesting,
invalid UTF-8, broken HTTP. Every answer is a clear error (a status below 500 with a JSON
message), never a traceback, a hang or a dead server.

The number of examples per test is bounded for `make test` (KSQL_FUZZ_EXAMPLES raises it)."""
from __future__ import annotations

import json
import os
import socket

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from processes import Server

EXAMPLES = int(os.environ.get("KSQL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

POST_ROUTES = ["/ksql", "/query", "/query-stream", "/close-query", "/inserts-stream", "/ksql/terminate",
               # the schema registry's API
               "/subjects/s-value/versions", "/subjects/s-value", "/compatibility/subjects/s-value/versions/latest"]
GET_ROUTES = ["/info", "/", "/healthcheck", "/status", "/v1/metadata", "/v1/metadata/id", "/clusterStatus",
              "/metrics"]
FIELDS = ["ksql", "sql", "streamsProperties", "properties", "sessionVariables", "queryId", "target", "schema",
          "schemaType"]
# Pieces of statements, so that some bodies get past the JSON checks into the parser and engine.
SQL_PIECES = ["SELECT", "*", "FROM", "s", "t", "WHERE", "id", "=", "1", "'x'", "CREATE", "STREAM", "TABLE",
              "(", ")", ",", "INT", "KEY", "WITH", "kafka_topic='s'", "value_format='JSON'", "INSERT", "INTO",
              "VALUES", "DROP", "SHOW", "QUERIES", "DESCRIBE", "EXPLAIN", "LIMIT", "GROUP BY", "CAST", "AS",
              "STRUCT<a INT>", "ARRAY[1,2]", "MAP('a':=1)", ";", "--", "/*", "`", "\"", "\x00", "\udcff",
              "9" * 40, "-1e999"]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8),
                                                                inner, max_size=4),
    max_leaves=12)
SQL = st.lists(st.sampled_from(SQL_PIECES), max_size=12).map(" ".join)
BODY = st.one_of(
    st.binary(max_size=200),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={f: JSON | SQL for f in FIELDS}).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"ksql": SQL, "sql": SQL}).map(lambda v: json.dumps(v).encode()),
)
CONTENT_TYPES = st.sampled_from(["application/json", "application/vnd.ksql.v1+json", "text/plain",
                                 "application/x-www-form-urlencoded", "", "application/json; charset=latin-1"])

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"ksql": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("fuzz") / "data")
    # something for statements to find
    running.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                 "CREATE TABLE t AS SELECT id, COUNT(*) AS c FROM s GROUP BY id;"
                 "INSERT INTO s (id, v) VALUES (1, 'a');")
    yield running
    running.stop()


def check(server, response: httpx.Response) -> None:
    """A clear answer: below 500, errors as ksqlDB's JSON error body, no Python internals."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("message"), str) and body["message"], body
        assert isinstance(body.get("error_code"), int), body
    assert server.process.poll() is None, "the server died"


def post(server, path: str, body: bytes, content_type: str) -> httpx.Response:
    # a push query a body happens to open ends with the read timeout; its start is checked
    with httpx.stream("POST", server.url + path, content=body, timeout=10,
                      headers={"Content-Type": content_type} if content_type else {}) as response:
        if response.status_code >= 400 or path not in ("/query", "/query-stream"):
            response.read()
        return response


@FUZZ
@given(st.sampled_from([r for r in POST_ROUTES if r != "/ksql/terminate"]), BODY, CONTENT_TYPES)
@example("/ksql", DEEP, "application/json")
@example("/query-stream", DEEP_OBJECT, "application/json")
@example("/ksql", b'{"ksql": "SHOW STREAMS;", "streamsProperties": {"ksql.streams.num.threads": []}}', "application/json")
@example("/ksql", b'{"ksql": "\xff\xfe SHOW STREAMS;"}', "application/json")
@example("/ksql", b'{"ksql": "SELECT ' + b"(" * 5000 + b"1" + b")" * 5000 + b' FROM s;"}', "application/json")
@example("/inserts-stream", b'{"target": "S"}\n{"ID": "x", "V": 1}\n\xff\n[1,2]\n{"ID": 1e999}', "application/json")
@example("/inserts-stream", b'{"target": "S"}\n{"ID": 2, "V": "\\udcff"}\n' + DEEP, "application/json")
@example("/close-query", b'{"queryId": {"a": 1}}', "application/json")
def test_post_bodies_get_clear_answers(server, path, body, content_type):
    check(server, post(server, path, body, content_type))


PATH_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@FUZZ
@given(st.sampled_from(["/status/{}/{}/{}", "/is_valid_property/{}", "/{}", "/ksql/{}", "/query/{}"]),
       st.lists(PATH_TEXT, min_size=3, max_size=3), st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
@example("/status/{}/{}/{}", ["stream", "S", "create"], "GET")
def test_paths_and_methods_get_clear_answers(server, template, parts, method):
    from urllib.parse import quote

    url = server.url + template.format(*(quote(p, safe="") for p in parts))
    check(server, httpx.request(method, url, timeout=10))


@FUZZ
@given(st.binary(min_size=1, max_size=300))
@example(b"POST /ksql HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
@example(b"POST /ksql HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}")
@example(b"POST /ksql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
@example(b"GET /info HTTP/1.1\r\n" + b"X-A: " + b"a" * 100_000 + b"\r\n\r\n")
def test_broken_http_leaves_the_server_answering(server, raw):
    """Raw bytes on a connection: whatever the server says or does with them, it keeps serving."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        try:
            answer = connection.recv(65536)
        except (TimeoutError, ConnectionResetError):
            answer = b""
    assert b"Traceback" not in answer
    assert not answer.startswith(b"HTTP/1.1 5"), answer[:200]
    check(server, httpx.get(server.url + "/info", timeout=10))


@pytest.mark.parametrize("path", GET_ROUTES)
def test_get_routes_ignore_bodies_and_queries(server, path):
    check(server, httpx.request("GET", server.url + path + "?x=%ff&&=;", content=DEEP, timeout=10))
