"""The crash loop: a mix of persistent queries over a generated stream, an engine killed with
SIGKILL at random moments and restarted, and the sinks compared with an uninterrupted run.

Used by tests/test_crash_loop.py (a few kills in `make test`, many in `make soak`). Run as a
script, this module is the engine that gets killed: it opens the data directory (setting up
the streams and queries the first time), then feeds the generated input, resuming wherever the
input topics end, and waits to be killed.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

# Timestamps near now: Kafka deletes or compacts segments of records older than 7 days.
NOW = int(time.time() // 60 * 60 * 1000)  # children are given this one: they may start in another minute
USERS = 20

SETUP = """
SET 'auto.offset.reset'='earliest';
CREATE TABLE users (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=2);
CREATE TABLE accounts (id INT PRIMARY KEY, balance INT, owner INT) WITH (kafka_topic='accounts', value_format='JSON', partitions=2);
CREATE STREAM orders (id INT KEY, n INT, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=2);
{users}
CREATE STREAM big_orders AS SELECT id, n, amount FROM orders WHERE amount > 50;
CREATE TABLE spend AS SELECT id, COUNT(*) AS orders, SUM(amount) AS total FROM orders
  WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 1 HOUR) GROUP BY id;
CREATE TABLE visits AS SELECT id, COUNT(*) AS orders, SUM(amount) AS total FROM orders
  WINDOW SESSION (1 SECOND, GRACE PERIOD 1 HOUR) GROUP BY id;
CREATE TABLE by_size AS SELECT amount % 7 AS bucket, COUNT(*) AS orders, SUM(amount) AS total FROM orders
  GROUP BY amount % 7;
CREATE TABLE balances AS SELECT owner, COUNT(*) AS accounts, SUM(balance) AS total FROM accounts GROUP BY owner;
CREATE STREAM named_orders AS SELECT o.id, o.n, o.amount, u.name FROM orders o LEFT JOIN users u ON o.id = u.id;
CREATE STREAM echoes AS SELECT id, n FROM orders WHERE n % 3 = 0;
CREATE STREAM repeats AS SELECT o.id AS id, o.n AS n, e.n AS echoed FROM orders o
  JOIN echoes e WITHIN 2 SECONDS GRACE PERIOD 1 HOUR ON o.id = e.id;
CREATE TABLE profiles AS SELECT u.id, u.name, a.balance FROM users u JOIN accounts a ON u.id = a.id;
CREATE TABLE owned AS SELECT a.id AS id, a.balance, u.name FROM accounts a JOIN users u ON a.owner = u.id;
"""
# Sinks whose every record is compared (in order per key, or as a multiset for joins), and
# tables whose final state is compared (a table-table join's updates, and a GROUP BY's over
# several partitions, depend on how records of different partitions interleave, which differs
# from run to run; the final rows do not).
STREAM_SINKS = ("BIG_ORDERS", "SPEND", "VISITS", "NAMED_ORDERS", "ECHOES", "REPEATS")
TABLE_SINKS = ("BY_SIZE", "BALANCES", "PROFILES", "OWNED")
QUERIES = len(STREAM_SINKS) + len(TABLE_SINKS)


def setup_sql(now: int = NOW) -> str:
    """The statements of the first run. The users exist before any order, so the stream-table
    join's output does not depend on timing."""
    users = "\n".join(f"INSERT INTO users (rowtime, id, name) VALUES ({now}, {i}, 'user{i}');"
                      for i in range(USERS))
    return SETUP.format(users=users)


def generate(records: int, seed: int, now: int = NOW) -> dict[str, list[tuple[int, int, dict]]]:
    """The input: orders, with account updates mixed in (1 in 5), as (id, timestamp, value)
    per topic, in order."""
    rng = random.Random(seed)
    out = {"orders": [], "accounts": []}
    for n in range(records):
        ts = now + 1000 + n * 50
        uid = rng.randrange(USERS + 5)  # a few ids have no user
        if n % 5 == 4:
            out["accounts"].append((uid, ts, {"BALANCE": rng.randrange(1000), "OWNER": rng.randrange(USERS + 5)}))
        else:
            out["orders"].append((uid, ts, {"N": n, "AMOUNT": rng.randrange(100)}))
    return out


def by_partition(rows, partitions: int = 2) -> dict[int, list]:
    """The rows each partition gets, keyed the way every Kafka client keys an INT key."""
    from ksql.runtime.log.murmur2 import partitions_for

    keys = [id_.to_bytes(4, "big", signed=True) for id_, _, _ in rows]
    parts = partitions_for(keys, partitions, 0)
    out = {p: [] for p in range(partitions)}
    for row, key, p in zip(rows, keys, parts):
        out[int(p)].append((key, row[1], json.dumps(row[2]).encode()))
    return out


def feed(log, data, chunk: int = 20, pause: float = 0.0) -> None:
    """Append what the input topics do not hold yet, a chunk per partition at a time (a crash
    may cut feeding anywhere: the next run resumes from the topics' ends)."""
    from ksql.runtime.log.embedded import make_records

    pending = {}
    for topic, rows in data.items():
        for p, records in by_partition(rows).items():
            pending[(topic, p)] = records[log.end_offset(topic, p):]
    while any(pending.values()):
        for (topic, p), records in pending.items():
            if records:
                part, pending[(topic, p)] = records[:chunk], records[chunk:]
                keys, stamps, values = zip(*part)
                log.append(topic, p, make_records(list(keys), list(values), list(stamps)))
        if pause:
            time.sleep(pause)


def run_child(data_dir: str, properties: dict, records: int, seed: int, now: int) -> None:
    from ksql.engine import KsqlEngine

    engine = KsqlEngine(data_dir, properties)
    if not engine.queries:
        engine.execute(setup_sql(now))
    print("READY", flush=True)
    feed(engine.log, generate(records, seed, now), chunk=10, pause=0.02)
    time.sleep(600)


def kill_loop(data_dir: str, properties: dict, records: int, seed: int, kills: int) -> list[float]:
    """Start the engine and SIGKILL it at a random moment, `kills` times; returns the moments
    (seconds after the engine said it was ready)."""
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    moments = []
    for _ in range(kills):
        child = subprocess.Popen([sys.executable, __file__, data_dir, json.dumps(properties), str(records), str(seed), str(NOW)],
                                 stdout=subprocess.PIPE, env=env, text=True)
        try:
            assert child.stdout.readline().strip() == "READY", "the engine did not start"
            moments.append(rng.uniform(0.0, 1.0))
            time.sleep(moments[-1])
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    return moments


def stream_output(log, topic) -> dict:
    """Each key's records in order (records of different keys may interleave differently)."""
    from conftest import topic_records

    by_key = {}
    for _, key, value, ts in topic_records(log, topic):
        by_key.setdefault(key, []).append((value, ts))
    return {key: sorted(records) if topic in ("NAMED_ORDERS", "REPEATS") else records
            for key, records in by_key.items()}


def table_state(log, topic) -> dict:
    from conftest import topic_records

    state = {}
    for _, key, value, _ in topic_records(log, topic):
        state[key] = value
    return {key: value for key, value in state.items() if value is not None}


def outputs(log) -> dict:
    return {**{t: stream_output(log, t) for t in STREAM_SINKS}, **{t: table_state(log, t) for t in TABLE_SINKS}}


if __name__ == "__main__":
    run_child(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
