"""Run the Nexmark queries on the engine and on DuckDB, over the same generated events.

    python -m benchmarks.nexmark [--events N] [--queries q0,q1,...]

For each query: input events per second from the log to the sink (the events are written to
the log first, then the query runs, driven without threads, until it has read them all), and
DuckDB running the same query as one batch over the same events written as JSON lines, with
the ratio engine / DuckDB. Results go to benchmarks/results/nexmark.json and .md.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.nexmark.generate import generate
from ksql.engine import KsqlEngine
from ksql.runtime.log import make_records

BIDS = ("CREATE STREAM bids (k BIGINT KEY, auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, "
        "url STRING, dateTime BIGINT, extra STRING) WITH (kafka_topic='bids', value_format='JSON', partitions=1);")

# name -> (what it measures, KSQL, DuckDB SQL over a table `bids`)
QUERIES = {
    "q0": ("pass-through", "CREATE STREAM q0 AS SELECT * FROM bids;",
           "SELECT * FROM bids"),
    "q1": ("currency conversion", "CREATE STREAM q1 AS SELECT k, auction, bidder, price * 0.908 AS price, "
                                  "dateTime FROM bids;",
           "SELECT auction, bidder, price * 0.908 AS price, dateTime FROM bids"),
    "q2": ("filter", "CREATE STREAM q2 AS SELECT k, auction, price FROM bids WHERE auction % 123 = 0;",
           "SELECT auction, price FROM bids WHERE auction % 123 = 0"),
    "q5": ("bids per auction, hopping 10 s / 2 s",
           "CREATE TABLE q5 AS SELECT auction, COUNT(*) AS bids FROM bids "
           "WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS) GROUP BY auction;",
           "SELECT auction, w, COUNT(*) FROM (SELECT auction, UNNEST(generate_series("
           "(dateTime // 2000 - 4) * 2000, (dateTime // 2000) * 2000, 2000)) AS w FROM bids) GROUP BY auction, w"),
    "q7": ("highest bid per channel, tumbling 10 s",
           "CREATE TABLE q7 AS SELECT channel, MAX(price) AS top FROM bids WINDOW TUMBLING (SIZE 10 SECONDS) "
           "GROUP BY channel;",
           "SELECT channel, dateTime // 10000 AS w, MAX(price) FROM bids GROUP BY channel, w"),
}


def run_engine(name: str, events, data_dir: str) -> tuple[float, int]:
    engine = KsqlEngine(data_dir, background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    engine.execute(BIDS)
    keys, values, times = events.bids
    for start in range(0, len(values), 10_000):
        engine.log.append("bids", 0, make_records(keys[start:start + 10_000], values[start:start + 10_000],
                                                  times[start:start + 10_000]), sync=False)
    engine.execute(QUERIES[name][1])
    started = time.perf_counter()
    engine.drain()
    seconds = time.perf_counter() - started
    out = sum(q.records_out for q in engine.queries.values())
    engine.close()
    return len(values) / seconds, out


def run_duckdb(name: str, json_path: str, count: int) -> float:
    connection = duckdb.connect()
    started = time.perf_counter()
    connection.execute(f"CREATE TABLE bids AS SELECT * FROM read_json('{json_path}', format='newline_delimited')")
    connection.execute(f"CREATE TABLE result AS {QUERIES[name][2]}")
    seconds = time.perf_counter() - started
    connection.close()
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--queries", default=",".join(QUERIES))
    args = parser.parse_args()
    events = generate(args.events)
    bids = len(events.bids[1])
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        json_path = str(Path(scratch) / "bids.json")
        with open(json_path, "wb") as f:
            f.write(b"\n".join(events.bids[1]) + b"\n")
        for name in args.queries.split(","):
            engine_rate, out = run_engine(name, events, str(Path(scratch) / name))
            duck_rate = run_duckdb(name, json_path, bids)
            results.append({"query": name, "what": QUERIES[name][0], "input_events": bids, "output_rows": out,
                            "engine_events_per_s": round(engine_rate), "duckdb_events_per_s": round(duck_rate),
                            "ratio": round(engine_rate / duck_rate, 3)})
            print(f"{name} ({QUERIES[name][0]}): {engine_rate:,.0f} events/s; DuckDB {duck_rate:,.0f} events/s "
                  f"(engine/DuckDB {engine_rate / duck_rate:.2f})", flush=True)
    out_dir = Path(__file__).resolve().parent.parent / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "nexmark.json").write_text(json.dumps({"events": args.events, "results": results}, indent=2) + "\n")
    lines = ["| query | what | engine events/s | DuckDB events/s | engine/DuckDB |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['query']} | {r['what']} | {r['engine_events_per_s']:,} | {r['duckdb_events_per_s']:,} | "
              f"{r['ratio']:.2f} |" for r in results]
    (out_dir / "nexmark.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
