"""What the engine benchmarks share: an engine driven without threads, records written
straight to its log, and the time a drain takes."""
from __future__ import annotations

import time

import numpy as np

from ksql.engine import KsqlEngine
from ksql.runtime.log.embedded import make_records


def bench_engine(data_dir: str, properties: dict | None = None) -> KsqlEngine:
    """An engine that runs no query threads (drain() drives them) and reads from the start."""
    engine = KsqlEngine(data_dir, properties, background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    return engine


def produce(engine, topic: str, keys: np.ndarray, values: list[bytes], chunk: int = 10_000) -> None:
    """INT keys and the given values into partition 0, one millisecond of event time apart."""
    for start in range(0, len(values), chunk):
        part = keys[start:start + chunk]
        engine.log.append(topic, 0, make_records([int(k).to_bytes(4, "big") for k in part],
                                                 values[start:start + chunk],
                                                 list(range(start, start + len(part)))), sync=False)


def drain_seconds(engine) -> float:
    """How long the engine's queries take to process everything their sources hold."""
    started = time.perf_counter()
    engine.drain()
    return time.perf_counter() - started
