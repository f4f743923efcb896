"""What the engine shows of itself: SHOW, DESCRIBE, DESCRIBE FUNCTION, EXPLAIN, and the cluster's
members for /clusterStatus, as ksqlDB's entities."""
from __future__ import annotations



from ksql import __version__
from ksql.errors import KsqlStatementError
from ksql.parser import (ast)
from ksql.planner import plan as plan_module
from ksql.planner import types as T
from ksql.planner.aggregates import AGGREGATES
from ksql.planner.explain import explain
from ksql.planner.library import FUNCTIONS
from ksql.planner.plan import plan_query
from ksql.planner.schema import HEADER, KEY, VALUE
from ksql.engine.settings import effective_properties
from ksql.results import DescribeResult, DescriptionsResult, ListResult, TextResult
from ksql.udf import DETAILS
from ksql.engine.session import Session


def _query_description(query_id: str, statement: str, plan, sinks: list[str], explained: str,
                       overridden: dict, state: str | None) -> dict:
    """ksqlDB's QueryDescription entity (EXPLAIN): the query's output fields, what it reads and
    writes, and its plan (also given as the topology: there is no Kafka Streams one here)."""
    windowed = plan.window.kind if plan.window is not None else \
        next((s.window_type for s in plan.sources if s.window_type), None)
    return {"id": query_id, "statementText": statement, "windowType": windowed,
            "fields": [{"name": c.name, "schema": _schema_entity(c.type), **({"type": c.namespace}
                       if c.namespace != VALUE else {})} for c in plan.schema.columns],
            "sources": sorted({s.name for s in plan.sources}), "sinks": sinks, "topology": explained,
            "executionPlan": explained, "overriddenProperties": overridden, "ksqlHostQueryStatus": {},
            "queryType": "PERSISTENT" if query_id else "PUSH", "queryErrors": [], "tasksMetadata": [],
            "state": state or ""}


def _running_description(query) -> tuple[str, dict]:
    """A running query as EXPLAIN shows it: the text, and ksqlDB's QueryDescription entity."""
    explained = explain(query.plan, query.sink)
    description = _query_description(query.id, query.sql, query.plan, [query.sink.name], explained,
                                     dict(getattr(query, "properties", {}) or {}), query.state)
    shown = (f"ID           : {query.id}\nQuery type   : PERSISTENT\nSQL          : {query.sql}\n"
             f"State        : {query.state}\n\nExecution plan\n--------------\n{explained}")
    return shown, description


def _running_query(query) -> dict:
    """ksqlDB's RunningQuery entity (SHOW QUERIES, DESCRIBE's read and write queries)."""
    return {"queryString": query.sql, "sinks": [query.sink.name], "sinkKafkaTopics": [query.sink.topic],
            "id": query.id, "statusCount": {query.state: 1}, "queryType": "PERSISTENT", "state": query.state}


def _schema_entity(sql_type) -> dict:
    """A type as ksqlDB's REST schema object: MAP and ARRAY name their member's schema, STRUCT
    lists its fields."""
    fields = member = None
    if sql_type.base == "STRUCT":
        fields = [{"name": name, "schema": _schema_entity(t)} for name, t in sql_type.params]
    elif sql_type.base == "ARRAY":
        member = _schema_entity(sql_type.params[0])
    elif sql_type.base == "MAP":
        member = _schema_entity(sql_type.params[1])
    return {"type": sql_type.base, "fields": fields, "memberSchema": member}


def _signature_entity(signature: str, description: str) -> dict:
    """A signature such as 'SUBSTRING(s STRING, position INT [, length INT]) -> STRING' as
    ksqlDB's FunctionInfo: each argument's name, type and whether it repeats, the result type."""
    head, _, result = signature.partition("->")
    inside = head[head.find("(") + 1:head.rfind(")")] if "(" in head else ""
    arguments, depth, current = [], 0, ""
    for char in inside + ",":
        if char == "," and depth == 0:
            word = current.strip().strip("[]").strip()
            if word:
                variadic = word.endswith("...")
                name, _, kind = word.rstrip(".").strip().partition(" ")
                if name == "*":
                    pass  # COUNT(*): no argument
                elif name:
                    arguments.append({"name": name, "type": kind.strip() or "ANY", "description": "",
                                      "isVariadic": variadic})
                elif variadic and arguments:
                    arguments[-1]["isVariadic"] = True
            current = ""
            continue
        depth += char in "(<" or -(char in ")>")
        current += char
    return {"arguments": arguments, "returnType": result.strip() or "ANY", "description": description,
            "argumentTypes": [a["type"] for a in arguments]}


_SIMPLE_TYPES = {name: T.SqlType(name) for name in ("BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "STRING", "BYTES",
                                                    "DATE", "TIME", "TIMESTAMP")} | {"INT": T.INTEGER}


def _with_result(function, signature: str) -> str:
    """A signature with its return type: the function's own answer for the parameters' types,
    when every parameter has a plain type (else as written)."""
    if "->" in signature or "[" in signature or "..." in signature:
        return signature
    inside = signature[signature.find("(") + 1:signature.rfind(")")] if "(" in signature else ""
    types = []
    for part in filter(None, (p.strip() for p in inside.split(","))):
        _, _, kind = part.partition(" ")
        if kind.strip().upper() not in _SIMPLE_TYPES:
            return signature
        types.append(_SIMPLE_TYPES[kind.strip().upper()])
    try:
        result = function.resolve(types)[0]
    except Exception:  # noqa: BLE001 - a resolver that wants other types: leave the text as it is
        return signature
    return f"{signature} -> {result}"


# The built-in aggregates' forms, as aggregate-functions.md gives them (user aggregates have none).
_AGGREGATE_SIGNATURES = {
    "AVG": ["AVG(col1 NUMBER) -> DOUBLE"],
    "COLLECT_LIST": ["COLLECT_LIST(col1) -> ARRAY"],
    "COLLECT_SET": ["COLLECT_SET(col1) -> ARRAY"],
    "CORRELATION": ["CORRELATION(x DOUBLE, y DOUBLE) -> DOUBLE"],
    "COUNT": ["COUNT(*) -> BIGINT", "COUNT(col1) -> BIGINT"],
    "COUNT_DISTINCT": ["COUNT_DISTINCT(col1) -> BIGINT"],
    "EARLIEST_BY_OFFSET": ["EARLIEST_BY_OFFSET(col1 [, ignoreNulls BOOLEAN]) -> same type",
                           "EARLIEST_BY_OFFSET(col1, earliestN INT [, ignoreNulls BOOLEAN]) -> ARRAY"],
    "LATEST_BY_OFFSET": ["LATEST_BY_OFFSET(col1 [, ignoreNulls BOOLEAN]) -> same type",
                         "LATEST_BY_OFFSET(col1, latestN INT [, ignoreNulls BOOLEAN]) -> ARRAY"],
    "HISTOGRAM": ["HISTOGRAM(col1 STRING) -> MAP<STRING, BIGINT>"],
    "MAX": ["MAX(col1) -> same type"],
    "MIN": ["MIN(col1) -> same type"],
    "STDDEV_SAMP": ["STDDEV_SAMP(col1 NUMBER) -> DOUBLE"],
    "STDDEV_SAMPLE": ["STDDEV_SAMPLE(col1 NUMBER) -> DOUBLE"],
    "SUM": ["SUM(col1 NUMBER) -> same type"],
    "SUM_LIST": ["SUM_LIST(col1 ARRAY) -> same type as the elements"],
    "TOPK": ["TOPK(col1, otherCols..., k INT) -> ARRAY"],
    "TOPKDISTINCT": ["TOPKDISTINCT(col1, k INT) -> ARRAY"],
    "ATTR": ["ATTR(col1) -> same type"],
}


def _function_list() -> list[dict]:
    """Every function: scalar, aggregate, table and lambda, with their descriptions."""
    TABLE_FUNCTIONS = plan_module.TABLE_FUNCTIONS  # read now: Python UDTFs add theirs (ksql/udf.py)
    items = [{"name": f.name, "type": "TABLE" if f.name in TABLE_FUNCTIONS else "SCALAR",
              "category": f.category or "OTHER", "description": f.description,
              "signatures": [_with_result(f, s) for s in f.signatures]} for f in FUNCTIONS.values()]
    items += [{"name": a.name, "type": "AGGREGATE", "category": "AGGREGATE", "description": a.description,
               "signatures": list(_AGGREGATE_SIGNATURES.get(a.name, ()))} for a in AGGREGATES.values()]
    items += [{"name": "EXPLODE", "type": "TABLE", "category": "TABLE",
               "description": "One row per element of an array.", "signatures": ["EXPLODE(a ARRAY)"]},
              {"name": "CUBE_EXPLODE", "type": "TABLE", "category": "TABLE",
               "description": "One row per combination of the array's elements and NULLs.",
               "signatures": ["CUBE_EXPLODE(a ARRAY)"]}]
    items += [{"name": name, "type": "SCALAR", "category": "LAMBDA", "description": text, "signatures": [sig]}
              for name, text, sig in [
                  ("TRANSFORM", "Applies a lambda to each element (or map entry).",
                   "TRANSFORM(a ARRAY, x => ...)  TRANSFORM(m MAP, (k, v) => key, (k, v) => value)"),
                  ("FILTER", "Keeps the elements (or entries) for which a lambda is true.",
                   "FILTER(a ARRAY, x => ...)  FILTER(m MAP, (k, v) => ...)"),
                  ("REDUCE", "Folds the elements into one value with a lambda.",
                   "REDUCE(a ARRAY, initial, (state, x) => ...)")]]
    seen, unique = set(), []
    for item in sorted(items, key=lambda i: i["name"]):
        if item["name"] not in seen:
            seen.add(item["name"])
            unique.append(item)
    return unique


class Introspection:
    """SHOW, DESCRIBE, EXPLAIN and the cluster view, as part of KsqlEngine (a mixin)."""

    def _exec_Show(self, stmt: ast.Show, text: str, session: Session):
        what = stmt.what
        if what in ("STREAMS", "TABLES"):
            kind = what[:-1]
            sources = self.metastore.sources(kind)
            if stmt.extended:  # each one described, as DESCRIBE ... EXTENDED does
                return DescriptionsResult(text, [self._describe(s, True, text) for s in sources])
            items = [{"type": kind, "name": s.name, "topic": s.topic, "keyFormat": s.key_format,
                      "valueFormat": s.value_format, "isWindowed": s.window_type is not None} for s in sources]
            headers = [f"{kind.capitalize()} Name", "Kafka Topic", "Key Format", "Value Format", "Windowed"]
            rows = [[i["name"], i["topic"], i["keyFormat"], i["valueFormat"], str(i["isWindowed"]).lower()]
                    for i in items]
            return ListResult(text, what.lower(), headers, rows, items)
        if what == "TOPICS":
            topics = [t for t in self.log.topics() if stmt.all or not t.name.startswith("_")]
            items = [{"name": t.name, "replicaInfo": [1] * t.partitions} for t in topics]
            rows = [[t.name, t.partitions, 1] for t in topics]
            headers = ["Kafka Topic", "Partitions", "Partition Replicas"]
            if not stmt.extended:
                return ListResult(text, "kafka_topics", headers, rows, items)
            # EXTENDED: the consumer groups reading each topic (each persistent query is one, with
            # one consumer on this server)
            read = [{s.topic for s in q.plan.sources} for q in self.queries.values()]
            for item, row in zip(items, rows):
                count = sum(item["name"] in topics_read for topics_read in read)
                item.update(consumerCount=count, consumerGroupCount=count)
                row += [count, count]
            return ListResult(text, "kafka_topics_extended", headers + ["Consumers", "ConsumerGroups"], rows, items)
        if what == "QUERIES" and stmt.extended:
            described = [_running_description(q) for q in self.queries.values()]
            return TextResult(text, "query_descriptions",
                              "\n\n".join(t for t, _ in described) or "No queries are running.",
                              {"queryDescriptions": [d for _, d in described]})
        if what == "QUERIES":
            items = [_running_query(q) for q in self.queries.values()]
            rows = [[i["id"], "PERSISTENT", i["state"], ", ".join(i["sinks"]),
                     ", ".join(i["sinkKafkaTopics"]), " ".join(i["queryString"].split())] for i in items]
            return ListResult(text, "queries", ["Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic",
                                                "Query String"], rows, items)
        if what == "PROPERTIES":
            items, overwritten, defaults = effective_properties(self.properties, session.properties)
            rows = [[i["name"], i["scope"],
                     "SESSION" if i["name"] in overwritten else "" if i["name"] in defaults else "SERVER", i["value"]]
                    for i in items]
            return ListResult(text, "properties", ["Property", "Scope", "Level", "Value"], rows, items,
                              {"overwrittenProperties": overwritten, "defaultProperties": defaults})
        if what == "FUNCTIONS":
            items = _function_list()
            rows = [[i["name"], i["type"], i["category"]] for i in items]
            return ListResult(text, "function_names", ["Function Name", "Type", "Category"], rows, items)
        if what == "VARIABLES":
            items = [{"name": k, "value": v} for k, v in sorted(session.variables.items())]
            return ListResult(text, "variables", ["Variable Name", "Value"],
                              [[i["name"], i["value"]] for i in items], items)
        if what == "TYPES":
            types = sorted(self.metastore.types.items())
            # ksqlDB's TypeList: each type's name -> its schema object
            return ListResult(text, "type_list", ["Type Name", "Schema"], [[n, str(t)] for n, t in types],
                              {n: _schema_entity(t) for n, t in types})
        if what.endswith("CONNECTORS") or what == "CONNECTOR PLUGINS":
            return self._show_connectors(what, text)
        raise KsqlStatementError(f"SHOW {what} is not supported yet.")

    def _exec_Describe(self, stmt: ast.Describe, text: str, session: Session):
        if stmt.name in ("STREAMS", "TABLES") and self.metastore.get(stmt.name) is None:
            # every stream (or table), each described as DESCRIBE describes one
            sources = self.metastore.sources(stmt.name[:-1])
            return DescriptionsResult(text, [self._describe(s, stmt.extended, text) for s in sources])
        source = self.metastore.get(stmt.name)
        if source is None:
            raise KsqlStatementError(f"Could not find STREAM/TABLE '{stmt.name}' in the Metastore")
        return self._describe(source, stmt.extended, text)

    def _describe(self, source, extended: bool, text: str) -> DescribeResult:
        rows = []
        for column in source.schema.columns:
            suffix = {KEY: "(primary key)" if source.is_table else "(key)", HEADER: "(header)"}.get(column.namespace, "")
            rows.append([column.name, f"{column.type}{(' ' + suffix) if suffix else ''}"])
        details = []
        if extended:
            details = [("Type", source.kind), ("Key format", source.key_format),
                       ("Value format", source.value_format), ("Kafka topic", f"{source.topic} (partitions: "
                       f"{source.partitions}, replication: 1)"), ("Statement", source.sql)]
            for query_id in sorted(source.write_queries):
                q = self.queries.get(query_id)
                if q:
                    details.append(("Write query", f"{q.id} [{q.state}] in: {q.records_in}, out: {q.records_out}"
                                    + (f", error: {q.error}" if q.error else "")))
            for query_id in sorted(source.read_queries):
                details.append(("Read query", query_id))
        def running(ids):
            return [_running_query(self.queries[q]) for q in sorted(ids) if q in self.queries]

        statistics = ""
        if extended:
            writers = [self.queries[q] for q in source.write_queries if q in self.queries]
            statistics = ", ".join(f"{q.id}: records in {q.records_in}, out {q.records_out}" for q in writers)
        # the fields and their order of ksqlDB's SourceDescription entity
        item = {"name": source.name, "windowType": source.window_type,
                "readQueries": running(source.read_queries), "writeQueries": running(source.write_queries),
                "fields": [{"name": c.name, "schema": _schema_entity(c.type), **({"type": c.namespace}
                           if c.namespace != VALUE else {})} for c in source.schema.columns],
                "type": source.kind, "timestamp": source.timestamp_column or "", "statistics": statistics,
                "errorStats": "", "extended": extended, "keyFormat": source.key_format,
                "valueFormat": source.value_format, "topic": source.topic, "partitions": source.partitions,
                "replication": 1, "statement": source.sql, "queryOffsetSummaries": [], "sourceConstraints": sorted(  # what is made from it: it cannot be dropped before them
                    {self.queries[q].sink.name for q in source.read_queries if q in self.queries}),
                "clusterStatistics": [], "clusterErrorStats": []}
        return DescribeResult(text, "sourceDescription", f"Name                 : {source.name}",
                              ["Field", "Type"], rows, details, item)

    def _exec_DescribeFunction(self, stmt: ast.DescribeFunction, text: str, session: Session):
        item = next((i for i in _function_list() if i["name"] == stmt.name), None)
        if item is None:
            raise KsqlStatementError(f"Can't find any functions with the name '{stmt.name}'")
        details = DETAILS.get(item["name"], {})  # a user function's own author and version
        lines = [f"Name        : {item['name']}", f"Type        : {item['type']}",
                 f"Category    : {item['category']}", f"Description : {item['description']}"]
        lines += [f"{label:<12}: {details[key]}" for key, label in (("author", "Author"), ("version", "Version"))
                  if details.get(key)]
        lines += [f"Signature   : {s}" for s in item["signatures"]]
        # ksqlDB's FunctionDescriptionList: one entry per signature, its arguments and result
        entity = {"name": item["name"], "description": item["description"], "author": details.get("author", ""),
                  "version": details.get("version") or __version__,
                  "path": "internal" if item["name"] not in DETAILS else "extension", "type": item["type"],
                  "functions": [_signature_entity(s, item["description"]) for s in item["signatures"]]}
        return TextResult(text, "describe_function", "\n".join(lines), entity)

    def _exec_Explain(self, stmt: ast.Explain, text: str, session: Session):
        if stmt.query is not None:
            plan = plan_query(stmt.query, self.metastore)
            statement = text.strip()
            statement = statement[len("EXPLAIN"):].strip() if statement.upper().startswith("EXPLAIN") else statement
            explained = explain(plan)
            return TextResult(text, "queryDescription", explained, {"queryDescription": _query_description(
                "", statement, plan, [], explained, {}, None)})
        query = self.queries.get(stmt.query_id.upper())
        if query is None:
            raise KsqlStatementError(f"Query with id:{stmt.query_id} does not exist, "
                                     f"use SHOW QUERIES to view the full set of running queries.")
        shown, description = _running_description(query)
        return TextResult(text, "queryDescription", shown, {"queryDescription": description})

    def cluster_members(self) -> list[dict]:
        """The servers running this engine's persistent queries, the source partitions each
        processes and how far it is in each ((position, end offset)): this one alone on the
        embedded log; on Kafka, every member of the queries' consumer groups."""
        local = {"instance": getattr(self.log, "instance_id", ""), "url": self.properties.get(
            "ksql.advertised.listener", ""), "local": True, "queries": {}, "lags": {},
            # the state stores of each query (ksqlDB names an aggregation's so)
            "stores": {q.id: ["Aggregate-Aggregate-Materialize"] for q in list(self.queries.values())
                       if q.changelog and self.log.topic(q.changelog) is not None}}
        if not self.log.shared:
            for query in list(self.queries.values()):
                positions = dict(query.positions)
                local["queries"][query.id] = sorted(positions)
                local["lags"][query.id] = {tp: (offset, self.log.end_offset(*tp))
                                           for tp, offset in sorted(positions.items())}
            return [local]
        members = {local["instance"]: local}
        for query in list(self.queries.values()):
            committed = self.log.committed(query.id, stable=False)  # a report: never wait on a dead server
            for instance, url, assigned in self.log.group_members(query.id):
                member = members.setdefault(instance, {"instance": instance, "url": url, "local": False,
                                                       "queries": {}, "lags": {}, "stores": local["stores"]})
                if not query.partition_local:  # processed by the owner of the first partition
                    first = (query.plan.sources[0].topic, 0)
                    assigned = query.source_partitions() if first in assigned else []
                member["queries"][query.id] = sorted(assigned)
                member["lags"][query.id] = {tp: (committed.get(tp, 0), self.log.end_offset(*tp))
                                            for tp in sorted(assigned)}
            # every query runs here too: listed before its consumer group has given it anything
            local["queries"].setdefault(query.id, [])
            local["lags"].setdefault(query.id, {})
        return list(members.values())
