"""The ratchet: every ksqlDB corpus case listed in conformance/baseline.json must still pass."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ksql.testing.conformance import collect, default_corpus

from conftest import ROOT, require_input


def test_baseline_cases_still_pass():
    corpus = default_corpus()
    if not corpus.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the conformance corpus is missing at {corpus}")
        pytest.skip(f"no conformance corpus at {corpus}")
    result = subprocess.run([sys.executable, "-m", "ksql.testing.conformance", "--check", "-j", "2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_every_case_has_a_key_of_its_own():
    """Two corpus cases of one file share a name: the later one is numbered, so the baseline
    cannot lose one behind its twin."""
    from collections import Counter

    require_input(default_corpus(), "the conformance corpus")
    cases, _ = collect(default_corpus())
    keys = Counter(f"{c.file}::{c.name}" for c in cases)
    assert [k for k, n in keys.items() if n > 1] == []
    assert "extras/sql-tests/test.sql::assert stream with wrong topic should fail #2" in keys
