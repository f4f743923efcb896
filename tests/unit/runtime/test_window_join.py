"""A stream-stream join taken a batch at a time (runtime/operators/window_join.py), of any kind,
gives exactly what the row-at-a-time path gives: the same rows in the same order, whatever the
batch size, with rows out of order, late rows, repeated timestamps, NULL keys and NULL values."""
from __future__ import annotations

import json
import random

import pytest

from conftest import topic_records
from ksql.engine import KsqlEngine
from ksql.runtime import query as query_module
from ksql.runtime.log.embedded import make_records
from ksql.runtime.operators import join as join_module
from ksql.runtime.operators import window_join

JOIN = ("CREATE STREAM out AS SELECT {key}, r.k AS rk, l.x AS lx, r.x AS rx, r.ROWTIME AS rt FROM l "
        "{kind} JOIN r WITHIN (300 MILLISECONDS, 1 SECOND) {grace} ON l.k = r.k;")
GRACE = "GRACE PERIOD 200 MILLISECONDS"


def records(seed: int, count: int = 400) -> list[tuple]:
    """(stream, key, value, timestamp): time mostly moves on, sometimes jumps back (late rows)."""
    rng = random.Random(seed)
    now, out = 10_000, []
    for i in range(count):
        now += rng.choice((0, 0, 10, 50, 120, 400))
        at = now - rng.choice((0,) * 8 + (700, 1_500, 3_000))
        key = rng.choice(("a", "b", "c", "d", None))
        value = None if rng.random() < 0.05 else {"X": i}
        out.append((rng.choice(("L", "R")), key, value, at))
    return out


def run(tmp_path, name: str, rows: list, batch_path: bool, max_batch: int, monkeypatch, kind: str = "INNER",
        grace: str = GRACE) -> list:
    monkeypatch.setattr(query_module, "MAX_BATCH", max_batch)
    if not batch_path:
        monkeypatch.setattr(join_module, "batch_path", lambda *args: False)
    engine = KsqlEngine(str(tmp_path / name), {}, background=False)
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        for stream in ("l", "r"):
            engine.execute(f"CREATE STREAM {stream} (k STRING KEY, x INT) "
                           f"WITH (kafka_topic='{stream}', value_format='JSON', partitions=1);")
        key = "ROWKEY, l.k AS lk" if kind.startswith("FULL") else "l.k AS k"  # (a FULL join's key is new)
        engine.execute(JOIN.format(key=key, kind=kind, grace=grace))
        join = next(iter(engine.queries.values())).pipeline.join
        assert (join.window_join is not None) == batch_path
        for stream, key, value, at in rows:  # one append per record: the query reads them in turns
            engine.log.append(stream.lower(), 0, make_records(
                [None if key is None else key.encode()], [None if value is None else json.dumps(value).encode()],
                [at]))
        engine.drain()
        return [(k, v, ts) for _, k, v, ts in topic_records(engine.log, "OUT")]
    finally:
        engine.close()
        monkeypatch.undo()


@pytest.mark.parametrize("kind, grace", [("INNER", GRACE), ("LEFT", GRACE), ("RIGHT", GRACE), ("FULL OUTER", GRACE),
                                         ("LEFT", ""), ("RIGHT", ""), ("FULL OUTER", "")])
@pytest.mark.parametrize("seed", range(3))
def test_batch_and_row_paths_agree(tmp_path, monkeypatch, seed, kind, grace):
    """Outer joins with a GRACE PERIOD emit an unmatched row once its window closes (in order of
    timestamp among those closing together); without one, at once. The batch path sorts rows by
    their time since the oldest, or by its rank among the times when the span is too wide for
    that (forced here by a limit of 0)."""
    rows = records(seed)
    options = {"kind": kind, "grace": grace, "monkeypatch": monkeypatch}
    expected = run(tmp_path, "rows", rows, batch_path=False, max_batch=50_000, **options)
    assert len(expected) > 50  # enough matches for the comparison to mean something
    assert run(tmp_path, "batches", rows, batch_path=True, max_batch=50_000, **options) == expected
    assert run(tmp_path, "small", rows, batch_path=True, max_batch=7, **options) == expected
    monkeypatch.setattr(window_join, "SORT_KEY_LIMIT", 0)
    assert run(tmp_path, "ranked", rows, batch_path=True, max_batch=50_000, **options) == expected


def test_a_row_meets_only_rows_its_window_holds(tmp_path, monkeypatch):
    """The window is 300 ms before and 1 s after a left row; the right side keeps rows for
    1.5 s (window and grace) of its own stream time. The two topics are read in timestamp
    order, each in its own log order."""
    rows = [("L", "a", {"X": 1}, 10_000),
            ("R", "a", {"X": 2}, 9_700),    # 300 ms before the left row: met
            ("R", "a", {"X": 3}, 9_699),    # 301 ms before: not
            ("R", "a", {"X": 4}, 11_000),   # 1 s after: met
            ("R", "b", {"X": 5}, 10_000),   # another key
            ("R", "a", {"X": 6}, 13_000),   # the right side's time moves to 13 s: rows before 11.5 s go
            ("L", "a", {"X": 7}, 14_000),
            ("L", "a", {"X": 8}, 10_500)]   # late: 11 s is in its window, but no longer kept
    out = run(tmp_path, "window", rows, batch_path=True, max_batch=50_000, monkeypatch=monkeypatch)
    assert [json.loads(v) for _, v, _ in out] == [{"RK": "a", "LX": 1, "RX": 2, "RT": 9_700},
                                                  {"RK": "a", "LX": 1, "RX": 4, "RT": 11_000}]
    assert [ts for _, _, ts in out] == [10_000, 11_000]  # each at the later of its two rows' times


def restarted(tmp_path, name, rows, batch_path, monkeypatch, kind) -> list:
    """The join's output when the first half of the rows went through the row path, and the
    rest through `batch_path` after a restart."""
    half = len(rows) // 2
    run(tmp_path, name, rows[:half], batch_path=False, max_batch=50_000, monkeypatch=monkeypatch, kind=kind)
    if not batch_path:
        monkeypatch.setattr(join_module, "batch_path", lambda *args: False)
    engine = KsqlEngine(str(tmp_path / name), {}, background=False)  # the same folder, restarted
    try:
        join = next(iter(engine.queries.values())).pipeline.join
        assert (join.window_join is not None) == batch_path
        for stream, key, value, at in rows[half:]:
            engine.log.append(stream.lower(), 0, make_records(
                [None if key is None else key.encode()], [None if value is None else json.dumps(value).encode()],
                [at]))
        engine.drain()
        if batch_path:
            assert not [key for key in join.store.keys() if key[0] in ("L", "R")]  # all moved to chunks
        return [(k, v, ts) for _, k, v, ts in topic_records(engine.log, "OUT")]
    finally:
        engine.close()
        monkeypatch.undo()


@pytest.mark.parametrize("kind", ["INNER", "LEFT"])
def test_state_kept_one_row_at_a_time_is_taken_over(tmp_path, monkeypatch, kind):
    """A query whose join state an earlier version kept per key (the row path's layout) carries
    on from it after a restart on the batch path, rows still owed a NULL-padded result too. (Rows
    owed with equal timestamps come out in the order the restored state lists them, on either
    path, so the comparison is with the row path restarted at the same point.)"""
    rows = records(7)
    expected = restarted(tmp_path, "rows", rows, False, monkeypatch, kind)
    assert len(expected) > 50
    assert restarted(tmp_path, "batches", rows, True, monkeypatch, kind) == expected


@pytest.mark.parametrize("values", [
    ["a", "b", "", None, "ab", "ba", "a", "ünï", "ab"],
    [1, -1, 2**40, None, 1, 0],
    [1.5, -0.5, 1.5, None, 2.0],
])
def test_equal_keys_hash_alike_in_any_slice(values):
    import pyarrow as pa

    from ksql.runtime.operators.window_join import key_hashes

    array = pa.array(values)
    for start in (0, 1, 3):
        part = array.slice(start)
        hashes = key_hashes(part)
        for i, a in enumerate(part.to_pylist()):
            for j, b in enumerate(part.to_pylist()):
                if a is not None and b is not None:
                    assert (hashes[i] == hashes[j]) == (a == b), (a, b)


AGGREGATED = ("CREATE TABLE out AS SELECT l.k AS k, COUNT(*) AS n, SUM(r.x) AS total FROM l "
              "JOIN r WITHIN 1 SECOND ON l.k = r.k WHERE r.x > 0 GROUP BY l.k;")
PADDED = [("L", "a", {"X": 1, "PAD": "p" * 50}, 1_000),
          ("R", "a", {"X": 10, "PAD": "q" * 50}, 1_100),
          ("R", "b", {"X": 7, "PAD": "q"}, 1_150),
          ("R", "a", {"X": 20, "PAD": "q"}, 1_200),
          ("L", "b", {"X": 2, "PAD": "p"}, 1_300),
          ("R", "a", {"X": -5, "PAD": "q"}, 1_400),
          ("L", "a", {"X": 3, "PAD": "p"}, 1_500)]


def aggregate_joined(tmp_path, name: str, rows: list) -> tuple[list, list]:
    """(the aggregation's output, the columns each side of its join keeps) after `rows`."""
    engine = KsqlEngine(str(tmp_path / name), {}, background=False)
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        if not engine.queries:
            for stream in ("l", "r"):
                engine.execute(f"CREATE STREAM {stream} (k STRING KEY, x INT, pad STRING) "
                               f"WITH (kafka_topic='{stream}', value_format='JSON', partitions=1);")
            engine.execute(AGGREGATED)
        for stream, key, value, at in rows:
            engine.log.append(stream.lower(), 0, make_records([key.encode()], [json.dumps(value).encode()], [at]))
        engine.drain()
        window_join = next(iter(engine.queries.values())).pipeline.join.window_join
        kept = sorted({name for chunks in window_join.chunks.values() for chunk in chunks
                       for name in chunk.rows.schema.names})
        return [(k, json.loads(v)) for _, k, v, _ in topic_records(engine.log, "OUT")], kept
    finally:
        engine.close()


def test_a_join_before_an_aggregation_keeps_only_the_fields_the_aggregation_reads(tmp_path):
    """A stream-stream join followed by GROUP BY keeps in its window what the filter and the
    aggregation read (the key, R.X, each side's ROWTIME), not the PAD nobody reads."""
    out, kept = aggregate_joined(tmp_path, "straight", PADDED)
    # a at 1.0 s meets R 10 and 20 as they come (R -5 fails the filter); b at 1.3 s meets R 7;
    # a at 1.5 s meets R 10 and 20 again
    assert out == [(b'a', {"N": 1, "TOTAL": 10}), (b'a', {"N": 2, "TOTAL": 30}), (b'b', {"N": 1, "TOTAL": 7}),
                   (b'a', {"N": 3, "TOTAL": 40}), (b'a', {"N": 4, "TOTAL": 60})]
    assert "L__PAD" not in kept and "R__PAD" not in kept
    assert {"L__K", "R__X", "L__ROWTIME", "R__ROWTIME"} <= set(kept)


def test_a_join_restarted_on_chunks_that_kept_every_field_carries_on(tmp_path, monkeypatch):
    """State written when the join kept every field (as before it kept only what is read) is
    taken up after a restart: the output is the same as a straight run's."""
    expected, _ = aggregate_joined(tmp_path, "straight", PADDED)
    from ksql.runtime.operators import join as join_ops
    monkeypatch.setattr(join_ops.JoinOp, "input_fields_read", lambda self, index: None)
    _, kept = aggregate_joined(tmp_path, "restarted", PADDED[:4])
    assert "L__PAD" in kept
    monkeypatch.undo()
    out, kept = aggregate_joined(tmp_path, "restarted", PADDED[4:])
    assert out == expected
    assert "L__PAD" not in kept
