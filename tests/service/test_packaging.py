"""The wheel carries every subpackage and the grammar, and works outside the source tree."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

SUBPACKAGES = ["ksql", "ksql.parser", "ksql.planner", "ksql.runtime", "ksql.runtime.operators",
               "ksql.repl", "ksql.grammar", "ksql.testing"]


def test_wheel_installs_and_imports_every_subpackage(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(ROOT)], check=True, cwd=tmp_path, timeout=300)
    wheel = next(wheels.glob("ksql-*.whl"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, timeout=300)
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]); import importlib\n"
        f"for name in {SUBPACKAGES!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    assert module.__file__.startswith(sys.argv[1]), (name, module.__file__)\n"
        "from ksql.parser import parse_statement\n"
        "print(type(parse_statement('SHOW STREAMS;')).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", check, str(target)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Show"
    assert (target / "bin" / "ksql").exists() or any(target.glob("ksql-*.dist-info/entry_points.txt"))
    entry_points = next(target.glob("ksql-*.dist-info/entry_points.txt")).read_text()
    assert "ksql = ksql.cli:main" in entry_points
    assert "ksql-migrations = ksql.migrations:main" in entry_points  # ksqlDB's tool, by its own name
