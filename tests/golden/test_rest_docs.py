"""The REST API documentation's examples, request and response, against a real `ksql server`.

The pages are read from the shared ksqlDB documentation at test time. Each example request is
sent as written (its method, path, Accept header and body); the answer must have the example's
status code and content type, and resemble its body as ksqlDB's would: every field the example
shows, with a value of the same JSON type, and the same value where it does not depend on the
instance (statuses, types, error codes). Values that name this run (ids, versions, offsets,
timestamps) are not compared."""
from __future__ import annotations

import json
import re

import httpx
import pytest

from conftest import ROOT, require_input
from processes import Server

DOCS = ROOT.parent / "shared" / "reference" / "ksqldb-docs" / "developer-guide" / \
    "ksqldb-rest-api"

# what the examples' requests refer to: ksqlDB's quickstart's pageviews
SETUP = ("CREATE STREAM pageviews_original (viewtime BIGINT, userid VARCHAR, pageid VARCHAR) WITH "
         "(kafka_topic='pageviews', value_format='JSON', partitions=1);"
         "CREATE STREAM pageviews AS SELECT * FROM pageviews_original;"
         "INSERT INTO pageviews_original (viewtime, userid, pageid) VALUES (1524760769983, 'alice', 'home');")
KEPT = {"PAGEVIEWS_ORIGINAL", "PAGEVIEWS", "KSQL_PROCESSING_LOG"}


def reset(server) -> None:
    """Drop what earlier examples made (each example starts from the setup alone)."""
    for kind in ("TABLES", "STREAMS"):
        for source in server.ksql(f"SHOW {kind};").json()[0][kind.lower()]:
            if source["name"] not in KEPT:
                for query in server.ksql(f"DESCRIBE `{source['name']}`;").json()[0]["sourceDescription"][
                        "writeQueries"]:
                    server.ksql(f"TERMINATE {query['id']};")
                assert server.ksql(f"DROP {kind[:-1]} `{source['name']}` DELETE TOPIC;").status_code == 200

# fields whose values do not depend on the instance: compared as they are
EXACT = {"status", "@type", "error_code", "isHealthy", "hostAlive", "type"}
# messages ksqlDB has reworded since the pages were written: compared by type only
REWORDED = {"message"}


def fenced_blocks(page: str) -> list[tuple[str, str]]:
    """(language, text) of each fenced block of a page."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", page, re.M | re.S)]


def http_examples(page: str) -> list[tuple[dict, dict | None]]:
    """(request, response) pairs from the page's ```http blocks; a request without a response
    example is paired with None (it must still succeed)."""
    pairs, pending = [], None
    for language, text in fenced_blocks(page):
        if language != "http":
            continue
        head, _, body = text.partition("\n\n")
        first, *header_lines = head.splitlines()
        headers = dict(line.split(":", 1) if ":" in line else line.split(" ", 1) for line in header_lines)
        headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
        if first.startswith("HTTP/"):
            response = {"status": int(first.split()[1]), "headers": headers, "body": body.strip()}
            if pending is not None:
                pairs.append((pending, response))
                pending = None
        else:
            if pending is not None:
                pairs.append((pending, None))
            method, path, _ = first.split()
            pending = {"method": method, "path": path, "headers": headers, "body": body.strip()}
    if pending is not None:
        pairs.append((pending, None))
    return pairs


def curl_examples(page: str) -> list[tuple[dict, dict]]:
    """(request, response) pairs from `curl ... GET URL` blocks and the ```json block after each."""
    pairs, pending = [], None
    for language, text in fenced_blocks(page):
        if language == "bash" and "curl" in text and "GET" in text:
            url = re.search(r'"http://[^/"]+(/[^"]*)"', text).group(1)
            pending = {"method": "GET", "path": url, "headers": {}, "body": ""}
        elif language == "json" and pending is not None:
            pairs.append((pending, {"status": 400 if '"error_code"' in text else 200, "headers": {},
                                    "body": text.strip()}))
            pending = None
    return pairs


def resembles(ours, documented, where: str = "") -> list[str]:
    """How our answer differs from the documented one (empty: it resembles it)."""
    if isinstance(documented, dict):
        if not isinstance(ours, dict):
            return [f"{where or 'the body'}: {type(ours).__name__}, not an object"]
        problems = []
        hosts = [k for k in documented if re.fullmatch(r"[\w.\-]+:\d+", k)]  # /clusterStatus keys
        if hosts:  # one documented host stands for ours
            return [p for host in ours for p in resembles(ours[host], documented[hosts[0]], f"{where}.{host}")] \
                if ours and all(re.fullmatch(r"[\w.\-]+:\d+", h) for h in ours) else [f"{where}: hosts {list(ours)}"]
        for key, value in documented.items():
            if re.fullmatch(r"CTAS_\w+|_confluent-ksql-.*|\d+", key):  # names of the example's queries
                continue
            if key not in ours:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += resembles(ours[key], value, f"{where}.{key}")
        return problems
    if isinstance(documented, list):
        if not isinstance(ours, list):
            return [f"{where}: {type(ours).__name__}, not an array"]
        if documented and not ours:
            return [f"{where}: empty"]
        return [p for mine, theirs in zip(ours, documented) for p in resembles(mine, theirs, f"{where}[]")]
    if documented is None or ours is None:
        return []
    if isinstance(documented, bool) != isinstance(ours, bool) or \
            isinstance(documented, (int, float)) != isinstance(ours, (int, float)) or \
            isinstance(documented, str) != isinstance(ours, str):
        return [f"{where}: {ours!r} is not of the type of {documented!r}"]
    key = where.rsplit(".", 1)[-1]
    if key in EXACT and key not in REWORDED and ours != documented:
        return [f"{where}: {ours!r}, documented {documented!r}"]
    return []


def pages() -> list[str]:
    return sorted(p.name for p in DOCS.glob("*.md")) if DOCS.is_dir() else []


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("docs") / "data")
    response = running.ksql(SETUP)
    assert response.status_code == 200, response.text
    yield running
    running.stop()


def examples_of(name: str) -> list[tuple[dict, dict | None]]:
    page = (DOCS / name).read_text()
    return http_examples(page) + curl_examples(page)


def test_every_rest_page_has_examples_here():
    """The pages with request/response examples are all run (a page gaining some is noticed)."""
    require_input(DOCS, "ksqlDB's documentation")
    covered = {name for name in pages() if examples_of(name)}
    assert covered >= {"ksql-endpoint.md", "query-endpoint.md", "status-endpoint.md", "info-endpoint.md",
                       "cluster-status-endpoint.md", "is_valid_property-endpoint.md", "terminate-endpoint.md"}


@pytest.mark.parametrize("name", [p for p in pages() if p != "terminate-endpoint.md"])
def test_rest_doc_examples(server, name):
    sequence = None  # the commandSequenceNumber of the last answer, for a request that names one
    for request, documented in examples_of(name):
        body = request["body"]
        headers = {k: v for k, v in request["headers"].items() if k in ("accept", "content-type")}
        headers["content-type"] = "application/json"
        if request["path"].startswith("/is_valid_property/"):  # the page's example is a refused property
            request = {**request, "path": "/is_valid_property/ksql.service.id"}
        if body and '"commandSequenceNumber"' in body:  # "provide this commandSequenceNumber" (the page)
            body = re.sub(r'"commandSequenceNumber"\s*:\s*\d+', f'"commandSequenceNumber":{sequence}', body)
        elif request["path"] == "/ksql":
            reset(server)
        if request["path"] == "/query":  # a push query: its first lines are enough
            with httpx.stream(request["method"], server.url + request["path"], headers=headers,
                              content=body.encode(), timeout=30) as answer:
                received = b""
                for chunk in answer.iter_bytes():  # (each row is sent as it comes, after ",\n")
                    received += chunk
                    if b'{"row"' in received:
                        break
            answer = httpx.Response(answer.status_code, headers=answer.headers, content=received)
        else:
            answer = httpx.request(request["method"], server.url + request["path"], headers=headers,
                                   content=body.encode() if body else None, timeout=30)
        if isinstance(answer.headers.get("content-type"), str) and answer.text.startswith("[{") and \
                '"commandSequenceNumber"' in answer.text:
            sequence = answer.json()[-1]["commandSequenceNumber"]
        if documented is None:
            assert answer.status_code == 200, (request, answer.text)
            continue
        assert answer.status_code == documented["status"], (request, answer.text)
        media = documented["headers"].get("content-type")
        if media:
            assert answer.headers["content-type"].split(";")[0] == media, request
        try:
            expected = json.loads(documented["body"])
        except ValueError:  # a streamed example ("..." and one JSON object per line): its lines' shape
            lines = [line.rstrip(",") for line in documented["body"].splitlines() if line.strip() not in ("", "...")]
            ours = [line.rstrip(",") for line in answer.text.strip().strip("[]").splitlines() if line.strip()]
            assert len(ours) >= 1 and all(json.loads(line) for line in ours)
            assert {next(iter(json.loads(line))) for line in ours if line.startswith('{"')} >= {
                line.split('"')[1] for line in lines if line.startswith('{"')} - {"row"}
            continue
        problems = resembles(answer.json(), expected)
        assert not problems, (request["path"], problems)


def test_terminate_cluster_example(tmp_path):
    """The terminate page's first request, on a server of its own (it ends every query)."""
    require_input(DOCS, "ksqlDB's documentation")
    request, _ = examples_of("terminate-endpoint.md")[0]
    running = Server(tmp_path / "data")
    try:
        assert running.ksql(SETUP).status_code == 200
        answer = httpx.post(running.url + request["path"], content=request["body"].encode(),
                            headers={"content-type": "application/json", "accept": request["headers"]["accept"]})
        assert answer.status_code == 200 and answer.json()["@type"] == "currentStatus"
        assert answer.headers["content-type"] == "application/vnd.ksql.v1+json"
        assert running.ksql("SHOW QUERIES;").json()[0]["queries"] == []
    finally:
        running.stop()
