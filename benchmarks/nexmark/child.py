"""One measured run of the Nexmark benchmark, in an interpreter of its own.

    python -m benchmarks.nexmark.child EVENTS_FILE JOB

The benchmark (__main__.py) pickles its generated events to EVENTS_FILE once, then starts this
for every run: the engine's throughput, its latency, the polars loop. A server is a fresh
process; a child forked from the benchmark's process is not: it shares that process's
gigabyte of events and allocator pages, and every page either touches is copied on its first
write (up to a sixth of a query's time, in system time and page faults). JOB is a JSON object:
{"kind": "engine" | "latency" | "ceiling", "query": name, ...}. Prints one JSON object: the
run's result, and how far the process's peak resident memory rose above what it held before
the run (the events and the engine's modules).
"""
from __future__ import annotations

import gc
import json
import os
import pickle
import sys

from benchmarks.nexmark import ceiling, latency
from benchmarks.nexmark.__main__ import INPUTS, QUERIES, SOURCES, latency_events, run_engine


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_bytes() -> int:
    """The peak resident set since the last reset_peak()."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak() -> None:
    """Start the peak over from now: loading the events took more for a moment than they keep."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def run(job: dict, events) -> object:
    name = job["query"]
    if job["kind"] == "engine":
        return list(run_engine(name, events, job["data_dir"], job["format"], job["threads"]))
    if job["kind"] == "ceiling":
        return ceiling.events_per_second(name, events.bids[1])
    if job["kind"] == "latency":
        return list(latency.measure(job["data_dir"], SOURCES, QUERIES[name][1], name.upper(),
                                    latency_events(name, events, job["rate"]), job["rate"],
                                    inputs=INPUTS.get(name, ("bids",))))
    raise SystemExit(f"unknown job {job['kind']!r}")


def main() -> None:
    with open(sys.argv[1], "rb") as f:
        events = pickle.load(f)
    job = json.loads(sys.argv[2])
    gc.collect()
    reset_peak()
    start = resident_bytes()
    result = run(job, events)
    sys.stdout.write(json.dumps({"result": result, "added_bytes": max(peak_bytes() - start, 0)}))


if __name__ == "__main__":
    main()
