"""Stateful throughput and pull-query latency.

    python -m benchmarks.stateful [--rows N] [--keys K] [--lookups L]

1. Aggregation: N generated records (JSON) through `GROUP BY key` with COUNT, SUM and AVG,
   then with LATEST_BY_OFFSET and EARLIEST_BY_OFFSET, then with STDDEV_SAMPLE and CORRELATION,
   then with COLLECT_SET, then with HISTOGRAM, then with TOPK and TOPKDISTINCT,
   driven without threads from the log to the sink: input rows per second.
2. Pull queries: a table of K keys materialized by a CTAS; L key lookups through the engine's
   statement path (`SELECT * FROM t WHERE id = k;`): p50 and p99 latency, from one client and
   from 4 clients (threads) asking at once; then the same through `ksql server` over HTTP
   (POST /query), started on the table's data.
"""
from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import numpy as np
import orjson

from benchmarks.common import bench_engine, drain_seconds, produce


COUNT_SUM_AVG = "COUNT(*) AS n, SUM(price) AS total, AVG(price) AS average"
BY_OFFSET = "LATEST_BY_OFFSET(price) AS last_price, EARLIEST_BY_OFFSET(price) AS first_price"
MOMENTS = "STDDEV_SAMPLE(price) AS spread, CORRELATION(price, price * price) AS r"
SETS = "COLLECT_SET(price % 20) AS price_classes"
HISTOGRAMS = "HISTOGRAM(CAST(price % 20 AS STRING)) AS class_counts"
TOP_K = "TOPK(price, 3) AS top_prices, TOPKDISTINCT(price % 20, 3) AS top_classes"


def aggregation(rows: int, aggregates: str = COUNT_SUM_AVG) -> float:
    with tempfile.TemporaryDirectory() as data:
        engine = bench_engine(data)
        engine.execute("CREATE STREAM bids (auction INT KEY, price INT) WITH (kafka_topic='bids', "
                       "value_format='JSON', partitions=1);")
        rng = np.random.default_rng(1)
        keys = rng.integers(0, 10_000, rows)
        prices = rng.integers(1, 1000, rows)
        produce(engine, "bids", keys, [orjson.dumps({"PRICE": int(p)}) for p in prices])
        engine.execute(f"CREATE TABLE stats AS SELECT auction, {aggregates} FROM bids GROUP BY auction;")
        seconds = drain_seconds(engine)
        engine.close()
        return rows / seconds


def _lookups(engine, keys: int, count: int, seed: int) -> list[float]:
    """Seconds each of `count` random key lookups took."""
    rng = np.random.default_rng(seed)
    latencies = []
    for key in rng.integers(0, keys, count):
        t0 = time.perf_counter()
        rows = list(engine.execute(f"SELECT * FROM latest WHERE id = {int(key)};")[0])
        latencies.append(time.perf_counter() - t0)
        assert rows == [[int(key), f"user{int(key)}"]]
    return latencies


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    latencies = sorted(latencies)
    return statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.99)] * 1000


def _users_table(data: str, keys: int):
    """An engine whose CTAS table LATEST holds `keys` users (user0, user1, ...), not yet built."""
    engine = bench_engine(data)
    engine.execute("CREATE STREAM users (id INT KEY, name STRING) WITH (kafka_topic='users', "
                   "value_format='JSON', partitions=1);")
    ids = np.arange(keys)
    produce(engine, "users", ids, [orjson.dumps({"NAME": f"user{i}"}) for i in ids])
    engine.execute("CREATE TABLE latest AS SELECT id, LATEST_BY_OFFSET(name) AS name FROM users GROUP BY id;")
    return engine


def pull_latency(keys: int, lookups: int, clients: int = 4) -> tuple[float, tuple, tuple]:
    """Build time, then (p50, p99) in ms from one client and from `clients` at once."""
    with tempfile.TemporaryDirectory() as data:
        engine = _users_table(data, keys)
        build = drain_seconds(engine)
        alone = _lookups(engine, keys, lookups, seed=2)
        with ThreadPoolExecutor(clients) as pool:
            together = [t for part in pool.map(lambda seed: _lookups(engine, keys, lookups // clients, seed),
                                               range(3, 3 + clients)) for t in part]
        engine.close()
        return build, _percentiles(alone), _percentiles(together)


def _http_lookups(url: str, keys: int, count: int, seed: int) -> list[float]:
    """Seconds each of `count` random key lookups took through POST /query (one kept-alive
    connection). The client is the standard library's: httpx spends some 0.4 ms of CPU on a
    request, which on this 2-core machine four clients take from the server they measure."""
    rng = np.random.default_rng(seed)
    latencies = []
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        for key in rng.integers(0, keys, count):
            t0 = time.perf_counter()
            body = orjson.dumps({"ksql": f"SELECT * FROM latest WHERE id = {int(key)};"})
            connection.request("POST", "/query", body, {"Content-Type": "application/json"})
            answer = connection.getresponse().read()
            latencies.append(time.perf_counter() - t0)
            assert orjson.loads(answer)[1]["row"]["columns"] == [int(key), f"user{int(key)}"], answer
    finally:
        connection.close()
    return latencies


def pull_latency_http(keys: int, lookups: int, clients: int = 4) -> tuple[tuple, tuple]:
    """(p50, p99) in ms of key lookups sent to `ksql server` over HTTP, by one client and by
    `clients` at once; the table is built first, then the server starts on its data."""
    with tempfile.TemporaryDirectory() as data:
        engine = _users_table(data, keys)
        engine.drain()
        engine.close()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "ksql.cli", "server", "--host", "127.0.0.1", "--port",
                                   str(port), "--data-dir", data], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 300
            while True:  # until the server answers for the last key: its view of the table is loaded
                try:
                    answer = httpx.post(url + "/query", json={"ksql": f"SELECT * FROM latest WHERE id = {keys - 1};"},
                                        timeout=30).json()
                    if isinstance(answer, list) and len(answer) > 1 and "row" in answer[1]:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not come up with the table")
                time.sleep(0.2)
            alone = _http_lookups(url, keys, lookups, seed=2)
            with ProcessPoolExecutor(clients) as pool:  # clients apart, as clients are: no GIL shared
                together = [t for part in pool.map(_http_lookups, [url] * clients, [keys] * clients,
                                                   [lookups // clients] * clients, range(3, 3 + clients))
                            for t in part]
        finally:
            server.terminate()
            server.wait(timeout=60)
        return _percentiles(alone), _percentiles(together)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    args = parser.parse_args()
    print(f"aggregation (COUNT, SUM, AVG by key, 10k keys, caching off): {aggregation(args.rows):,.0f} rows/s "
          f"over {args.rows:,} rows")
    print(f"aggregation (LATEST_BY_OFFSET, EARLIEST_BY_OFFSET by key): {aggregation(args.rows, BY_OFFSET):,.0f} "
          f"rows/s over {args.rows:,} rows")
    print(f"aggregation (STDDEV_SAMPLE, CORRELATION by key): {aggregation(args.rows, MOMENTS):,.0f} "
          f"rows/s over {args.rows:,} rows")
    print(f"aggregation (COLLECT_SET by key): {aggregation(args.rows, SETS):,.0f} rows/s over {args.rows:,} rows")
    print(f"aggregation (HISTOGRAM by key): {aggregation(args.rows, HISTOGRAMS):,.0f} rows/s over {args.rows:,} rows")
    print(f"aggregation (TOPK, TOPKDISTINCT by key): {aggregation(args.rows, TOP_K):,.0f} rows/s over {args.rows:,} rows")
    build, (p50, p99), (p50_4, p99_4) = pull_latency(args.keys, args.lookups)
    print(f"pull-query key lookups on a {args.keys:,}-key table (built in {build:.0f} s): "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms over {args.lookups:,} lookups; with 4 clients at once: "
          f"p50 {p50_4:.2f} ms, p99 {p99_4:.2f} ms")
    (p50, p99), (p50_4, p99_4) = pull_latency_http(args.keys, args.lookups)
    print(f"the same lookups over HTTP (POST /query to ksql server, one connection per client): "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms; with 4 clients at once: p50 {p50_4:.2f} ms, p99 {p99_4:.2f} ms")


if __name__ == "__main__":
    main()
