"""ksqlDB's JSON test files (query-validation-tests, rest-query-validation-tests) -> Cases."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ksql.testing.case import Case, Record
from ksql.planner.aggregates import AGGREGATES
from ksql.planner.library import FUNCTIONS

REGISTRY_FORMATS = ()  # every format runs (the schema registry is the embedded one)
# Functions that exist only in ksqlDB's own test code.
TEST_ONLY_FUNCTIONS = ("TEST_UDF", "BAD_TEST_UDF", "TEST_UDAF", "TEST_UDTF", "MID_VAR_ARG", "VAR_ARG",
                       "TEST_UDAF_", "TOSTRING_UDAF", "NULL_UDAF", "TEST_UDTF_", "SUM_MAP",
                       "MIDDLE_VAR_ARG", "MULTI_ARG", "FOUR_ARG", "FIVE_ARG", "OBJ_COL_ARG", "STRUCT_UDAF",
                       "COUNT_TEST", "RETURN_INCORRECT_TYPE", "WHEN_NULL", "TIME_ZONE_TEST", "BAD_UDF", "THROWING_UDTF",
                       "TOSTRUCT")


CASE_FIELDS = {"name", "statements", "inputs", "outputs", "post", "expectedException", "responses",
               "properties", "format", "topics", "expectedError", "comment", "comments", "inputConditions",
               "config", "versions", "enabled", "notes", "note", "issues", "issue", "description",
               "tracked by", "testPullWithProtoFormat", "outputConditions"}


class TestFileError(Exception):
    """A malformed test file or case: names the file, the case and the field."""


def strip_comments(text: str) -> str:
    """Remove // and /* */ comments outside JSON strings."""
    out, i, n = [], 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
            continue
        if ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def load_file(path: str | Path) -> dict:
    path = Path(path)
    try:
        return json.loads(strip_comments(path.read_text()))
    except json.JSONDecodeError as error:
        raise TestFileError(f"{path.name}: not valid JSON at line {error.lineno}, column {error.colno}: "
                            f"{error.msg}") from None


def cases_from_file(path: str | Path) -> list[Case]:
    """Every case of a JSON test file, expanded over its `format` and `config` lists. A case
    that is malformed comes back as an `error` case naming the field."""
    path = Path(path)
    document = load_file(path)
    tests = document.get("tests")
    if not isinstance(tests, list):
        raise TestFileError(f"{path.name}: missing the 'tests' list")
    cases = []
    for index, test in enumerate(tests):
        cases += _expand(path.name, test, index)
    if path.parent.name == "query-validation-tests":  # (the REST tests send a request per statement)
        for case in cases:
            case.one_script = True
    return cases


def _expand(file: str, test: dict, index: int) -> list[Case]:
    name = test.get("name") or f"#{index}"
    formats = test.get("format") or [None]
    configs = test.get("config") or [None]
    cases = []
    for fmt in formats:
        for config in configs:
            suffix = "".join(f" - {v}" for v in (fmt, config) if v is not None)
            cases.append(_case(file, f"{name}{suffix}", test, fmt, config))
    return cases


def _substitute(value, fmt, config):
    if isinstance(value, str):
        if fmt is not None:
            value = value.replace("{FORMAT}", fmt)
        if config is not None:
            value = value.replace("{CONFIG}", config)
        return value
    if isinstance(value, list):
        return [_substitute(v, fmt, config) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, fmt, config) for k, v in value.items()}
    return value


def _case(file: str, name: str, test: dict, fmt, config) -> Case:
    test = _substitute(test, fmt, config)
    statements = test.get("statements")
    case = Case(file, name, [])
    if not isinstance(statements, list) or not all(isinstance(s, str) for s in statements):
        return _malformed(case, "'statements' must be a list of strings")
    unknown = sorted(set(test) - CASE_FIELDS)
    if unknown:
        return _malformed(case, f"unknown field '{unknown[0]}'")
    for kind in ("inputs", "outputs"):
        for i, record in enumerate(test.get(kind) or []):
            if not isinstance(record, dict):
                return _malformed(case, f"{kind}[{i}] is not an object")
            # other fields of a record are ignored, as ksqlDB's own harness ignores them
            if "topic" not in record:
                return _malformed(case, f"{kind}[{i}] lacks the field 'topic'")
    case.statements = statements
    case.properties = {k: v for k, v in (test.get("properties") or {}).items()}
    try:
        case.inputs = [_record(r) for r in test.get("inputs", [])]
        outputs = test.get("outputs")
        case.outputs = [_record(r) for r in outputs] if outputs is not None else None
    except (KeyError, TypeError) as error:
        return _malformed(case, f"an input or output record lacks the field {error}")
    for topic in test.get("topics", []):
        if "name" not in topic:
            return _malformed(case, "a 'topics' entry lacks the field 'name'")
        if "partitions" in topic:  # otherwise a CREATE's PARTITIONS (or 1) decides, below
            case.topics[topic["name"]] = int(topic["partitions"])
        for part in ("key", "value"):
            schema = topic.get(f"{part}Schema")
            fmt = str(topic.get(f"{part}Format", topic.get("format", "AVRO"))).upper()
            if schema is not None and fmt in ("AVRO", "JSON_SR", "PROTOBUF"):
                kind = {"JSON_SR": "JSON"}.get(fmt, fmt)
                references = []
                for reference in topic.get(f"{part}SchemaReferences", []):  # each under a subject of its name
                    case.schemas[reference["name"]] = (reference["schema"], None, kind, [])
                    references.append({"name": reference["name"], "subject": reference["name"], "version": 1})
                case.schemas[f"{topic['name']}-{part}"] = (schema, topic.get(f"{part}SchemaId"), kind, references)
    add_source_topics(case, 4 if "responses" in test else 1)
    for topic in test.get("topics", []):
        case.topics.setdefault(topic["name"], 1)
    expected = test.get("expectedException") or test.get("expectedError")
    if expected is not None:
        case.expected_error = expected.get("message", "")
        if str(expected.get("type", "")).endswith("StreamsException") and expected.get("causeMessage"):
            case.expected_failure = expected["causeMessage"]
    case.responses = test.get("responses")
    case.verify_order = bool((test.get("outputConditions") or {}).get("verifyOrder"))
    case.inputs_after_query = bool((test.get("inputConditions") or {}).get("waitForActivePushQuery"))
    post = test.get("post") or {}
    case.post_sources = post.get("sources", [])
    case.unsupported = _unsupported(test, statements)
    return case


def _malformed(case: Case, reason: str) -> Case:
    case.malformed = f"{case.file}: case '{case.name}': {reason}"
    return case


def _record(data: dict) -> Record:
    return Record(topic=data["topic"], key=data.get("key"), value=data.get("value"),
                  timestamp=data.get("timestamp"), window=data.get("window"), headers=data.get("headers"))


_CREATE_SOURCE = re.compile(r"^\s*(?:--[^\n]*\n\s*)*CREATE\s+(OR\s+REPLACE\s+)?(SOURCE\s+)?(STREAM|TABLE)\b(?!.*\bAS\s+SELECT\b)",
                            re.IGNORECASE | re.DOTALL)
_KAFKA_TOPIC = re.compile(r"KAFKA_TOPIC\s*=\s*'([^']*)'", re.IGNORECASE)
_PARTITIONS = re.compile(r"\bPARTITIONS\s*=\s*(\d+)", re.IGNORECASE)


def add_source_topics(case: Case, default_partitions: int = 1) -> None:
    """The topics the harness creates before the statements run: those of CREATE STREAM/TABLE
    (with their PARTITIONS, if given) and of the input records. ksqlDB's REST harness gives
    them 4 partitions unless told otherwise (which orders its pull-query table scans)."""
    for statement in case.statements:
        topic = _declared_topic(statement)
        if topic is not None:
            partitions = _PARTITIONS.search(statement)
            case.topics.setdefault(topic, int(partitions.group(1)) if partitions else default_partitions)
    for record in case.inputs:
        case.topics.setdefault(record.topic, default_partitions)


def _declared_topic(statement: str) -> str | None:
    """The topic a CREATE STREAM/TABLE (not AS SELECT) reads, which the harness pre-creates."""
    if not _CREATE_SOURCE.match(statement):
        return None
    match = _KAFKA_TOPIC.search(statement)
    if match is None or "${" in match.group(1):
        return None  # (a variable: the statement makes its topic once it is substituted)
    return match.group(1)


def _missing_test_functions() -> list[str]:
    """The test-only functions no loaded extension provides."""
    return [f for f in TEST_ONLY_FUNCTIONS if f not in FUNCTIONS and f not in AGGREGATES]


def _unsupported(test: dict, statements: list[str]) -> str | None:
    if test.get("enabled") is False:
        return "disabled in the corpus"
    text = " ".join(statements).upper()
    for fmt in REGISTRY_FORMATS:
        if re.search(rf"FORMAT\s*=\s*'{fmt}'", text):
            return f"needs a schema registry ({fmt})"
    for topic in test.get("topics", []):
        if any(k in topic for k in ("keySchema", "valueSchema", "schema")) and \
                str(topic.get("format", topic.get("valueFormat", ""))).upper() in REGISTRY_FORMATS:
            return "needs a schema registry"
    for function in _missing_test_functions():
        if re.search(rf"\b{function}\s*\(", text):
            return f"calls {function}, which exists only in ksqlDB's test code"
    if any("queryProto" in r for r in test.get("responses", [])):
        return "checks protobuf query responses"
    return None
