"""docs/ARCHITECTURE.md stays true: every file it names exists, and every name it gives in a
file (`path.py: name`) is defined there."""
from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

MENTION = re.compile(r"`([\w/]+\.py)(?::\s*([\w.]+))?`")


def where(name: str) -> Path | None:
    path = ROOT / name
    if path.is_file():
        return path
    found = [p for p in ROOT.rglob(Path(name).name) if ".venv" not in p.parts and "build" not in p.parts
             and "node_modules" not in p.parts]
    return found[0] if len(found) == 1 else None


def test_every_file_and_name_the_architecture_page_gives_exists():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    mentions = MENTION.findall(text)
    assert len(mentions) > 40  # the walk names the code it walks through
    wrong = []
    for file, name in mentions:
        path = where(file)
        if path is None:
            wrong.append(f"{file}: no such file")
        elif name and not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name.split('.')[-1])}\b|"
                                    rf"^{re.escape(name)}\s*[:=]", path.read_text(), re.M):
            wrong.append(f"{file}: {name} is not defined there")
    assert wrong == []


# Backticked words that are not code names: values, topics, files, properties.
NOT_CODE = {"exactly_once_v2", "_schemas", "commits.log", "bootstrap.servers", "ksql.state.max.entries",
            "ksql.streams.num.stream.threads", "ksql.connect.url", "ksql.query.push.v2.enabled",
            "ALIAS__COL", "__AGG_i", "__KEY_i", "__JOIN_KEY"}
CODE_NAME = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(.*\))?$")


DEFINITION = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+(\w+)|^(\w+)\s*[:=]", re.M)


def defined_names() -> set[str]:
    """Every function, class, method and module-level name of the project's code."""
    names = set()
    for folder in ("ksql", "parser", "planner", "runtime", "repl"):
        for path in (ROOT / folder).rglob("*.py"):
            for pair in DEFINITION.findall(path.read_text()):
                names.update(n for n in pair if n)
    return names


def test_every_function_and_class_the_page_names_exists():
    """`KsqlEngine._replay`, `plan_query`, `parser.expected_next`: the last part of each is
    defined somewhere in the code."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    names = defined_names()
    checked, missing = 0, []
    for token in re.findall(r"`([^`]+)`", text):
        match = CODE_NAME.match(token)
        if match is None or token in NOT_CODE or ".py" in token or token.isupper() or token.islower() \
                and "_" not in token and "." not in token:
            continue  # SQL, paths, keywords, plain words
        checked += 1
        if match.group(1).split(".")[-1] not in names:
            missing.append(token)
    assert checked > 60
    assert missing == []
