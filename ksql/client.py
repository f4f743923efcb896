"""A Python client for ksqlDB's REST API (ours or ksqlDB's), and the remote engine the REPL
uses with `ksql --server URL`.

    from ksql.client import KsqlClient
    client = KsqlClient("http://localhost:8088")
    client.ksql("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);")
    client.insert("S", [{"ID": 1, "V": "a"}])
    for row in client.query("SELECT * FROM s EMIT CHANGES LIMIT 1;", {"auto.offset.reset": "earliest"}):
        print(row)
"""
from __future__ import annotations

import json
import re
from typing import Iterator

import httpx

from ksql.errors import KsqlError
from ksql.results import (DescribeResult, DescriptionsResult, EntityResult, ListResult, RowStream, StatusResult,
                          TextResult)

# entities the shell draws from their fields as they come (repl/render.py: entity_text)
ENTITY_KINDS = {"connector_info", "connector_list", "connector_description", "connector_plugins_list",
                "drop_connector", "warning_entity", "error_entity"}


_EMIT_CHANGES = re.compile(r"\bEMIT\s+CHANGES\b", re.IGNORECASE)
_PRINT = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*PRINT\b", re.IGNORECASE | re.DOTALL)


_CLOSE_TIMEOUT = 5.0  # seconds a shell waits for the server to confirm a push query stopped


class KsqlClientError(KsqlError):
    def __init__(self, body: dict, status: int):
        self.body = body
        self.status = status
        super().__init__(body.get("message", str(body)))


class KsqlClient:
    def __init__(self, url: str, user: str | None = None, password: str | None = None, timeout: float = 30,
                 verify=True, headers: dict | None = None):
        """verify: as httpx takes it (True, False, or an ssl.SSLContext); headers: sent with every request."""
        self.url = url.rstrip("/")
        auth = (user, password or "") if user else None
        self.http = httpx.Client(auth=auth, timeout=httpx.Timeout(timeout, read=None), verify=verify,
                                 headers=headers)

    def close(self) -> None:
        self.http.close()

    @staticmethod
    def _check(response: httpx.Response):
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"message": response.text or f"HTTP {response.status_code}"}
            raise KsqlClientError(body, response.status_code)
        return response

    def info(self) -> dict:
        return self._check(self.http.get(self.url + "/info")).json()["KsqlServerInfo"]

    def ksql(self, statements: str, properties: dict | None = None, variables: dict | None = None) -> list[dict]:
        """Run statements (not queries); one entity per statement."""
        body = {"ksql": statements, "streamsProperties": properties or {}, "sessionVariables": variables or {}}
        return self._check(self.http.post(self.url + "/ksql", json=body)).json()

    def query(self, sql: str, properties: dict | None = None, variables: dict | None = None) -> Iterator[list]:
        """Rows of a push or pull query (or lines of PRINT), as they arrive."""
        metadata, rows = self.stream(sql, properties, variables)
        return rows

    def stream(self, sql: str, properties: dict | None = None, variables: dict | None = None):
        """(metadata, row iterator) of a query; the metadata has queryId, columnNames, columnTypes."""
        body = {"sql": sql, "properties": properties or {}, "sessionVariables": variables or {}}
        request = self.http.build_request("POST", self.url + "/query-stream", json=body,
                                          headers={"Accept": "application/vnd.ksqlapi.delimited.v1"})
        response = self.http.send(request, stream=True)
        if response.status_code >= 400:
            response.read()
            self._check(response)
        lines = response.iter_lines()
        if _PRINT.match(sql):  # PRINT answers with the records as text lines, no header
            def printed():
                try:
                    yield from (line for line in lines if line)
                finally:
                    response.close()

            return {"queryId": "", "columnNames": [], "columnTypes": []}, printed()
        try:
            metadata = json.loads(next(lines))
        except StopIteration:
            response.close()
            raise KsqlError("The server ended the query without a header.") from None

        def rows():
            try:
                for line in lines:
                    if line.strip():
                        value = json.loads(line)
                        if isinstance(value, dict) and "error_code" in value:
                            raise KsqlClientError(value, 200)
                        yield value
            finally:
                response.close()

        return metadata, rows()

    def close_query(self, query_id: str, timeout: float | None = None) -> None:
        """Stop a push query; `timeout`: seconds to wait for the server's answer (None: as long as it takes)."""
        extra = {} if timeout is None else {"timeout": timeout}
        self._check(self.http.post(self.url + "/close-query", json={"queryId": query_id}, **extra))

    def insert(self, target: str, rows: list[dict]) -> list[dict]:
        lines = [json.dumps({"target": target})] + [json.dumps(r) for r in rows]
        response = self._check(self.http.post(self.url + "/inserts-stream", content="\n".join(lines).encode()))
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]


class _Session:
    def __init__(self):
        self.properties: dict = {}
        self.variables: dict = {}


class _RemoteMetastore:
    """The server's stream and table names, for the shell's completion (asked again at most
    every few seconds; columns are not known remotely)."""

    def __init__(self, client: "KsqlClient"):
        self.client = client
        self._names: list = []
        self._read_at = float("-inf")

    def sources(self, kind=None):
        import time
        from types import SimpleNamespace

        if time.monotonic() - self._read_at > 5:
            self._read_at = time.monotonic()
            try:
                entities = self.client.ksql("SHOW STREAMS; SHOW TABLES;", {}, {})
                self._names = [item["name"] for e in entities for item in e.get("streams", e.get("tables", []))]
            except Exception:  # noqa: BLE001 - completion goes on without names when the server is away
                pass
        empty = SimpleNamespace(columns=())
        return [SimpleNamespace(name=name, schema=empty) for name in self._names]


class RemoteEngine:
    """What the REPL and `ksql -e/-f` need of an engine, served by a remote server."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None):
        self.client = KsqlClient(url, user, password)
        self.url = url
        self.session = _Session()
        self.metastore = _RemoteMetastore(self.client)
        self.client.info()  # fail now, with a clear message, if nothing answers

    def execute(self, sql: str, session=None, at: tuple[int, int] = (1, 1)) -> list:
        """As KsqlEngine.execute: `at` is where `sql` starts in the caller's script."""
        from ksql.parser import in_script, split_statements

        session = session or self.session
        results = []
        for piece in split_statements(sql):
            text = piece.text
            start = in_script((piece.line, piece.column), at)
            word = text.lstrip().split(None, 1)[0].upper() if text.strip() else ""
            try:
                if word in ("SELECT", "PRINT"):
                    results.append(self._query(text, session))
                elif word == "RUN":  # the script is a file on this machine, not the server's
                    results += self._run_script(text, session)
                elif word in ("SET", "UNSET", "DEFINE", "UNDEFINE"):
                    results.append(self._local(text, session))
                else:
                    entities = self.client.ksql(text, session.properties, session.variables)
                    results += [_result(e) for e in entities]
            except KsqlClientError as error:
                raise _positioned(error, text, start) from None
        return results

    def _run_script(self, text: str, session) -> list:
        """RUN SCRIPT as ksqlDB's CLI sends it: the statement, with the file's text in the
        property the server runs it from (the server never reads the CLI's files)."""
        from ksql.engine.session import RUN_SCRIPT_CONTENT
        from ksql.parser import parse_statement

        path = parse_statement(text).path
        try:
            with open(path, encoding="utf-8") as f:
                script = f.read()
        except OSError as error:
            raise KsqlError(f"Failed to read script file {path}: {error.strerror}") from None
        try:
            entities = self.client.ksql(text, {**session.properties, RUN_SCRIPT_CONTENT: script}, session.variables)
        except KsqlClientError as error:
            raise _positioned(error, text) from None
        return [_result(e) for e in entities]

    def _local(self, text: str, session) -> StatusResult:
        from ksql.parser import ast, define_variable, parse_statement, undefine_variable

        statement = parse_statement(text)
        if isinstance(statement, ast.SetProperty):
            session.properties[statement.name] = statement.value
            return StatusResult(text, f"Successfully changed local property '{statement.name}' to "
                                      f"'{statement.value}'.")
        if isinstance(statement, ast.UnsetProperty):
            session.properties.pop(statement.name, None)
            return StatusResult(text, f"Successfully unset local property '{statement.name}'.")
        if isinstance(statement, ast.DefineVariable):
            define_variable(session.variables, statement.name, statement.value)
            return StatusResult(text, f"Defined variable {statement.name}.")
        undefine_variable(session.variables, statement.name)
        return StatusResult(text, f"Undefined variable {statement.name}.")

    def _query(self, text: str, session) -> RowStream:
        metadata, rows = self.client.stream(text, session.properties, session.variables)
        is_print = not metadata.get("columnNames")

        def iterate():
            for row in rows:
                yield row

        def close():
            # the stream is let go of first, and the server is not waited for long: a shell's
            # Ctrl-C comes back to the prompt even when a busy server answers late
            rows.close()
            try:
                self.client.close_query(metadata.get("queryId", ""), timeout=_CLOSE_TIMEOUT)
            except (KsqlError, httpx.HTTPError):
                pass

        # a push query's rows come as they happen: shown one by one, not collected first
        push = is_print or bool(_EMIT_CHANGES.search(text))
        return RowStream(text, metadata.get("queryId", ""), metadata.get("columnNames", []),
                         metadata.get("columnTypes", []), iterate, close, is_print=is_print, push=push)

    def close(self) -> None:
        self.client.close()


_POSITION = re.compile(r"line (?P<line>\d+):(?P<column>\d+): (?P<rest>.*)", re.DOTALL)
_POINTED = re.compile(r"(?P<before>(?:Exception while preparing statement: )?)"
                      r"Line: (?P<line>\d+), Col: (?P<column>\d+): (?P<rest>.*)", re.DOTALL)


def _positioned(error: KsqlClientError, text: str, at: tuple[int, int] = (1, 1)) -> KsqlError:
    """The server's "line L:C: ..." syntax error as the local shell's (the caret under the
    token), and its "Line: L, Col: C: ..." error as the local engine's, each positioned in the
    script, where the statement starts at `at` (the server saw the statement alone); other
    errors as they are."""
    match = _POSITION.match(str(error)) or _POINTED.match(str(error))
    if error.status != 400 or match is None:
        return error
    from ksql.engine import StatementFailed
    from ksql.errors import KsqlStatementError, KsqlSyntaxError
    from ksql.parser import in_script

    line, column, rest = int(match["line"]), int(match["column"]), match["rest"]
    placed = in_script((line, column), at)
    if match.re is _POINTED:
        located = KsqlStatementError(f"{match['before']}Line: {placed[0]}, Col: {placed[1]}: {rest}")
        return StatementFailed(located, text, *placed)
    lines = text.splitlines() or [""]
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return StatementFailed(KsqlSyntaxError(rest, line, column, source_line=source), text, *placed)


def _type_text(schema: dict) -> str:
    """A REST schema object back as the type's SQL text (ARRAY<STRING>, STRUCT<`X` INTEGER>)."""
    base = schema.get("type", "")
    if base == "ARRAY" and schema.get("memberSchema"):
        return f"ARRAY<{_type_text(schema['memberSchema'])}>"
    if base == "MAP" and schema.get("memberSchema"):
        return f"MAP<STRING, {_type_text(schema['memberSchema'])}>"
    if base == "STRUCT" and schema.get("fields") is not None:
        return "STRUCT<" + ", ".join(f"`{f['name']}` {_type_text(f['schema'])}" for f in schema["fields"]) + ">"
    return base


def _result(entity: dict):
    """A REST entity as the result object the REPL renders."""
    kind = entity.get("@type")
    text = entity.get("statementText", "")
    if kind == "currentStatus":
        status = entity.get("commandStatus", {})
        return StatusResult(text, status.get("message", ""), entity.get("commandId"), status.get("queryId"))
    if kind in ("streams", "tables"):
        items = entity[kind]
        headers = [f"{kind[:-1].capitalize()} Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"]
        rows = [[i["name"], i["topic"], i.get("keyFormat"), i.get("valueFormat"), str(i.get("isWindowed")).lower()]
                for i in items]
        return ListResult(text, kind, headers, rows, items)
    if kind == "queries":
        items = entity["queries"]
        rows = [[q["id"], q.get("queryType"), q.get("state"), ", ".join(q.get("sinks", [])),
                 ", ".join(q.get("sinkKafkaTopics", [])), " ".join(q.get("queryString", "").split())] for q in items]
        return ListResult(text, kind, ["Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic",
                                       "Query String"], rows, items)
    if kind == "type_list":
        types = entity["types"]
        rows = [[name, _type_text(schema)] for name, schema in types.items()]
        return ListResult(text, kind, ["Type Name", "Schema"], rows, types)
    if kind in ("kafka_topics", "kafka_topics_extended"):
        items = entity["topics"]
        rows = [[t["name"], len(t.get("replicaInfo", [])), 1] for t in items]
        headers = ["Kafka Topic", "Partitions", "Partition Replicas"]
        if kind == "kafka_topics_extended":
            headers += ["Consumers", "ConsumerGroups"]
            for row, topic in zip(rows, items):
                row += [topic.get("consumerCount", 0), topic.get("consumerGroupCount", 0)]
        return ListResult(text, kind, headers, rows, items)
    if kind == "source_descriptions":
        return DescriptionsResult(text, [_result({"@type": "sourceDescription", "statementText": text,
                                                  "sourceDescription": item})
                                         for item in entity.get("sourceDescriptions", [])])
    if kind == "sourceDescription":
        item = entity["sourceDescription"]
        key = " (primary key)" if item.get("type") == "TABLE" else " (key)"
        rows = [[f["name"], _type_text(f["schema"]) + {"KEY": key, "HEADER": " (header)"}.get(f.get("type"), "")]
                for f in item.get("fields", [])]
        details = []
        if item.get("extended"):  # what the local shell shows for DESCRIBE ... EXTENDED
            details = [("Type", item.get("type")), ("Key format", item.get("keyFormat")),
                       ("Value format", item.get("valueFormat")),
                       ("Kafka topic", f"{item.get('topic')} (partitions: {item.get('partitions')}, "
                                       f"replication: {item.get('replication', 1)})"),
                       ("Statement", item.get("statement"))]
            details += [("Write query", f"{q['id']} [{q.get('state')}]") for q in item.get("writeQueries", [])]
            details += [("Read query", q["id"]) for q in item.get("readQueries", [])]
            if item.get("statistics"):
                details.append(("Statistics", item["statistics"]))
        return DescribeResult(text, kind, f"Name                 : {item.get('name')}", ["Field", "Type"], rows,
                              details, item)
    if kind in ENTITY_KINDS:
        fields = {k: v for k, v in entity.items() if k not in ("@type", "statementText")}
        return EntityResult(text, kind, fields)
    if "text" in entity:
        return TextResult(text, kind or "text", entity["text"])
    return TextResult(text, kind or "entity", json.dumps(entity, indent=2))
