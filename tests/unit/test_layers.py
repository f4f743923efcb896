"""The layers point one way: import-linter's contracts (pyproject.toml) over the package as it
is installed (ksql with parser, planner, runtime, repl and grammar inside it)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

SUBPACKAGES = ("parser", "planner", "runtime", "repl", "grammar")  # pyproject's package-dir map


def installed_layout(into: Path) -> Path:
    """The package laid out as an install has it (import-linter reads files, not the editable map)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "ksql", into / "ksql", ignore=ignore)
    for name in SUBPACKAGES:
        shutil.copytree(ROOT / name, into / "ksql" / name, ignore=ignore)
    return into


def lint_imports(layout: Path) -> subprocess.CompletedProcess:
    linter = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(linter), "--no-cache", str(ROOT / "pyproject.toml")], cwd=layout,
                          env={"PYTHONPATH": str(layout), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=300)


def test_the_import_contracts_hold(tmp_path):
    result = lint_imports(installed_layout(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_them(tmp_path):
    """The contracts bite: the runtime importing the engine is refused."""
    layout = installed_layout(tmp_path)
    (layout / "ksql" / "runtime" / "upward.py").write_text("from ksql.engine import KsqlEngine\n")
    result = lint_imports(layout)
    assert result.returncode == 1
    assert "ksql.runtime.upward -> ksql.engine" in result.stdout


def test_an_import_cycle_breaks_them(tmp_path):
    """The expression tree helpers importing the planner that imports them is refused, even
    from inside a function."""
    layout = installed_layout(tmp_path)
    tree = layout / "ksql" / "planner" / "tree.py"
    tree.write_text(tree.read_text() + "\n\ndef _cycle():\n    from ksql.planner import plan  # noqa\n")
    result = lint_imports(layout)
    assert result.returncode == 1
    assert "No import cycles" in result.stdout and "BROKEN" in result.stdout
    assert "- .tree -> .plan (1 import)" in result.stdout


def test_the_runtime_reading_the_ast_breaks_them(tmp_path):
    """The runtime runs plan nodes: importing the parser's AST is refused (its errors it may raise)."""
    layout = installed_layout(tmp_path)
    (layout / "ksql" / "runtime" / "peek.py").write_text("from ksql.parser import ast\n")
    result = lint_imports(layout)
    assert result.returncode == 1
    assert "ksql.runtime.peek -> ksql.parser.ast" in result.stdout
