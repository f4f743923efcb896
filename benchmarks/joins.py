"""Join throughput.

    python -m benchmarks.joins [--rows N] [--keys K]

1. Stream-table: a table of K keys (100,000 by default) is loaded first; then N stream
   records with random keys go through `stream JOIN table`: stream rows per second.
2. Stream-stream: two streams of N/2 records each, keys drawn from 10,000, event time
   advancing 1 ms per record, joined `WITHIN 10 SECONDS GRACE PERIOD 1 SECOND` (without a
   grace period rows stay 24 hours): input rows per second.

Both are driven without threads, from the log to the sink.
"""
from __future__ import annotations

import argparse
import tempfile

import numpy as np
import orjson

from benchmarks.common import bench_engine, drain_seconds, produce


def stream_table(rows: int, keys: int) -> float:
    with tempfile.TemporaryDirectory() as data:
        engine = bench_engine(data)
        engine.execute("CREATE TABLE users (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='users', "
                       "value_format='JSON', partitions=1);")
        engine.execute("CREATE STREAM clicks (id INT KEY, url STRING) WITH (kafka_topic='clicks', "
                       "value_format='JSON', partitions=1);")
        ids = np.arange(keys)
        produce(engine, "users", ids, [orjson.dumps({"NAME": f"user{i}"}) for i in ids])
        engine.execute("CREATE STREAM enriched AS SELECT c.id, c.url, u.name FROM clicks c "
                       "JOIN users u ON c.id = u.id;")
        engine.drain()  # the table side is loaded before the clock starts
        rng = np.random.default_rng(3)
        clicks = rng.integers(0, keys, rows)
        produce(engine, "clicks", clicks, [orjson.dumps({"URL": f"/page/{i % 100}"}) for i in range(rows)])
        seconds = drain_seconds(engine)
        engine.close()
        return rows / seconds


def stream_stream(rows: int) -> float:
    with tempfile.TemporaryDirectory() as data:
        engine = bench_engine(data)
        for name in ("impressions", "clicks"):
            engine.execute(f"CREATE STREAM {name} (ad INT KEY, v INT) WITH (kafka_topic='{name}', "
                           f"value_format='JSON', partitions=1);")
        rng = np.random.default_rng(4)
        half = rows // 2
        for name in ("impressions", "clicks"):
            produce(engine, name, rng.integers(0, 10_000, half), [orjson.dumps({"V": i}) for i in range(half)])
        engine.execute("CREATE STREAM matched AS SELECT i.ad, i.v AS shown, c.v AS clicked FROM impressions i "
                       "JOIN clicks c WITHIN 10 SECONDS GRACE PERIOD 1 SECOND ON i.ad = c.ad;")
        seconds = drain_seconds(engine)
        engine.close()
        return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=100_000)
    args = parser.parse_args()
    print(f"stream-table join ({args.keys:,}-key table): {stream_table(args.rows, args.keys):,.0f} stream rows/s "
          f"over {args.rows:,} rows")
    print(f"stream-stream join (WITHIN 10 SECONDS, 1 s grace, 10k keys): {stream_stream(args.rows):,.0f} input rows/s "
          f"over {args.rows:,} rows")


if __name__ == "__main__":
    main()
