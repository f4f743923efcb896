"""The same answer three ways: a test case run as written, with every source in 4 partitions,
killed (SIGKILL of a real process) and restarted after random prefixes of its input, and with
its whole input read one record at a time or 10,000 at a time, must leave the same sinks.

    python -m ksql.testing.differential [--corpus DIR] [--sql-dir tests/golden/sql] [-j N] [--seed S]

A case is a list of steps: statements, then input records (ksqlDB's test files), or statements
only (SQL scripts, INSERT VALUES among them). Each run is a forked child of a process that has
the engine imported, so killing one is cheap and real. What a run leaves is, for every sink of
a persistent query, its final rows per key (tables) or its records per key, in order (streams).

Compared:
- as written against 4 partitions, and against killed-and-restarted: tables equal, each stream
  key's records equal and in the same order (the input arrives one record at a time, as the
  reference harness feeds it, so every run sees it in the same order);
- the whole input produced first, then read one record at a time against 10,000 at a time:
  tables equal, each stream key's records equal as a multiset.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import signal
import sys
import tempfile
import time
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ksql.testing.case import Case, Record

PARTITIONED = 4
CHILD_TIMEOUT = 60.0
# Functions whose results differ from run to run: cases using them are not compared.
_NONDETERMINISTIC = re.compile(r"\b(UUID|RANDOM|UNIX_TIMESTAMP|UNIX_DATE|NOW|CURRENT_TIMESTAMP|CURRENT_DATE|"
                               r"CURRENT_TIME)\s*\(", re.IGNORECASE)
# Values that depend on how a topic is partitioned.
_PARTITION_DEPENDENT = re.compile(r"\b(ROWPARTITION|ROWOFFSET)\b", re.IGNORECASE)
# a star over a join re-keyed by PARTITION BY selects each side's ROWPARTITION and ROWOFFSET too
_REPARTITIONED_JOIN_STAR = re.compile(r"\bSELECT\s+(?:\w+\.)?\*.*\bJOIN\b.*\bPARTITION\s+BY\b",
                                      re.IGNORECASE | re.DOTALL)
_PARTITIONS = re.compile(r"(\bPARTITIONS\s*=\s*)('?\d+'?)", re.IGNORECASE)
_IS_ASSERT = re.compile(r"^\s*(?:--[^\n]*\n\s*)*ASSERT\b", re.IGNORECASE)


@dataclass
class Difference:
    case: str
    variant: str
    detail: str

    def __str__(self) -> str:
        return f"{self.case} [{self.variant}]: {self.detail}"


@dataclass
class Plan:
    """One case as the differential runs it."""
    name: str
    statements: list[str]
    records: list[Record]
    properties: dict = field(default_factory=dict)
    topics: dict = field(default_factory=dict)
    schemas: dict = field(default_factory=dict)

    @property
    def steps(self) -> list:
        return [("statement", s) for s in self.statements] + [("record", r) for r in self.records]


def plan_of(case: Case) -> Plan | None:
    """The case as a plan, or None when there is nothing to compare (expected errors, REST
    responses, unsupported cases, functions that differ from run to run)."""
    if case.malformed or case.unsupported or case.expected_error is not None or case.responses is not None:
        return None
    if _NONDETERMINISTIC.search(" ".join(case.statements)):
        return None
    return Plan(f"{case.file}::{case.name}", list(case.statements), list(case.inputs), dict(case.properties),
                dict(case.topics), dict(case.schemas))


def script_plan(path: Path) -> Plan | None:
    """A SQL script (tests/golden/sql/*.sql) as a plan of statements."""
    from ksql.parser import split_statements

    statements = [p.text for p in split_statements(path.read_text())]
    if _NONDETERMINISTIC.search(" ".join(statements)):
        return None
    return Plan(path.name, statements, [])


# ---------------------------------------------------------------- one run, in a forked child


@dataclass(frozen=True)
class Variant:
    name: str
    partitions: int | None = None  # every topic gets this many partitions (None: as written)
    cuts: tuple = ()  # kill the run after these steps (their inputs are durable), then restart
    batch: int | None = None  # produce every input first, then read this many records at a time


def _child(plan: Plan, variant: Variant, data_dir: str, first: int, last: int, report: int,
           seed: int) -> None:
    """Run steps [first, last) on the data directory, telling `report` each step that is done,
    then (the last child) the outcome. Never returns."""
    code = 0
    try:
        from ksql.engine import clock as engine_clock
        from ksql.runtime import query as query_module

        if variant.batch is not None:
            query_module.MAX_BATCH = variant.batch
        clock = _StepClock()
        engine_clock.now = clock  # INSERT VALUES without ROWTIME: the same time in every run
        engine = _open_engine(plan, variant, data_dir, first == 0)
        steps = plan.steps
        for index in range(first, last):
            clock.step = index
            failed = _do(engine, steps[index], variant)
            if variant.batch is None or index == len(steps) - 1:
                engine.drain()
            if failed is not None:
                os.write(report, (json.dumps({"outcome": {"failed": failed}}) + "\n").encode())
                os._exit(0)
            os.write(report, f"{index}\n".encode())
        if last == len(steps):
            engine.drain()
            os.write(report, (json.dumps({"outcome": outcome(engine)}) + "\n").encode())
        else:
            time.sleep(CHILD_TIMEOUT)  # until killed
    except BaseException as error:  # noqa: BLE001 - the parent reports it
        os.write(report, (json.dumps({"crash": f"{type(error).__name__}: {error}"}) + "\n").encode())
        code = 1
    os._exit(code)


class _StepClock:
    """The engine's clock in a run: a time set by the step being run, so that every run of a
    case stamps a step's inserts alike."""

    BASE = 1_700_000_000_000

    def __init__(self):
        self.step, self._calls, self._of = 0, 0, None

    def __call__(self) -> int:
        if self._of != self.step:
            self._of, self._calls = self.step, 0
        self._calls += 1
        return self.BASE + self.step * 1000 + self._calls


def _scratch() -> str | None:
    """Where runs keep their data: memory when there is a tmpfs (fsync costs nothing there)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _open_engine(plan: Plan, variant: Variant, data_dir: str, fresh: bool):
    import json as _json

    from ksql.engine import KsqlEngine
    from ksql.testing.case import TEST_PROPERTIES

    engine = KsqlEngine(data_dir, properties=dict(plan.properties), background=False)
    engine.session.properties.update(TEST_PROPERTIES)
    engine.session.properties.update({k: str(v) for k, v in plan.properties.items()})
    for statement in plan.statements:  # a restarted session sets again what the script set
        if statement.lstrip().upper().startswith(("SET ", "SET\n")):
            try:
                engine.execute(statement)
            except Exception:  # noqa: BLE001 - it failed the first time too
                pass
    if fresh:
        for topic, partitions in plan.topics.items():
            if engine.log.topic(topic) is None:
                engine.log.create_topic(topic, variant.partitions or partitions)
        engine.schema_registry.set_compatibility("NONE")
        for subject, (schema, schema_id, schema_type, references) in plan.schemas.items():
            text = schema if schema_type == "PROTOBUF" else _json.dumps(schema, separators=(",", ":"))
            engine.schema_registry.register(subject, text, schema_type, references=references or None,
                                            schema_id=None if schema_id is None else int(schema_id))
    engine.drain()  # after a kill: finish what the killed run had not
    return engine


def _do(engine, step, variant: Variant) -> str | None:
    """One step; the error text when a statement fails (the run stops there, as a script does)."""
    from ksql.results import RowStream
    from ksql.testing.cases import _take
    from ksql.testing.topics import produce

    kind, item = step
    if kind == "record":
        produce(engine, item, new_topic_partitions=variant.partitions or 1)
        return None
    if _IS_ASSERT.match(item):
        return None  # the sinks are compared instead
    text = _PARTITIONS.sub(lambda m: f"{m.group(1)}{variant.partitions}", item) if variant.partitions else item
    try:
        results = engine.execute(text)
    except Exception as error:  # noqa: BLE001
        return str(getattr(error, "error", error))
    for result in results:
        if isinstance(result, RowStream):
            if variant.batch is None:
                engine.drain()
            _take(result)
    return None


def outcome(engine) -> dict:
    """Each persistent query's sink: a table's final row per key, a stream's records per key."""
    from ksql.testing.topics import read_topic

    sinks = {}
    for query in engine.queries.values():
        topic = query.sink.topic
        if topic in sinks:
            continue
        if query.sink.is_table:
            rows = {}
            for key, value, _ in read_topic(engine, topic):
                if value is None:
                    rows.pop(_hex(key), None)
                else:
                    rows[_hex(key)] = _hex(value)
            sinks[topic] = {"table": rows}
        else:
            records: dict = {}
            for key, value, timestamp in read_topic(engine, topic):
                records.setdefault(_hex(key), []).append([_hex(value), timestamp])
            sinks[topic] = {"stream": records}
    errors = sorted(f"{q.id}: {q.error}" for q in engine.queries.values() if q.state == "ERROR")
    return {"sinks": sinks, "errors": errors}


def _hex(data: bytes | None) -> str | None:
    return None if data is None else data.hex()


def run_variant(plan: Plan, variant: Variant, seed: int = 0) -> dict:
    """The outcome of one run: {"sinks": ..., "errors": [...]}, {"failed": message} when a
    statement failed, or {"crash": message}."""
    rng = random.Random(seed)
    steps = len(plan.steps)
    bounds = [0, *sorted(c for c in variant.cuts if 0 < c < steps), steps]
    with tempfile.TemporaryDirectory(prefix="ksql-diff-", dir=_scratch()) as data_dir:
        for first, last in zip(bounds[:-1], bounds[1:]):
            final = last == steps
            result = _fork_and_watch(plan, variant, data_dir, first, last, kill_after=None if final else last - 1,
                                     delay=rng.random() * 0.003, seed=seed)
            if final or "outcome" in result or "crash" in result:
                return result.get("outcome", result)
    return {"crash": "no run reached the end"}


def _fork_and_watch(plan, variant, data_dir, first, last, kill_after, delay, seed) -> dict:
    """Fork a child for steps [first, last); with kill_after, SIGKILL it `delay` seconds after
    it reports that step done (mid-processing, or idle: whichever it is by then)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(plan, variant, data_dir, first, last, write_end, seed)
    os.close(write_end)
    buffer, result = b"", {}
    deadline = time.monotonic() + CHILD_TIMEOUT
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result = {"crash": f"steps {first}-{last} took longer than {CHILD_TIMEOUT} s"}
                break
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                result = result or {"crash": "the run ended without an outcome"}
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            done = False
            for line in lines:
                if line.startswith(b"{"):
                    result = json.loads(line)
                    done = True
                elif kill_after is not None and int(line) == kill_after:
                    time.sleep(delay)
                    done = True
                    result = {"killed": True}
            if done:
                break
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
    return result


# ---------------------------------------------------------------- comparing


def variants_for(plan: Plan, seed: int) -> list[tuple[Variant, Variant, str]]:
    """(reference, other, how they must agree) pairs to run for a plan."""
    rng = random.Random(seed)
    steps = len(plan.steps)
    text = " ".join(plan.statements)
    written = Variant("as written")
    pairs = []
    if not _PARTITION_DEPENDENT.search(text) and not _REPARTITIONED_JOIN_STAR.search(text):
        pairs.append((written, Variant(f"{PARTITIONED} partitions", partitions=PARTITIONED), "ordered"))
    if steps >= 2:
        cuts = tuple(sorted(rng.sample(range(1, steps), min(3, steps - 1))))
        pairs.append((written, Variant(f"killed after steps {', '.join(map(str, cuts))}", cuts=cuts), "ordered"))
    if len(plan.records) >= 2:
        pairs.append((Variant("all input at once, 1 record a read", batch=1),
                      Variant("all input at once, 10,000 records a read", batch=10_000), "multiset"))
    return pairs


_WARM = []


def _warm() -> None:
    """Build once, before forking, what the engine builds on first use (the parser, kernels),
    so that each forked run does not build it again. (In DELIMITED: the JSON batch writer runs
    on polars, which a process forked after using it cannot use, runtime/formats/native.py.)"""
    if _WARM:
        return
    _WARM.append(True)
    plan = Plan("warm-up", ["CREATE STREAM w (id INT KEY, v STRING) WITH (kafka_topic='w', value_format='DELIMITED', "
                            "partitions=1);", "CREATE TABLE c AS SELECT id, COUNT(*) AS n FROM w GROUP BY id;",
                            "INSERT INTO w (id, v) VALUES (1, 'a');"], [])
    with tempfile.TemporaryDirectory(prefix="ksql-diff-", dir=_scratch()) as data_dir:
        engine = _open_engine(plan, Variant("warm"), data_dir, True)
        for step in plan.steps:
            _do(engine, step, Variant("warm"))
            engine.drain()
        engine.close()


def compare(plan: Plan, seed: int | None = None) -> list[Difference]:
    _warm()
    seed = zlib.crc32(plan.name.encode()) if seed is None else seed
    differences, outcomes = [], {}
    for reference, other, how in variants_for(plan, seed):
        for variant in (reference, other):
            if variant not in outcomes:
                outcomes[variant] = run_variant(plan, variant, seed)
        if "crash" in outcomes[reference] or ("failed" in outcomes[reference] and other.partitions):
            continue  # it does not run as written (the conformance run reports it), or it fails on
            #           a partition count the variant changed
        detail = _difference(outcomes[reference], outcomes[other], how)
        if detail is not None:
            differences.append(Difference(plan.name, f"{reference.name} vs {other.name}", detail))
    return differences


def _difference(a: dict, b: dict, how: str) -> str | None:
    for side in (a, b):
        if "crash" in side:
            return f"a run crashed: {side['crash']}"
    if "failed" in a or "failed" in b:
        return None if a.get("failed") == b.get("failed") else f"statements failed differently: {a} / {b}"
    if a["errors"] != b["errors"]:
        return f"queries failed differently: {a['errors']} / {b['errors']}"
    for topic in sorted(set(a["sinks"]) | set(b["sinks"])):
        left, right = a["sinks"].get(topic), b["sinks"].get(topic)
        if left is None or right is None:
            return f"sink {topic} exists in one run only"
        if "table" in left:
            if left != right:
                return f"table {topic}: {_first_key_difference(left['table'], right['table'])}"
            continue
        for key in sorted(set(left["stream"]) | set(right["stream"]), key=str):
            mine, theirs = left["stream"].get(key, []), right["stream"].get(key, [])
            if how == "multiset" or key == "null":  # records without a key have no order across partitions
                mine, theirs = sorted(map(tuple, mine), key=str), sorted(map(tuple, theirs), key=str)
            if mine != theirs:
                return (f"stream {topic}, key {_show(key)}: {len(mine)} records {_preview(mine)} / "
                        f"{len(theirs)} records {_preview(theirs)}")
    return None


def _first_key_difference(left: dict, right: dict) -> str:
    for key in sorted(set(left) | set(right), key=str):
        if left.get(key) != right.get(key):
            return f"key {_show(key)}: {_show(left.get(key))} / {_show(right.get(key))}"
    return "equal"


def _show(data) -> str:
    if data is None:
        return "null"
    try:
        return repr(bytes.fromhex(data).decode())
    except (UnicodeDecodeError, ValueError, TypeError):
        return str(data)


def _preview(records) -> str:
    return "[" + ", ".join(f"{_show(v)}@{t}" for v, t in list(records)[:4]) + (", ..." if len(records) > 4 else "") + "]"


# ---------------------------------------------------------------- the whole corpus


def all_plans(corpus: Path | None, sql_dir: Path | None) -> list[Plan]:
    from ksql.testing.conformance import collect

    plans = []
    if sql_dir is not None:
        plans += [p for p in (script_plan(path) for path in sorted(sql_dir.glob("*.sql"))) if p is not None]
    if corpus is not None and corpus.is_dir():
        cases, _ = collect(corpus)
        plans += [p for p in map(plan_of, cases) if p is not None]
    return plans


def _compare_one(plan: Plan) -> list[Difference]:
    return compare(plan)


_ISOLATED: list = []


def isolated():
    """A process of its own for forking runs from, started fresh (spawned): a process with
    other threads (a Kafka client's, say) cannot fork safely. Use `.submit(run_variant, ...)`."""
    if not _ISOLATED:
        import multiprocessing

        _ISOLATED.append(ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")))
    return _ISOLATED[0]


def run_all(plans: list[Plan], jobs: int = 2) -> list[Difference]:
    if jobs <= 1:
        return [d for plan in plans for d in compare(plan)]
    import multiprocessing

    # (spawned workers: each forks its runs, which a forked worker of a threaded parent may not)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [d for found in pool.map(_compare_one, plans, chunksize=4) for d in found]


def main(argv: list[str] | None = None) -> int:
    from ksql.testing.conformance import ROOT, default_corpus

    parser = argparse.ArgumentParser(prog="python -m ksql.testing.differential", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--sql-dir", type=Path, default=ROOT / "tests" / "golden" / "sql")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("-k", "--match", help="only the cases whose name contains this")
    parser.add_argument("--known", type=Path, default=ROOT / "conformance" / "differential-known.json",
                        help="differences known and explained: reported, not failed on")
    parser.add_argument("--update-known", action="store_true", help="write every difference found to --known")
    args = parser.parse_args(argv)
    started = time.monotonic()
    plans = all_plans(args.corpus, args.sql_dir)
    if args.match:
        plans = [p for p in plans if args.match in p.name]
    differences = run_all(plans, args.jobs)
    known = json.loads(args.known.read_text()) if args.known.exists() else {}
    new = [d for d in differences if d.case not in known]
    for difference in differences:
        print(("KNOWN " if difference.case in known else "") + str(difference))
    kinds = Counter(d.variant.split(" vs ")[1].split(" after")[0] for d in differences)
    print(f"{len(plans)} cases compared, {len(differences)} differences ({dict(kinds)}), {len(new)} not known, "
          f"{time.monotonic() - started:.0f} s")
    if args.update_known:
        args.known.write_text(json.dumps({d.case: known.get(d.case, str(d)) for d in differences}, indent=1,
                                         sort_keys=True) + "\n")
    return 1 if new and not args.update_known else 0


if __name__ == "__main__":
    sys.exit(main())
