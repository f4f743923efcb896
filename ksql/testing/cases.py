"""Running one SQL test case (case.py) on a fresh embedded engine: its statements and ASSERTs,
its inputs, then its outputs, error or REST responses checked. Shared by the three input forms
of `ksql test`."""
from __future__ import annotations

import itertools
import json
import re
import tempfile

import orjson

from ksql.engine import KsqlEngine, StatementFailed
from ksql.errors import KsqlError
from ksql.testing.assertions import Assertions
from ksql.testing.case import ERROR, FAILED, PASSED, TEST_PROPERTIES, UNSUPPORTED, Case, Record, Result
from ksql.testing.topics import _decode, _sink_for_topic, _split_window, produce, read_partitions, values_equal


def run_case(case: Case) -> Result:
    if case.malformed:
        return Result(case.file, case.name, ERROR, case.malformed)
    if case.unsupported:
        return Result(case.file, case.name, UNSUPPORTED, case.unsupported)
    with tempfile.TemporaryDirectory(prefix="ksql-test-") as data_dir:
        engine = KsqlEngine(data_dir, properties=dict(case.properties), background=False)
        try:
            return _run(engine, case)
        except KsqlError as error:
            return Result(case.file, case.name, ERROR, str(error))
        except Exception as error:  # noqa: BLE001 - a crash in one case must not stop the others
            return Result(case.file, case.name, ERROR, f"{type(error).__name__}: {error}")
        finally:
            engine.close()


def _run(engine: KsqlEngine, case: Case) -> Result:
    engine.session.properties.update(TEST_PROPERTIES)
    engine.session.properties.update({k: str(v) for k, v in case.properties.items()})
    for topic, partitions in case.topics.items():
        if engine.log.topic(topic) is None:
            engine.log.create_topic(topic, partitions)
    engine.schema_registry.set_compatibility("NONE")  # ksqlDB's harness used a registry that checks none
    for subject, text, schema_type, references, schema_id in _schemas_in_order(case):
        engine.schema_registry.register(subject, text, schema_type, references=references or None,
                                        schema_id=schema_id)
    if case.responses is not None:
        return _run_rest(engine, case)
    assertions = Assertions(engine)
    error = None
    for line, statement in enumerate(case.statements, start=1):
        try:
            if not assertions.handle(statement):
                engine.execute(statement, at=(line if case.one_script else 1, 1))
                if _INSERT_VALUES.match(statement):
                    # as ksqlDB's test driver does, a record is processed as soon as it is written:
                    # a query replaced after it has already seen it
                    engine.drain()
        except StatementFailed as failure:
            error = (statement, failure.error)
            break
        except KsqlError as failure:  # an ASSERT that does not hold
            error = (statement, failure)
            break
    if case.expected_failure is not None and error is None:
        return _expect_failure(engine, case)
    if case.expected_error is not None:
        if error is None:
            return Result(case.file, case.name, FAILED,
                          f"expected an error containing {case.expected_error!r}, but every statement succeeded")
        if not _message_matches(case.expected_error, str(error[1])):
            return Result(case.file, case.name, FAILED,
                          f"expected an error containing {case.expected_error!r}, got: {error[1]}")
        return Result(case.file, case.name, PASSED)
    if error is not None:
        return Result(case.file, case.name, ERROR, f"statement failed: {error[0]}\n{error[1]}")

    _feed_inputs(engine, case)
    failed = [q for q in engine.queries.values() if q.state == "ERROR"]
    if failed:
        return Result(case.file, case.name, ERROR, f"query {failed[0].id} failed: {failed[0].error}")
    if case.outputs is not None:
        reason = compare_outputs(engine, case.outputs)
        if reason:
            return Result(case.file, case.name, FAILED, reason)
    reason = check_sources(engine, case.post_sources)
    if reason:
        return Result(case.file, case.name, FAILED, reason)
    return Result(case.file, case.name, PASSED)


def _feed_inputs(engine: KsqlEngine, case: Case) -> None:
    """Like the reference harness, every input record is processed before the next is produced,
    so records of different topics meet in the order the test lists them."""
    engine.drain()
    for record in case.inputs:
        produce(engine, record)
        engine.drain()


def _schemas_in_order(case: Case) -> list[tuple]:
    """(subject, text, type, references, id) of the case's schemas, referenced ones first (the
    registry checks references), numbered as ksqlDB's harness numbers them: the topics' own
    schemas 1, 2, ... in order (skipping ids given), the schemas they reference after them."""
    referenced = {r["subject"] for _, _, _, refs in case.schemas.values() for r in refs or ()}
    topics = [s for s in case.schemas if s not in referenced]
    given = {int(v[1]) for v in case.schemas.values() if v[1] is not None}
    free = (n for n in itertools.count(1) if n not in given)
    numbers = {subject: next(free) for subject in topics + [s for s in case.schemas if s in referenced]}
    out = []
    for subject in sorted(case.schemas, key=lambda s: s not in referenced):
        schema, schema_id, schema_type, references = case.schemas[subject]
        text = schema if schema_type == "PROTOBUF" else json.dumps(schema, separators=(",", ":"))
        out.append((subject, text, schema_type, references,
                    int(schema_id) if schema_id is not None else numbers[subject]))
    return out


def _expect_failure(engine: KsqlEngine, case: Case) -> Result:
    """A case whose query must fail on its inputs: the records before the failure are the
    expected outputs, and the query's error names the expected cause."""
    _feed_inputs(engine, case)
    failed = [q for q in engine.queries.values() if q.state == "ERROR"]
    if not failed:
        return Result(case.file, case.name, FAILED,
                      f"expected a query to fail with {case.expected_failure!r}, but none failed")
    if case.expected_failure not in (failed[0].error or ""):
        return Result(case.file, case.name, FAILED,
                      f"expected a query to fail with {case.expected_failure!r}, got: {failed[0].error}")
    reason = compare_outputs(engine, case.outputs) if case.outputs is not None else None
    return Result(case.file, case.name, FAILED if reason else PASSED, reason or "")


_INSERT_VALUES = re.compile(r"^\s*(?:--[^\n]*\n\s*)*INSERT\s+INTO\s+\S+(?:\s*\([^)]*\))?\s*VALUES\b",
                            re.IGNORECASE)

# Wrappers ksqlDB's REST layer adds around the engine's own messages.
_PREFIXES = ("Exception while preparing statement: ", "Failed to prepare statement: ")


def _message_matches(expected: str, actual: str) -> bool:
    for prefix in _PREFIXES:
        expected = expected.replace(prefix, "")
    return expected in actual


def _run_rest(engine: KsqlEngine, case: Case) -> Result:
    """A REST case: each statement's response (entity, or query header and rows) is checked.
    Inputs are produced (and processed) before the first query, as the reference harness does."""
    from ksql.results import RowStream
    from ksql.server import KsqlServer, row_values

    server = KsqlServer(engine)
    # ksqlDB's harness of these files runs its server with scalable push queries enabled
    engine.properties.setdefault("ksql.query.push.v2.enabled", "true")
    actual, produced = [], False
    for statement in case.statements:  # (each a request of its own: its errors count from line 1)
        is_query = statement.lstrip().upper().startswith(("SELECT", "PRINT"))
        if is_query and not produced and not case.inputs_after_query:
            for record in case.inputs:
                produce(engine, record)
                engine.drain()
            produced = True
        if is_query:  # rows inserted by earlier statements are processed first, as the reference harness does
            engine.drain()
        try:
            results = engine.execute(statement)
        except StatementFailed as failure:
            if case.expected_error is not None and _message_matches(case.expected_error, str(failure.error)):
                return Result(case.file, case.name, PASSED)
            return Result(case.file, case.name, FAILED if case.expected_error is not None else ERROR,
                          f"statement failed: {statement}\n{failure.error}")
        for result in results:
            if isinstance(result, RowStream) and statement.lstrip().upper().startswith("PRINT"):
                # (our docs tests' own form: PRINT's lines as the CLI shows them)
                actual.append({"print": [str(line) for line in _take(result)]})
                continue
            if isinstance(result, RowStream):
                if case.inputs_after_query and not produced:
                    for record in case.inputs:
                        produce(engine, record)
                    produced = True
                engine.drain()
                rows = [{"row": {"columns": row_values(row, result.column_types)}} for row in _take(result)]
                actual.append({"query": [{"header": {"schema": result.schema()}}] + rows})
            else:
                actual.append({"admin": server._entity(result)})
    if case.expected_error is not None:
        return Result(case.file, case.name, FAILED,
                      f"expected an error containing {case.expected_error!r}, but every statement succeeded")
    if not produced:
        for record in case.inputs:
            produce(engine, record)
            engine.drain()
    reason = _compare_responses(case.responses, actual, case.verify_order)
    if reason:
        return Result(case.file, case.name, FAILED, reason)
    if case.outputs is not None:
        reason = compare_outputs(engine, case.outputs)
        if reason:
            return Result(case.file, case.name, FAILED, reason)
    return Result(case.file, case.name, PASSED)


def _take(stream, limit: int = 1000) -> list:
    """The rows a query has now: a push query stops when nothing more is there."""
    rows = []
    iterator = stream.rows(poll=0) if _accepts_poll(stream) else stream.rows()
    for row in iterator:
        rows.append(row)
        if len(rows) >= (stream.limit or limit):
            break
    stream.close()
    return rows


def _accepts_poll(stream) -> bool:
    import inspect

    try:
        return "poll" in inspect.signature(stream.rows).parameters
    except (TypeError, ValueError):
        return False


def _compare_responses(expected: list, actual: list, verify_order: bool = False) -> str | None:
    """None when the responses match; else what differs. As in ksqlDB's harness, the rows of
    a query response match in any order unless the case asks for order."""
    for i, want in enumerate(expected):
        if i >= len(actual):
            return f"response {i}: missing (expected {orjson.dumps(want).decode()[:200]})"
        got = actual[i]
        kind = next(iter(want))
        if kind not in got:
            return f"response {i}: expected a {kind} response, got {orjson.dumps(got).decode()[:200]}"
        if kind == "print":
            if want["print"] != got["print"]:
                return f"response {i}: PRINT gave {got['print']!r}, expected {want['print']!r}"
            continue
        if kind == "admin":
            for field, value in want["admin"].items():
                if not _subset_equal(value, got["admin"].get(field)):
                    return f"response {i}: {field} is {got['admin'].get(field)!r}, expected {value!r}"
            continue
        want_items = [w for w in want["query"] if "finalMessage" not in w]
        got_items = got["query"]
        if not verify_order:
            got_items = _in_expected_order(want_items, got_items)
        for j, (w, g) in enumerate(zip(want_items, got_items)):
            if "header" in w:
                if _normalize_schema(w["header"].get("schema", "")) != _normalize_schema(
                        g.get("header", {}).get("schema", "")):
                    return f"response {i}: header schema is {g.get('header')}, expected {w['header']}"
            elif "row" in w:
                if not values_equal(w["row"].get("columns"), g.get("row", {}).get("columns")):
                    return (f"response {i}, row {j}: expected {w['row'].get('columns')}, "
                            f"got {g.get('row', {}).get('columns')}")
        if len(want_items) != len(got_items):
            return f"response {i}: expected {len(want_items) - 1} rows, got {len(got_items) - 1}"
    return None


def _in_expected_order(want_items: list, got_items: list) -> list:
    """The actual items reordered so that each expected row meets an equal actual row where
    there is one (rows without a match keep their places at the end)."""
    remaining = list(got_items)
    ordered = []
    for w in want_items:
        wanted = w.get("row", {}).get("columns") if "row" in w else None
        match = next((g for g in remaining if "row" in w and "row" in g
                      and values_equal(wanted, g["row"].get("columns"))), None)
        if match is None:
            match = next((g for g in remaining if ("row" in g) == ("row" in w)), None)
        if match is None:
            break
        remaining.remove(match)
        ordered.append(match)
    return ordered + remaining


def _subset_equal(want, got) -> bool:
    if isinstance(want, dict) and set(want) == {"@contains"} and isinstance(got, list):
        # (our docs tests' own form, for long lists: each wanted item matches one of the list's)
        return all(any(_subset_equal(item, g) for g in got) for item in want["@contains"])
    if isinstance(want, dict) and isinstance(got, dict):
        return all(_subset_equal(v, got.get(k)) for k, v in want.items())
    if isinstance(want, list) and isinstance(got, list):
        return len(want) == len(got) and all(_subset_equal(a, b) for a, b in zip(want, got))
    return values_equal(want, got)


# ---------------------------------------------------------------- producing inputs


# ---------------------------------------------------------------- checking outputs


def compare_outputs(engine: KsqlEngine, expected: list[Record]) -> str | None:
    """None when the topics hold exactly the expected records, in order; else a report."""
    topics = list(dict.fromkeys(r.topic for r in expected))
    if not expected:  # no output expected at all: every query's sink must stay empty
        topics = sorted({q.sink.topic for q in engine.queries.values()})
    for topic in topics:
        want = [r for r in expected if r.topic == topic]
        source = _sink_for_topic(engine, topic)
        partitions = []
        for records in read_partitions(engine, topic):
            partitions.append([])
            for k, v, ts in records:
                k, window = _split_window(k, source)
                partitions[-1].append(Record(topic, _decode(k, source, True), _decode(v, source, False), ts, window))
        got = _interleave_as_expected(want, partitions)
        for i, (w, g) in enumerate(zip(want, got)):
            difference = _record_difference(w, g)
            if difference:
                return (f"topic {topic}, record {i}: {difference}\n"
                        f"  expected: {_show(w)}\n  actual:   {_show(g)}")
        if len(got) != len(want):
            extra = got[len(want):] if len(got) > len(want) else want[len(got):]
            word = "unexpected" if len(got) > len(want) else "missing"
            return (f"topic {topic}: expected {len(want)} records, got {len(got)}; first {word}: "
                    f"{_show(extra[0])}")
    return None


def _interleave_as_expected(want: list[Record], partitions: list[list[Record]]) -> list[Record]:
    """The partitions' records in one sequence that follows the expected order where it can.
    Kafka orders records only within a partition (ksqlDB's test driver, with no partitions,
    emits them in processing order), so each expected record may come from the head of any
    partition; from the first record no head matches on, the rest keep partition order."""
    heads = [0] * len(partitions)
    out = []
    order = list(range(len(partitions)))
    for expected in want:
        for p, records in enumerate(partitions):
            if heads[p] < len(records) and _record_difference(expected, records[heads[p]]) is None:
                out.append(records[heads[p]])
                heads[p] += 1
                break
        else:  # the difference is reported against the partition that holds this key, if any
            same_key = [p for p in order if heads[p] < len(partitions[p])
                        and values_equal(expected.key, partitions[p][heads[p]].key)]
            order = same_key + [p for p in order if p not in same_key]
            break
    for p in order:
        out += partitions[p][heads[p]:]
    return out


def _record_difference(want: Record, got: Record) -> str | None:
    if not values_equal(want.key, got.key):
        return "key differs"
    difference = _first_difference(want.value, got.value, "value")
    if difference:
        return difference
    if want.timestamp is not None and want.timestamp != got.timestamp:
        return f"timestamp differs: expected {want.timestamp}, got {got.timestamp}"
    if want.window is not None:
        expected = {k: want.window.get(k) for k in ("start", "end")}
        actual = {k: (got.window or {}).get(k) for k in ("start", "end")}
        if expected != actual:
            return f"window differs: expected {want.window}, got {got.window}"
    return None


def _first_difference(want, got, path: str) -> str | None:
    if isinstance(want, dict) and isinstance(got, dict):
        # Field names match case-insensitively, and a field that is absent on one side equals a
        # NULL one on the other, as the reference harness's schema-aware reader has them.
        got_names = {n.upper(): n for n in got}
        for name in want:
            actual_name = name if name in got else got_names.get(name.upper())
            if actual_name is None:
                if want[name] is None:
                    continue
                return f"{path}.{name} is missing"
            difference = _first_difference(want[name], got[actual_name], f"{path}.{name}")
            if difference:
                return difference
        wanted = {n.upper() for n in want}
        extra = [n for n in got if n.upper() not in wanted and got[n] is not None]
        if extra:
            return f"{path}.{extra[0]} is unexpected"
        return None
    if not values_equal(want, got):
        return f"{path} differs: expected {want!r}, got {got!r}"
    return None


def _show(record: Record) -> str:
    text = f"key={record.key!r}, value={orjson.dumps(record.value, default=str).decode()}"
    if record.window is not None:
        text += f", window={record.window}"
    if record.timestamp is not None:
        text += f", timestamp={record.timestamp}"
    return text


def check_sources(engine: KsqlEngine, expected: list[dict]) -> str | None:
    """Post-conditions on sources: type, formats and schema."""
    for want in expected:
        name = want.get("name")
        source = engine.metastore.get(name)
        if source is None:
            return f"post: source {name} does not exist"
        if "type" in want and want["type"].upper() != source.kind:
            return f"post: {name} is a {source.kind}, expected {want['type'].upper()}"
        key_format = want.get("keyFormat", {}).get("format") if isinstance(want.get("keyFormat"), dict) else None
        if key_format and key_format != source.key_format:
            return f"post: {name} key format is {source.key_format}, expected {key_format}"
        value_format = want.get("valueFormat")
        if isinstance(value_format, dict):
            value_format = value_format.get("format")
        if value_format and value_format != source.value_format:
            return f"post: {name} value format is {source.value_format}, expected {value_format}"
        if "schema" in want:
            actual = source.schema.describe(source.is_table)
            if _normalize_schema(want["schema"]) != _normalize_schema(actual):
                return f"post: {name} schema is {actual}, expected {want['schema']}"
    return None


def _normalize_schema(text: str) -> str:
    text = re.sub(r"\bINT\b", "INTEGER", text.replace("`", "").upper())
    text = re.sub(r"\bVARCHAR\b", "STRING", text)
    text = re.sub(r"\s*,\s*", ", ", text).replace("PRIMARY KEY", "KEY")
    text = re.sub(r"\s*([<>()])\s*", r"\1", text)  # `STRUCT< >` is `STRUCT<>`
    return " ".join(text.split())
