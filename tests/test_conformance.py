"""The ratchet: every ksqlDB corpus case listed in conformance/baseline.json must still pass."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ksql.testing.conformance import default_corpus

ROOT = Path(__file__).resolve().parent.parent


def test_baseline_cases_still_pass():
    corpus = default_corpus()
    if not corpus.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the conformance corpus is missing at {corpus}")
        pytest.skip(f"no conformance corpus at {corpus}")
    result = subprocess.run([sys.executable, "-m", "ksql.testing.conformance", "--check", "-j", "2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
