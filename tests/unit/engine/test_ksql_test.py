"""`ksql test` as users run it in CI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TESTS, require_input
from ksql.testing.conformance import default_corpus

DATA = TESTS / "data"
RUNNER = default_corpus() / "extras" / "test-runner"


def ksql_test(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ksql.cli", "test", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def report(path: Path) -> dict:
    return {(r["file"], r["case"]): r for r in map(json.loads, path.read_text().splitlines())}


def test_sql_test_file(tmp_path):
    result = ksql_test(DATA / "tests.sql", "--report", tmp_path / "r.jsonl")
    assert result.returncode == 1
    rows = report(tmp_path / "r.jsonl")
    assert set(rows[("tests.sql", "doubles are filtered")]) == {"file", "case", "status", "reason"}
    assert rows[("tests.sql", "doubles are filtered")]["status"] == "passed"
    assert rows[("tests.sql", "unknown columns are rejected")]["status"] == "passed"
    failed = rows[("tests.sql", "a wrong assertion fails")]
    assert failed["status"] == "error"
    assert "Expected record does not match actual" in failed["reason"]
    assert "2 passed, 0 failed, 1 error, 0 unsupported (3 cases)" in result.stdout


def test_json_cases_and_case_filter(tmp_path):
    result = ksql_test(DATA / "cases.json", "--report", tmp_path / "r.jsonl")
    rows = report(tmp_path / "r.jsonl")
    assert rows[("cases.json", "project and filter")]["status"] == "passed"
    wrong = rows[("cases.json", "wrong expectation")]
    assert wrong["status"] == "failed"
    assert wrong["reason"].startswith("topic OUTPUT, record 0: value.NAME differs: expected 'z', got 'a'")
    malformed = rows[("cases.json", "malformed")]
    assert malformed == {"file": "cases.json", "case": "malformed", "status": "error",
                         "reason": "cases.json: case 'malformed': inputs[0] lacks the field 'topic'"}
    assert result.returncode == 1
    only = ksql_test(DATA / "cases.json", "--case", "project and filter")
    assert only.returncode == 0, only.stdout
    assert "1 passed, 0 failed, 0 error, 0 unsupported (1 cases)" in only.stdout


def test_bad_json_file_is_reported_and_others_still_run(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"tests": [ {"name": "x", ')
    result = ksql_test(bad, DATA / "cases.json", "--case", "project and filter")
    assert ">>> ERROR: bad.json" in result.stdout
    assert "not valid JSON at line 1" in result.stdout
    assert ">>> Test passed! cases.json: project and filter" in result.stdout


@pytest.mark.parametrize("folder", ["simple_project_filter", "stream_no_keys", "multi_insert_into", "from_docs"])
def test_triple_correct_passes(folder):
    require_input(RUNNER, "the conformance corpus")
    d = RUNNER / "correct" / folder
    result = ksql_test("--sql-file", d / "statements.sql", "--input-file", d / "input.json",
                       "--output-file", d / "output.json")
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("folder", ["empty_input", "empty_output", "expected_mismatch", "insert_values",
                                    "second_of_three_stmts_fails",
                                    "incorrect_input_format", "missing_field_in_output"])
def test_triple_incorrect_fails(folder):
    require_input(RUNNER, "the conformance corpus")
    d = RUNNER / "incorrect" / folder
    inputs = ["--input-file", d / "input.json"] if (d / "input.json").exists() else []
    result = ksql_test("--sql-file", d / "statements.sql", *inputs, "--output-file", d / "output.json")
    assert result.returncode == 1, result.stdout


def test_triple_mismatch_report_shows_expected_and_actual():
    require_input(RUNNER, "the conformance corpus")
    d = RUNNER / "incorrect" / "expected_mismatch"
    result = ksql_test("--sql-file", d / "statements.sql", "--input-file", d / "input.json",
                       "--output-file", d / "output.json")
    assert "topic S1, record 0: key differs" in result.stdout
    assert "expected: key='1001', value=\"101\"" in result.stdout
    assert "actual:   key='101', value=\"101\", timestamp=0" in result.stdout


def _run_json(tmp_path, test: dict):
    from ksql.testing.cases import run_case
    from ksql.testing.qtt import cases_from_file

    path = tmp_path / "case.json"
    path.write_text(json.dumps({"tests": [test]}))
    return run_case(cases_from_file(path)[0])


def test_outputs_of_several_partitions_match_in_any_interleaving_but_keep_each_key_in_order(tmp_path):
    # Kafka orders records only within a partition: the expected order may interleave the
    # sink's partitions in any way, but two records of one key must come as listed.
    statements = ["CREATE STREAM S (K INT KEY, V INT) WITH (kafka_topic='s', format='JSON', partitions=4);",
                  "CREATE STREAM O AS SELECT * FROM S;"]
    keys = [3, 1, 2, 0, 3, 1]
    inputs = [{"topic": "s", "key": k, "value": {"V": i}} for i, k in enumerate(keys)]
    outputs = [{"topic": "O", "key": k, "value": {"V": i}} for i, k in enumerate(keys)]
    test = {"name": "t", "statements": statements, "inputs": inputs}
    assert _run_json(tmp_path, {**test, "outputs": outputs}).status == "passed"
    swapped = outputs[:]
    swapped[0], swapped[4] = swapped[4], swapped[0]  # key 3's two records out of order
    result = _run_json(tmp_path, {**test, "outputs": swapped})
    assert result.status == "failed"
    assert "value.V differs: expected 4, got 0" in result.reason


def test_a_create_statements_partitions_count_for_a_declared_topic_without_one(tmp_path):
    test = {"name": "t", "topics": [{"name": "s"}],
            "statements": ["CREATE STREAM S (K INT KEY, V INT) WITH (kafka_topic='s', format='JSON', partitions=3);",
                           "CREATE STREAM O AS SELECT * FROM S;"],
            "inputs": [{"topic": "s", "key": 1, "value": {"V": 1}}],
            "outputs": [{"topic": "O", "key": 1, "value": {"V": 1}}]}
    assert _run_json(tmp_path, test).status == "passed"
