"""The ceiling: what a small hand-written polars loop does with the same bids, so the engine's
figure can be read as a ratio measured in the same run.

Each query reads the bids' JSON lines 10,000 at a time (as the engine reads its log), computes
its result with polars, and writes the result rows as JSON lines, keeping across batches the
state a streaming query keeps. The windowed aggregations emit every update, as the engine
does: each bid's new count or maximum for each of its windows, on top of the earlier batches'.
No log, no exactly-once commits, no per-query generality: a lower bound on the work.

Run it in a process that forks no engine afterwards (polars' threads do not survive fork:
runtime/formats/native.py); __main__.py runs it in a process of its own (child.py).
"""
from __future__ import annotations

import io
import time

BATCH = 10_000
CEILING_QUERIES = ("q0", "q1", "q2", "q5", "q7")


def events_per_second(name: str, lines: list[bytes]) -> float:
    """The rate at which the polars loop of this query goes through these bids."""
    import polars as pl

    schema = {"auction": pl.Int64, "bidder": pl.Int64, "price": pl.Int64, "channel": pl.String,
              "url": pl.String, "dateTime": pl.String, "extra": pl.String}
    step = _STEPS[name]
    state: dict = {}
    started = time.perf_counter()
    for start in range(0, len(lines), BATCH):
        bids = pl.read_ndjson(io.BytesIO(b"\n".join(lines[start:start + BATCH])), schema=schema)
        step(pl, bids, state).write_ndjson()
    return len(lines) / (time.perf_counter() - started)


def _millis(pl):
    """dateTime (`yyyy-MM-dd HH:mm:ss.SSS`, UTC) as epoch milliseconds."""
    return pl.col("dateTime").str.to_datetime("%Y-%m-%d %H:%M:%S%.3f", time_unit="ms").dt.epoch("ms")


def _q0(pl, bids, state):
    return bids


def _q1(pl, bids, state):
    return bids.select("auction", "bidder", (pl.col("price") * 0.908).alias("price"), "dateTime")


def _q2(pl, bids, state):
    return bids.filter(pl.col("auction") % 123 == 0).select("auction", "price")


def _q5(pl, bids, state):
    """COUNT(*) per auction in hopping windows of 10 s advancing by 2 s: five windows a bid."""
    expanded = bids.select("auction", (_millis(pl) // 2000 * 2000).alias("last")).with_row_index("row")
    pairs = expanded.with_columns(pl.int_ranges(pl.col("last") - 8000, pl.col("last") + 1, 2000).alias("w")) \
        .explode("w").select("row", "auction", "w", pl.lit(1, pl.Int64).alias("x"))
    return _running(pl, pairs, ["auction", "w"], state, "count")


def _q7(pl, bids, state):
    """MAX(price) per channel in tumbling 10 s windows."""
    pairs = bids.select("channel", (_millis(pl) // 10_000 * 10_000).alias("w"), pl.col("price").alias("x")) \
        .with_row_index("row")
    return _running(pl, pairs, ["channel", "w"], state, "max")


def _running(pl, pairs, key: list[str], state: dict, kind: str):
    """Each pair's running count or maximum of x within its group, in row order, on top of what
    the group had after the earlier batches; the groups' last values kept for the next batch."""
    running = pl.col("x").cum_sum() if kind == "count" else pl.col("x").cum_max()
    updated = pairs.with_columns(running.over(key).alias("value"))
    earlier = state.get("groups")
    if earlier is not None:
        updated = updated.join(earlier, on=key, how="left")
        before = pl.col("before")
        value = pl.col("value") + before.fill_null(0) if kind == "count" else pl.max_horizontal("value", before)
        updated = updated.with_columns(value.alias("value")).drop("before")
    last = updated.group_by(key).agg(pl.col("value").last().alias("before"))
    state["groups"] = last if earlier is None else pl.concat([earlier.join(last, on=key, how="anti"), last])
    return updated.sort("row").select(*key, "value")


_STEPS = {"q0": _q0, "q1": _q1, "q2": _q2, "q5": _q5, "q7": _q7}
