"""End-to-end latency of a Nexmark query at a fixed input rate.

The query runs as a server runs it (its own thread); its input events (bids, or the streams a
join reads, each its share) are appended to the log every 10 ms at the given rate, each stamped
with the wall-clock time of its append as its event time.
Output records carry the event time of their input (pass-through, filters, projections) or of
the newest input they include (window aggregates), so the time an output record becomes
readable minus its timestamp is the latency from the log to the sink. Output is read by a
second thread woken at each commit. The first three seconds are a warm-up, not measured: the query's
first batches load modules (the JSON writer, the reader's threads), which held records back
by up to half a second, and the backlog that built up meanwhile took up to two more seconds
to clear at the highest rates.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from ksql.engine import KsqlEngine
from ksql.runtime.log.embedded import make_records

TICK = 0.01  # seconds between appends
WARM_UP = 3.0  # seconds of input at the start whose latency is not counted
SECONDS = 5.0  # seconds of input measured after it


def measure(data_dir: str, sources: tuple, query_sql: str, sink: str, events, rate: float,
            seconds: float = SECONDS, inputs: tuple = ("bids",)) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, output records) at `rate` input events per second for `seconds`, the
    input streams each taking their share of the rate (as many as the generated events hold)."""
    engine = KsqlEngine(data_dir)  # queries run in their own threads
    engine.session.properties["auto.offset.reset"] = "earliest"
    for statement in sources:
        engine.execute(statement)
    engine.execute(query_sql)
    streams = [(name, *getattr(events, name)[:2]) for name in inputs]
    total = sum(len(values) for _, _, values in streams)
    latencies: list[np.ndarray] = []
    done = threading.Event()
    measured_from = (time.time() + WARM_UP) * 1000  # (event time: the time of the append)

    def read_sink():
        offset = 0
        while True:
            records, offset = engine.log.read(sink, 0, offset)
            if records is None:
                if done.is_set():
                    return
                engine.log.wait(0.05)
                continue
            # (numpy, not a Python object per record: the reader shares the cores with the query)
            stamps = records.column(1).to_numpy().astype(np.float64)
            latencies.append((time.time() * 1000 - stamps)[stamps >= measured_from])

    reader = threading.Thread(target=read_sink, daemon=True)
    reader.start()
    per_tick = [max(int(rate * TICK * len(values) / total), 1) for _, _, values in streams]
    ticks, started = 0, time.monotonic()
    while time.monotonic() - started < seconds + WARM_UP:
        now_ms = int(time.time() * 1000)
        for (name, keys, values), count in zip(streams, per_tick):
            at = ticks * count % len(values)
            chunk = slice(at, at + count)
            engine.log.append(name, 0, make_records(keys[chunk], values[chunk], [now_ms] * len(values[chunk])),
                              sync=False)
        ticks += 1
        time.sleep(max(started + ticks * TICK - time.monotonic(), 0))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and all(q.lag for q in engine.queries.values()):
        time.sleep(0.01)
    time.sleep(0.5)  # the last commits reach the reader
    done.set()
    reader.join(timeout=10)
    engine.close()
    if not latencies:
        return float("nan"), float("nan"), 0
    every = np.concatenate(latencies)
    return float(np.median(every)), float(np.quantile(every, 0.99)), len(every)
