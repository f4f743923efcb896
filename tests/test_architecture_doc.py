"""docs/ARCHITECTURE.md stays true: every file it names exists, and every name it gives in a
file (`path.py: name`) is defined there."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
