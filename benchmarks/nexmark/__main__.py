"""Run the Nexmark queries on the engine and on DuckDB, over the same generated events.

    python -m benchmarks.nexmark [--events N] [--queries q0,q1,...] [--format AVRO]

For each query: input events per second from the log to the sink (the events are written to
the log first, then the query runs, driven without threads, until it has read them all), and
DuckDB running the same query as one batch over the same events written as JSON lines, with
the ratio engine / DuckDB; for q0, q1, q2, q5 and q7 a hand-written polars loop over the same
bids (ceiling.py) and the ratio engine / polars; the peak memory the engine's run added; and,
for the queries whose event time is the records' timestamps, end-to-end latency p50 / p99 at half
the measured rate (latency.py). Every run is a fresh interpreter of its own (child.py).
Results go to benchmarks/results/nexmark.json and .md.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.common import bench_engine, drain_seconds
from benchmarks.nexmark import ceiling, latency
from benchmarks.nexmark.generate import TIME_FORMAT, generate
from ksql.runtime.formats import native
from ksql.runtime.log.embedded import make_records

SOURCES = (
    "CREATE STREAM bids (k BIGINT KEY, auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, "
    "url STRING, dateTime STRING, extra STRING) WITH (kafka_topic='bids', value_format='JSON', partitions=1);",
    # the same bids with event time from their dateTime field, parsed by the query
    "CREATE STREAM bids_by_time (k BIGINT KEY, auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, "
    "url STRING, dateTime STRING, extra STRING) WITH (kafka_topic='bids', value_format='JSON', partitions=1, "
    f"timestamp='dateTime', timestamp_format='{TIME_FORMAT}');",
    "CREATE STREAM auctions (k BIGINT KEY, id BIGINT, itemName STRING, description STRING, initialBid BIGINT, "
    "reserve BIGINT, dateTime STRING, expires STRING, seller BIGINT, category BIGINT, extra STRING) "
    "WITH (kafka_topic='auctions', value_format='JSON', partitions=1);",
    "CREATE TABLE persons (k BIGINT PRIMARY KEY, id BIGINT, name STRING, emailAddress STRING, creditCard STRING, "
    "city STRING, state STRING, dateTime STRING, extra STRING) "
    "WITH (kafka_topic='persons', value_format='JSON', partitions=1);",
    "CREATE STREAM person_stream (k BIGINT KEY, id BIGINT, name STRING, dateTime STRING) "
    "WITH (kafka_topic='persons', value_format='JSON', partitions=1);",
)

# DuckDB: a dateTime as epoch milliseconds (its JSON reader may take the text for a TIMESTAMP or not)
MILLIS = "epoch_ms(CAST(dateTime AS TIMESTAMP))"
# name -> (what it measures, KSQL, DuckDB SQL over tables `bids`, `auctions`, `persons`)
QUERIES = {
    "q0": ("pass-through", "CREATE STREAM q0 AS SELECT * FROM bids;",
           "SELECT * FROM bids"),
    "q1": ("currency conversion", "CREATE STREAM q1 AS SELECT k, auction, bidder, price * 0.908 AS price, "
                                  "dateTime FROM bids;",
           "SELECT auction, bidder, price * 0.908 AS price, dateTime FROM bids"),
    "q2": ("filter", "CREATE STREAM q2 AS SELECT k, auction, price FROM bids WHERE auction % 123 = 0;",
           "SELECT auction, price FROM bids WHERE auction % 123 = 0"),
    "q3": ("local item suggestion: auctions joined to their sellers (stream-table)",
           "CREATE STREAM q3 AS SELECT a.seller, p.name, p.city, p.state, a.id FROM auctions a "
           "JOIN persons p ON a.seller = p.k WHERE a.category = 10 AND p.state IN ('OR', 'ID', 'CA');",
           "SELECT p.name, p.city, p.state, a.id FROM auctions a JOIN persons p ON a.seller = p.id "
           "WHERE a.category = 10 AND p.state IN ('OR', 'ID', 'CA')"),
    "q5": ("bids per auction, hopping 10 s / 2 s",
           "CREATE TABLE q5 AS SELECT auction, COUNT(*) AS bids FROM bids "
           "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS) GROUP BY auction;",
           "SELECT auction, w, COUNT(*) FROM (SELECT auction, UNNEST(generate_series("
           f"({MILLIS} // 2000 - 4) * 2000, ({MILLIS} // 2000) * 2000, 2000)) AS w FROM bids) GROUP BY auction, w"),
    "q7": ("highest bid per channel, tumbling 10 s",
           "CREATE TABLE q7 AS SELECT channel, MAX(price) AS top FROM bids WINDOW TUMBLING (SIZE 10 SECONDS) "
           "GROUP BY channel;",
           f"SELECT channel, {MILLIS} // 10000 AS w, MAX(price) FROM bids GROUP BY channel, w"),
    "q7t": ("q7 with event time parsed from each bid's dateTime by the query",
            "CREATE TABLE q7t AS SELECT channel, MAX(price) AS top FROM bids_by_time WINDOW TUMBLING (SIZE 10 SECONDS) "
            "GROUP BY channel;",
            f"SELECT channel, {MILLIS} // 10000 AS w, MAX(price) FROM bids GROUP BY channel, w"),
    "q4": ("average closing price per category: bids joined to their open auctions (stream-stream), "
           "the top bid per auction, averaged per category (a table aggregation)",
           "CREATE TABLE q4_closing WITH (key_format='JSON') AS SELECT a.k AS auction, a.category AS category, MAX(b.price) AS final "
           "FROM auctions a JOIN bids b WITHIN 10 SECONDS GRACE PERIOD 1 SECOND ON a.k = b.k "
           "WHERE b.dateTime BETWEEN a.dateTime AND a.expires GROUP BY a.k, a.category;"
           "CREATE TABLE q4 AS SELECT category, AVG(final) AS average FROM q4_closing GROUP BY category;",
           "SELECT category, AVG(final) FROM (SELECT a.id, a.category, MAX(b.price) AS final FROM auctions a "
           "JOIN bids b ON a.id = b.auction WHERE b.dateTime BETWEEN a.dateTime AND a.expires "
           "GROUP BY a.id, a.category) GROUP BY category"),
    "q8": ("new sellers: persons joined to their auctions within 10 s (stream-stream)",
           "CREATE STREAM q8 AS SELECT p.k, p.name, a.id AS auction FROM person_stream p "
           "JOIN auctions a WITHIN 10 SECONDS GRACE PERIOD 1 SECOND ON p.k = a.seller;",
           "SELECT p.id, p.name, a.id FROM persons p JOIN auctions a ON p.id = a.seller "
           f"AND abs({MILLIS.replace('dateTime', 'a.dateTime')} - {MILLIS.replace('dateTime', 'p.dateTime')}) <= 10000"),
}
VALUE_TIME = {"q7t"}  # queries whose event time comes from a field of the values
# the streams each query reads (its input events)
INPUTS = {"q3": ("auctions", "persons"), "q4": ("auctions", "bids"), "q8": ("auctions", "persons")}


def input_count(name: str, events) -> int:
    return sum(len(getattr(events, stream)[1]) for stream in INPUTS.get(name, ("bids",)))


def latency_events(name: str, events, rate: float):
    """Events enough for a latency run at `rate` without going round them again (a join that
    met the same keys again within its window would multiply its output): persons and
    auctions alone are about a twelfth of the events."""
    needed = rate * (latency.WARM_UP + latency.SECONDS) * 1.2
    if input_count(name, events) >= needed:
        return events
    share = input_count(name, events) / (len(events.bids[1]) + len(events.auctions[1]) + len(events.persons[1]))
    return generate(int(needed / share), bids="bids" in INPUTS.get(name, ("bids",)))


def run_engine(name: str, events, data_dir: str, value_format: str = "JSON", threads: int = 1) -> tuple[float, int]:
    engine = bench_engine(data_dir, {"ksql.streams.num.stream.threads": threads})
    for statement in SOURCES:
        engine.execute(statement.replace("value_format='JSON'", f"value_format='{value_format}'"))
    for stream in INPUTS.get(name, ("bids",)):
        keys, values, times = getattr(events, stream)
        if value_format != "JSON":  # (before the clock starts)
            values = _reencode(engine, stream, values)
        for start in range(0, len(values), 10_000):
            engine.log.append(stream, 0, make_records(keys[start:start + 10_000], values[start:start + 10_000],
                                                      times[start:start + 10_000]), sync=False)
    # A running server loaded its native libraries with its first query; their import (polars:
    # ~0.4 s) is start-up, not throughput: done before the clock.
    native.polars()
    engine.execute(QUERIES[name][1])
    seconds = drain_seconds(engine)
    failed = [f"{q.id}: {q.error}" for q in engine.queries.values() if q.state == "ERROR"]
    if failed:  # a query that stopped would look fast: refuse to report it
        raise SystemExit(f"{name} failed: {'; '.join(failed)}")
    out = sum(q.records_out for q in engine.queries.values())
    engine.close()
    return input_count(name, events) / seconds, out


def _reencode(engine, stream: str, values: list) -> list:
    """The generated JSON values in the stream's format (its schema registered on the way)."""
    from ksql.runtime.formats.make import make_format

    source = engine.metastore.get(stream.upper())
    reader = make_format("JSON", source.schema.value, key=False)
    writer = make_format(source.value_format, source.schema.value, key=False, options=source.value_options())
    out = []
    for start in range(0, len(values), 10_000):
        arrays, _ = reader.decode(values[start:start + 10_000])
        out += writer.encode(arrays, len(arrays[0]))
    return out


def spawned(name: str, job: dict, events_path: str):
    """A run in a fresh interpreter (child.py, where the reason is): what it returns and the
    peak memory the run added, in bytes."""
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.nexmark.child", events_path, json.dumps(job)],
                               stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2])
    report, _ = process.communicate()
    if process.returncode != 0 or not report:
        raise SystemExit(f"{name} failed (exit status {process.returncode})")
    answer = json.loads(report)
    return answer["result"], answer["added_bytes"]


def run_engine_measured(name: str, events_path: str, data_dir: str, value_format: str = "JSON",
                        threads: int = 1) -> tuple[float, int, int]:
    """run_engine in a fresh interpreter: (events/s, output rows, peak memory growth in bytes)."""
    job = {"kind": "engine", "query": name, "data_dir": data_dir, "format": value_format, "threads": threads}
    (rate, out), added = spawned(name, job, events_path)
    return rate, out, added


def run_duckdb(name: str, json_paths: dict, count: int) -> float:
    connection = duckdb.connect()
    started = time.perf_counter()
    for stream in INPUTS.get(name, ("bids",)):
        connection.execute(f"CREATE TABLE {stream} AS SELECT * FROM read_json('{json_paths[stream]}', "
                           f"format='newline_delimited')")
    connection.execute(f"CREATE TABLE result AS {QUERIES[name][2]}")
    seconds = time.perf_counter() - started
    connection.close()
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--queries", default=",".join(QUERIES))
    parser.add_argument("--format", default="JSON", choices=["JSON", "AVRO", "PROTOBUF", "JSON_SR"],
                        help="the value format of the input topics (latency is measured with JSON)")
    parser.add_argument("--threads", type=int, default=1,
                        help="ksql.streams.num.stream.threads: worker processes of a query that keeps no state")
    args = parser.parse_args()
    events = generate(args.events)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        events_path = str(Path(scratch) / "events.pickle")  # what every run's process loads
        with open(events_path, "wb") as f:
            pickle.dump(events, f, protocol=pickle.HIGHEST_PROTOCOL)
        json_paths = {}
        for stream in ("bids", "auctions", "persons"):
            json_paths[stream] = str(Path(scratch) / f"{stream}.json")
            with open(json_paths[stream], "wb") as f:
                f.write(b"\n".join(getattr(events, stream)[1]) + b"\n")
        for name in args.queries.split(","):
            count = input_count(name, events)
            engine_rate, out, memory = run_engine_measured(name, events_path, str(Path(scratch) / name),
                                                           args.format, args.threads)
            duck_rate = run_duckdb(name, json_paths, count)
            result = {"query": name, "what": QUERIES[name][0], "input_events": count, "output_rows": out,
                      "engine_events_per_s": round(engine_rate), "duckdb_events_per_s": round(duck_rate),
                      "ratio": round(engine_rate / duck_rate, 3), "peak_memory_mb": round(memory / 2**20)}
            line = (f"{name} ({QUERIES[name][0]}): {engine_rate:,.0f} events/s; DuckDB {duck_rate:,.0f} events/s "
                    f"(engine/DuckDB {engine_rate / duck_rate:.2f})")
            if name in ceiling.CEILING_QUERIES:
                ceiling_rate, _ = spawned(name, {"kind": "ceiling", "query": name}, events_path)
                result.update(ceiling_events_per_s=round(ceiling_rate), ceiling_ratio=round(engine_rate / ceiling_rate, 3))
                line += f"; polars loop {ceiling_rate:,.0f} events/s (engine/polars {engine_rate / ceiling_rate:.2f})"
            line += f"; peak memory +{memory / 2**20:,.0f} MB"
            # latency: with event time from the records' timestamps (the latency run stamps each
            # record with the time of its append)
            if name not in VALUE_TIME:
                # The runs above wrote about a gigabyte (the engine's log, DuckDB's input) that the
                # kernel is still writing back: the latency run's fsyncs would wait behind it
                # (p99 116-234 ms instead of 23 ms for q1). Measure the engine, not that.
                shutil.rmtree(Path(scratch) / name, ignore_errors=True)
                os.sync()
                (p50, p99, _), _ = spawned(name, {"kind": "latency", "query": name, "rate": engine_rate / 2,
                                                     "data_dir": str(Path(scratch) / f"{name}-latency")}, events_path)
                result.update(latency_rate=round(engine_rate / 2), latency_p50_ms=round(p50, 1),
                              latency_p99_ms=round(p99, 1))
                line += f"; at {engine_rate / 2:,.0f} events/s latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            results.append(result)
            print(line, flush=True)
    out_dir = Path(__file__).resolve().parent.parent / "results"
    out_dir.mkdir(exist_ok=True)
    if args.format != "JSON":  # the JSON run stays the reference in results/
        return
    (out_dir / "nexmark.json").write_text(json.dumps({"events": args.events, "results": results}, indent=2) + "\n")
    lines = ["| query | what | engine events/s | DuckDB events/s | engine/DuckDB | polars loop events/s | "
             "engine/polars | peak memory | latency p50 / p99 at half rate |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['query']} | {r['what']} | {r['engine_events_per_s']:,} | {r['duckdb_events_per_s']:,} | "
              f"{r['ratio']:.2f} | " + (f"{r['ceiling_events_per_s']:,} | {r['ceiling_ratio']:.2f}" if "ceiling_ratio" in r
                                         else " | ") +
              f" | +{r['peak_memory_mb']} MB | " + (f"{r['latency_p50_ms']} / {r['latency_p99_ms']} ms" if "latency_p50_ms" in r
                                                    else "") + " |" for r in results]
    (out_dir / "nexmark.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    chart(results, args.events, out_dir / "nexmark.png")


def chart(results: list[dict], events: int, path: Path) -> None:
    """Input events per second per query, the engine's beside DuckDB's, on a log scale."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no chart: matplotlib is not installed; `make bench` installs it)")
        return
    import datetime

    import numpy as np

    names = [r["query"] for r in results]
    x = np.arange(len(names))
    figure, axes = plt.subplots(figsize=(9, 4.5))
    axes.bar(x - 0.2, [r["engine_events_per_s"] for r in results], 0.4, label="engine (log to sink)")
    axes.bar(x + 0.2, [r["duckdb_events_per_s"] for r in results], 0.4, label="DuckDB (one batch, same events)")
    axes.set_yscale("log")
    axes.set_ylim(bottom=1e4)
    axes.set_xticks(x, names)
    axes.set_ylabel("input events per second")
    axes.set_title(f"Nexmark, {events:,} events, {datetime.date.today()}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"chart: {path}")


if __name__ == "__main__":
    main()
