"""SQL test files: `--@test: name` blocks with ASSERT statements (ksqlDB's run-ksql-test).

    --@test: my test
    --@expected.error: io.confluent.ksql.util.KsqlException     (optional)
    --@expected.message: text the error must contain            (optional)
    --@gap: why the engine does not do this yet                 (optional: expected to fail)
    CREATE STREAM ...;
    INSERT INTO ... VALUES (...);
    ASSERT VALUES sink (col, ...) VALUES (...);
"""
from __future__ import annotations

import re
from pathlib import Path

from ksql.parser import split_statements
from ksql.testing.case import Case
from ksql.testing.qtt import _unsupported, add_source_topics

_TEST = re.compile(r"^--@test:\s*(.+?)\s*$", re.MULTILINE)
_ANNOTATION = re.compile(r"^--@(expected\.error|expected\.message|gap):\s*(.+?)\s*$", re.MULTILINE)


def cases_from_sql_file(path: str | Path) -> list[Case]:
    path = Path(path)
    text = path.read_text()
    starts = list(_TEST.finditer(text))
    cases = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        block = text[match.end():end]
        annotations = dict((m.group(1), m.group(2)) for m in _ANNOTATION.finditer(block))
        statements = [p.text for p in split_statements(block)]
        case = Case(path.name, match.group(1), statements)
        if "expected.error" in annotations or "expected.message" in annotations:
            case.expected_error = annotations.get("expected.message", "")
        case.outputs = None
        # ksqlDB's runner feeds a query only the records written after it starts
        case.properties["auto.offset.reset"] = "latest"
        case.gap = annotations.get("gap")
        case.unsupported = _unsupported({}, statements)
        add_source_topics(case)
        cases.append(case)
    return cases


