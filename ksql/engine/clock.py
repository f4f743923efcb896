"""The engine's wall clock, in one place so a test can replace it (ksql/testing/differential.py
sets `clock.now` so INSERT VALUES without ROWTIME gets the same time in every run)."""
from __future__ import annotations

import time


def now() -> int:
    """Milliseconds since the epoch."""
    return int(time.time() * 1000)
