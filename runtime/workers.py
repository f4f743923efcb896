"""A stateless query's batches computed in worker processes (ksql.streams.num.stream.threads).

One Python process runs one bytecode at a time, so a query whose decoding, functions and
encoding are Python-bound uses one core however many it has. A query that keeps no state
(filters, projections, PARTITION BY, table functions over a stream, into a stream) computes
each batch from that batch alone, so its batches can be computed anywhere in any order: the
query's thread reads batches from the log and hands them to worker processes, which decode,
run the operators and encode the sink's records; the query's thread takes the results back in
the order it read them and commits each in a transaction with its input offsets, exactly as
it commits a batch it computed itself. A crash loses only uncommitted work, as before; a
worker that fails makes the query fail and restart from its last commit.

A worker plans nothing: it is given the query's plan and sink (pickled) and builds the same
operators from them. It reads from and writes to its pipe only, never the log. The query
goes on in its own thread until its workers are ready (a worker's start, the imports, takes
about a second), and in its own thread altogether when its plan cannot be sent (a function
from a module the worker cannot import, say).
"""
from __future__ import annotations

import io
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import pyarrow as pa

from ksql.planner.bound import Call
from ksql.planner.library import FUNCTIONS
from ksql.planner.partitioning import keeps_state
from ksql.planner.plan import QueryPlan
from ksql.runtime.log.partition_file import FileSlice, decode_batch, encode_batch

LOG = logging.getLogger("ksql.query")

# the formats a worker reads and writes on its own (a registry format's schemas live with the engine)
PLAIN_FORMATS = {"JSON", "KAFKA", "DELIMITED", "NONE"}
# batches handed to each worker before the oldest result is taken back
IN_FLIGHT = 2


def offloadable(plan: QueryPlan, sink, scale_out: bool) -> bool:
    """Whether each batch of this query is computed from that batch alone, by operators a
    worker can rebuild: no join, no aggregation, no table (a table source keeps each key's
    last row; a table sink feeds pull queries), plain formats, the embedded log."""
    if scale_out or keeps_state(plan) or sink.is_table or len(plan.sources) != 1:
        return False
    formats = {sink.key_format, sink.value_format}
    for source in plan.sources:
        if source.is_table:
            return False
        formats |= {source.key_format, source.value_format}
    return formats <= PLAIN_FORMATS


@dataclass
class Computed:
    """What a worker gives back for a batch: the sink's records by partition, the
    processing-log entries, how many rows the output had and how many records it read."""
    parts: dict[int, pa.RecordBatch]
    entries: list[bytes]
    rows: int
    records: int


class WorkerError(Exception):
    """A worker could not compute a batch (the query fails and restarts from its last commit)."""


class Workers:
    """A query's worker processes and the batches handed to them, oldest first."""

    def __init__(self, count: int, plan: QueryPlan, sink, sink_partitions: int, source_keys: bool,
                 query_id: str):
        self.query_id = query_id
        self._spec = _pickled((plan, sink, sink_partitions, source_keys, query_id))
        self._count = count
        self._procs: list[subprocess.Popen] = []
        self._conns: list[Connection] = []
        self._ready: list[bool] = []
        self._failed = False
        self._pending: deque[tuple[int, object]] = deque()  # (worker, what the caller tagged the batch with)
        self._next = 0
        self.computed = 0  # batches the workers computed and the query took back

    def start(self) -> None:
        """Start the processes; they announce when they are ready (see `ready`)."""
        package_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        # the processes are the parallelism: each one's native libraries on a core of its own
        env.setdefault("POLARS_MAX_THREADS", str(max(1, (os.cpu_count() or 1) // self._count)))
        for _ in range(self._count):
            to_worker_r, to_worker_w = os.pipe()
            from_worker_r, from_worker_w = os.pipe()
            proc = subprocess.Popen([sys.executable, "-m", "ksql.runtime.workers", str(to_worker_r), str(from_worker_w)],
                                    pass_fds=(to_worker_r, from_worker_w), env=env, stdin=subprocess.DEVNULL)
            os.close(to_worker_r)
            os.close(from_worker_w)
            conn = _Pipe(from_worker_r, to_worker_w)
            conn.send_bytes(self._spec)
            self._procs.append(proc)
            self._conns.append(conn)
            self._ready.append(False)

    @property
    def ready(self) -> bool:
        """Every worker has built the query's operators (never, when one could not)."""
        if self._failed:
            return False
        for i, conn in enumerate(self._conns):
            if not self._ready[i]:
                try:
                    if not conn.poll():
                        return False
                    answer = conn.recv_bytes()
                except (EOFError, OSError):
                    answer = b"the process ended"
                if answer != b"ready":
                    LOG.warning("query %s: its worker processes cannot run it (%s); it runs in its own thread",
                                self.query_id, answer.decode(errors="replace"))
                    self._failed = True
                    self.close()
                    return False
                self._ready[i] = True
        return bool(self._conns)

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def started(self) -> bool:
        return bool(self._procs)

    def tags(self) -> list:
        """What each batch under way was tagged with, oldest first."""
        return [tag for _, tag in self._pending]

    @property
    def pending(self) -> int:
        return len(self._pending)

    def room(self) -> bool:
        return len(self._pending) < IN_FLIGHT * len(self._conns)

    def submit(self, records: pa.RecordBatch | FileSlice, partition: int, tag) -> None:
        """Hand a batch of one source partition to the next worker: its records, or where
        they are in the partition's file (the worker reads them, so they are not copied twice)."""
        worker = self._next
        self._next = (self._next + 1) % len(self._conns)
        conn = self._conns[worker]
        if isinstance(records, FileSlice):
            conn.send_bytes(pickle.dumps((partition, records)))
        else:
            conn.send_bytes(pickle.dumps((partition, None)))
            conn.send_bytes(encode_batch(records))
        self._pending.append((worker, tag))

    def take(self) -> tuple[object, Computed]:
        """The oldest batch's result (waiting for it) with its tag."""
        worker, tag = self._pending.popleft()
        computed = self._receive(worker)
        self.computed += 1
        return tag, computed

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs]

    def forget(self) -> None:
        """Drop the batches under way (the query starts over from its committed positions);
        a worker that died is replaced, with the others."""
        while self._pending:
            worker, _ = self._pending.popleft()
            try:
                self._receive(worker)
            except (WorkerError, OSError, EOFError):
                pass
        if any(proc.poll() is not None for proc in self._procs) and not self._failed:
            self.close()
            self.start()

    def _receive(self, worker: int) -> Computed:
        conn = self._conns[worker]
        try:
            header = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError) as error:
            raise WorkerError(f"worker process {worker} of query {self.query_id} ended ({error})") from None
        if header[0] == "error":
            raise WorkerError(header[1])
        _, rows, records, entries, partitions = header
        parts = {p: decode_batch(conn.recv_bytes()) for p in partitions}
        return Computed(parts, entries, rows, records)

    def close(self) -> None:
        for conn in self._conns:
            conn.close()
        for proc in self._procs:
            proc.kill()
            proc.wait()
        self._conns, self._procs, self._ready, self._pending = [], [], [], deque()


def _pickled(spec) -> bytes:
    """The query's plan and sink for a worker. A function defined in Python here (ksql/udf.py)
    may not exist there, or may stand for a built-in of the same name: such a plan stays here."""
    out = io.BytesIO()
    _PlanPickler(out).dump(spec)
    return out.getvalue()


class _PlanPickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Call) and getattr(FUNCTIONS.get(obj.name), "user", False):
            raise pickle.PicklingError(f"{obj.name} is a function defined in Python in this process")
        return NotImplemented


class _Pipe(Connection):
    """One end of a worker's two pipes: reads from one descriptor, writes to the other."""

    def __init__(self, read_fd: int, write_fd: int):
        super().__init__(read_fd)
        self._writer = Connection(write_fd, readable=False)

    def send_bytes(self, buf, offset=0, size=None):
        self._writer.send_bytes(buf, offset, size)

    def close(self):
        self._writer.close()
        super().close()


def serve(conn: _Pipe) -> None:
    """A worker: build the query's operators from its plan, then compute each batch sent."""
    from ksql.runtime.pipeline import Pipeline
    from ksql.runtime.sink import SinkEncoder, encode_or_log

    try:
        plan, sink, sink_partitions, source_keys, query_id = pickle.loads(conn.recv_bytes())
        pipeline = Pipeline(plan, query_id)
        encoder = SinkEncoder(sink, sink_partitions, source_keys=source_keys)
    except Exception as error:  # noqa: BLE001 - the query runs in its own thread instead
        conn.send_bytes(f"{type(error).__name__}: {error}".encode())
        return
    conn.send_bytes(b"ready")
    # Batches are taken off the pipe as they come, on a thread of their own: the query writes
    # its next batches while this process writes a result, and neither may wait for the other.
    batches: queue.Queue = queue.Queue()
    threading.Thread(target=_receive_batches, args=(conn, batches), daemon=True).start()
    while (batch := batches.get()) is not None:
        partition, records = batch
        try:
            if isinstance(records, FileSlice):
                records = records.read()
            if records is None:  # (nothing left of the frames: say so, with no output)
                conn.send_bytes(pickle.dumps(("ok", 0, 0, [], [])))
                continue
            decoded = pipeline.decoder.decode(records, partition)
            rows, entries = pipeline.run_decoded(decoded, partition)
            parts, rows = encode_or_log(encoder, rows, entries, query_id, sink.topic)
        except Exception as error:  # noqa: BLE001 - reported to the query, which fails and restarts
            conn.send_bytes(pickle.dumps(("error", f"{type(error).__name__}: {error}")))
            continue
        conn.send_bytes(pickle.dumps(("ok", rows.num_rows, records.num_rows, entries, list(parts))))
        for part in parts.values():
            conn.send_bytes(encode_batch(part))


def _receive_batches(conn: _Pipe, batches: queue.Queue) -> None:
    try:
        while True:
            partition, located = pickle.loads(conn.recv_bytes())
            batches.put((partition, located if located is not None else decode_batch(conn.recv_bytes())))
    except (EOFError, OSError):
        batches.put(None)  # the query stopped (or its process died)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="[%(asctime)s] %(levelname)s %(message)s (%(name)s)")
    serve(_Pipe(int(sys.argv[1]), int(sys.argv[2])))
