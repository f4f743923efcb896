"""ksqlDB's test-runner triple: statements.sql + input.json + output.json."""
from __future__ import annotations

import json
from pathlib import Path

from ksql.parser import split_statements
from ksql.testing.case import Case, Record
from ksql.testing.qtt import TestFileError, add_source_topics, strip_comments


def _records(path: str | None, field: str) -> list[Record]:
    if path is None:
        return []
    try:
        document = json.loads(strip_comments(Path(path).read_text()))
    except json.JSONDecodeError as error:
        raise TestFileError(f"{path}: not valid JSON at line {error.lineno}: {error.msg}") from None
    if field not in document:
        raise TestFileError(f"{path}: missing the field '{field}'")
    records = []
    for i, item in enumerate(document[field]):
        if "topic" not in item:
            raise TestFileError(f"{path}: {field}[{i}] lacks the field 'topic'")
        records.append(Record(item["topic"], item.get("key"), item.get("value"), item.get("timestamp"),
                              item.get("window"), item.get("headers")))
    return records


def case_from_triple(sql_file: str, input_file: str | None, output_file: str | None) -> Case:
    if output_file is None:
        raise TestFileError("--output-file is required with --sql-file")
    statements = [p.text for p in split_statements(Path(sql_file).read_text())]
    case = Case(Path(sql_file).name, Path(sql_file).parent.name, statements,
                inputs=_records(input_file, "inputs"), outputs=_records(output_file, "outputs"))
    add_source_topics(case)
    return case
