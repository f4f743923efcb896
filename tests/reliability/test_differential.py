"""The same answer three ways, for every SQL script of tests/sql and every runnable case of
ksqlDB's corpus: as written, with 4 partitions, killed and restarted midway (SIGKILL of a real
process), and read 1 or 10,000 records at a time (ksql/testing/differential.py). Differences
explained in conformance/differential-known.json are reported, not failed on."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ksql.testing.conformance import default_corpus

from conftest import ROOT



def test_every_case_gives_the_same_answer_three_ways():
    if not default_corpus().is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the conformance corpus is missing at {default_corpus()}")
        pytest.skip(f"no conformance corpus at {default_corpus()}")
    result = subprocess.run([sys.executable, "-m", "ksql.testing.differential", "-j", "2"], cwd=ROOT,
                            capture_output=True, text=True, timeout=3000)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, "\n".join(line for line in lines if not line.startswith("KNOWN"))[-5000:] \
        + result.stderr[-2000:]
    assert int(lines[-1].split()[0]) > 1000  # the corpus was compared, not a stub of it


def test_a_difference_is_found_when_there_is_one():
    """The harness itself: a query whose output depends on how its input is partitioned (a
    case the harness leaves out of that comparison, compared here on purpose)."""
    from ksql.testing.differential import Plan, Variant, _difference, isolated, run_variant

    plan = Plan("partition-dependent", [
        "CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
        "CREATE STREAM c AS SELECT 1 AS one, ROWPARTITION AS p FROM s PARTITION BY 1;",
        *[f"INSERT INTO s (id, v) VALUES ({i}, {i});" for i in range(8)]], [])
    written, spread = (isolated().submit(run_variant, plan, variant, 1).result()
                       for variant in (Variant("as written"), Variant("4 partitions", partitions=4)))
    assert "stream C" in _difference(written, spread, "ordered")
    assert _difference(written, written, "ordered") is None
