"""Running queries: persistent queries (a background thread each, writing to a sink topic
in transactions) and transient queries (push and stream-scan queries read by a caller)."""
from __future__ import annotations

import logging
import pickle
import threading
import time
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.parser.errors import KsqlError
from ksql.planner.metastore import DataSource
from ksql.planner.aggregation import AggregateNode
from ksql.planner.plan import NULL_VALUE, ProjectNode, QueryPlan, PartitionByNode
from ksql.runtime.rows import TombstoneRow
from ksql.runtime import processing_log
from ksql.runtime.join_order import PartitionRead
from ksql.runtime.log.embedded import EmbeddedLog
from ksql.planner.partitioning import aggregate_index, partition_local, stage_one, stage_two
from ksql.runtime.pipeline import Pipeline, QueryCancelled
from ksql.runtime.read_ahead import ReadAhead
from ksql.runtime.repartition import JoinRepartition, Repartition, TableRepartition
from ksql.runtime.sink import SinkEncoder, encode_or_log
from ksql.runtime.state import StateLimits
from ksql.runtime.workers import Workers, WorkerError, offloadable

LOG = logging.getLogger("ksql.query")
# A persistent query reads up to this many records at a time (and about this many bytes: big
# records, fewer rows); a bigger batch spreads the cost of each commit's fsyncs over more rows.
MAX_BATCH = 50_000
MAX_BYTES = 16 << 20
# Push queries read less at a time: each poll's rows are held until the client takes them,
# so a slow client costs the server about this many rows (and the first rows come sooner).
PUSH_BATCH = 1_000
PUSH_BYTES = 1 << 20  # and at most about this many bytes of records (big records: fewer rows)
IDLE_WAIT = 0.2
JOIN_TIMEOUT = 30.0  # how long a query waits for its first partitions from the consumer group
# A failed query is restarted after a wait that doubles from the first to the last
# (ksql.query.retry.backoff.initial.ms / .max.ms, with ksqlDB's defaults).
RETRY_BACKOFF = (15.0, 900.0)


class PersistentQuery:
    """A query that runs until terminated, writing its output to a sink topic.

    Each step reads one batch from one source partition, and commits the output, the
    processing-log entries and the new source offset in one transaction."""

    def __init__(self, query_id: str, kind: str, sql: str, plan: QueryPlan, sink: DataSource,
                 log: EmbeddedLog, offset_reset: str = "latest", changelog: str | None = None,
                 view=None, state_limits: StateLimits | None = None,
                 processing_log_topic: str = processing_log.TOPIC, scale_out: bool = False,
                 repartition_topic: str | None = None, retry_backoff: tuple[float, float] = RETRY_BACKOFF,
                 join_repartition_topics: dict[int, str] | None = None, threads: int = 1):
        self.id = query_id
        self.retry_backoff = retry_backoff
        self._backoff = retry_backoff[0]
        self.restarts = 0  # times the query was restarted after failing
        # Share the sources' partitions with every server running this query (Kafka): the
        # query's consumer group says which ones this server owns.
        self.scale_out = scale_out
        self.partition_local = partition_local(plan)
        self.member = None
        self._generation = 0
        self.owned: frozenset | None = None  # source partitions this server processes; None: all
        # A GROUP BY on other columns than the source's key, on several servers, runs in two
        # stages around a repartition topic (runtime/repartition.py).
        self.repartition = None
        stateful_plan = plan
        if repartition_topic is not None:  # the engine gives one when needs_repartition(plan)
            index = aggregate_index(plan)
            info = log.topic(repartition_topic)
            if plan.steps[index].table_source:  # stage one moves the table's rows; stage two runs it all
                self.repartition = TableRepartition(plan, query_id, plan.steps[index], repartition_topic,
                                                    info.partitions)
            else:
                self.repartition = Repartition(Pipeline(stage_one(plan, index), query_id), plan.steps[index],
                                               repartition_topic, info.partitions)
                stateful_plan = stage_two(plan, index)
            self.partition_local = True  # each stage's state (none, then per group) splits by partition
        # A join whose inputs are not all partitioned by its key, on several servers, sends those
        # inputs through repartition topics first (runtime/repartition.py: JoinRepartition).
        self.join_repartition = None
        if join_repartition_topics:
            self.join_repartition = JoinRepartition(plan, query_id, join_repartition_topics,
                                                    log.topic(next(iter(join_repartition_topics.values()))).partitions)
            self.partition_local = True  # stage two joins partition p of every input on its own
        # Spread over servers, a query whose state splits by partition keeps each partition's
        # state in the changelog partition of that number; otherwise by a hash of each key.
        self._pipeline_args = (stateful_plan, query_id, log, changelog, state_limits,
                               scale_out and self.partition_local)
        self._join_topics = join_repartition_topics
        self.processing_log_topic = processing_log_topic
        self.kind = kind  # CSAS | CTAS | INSERT
        self.sql = sql
        self.plan = plan
        self.sink = sink
        self.log = log
        self.source = plan.source.source
        self.offset_reset = offset_reset
        self.state = "CREATED"
        self.error: str | None = None
        self.records_in = 0
        self.records_out = 0
        self.errors = 0  # records that went to the processing log
        self.positions: dict[tuple[str, int], int] = {}  # next offset to read, per source partition
        # per sink partition, the offset after the last record this query committed: a reader
        # may not see it at once (on Kafka, the stable end moves once the commit's markers land)
        self.sink_written: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.prepared = threading.Event()  # start positions fixed, state restored (or failed)
        self.pipeline = self._new_pipeline()
        self.reader = CountingReader(log)  # the query's reads, with the bytes they brought
        self.read_ahead = ReadAhead(self.reader, MAX_BATCH, MAX_BYTES, query_id, self._located)
        self.view = view  # the sink table's materialized rows, for pull queries
        self.view_start: dict[int, int] = {}  # the sink topic's offsets the view reads from
        self.changelog = changelog  # the state's topic (made only for queries that keep state)
        rekeyed = plan.joins is not None or any(
            isinstance(step, (PartitionByNode, AggregateNode)) for step in plan.steps)
        self.encoder = SinkEncoder(sink, log.topic(sink.topic).partitions, source_keys=not rekeyed)
        # a query that keeps no state computes its batches in worker processes (runtime/workers.py)
        self.workers = None
        self._reading: dict[tuple[str, int], int] = {}  # where the next batch for a worker starts
        # a join's next records, read while a batch commits: (topic, partition) -> (position, records, next offset)
        self._joined_ahead: dict = {}
        if threads > 1 and offloadable(plan, sink, scale_out) and self.repartition is None:
            try:
                self.workers = Workers(threads, plan, sink, self.encoder.partitions, not rekeyed, query_id)
            except (pickle.PicklingError, AttributeError, TypeError) as error:
                LOG.info("query %s runs in its own thread: its plan cannot go to a worker process (%s)",
                         query_id, error)

    def _new_pipeline(self) -> Pipeline:
        return Pipeline(*self._pipeline_args, cancelled=self._stop.is_set, join_topics=self._join_topics,
                        task_per_partition=isinstance(self.repartition, TableRepartition))

    @property
    def late_records(self) -> int:
        """Records dropped by windowed aggregations because their windows had closed."""
        return sum(getattr(op, "late", 0) for op in self.pipeline.all_operators)

    @property
    def lag(self) -> int:
        """Input records not yet processed, over every source partition."""
        positions = dict(self.positions)
        return sum(max(self.log.end_offset(topic, partition) - position, 0)
                   for (topic, partition), position in positions.items())

    @property
    def state_entries(self) -> int:
        return len(self.pipeline.store)

    def start(self) -> None:
        self.state = "RUNNING"
        self._thread = threading.Thread(target=self._run, name=f"query-{self.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.read_ahead.close()
        if self.workers is not None:
            self.workers.close()
        if self.state == "RUNNING":
            self.state = "TERMINATED"

    def _topics(self) -> list[str]:
        """What the query reads: its sources, and its repartition topics if it has any."""
        topics = list(dict.fromkeys(s.topic for s in self.plan.sources))
        return topics + ([self.repartition.topic] if self.repartition is not None else []) \
            + (list(self.join_repartition.moved.values()) if self.join_repartition is not None else [])

    def _internal(self, topic: str) -> bool:
        """Whether the query reads this topic after writing it (a repartition topic)."""
        return (self.repartition is not None and topic == self.repartition.topic
                or self.join_repartition is not None and topic in self.join_repartition.moved.values())

    def source_partitions(self) -> list[tuple[str, int]]:
        """Every partition the query reads (its repartition topic's too)."""
        return [(topic, p) for topic in self._topics() for p in range(self.log.topic(topic).partitions)]

    def _start_positions(self, committed) -> dict[tuple[str, int], int]:
        positions = {}
        for topic, p in self.source_partitions():
            if self.owned is None or (topic, p) in self.owned:
                if (topic, p) in committed:
                    positions[(topic, p)] = committed[(topic, p)]
                elif self.offset_reset == "earliest" or self._internal(topic):
                    positions[(topic, p)] = self.log.start_offset(topic, p)
                else:
                    positions[(topic, p)] = self.log.end_offset(topic, p)
        return positions

    def pause(self) -> None:
        if self.state == "RUNNING":
            self.state = "PAUSED"

    def resume(self) -> None:
        if self.state == "PAUSED":
            self.state = "RUNNING"

    def prepare(self) -> None:
        """Fix the start positions and rebuild state; a restart resumes from the committed ones."""
        self.log.open_producer(self.id)  # fences off an older instance of this query first
        if self.workers is not None and not self.workers.started and not self.workers.failed:
            self.workers.start()  # they get ready while the query starts in its own thread
        if self.scale_out:
            self.member = self.log.join_group(self.id, self._topics())
            deadline = time.monotonic() + JOIN_TIMEOUT
            while not self.member.generation and time.monotonic() < deadline and not self._stop.is_set():
                self.member.poll()
                self._stop.wait(0.02)
            self._take_partitions()
        else:
            self._take_up(None)
        self.state = "RUNNING"

    def _serve_group(self) -> None:
        """Answer the consumer group in every state, paused or failed too: a rebalance waits
        for each member to rejoin, so a member that stops polling holds up every server."""
        if self.member is not None:
            self.member.poll()

    def _take_partitions(self) -> None:
        """Process what the group gave this server: its partitions when the query's state is
        per partition, else every partition when it owns the first one (one server at a time)."""
        generation, assigned = self.member.generation, self.member.assigned
        if self.partition_local:
            owned = frozenset(assigned)
        else:
            first = (self.plan.sources[0].topic, 0)
            owned = frozenset(self.source_partitions()) if first in assigned else frozenset()
        if owned != self.owned:
            by_topic = {}
            for topic, partition in sorted(owned):
                by_topic.setdefault(topic, []).append(str(partition))
            LOG.info("query %s now processes %s", self.id, "; ".join(
                f"{topic} partitions {', '.join(ps)}" for topic, ps in by_topic.items()) or "no partitions")
            self._take_up(owned)
        # only now: `placed` tells a pull query's catch-up that the positions are this assignment's
        self._generation = generation

    def _take_up(self, owned: frozenset | None) -> None:
        """Rebuild the state of these source partitions from the changelog and resume them at
        their committed offsets (the first time: at auto.offset.reset, recorded)."""
        self.owned = owned
        self.read_ahead.forget()
        self._joined_ahead = {}
        if self.workers is not None:
            self.workers.forget()
        if self.pipeline is not None:
            self.pipeline.store.close()
        self.pipeline = self._new_pipeline()
        local = owned is not None and self.partition_local
        # whose partitions hold state: a stream's regrouping keeps none in stage one
        stateful = self.repartition.topic if isinstance(self.repartition, Repartition) else None
        if owned is None or owned:  # (a server that owns nothing keeps no state)
            self.pipeline.restore(sorted({p for t, p in owned if stateful in (None, t)}) if local else None)
        committed = self.log.committed(self.id)
        self.positions = self._start_positions(committed)
        fresh = {tp: offset for tp, offset in self.positions.items() if tp not in committed}
        if self.view is not None:
            fresh.update(self._view_start(committed))
            self.view.load_topic(self.log, self.view_start)
        if fresh:
            # Record where we start, so a restart resumes here and not at 'latest'.
            self.log.commit_offsets(self.id, fresh)

    def _view_start(self, committed) -> dict[tuple[str, int], int]:
        """Where the table's view starts reading its sink topic: where the topic ended when this
        query first started (what was there came from an earlier query, say one dropped and
        replaced: the new query's table is its own rows alone), kept with its offsets. Returns
        what to record (nothing after the first start)."""
        topic = self.sink.topic
        kept = {p: offset for (t, p), offset in committed.items() if t == topic}
        if kept or topic in self._topics() or any(t != topic for t, _ in committed):
            self.view_start = kept  # (a query started before this was kept reads it all)
            return {}
        self.view_start = {p: self.log.end_offset(topic, p) for p in range(self.log.topic(topic).partitions)}
        return {(topic, p): offset for p, offset in self.view_start.items()}

    @property
    def placed(self) -> bool:
        """Whether the query knows which source partitions it reads: at once on the embedded
        log, after its consumer group's first assignment on Kafka."""
        return self.member is None or self._generation > 0

    def step(self) -> bool:
        """Process at most one batch per source partition; False when there was nothing to do."""
        if self.state != "RUNNING":
            return False
        try:
            if self.member is None:
                return self._step(self.positions)
            self.member.poll()
            if self.member.generation != self._generation:
                self._take_partitions()
            progressed = self._step(self.positions)
            if self.view is not None:
                # every server's view holds the whole table, whichever server wrote each row
                progressed = self.view.follow(self.log) or progressed
            return progressed
        except QueryCancelled:
            return False  # terminated mid-batch: nothing of the batch was committed
        except WorkerError as error:
            if self._stop.is_set():
                return False  # its workers were stopped with it: nothing of the batch was committed
            LOG.error("query %s failed: %s", self.id, error)
            self.state = "ERROR"
            self.error = str(error)
            return False
        except KsqlError as error:  # a fault it reports clearly, such as a full disk
            LOG.error("query %s failed: %s", self.id, error)
            self.state = "ERROR"
            self.error = str(error)
            return False
        except Exception as error:  # noqa: BLE001
            LOG.exception("query %s failed", self.id)
            self.state = "ERROR"
            self.error = str(error)
            return False

    def _run(self) -> None:
        try:
            self.prepare()
        except Exception as error:  # noqa: BLE001
            LOG.exception("query %s could not start", self.id)
            self.state, self.error = "ERROR", str(error)
        finally:
            self.prepared.set()
        try:
            while not self._stop.is_set() and self.state in ("RUNNING", "PAUSED", "ERROR"):
                self._serve_group()
                if self.state == "ERROR":
                    self._restart()
                elif self.step():
                    self._backoff = self.retry_backoff[0]  # it works again
                else:
                    self.log.wait(IDLE_WAIT)
        finally:
            self.pipeline.store.close()
            if self.member is not None:
                self.log.leave_group(self.id)

    def _restart(self) -> None:
        """After a failure (a full disk, say), wait, then start over from the last commit:
        state from the changelog, positions from the committed offsets, the view from the sink.
        Whatever the failed step did in memory is dropped with it."""
        deadline = time.monotonic() + self._backoff
        while time.monotonic() < deadline:
            if self._stop.wait(min(0.2, max(deadline - time.monotonic(), 0))):
                return
            self._serve_group()
        self._backoff = min(self._backoff * 2, self.retry_backoff[1])
        self.restarts += 1
        LOG.info("query %s: restarting after an error (%s)", self.id, self.error)
        try:
            if self.member is None:
                self.prepare()
            else:
                self._take_up(self.owned)
            self.state, self.error = "RUNNING", None
        except Exception as error:  # noqa: BLE001 - still failing: wait longer and try again
            LOG.warning("query %s could not restart: %s", self.id, error)
            self.error = str(error)

    def _step(self, positions: dict[tuple[str, int], int]) -> bool:
        if self.pipeline.join is not None:
            return self._join_step(positions)
        if self.workers is not None and (self.workers.pending or self.workers.ready):
            return self._worker_step(positions)
        progressed = False
        for (topic, partition), position in positions.items():
            if self._stop.is_set():
                break
            if self.repartition is None:
                decode = self.pipeline.decoder.decode
                decoded, count, next_offset = self.read_ahead.read(topic, partition, position, decode)
                if decoded is None:
                    positions[(topic, partition)] = next_offset
                    continue
                # the next batch decodes on the read-ahead thread while this one runs and commits
                self.read_ahead.ahead(topic, partition, next_offset, decode)
                rows, entries = self.pipeline.run_decoded(decoded, partition)
                self.read_ahead.ahead(topic, partition, next_offset, decode)
                self._commit(rows, entries, count, {(topic, partition): next_offset}, positions)
                progressed = True
                continue
            records, next_offset = self.reader.read(topic, partition, position, MAX_BATCH, MAX_BYTES)
            if records is None:
                # nothing readable; the offset may still move past transaction markers
                positions[(topic, partition)] = next_offset
                continue
            offsets = {(topic, partition): next_offset}
            if topic != self.repartition.topic:  # stage one: to the repartition topic
                parts, entries = self.repartition.write(records, partition, self.pipeline.store)
                self._commit_parts(self.repartition.topic, parts, entries, records.num_rows, offsets, positions)
            else:  # stage two: the aggregation
                rows, entries = self.repartition.stage_two(self.pipeline, records, partition)
                self._commit(rows, entries, 0, offsets, positions)
            progressed = True
        return progressed

    def _worker_step(self, positions) -> bool:
        """Hand the next batches of the source partitions to the workers (a few each under way),
        then commit the oldest one's result: batches are committed in the order they were read."""
        workers = self.workers
        if not workers.pending:  # (the query's thread may have read ahead itself until now)
            self.read_ahead.forget()
            self._reading = dict(positions)
        under_way = {tag[0] for tag in workers.tags()}
        read = True
        while read and workers.room() and not self._stop.is_set():
            read = False
            for (topic, partition), position in self._reading.items():
                if not workers.room():
                    break
                if self._located(topic):  # the worker reads the records from the file itself
                    records, next_offset = self.reader.locate(topic, partition, position, MAX_BATCH, MAX_BYTES)
                else:
                    records, next_offset = self.reader.read(topic, partition, position, MAX_BATCH, MAX_BYTES)
                self._reading[(topic, partition)] = next_offset
                if records is None:
                    if (topic, partition) not in under_way:  # past transaction markers
                        positions[(topic, partition)] = next_offset
                    continue
                workers.submit(records, partition, ((topic, partition), next_offset))
                under_way.add((topic, partition))
                read = True
        if not workers.pending:
            return False
        (source_partition, next_offset), computed = workers.take()
        self._commit_parts(self.sink.topic, computed.parts, computed.entries, computed.records,
                           {source_partition: next_offset}, positions)
        self.records_out += computed.rows
        return True

    def _located(self, topic: str) -> bool:
        return hasattr(self.log, "locate") and self.log.append_only(topic)

    def _join_step(self, positions) -> bool:
        """Read what every source has and join it in Kafka Streams' order, in one transaction:
        what the order cannot take yet is read again next time. (Inputs that go through
        repartition topics first have their records sent there, each read in a transaction.)"""
        progressed = False
        if self.join_repartition is not None:
            progressed = self._repartition_join_inputs(positions)
            joined = {tp: position for tp, position in positions.items()
                      if self.join_repartition.input_of(tp[0]) is None}
            reads = _read_partitions(self.reader, self.pipeline, joined, MAX_BATCH, max_bytes=MAX_BYTES,
                                     ahead=self._joined_ahead)
            positions.update(joined)
        else:
            reads = _read_partitions(self.reader, self.pipeline, positions, MAX_BATCH, max_bytes=MAX_BYTES,
                                     ahead=self._joined_ahead)
        if not reads:
            return progressed
        rows, entries, counts = self.pipeline.run_reads(reads)
        offsets = _positions_after(reads, counts)
        # a partition the join took all of is likely to be taken whole again (the one behind in
        # time): its next records are read and decoded ahead; the others' would be decoded in
        # vain, as the join takes only the first of them
        self._read_joined_ahead({(read.topic, read.partition): read.next_offset
                                 for read, n in zip(reads, counts) if n == read.records.num_rows})
        # (records read back from a repartition topic were counted as they were written)
        self._commit(rows, entries, sum(n for read, n in zip(reads, counts) if not self._internal(read.topic)),
                     offsets, positions)
        return True

    def _read_joined_ahead(self, positions: dict) -> None:
        """Read what the join takes next, from where this batch leaves each partition, and
        start decoding it (Pipeline.decode_ahead) while this batch is committed."""
        self.pipeline.forget_ahead()
        self._joined_ahead = {}
        if not isinstance(self.log, EmbeddedLog):
            return  # (a Kafka consumer's read waits for records: not twice a batch)
        for (topic, partition), position in positions.items():
            records, next_offset = _read_one(self.reader, topic, partition, position, MAX_BATCH, MAX_BYTES)
            if records is not None:
                self._joined_ahead[(topic, partition)] = (position, records, next_offset)
                self.pipeline.decode_ahead(topic, partition, records)

    def _repartition_join_inputs(self, positions) -> bool:
        """Stage one: the records of the inputs not partitioned by the join's key, to their
        partitions of the repartition topics."""
        progressed = False
        for (topic, partition), position in list(positions.items()):
            index = self.join_repartition.input_of(topic)
            if index is None or self._stop.is_set():
                continue
            records, next_offset = self.reader.read(topic, partition, position, MAX_BATCH, MAX_BYTES)
            if records is None:
                positions[(topic, partition)] = next_offset
                continue
            parts = self.join_repartition.write(index, records, partition)
            self._commit_parts(self.join_repartition.moved[index], parts, [], records.num_rows,
                               {(topic, partition): next_offset}, positions)
            progressed = True
        return progressed

    def _commit(self, rows, entries, count, offsets, positions) -> None:
        """Output, processing-log entries, state changes and input offsets, in one transaction."""
        parts, rows = self._encode(rows, entries)
        self._commit_parts(self.sink.topic, parts, entries, count, offsets, positions, rows)
        self.records_out += rows.num_rows

    def _encode(self, rows: pa.RecordBatch, entries: list) -> tuple[dict, pa.RecordBatch]:
        return encode_or_log(self.encoder, rows, entries, self.id, self.sink.topic)

    def _commit_parts(self, topic, parts, entries, count, offsets, positions, rows=None) -> None:
        """Records for `topic` by partition, processing-log entries, state changes (and the view's
        rows) and input offsets, in one transaction."""
        txn = self.log.begin(self.id)
        viewed = False
        try:
            for partition, batch in parts.items():
                txn.append(topic, partition, batch)
            if entries:
                txn.append(self.processing_log_topic, 0, processing_log.records(entries))
            self.pipeline.flush(txn)
            if self.view is not None and not self.scale_out and rows is not None:
                # Before the commit: once a reader can see a row in the sink, pull queries see it too.
                # (With several servers, the view follows the sink topic instead: see step().)
                viewed = True
                self.view.apply_written(rows, parts, ("__WINDOW_START", "__WINDOW_END"))
            txn.commit(offsets)
            for (written, partition), end in txn.written.items():
                if written == self.sink.topic:
                    self.sink_written[partition] = max(self.sink_written.get(partition, 0), end)
        except BaseException:
            txn.abort()
            if viewed:  # pull queries must not see rows that were never committed
                try:
                    self.view.load_topic(self.log, self.view_start)
                except Exception:  # noqa: BLE001 - the restart rebuilds it; report the first error
                    LOG.exception("query %s: could not rebuild its table view", self.id)
            raise
        positions.update(offsets)
        self.records_in += count
        self.errors += len(entries)


class CountingReader:
    """The log as a persistent query reads it, counting the bytes of the keys and values it
    reads (its consumer's bytes consumed, a metric)."""

    def __init__(self, log):
        self.log = log
        self.bytes = 0

    def __getattr__(self, name):  # the rest of the log's reading side as it is (end offsets...)
        return getattr(self.log, name)

    def read(self, topic: str, partition: int, offset: int, max_records: int = 10_000, max_bytes: int | None = None):
        records, next_offset = self.log.read(topic, partition, offset, max_records, max_bytes)
        return self._counted(records), next_offset

    def find(self, topic: str, partition: int, offset: int, max_records: int = 10_000,
             max_bytes: int | None = None):
        """Where the records `read` would return are, for `read_found` to read (on any thread)."""
        return self.log.locate(topic, partition, offset, max_records, max_bytes)

    def read_found(self, where):
        return self._counted(where.read())

    def _counted(self, records: pa.RecordBatch | None) -> pa.RecordBatch | None:
        if records is not None:  # (keys and values as written; a null one is 0 bytes)
            self.bytes += sum(pc.sum(pc.binary_length(records.column(i))).as_py() or 0 for i in (2, 3))
        return records

    def locate(self, topic: str, partition: int, offset: int, max_records: int = 10_000,
               max_bytes: int | None = None):
        """(a worker reads the records itself: the size of the frames they are in)"""
        where, next_offset = self.log.locate(topic, partition, offset, max_records, max_bytes)
        if where is not None:
            self.bytes += sum(length for _, length in where.frames)
        return where, next_offset


def _with_key_and_value(records: pa.RecordBatch, keyed: bool) -> pa.RecordBatch:
    """The records that have a value, and a key when `keyed`."""
    present = pc.is_valid(records.column(3))
    if keyed:
        present = pc.and_(present, pc.is_valid(records.column(2)))
    return records.filter(present)


class TransientQuery:
    """A push query (EMIT CHANGES: runs until closed or LIMIT) or a scan of a stream's
    current contents (no EMIT: ends at the offsets seen when it started)."""

    def __init__(self, query_id: str, plan: QueryPlan, log: EmbeddedLog, offset_reset: str,
                 push: bool, on_log=None, state_limits: StateLimits | None = None, skip_nulls: bool = False):
        self.id = query_id
        self.plan = plan
        self.log = log
        self.push = push
        # a scalable push query passes over records without a value, or without a key when its
        # source has key columns, as ksqlDB's does
        self.skip_nulls = skip_nulls
        self.keyed = any(source.schema.key for source in plan.sources)
        self.limit = plan.limit
        self.pipeline = Pipeline(plan, query_id, limits=state_limits, cancelled=self._closed_now)
        project = next(s for s in plan.steps if isinstance(s, ProjectNode))
        self.columns = [c for c, _ in project.columns]
        # a push query on a table shows deletes: the key (and window), other columns null
        self.tombstone_keys = project.key_names if push and plan.produces_table else None
        self._closed = threading.Event()
        self._on_log = on_log
        self.emitted = 0
        start = offset_reset == "earliest" or not push
        self.positions, self.ends = {}, {}
        for topic in dict.fromkeys(source.topic for source in plan.sources):
            for p in range(log.topic(topic).partitions):
                self.positions[(topic, p)] = log.start_offset(topic, p) if start else log.end_offset(topic, p)
                self.ends[(topic, p)] = log.end_offset(topic, p)

    def close(self) -> None:
        self._closed.set()

    def _closed_now(self) -> bool:
        return self._closed.is_set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def rows(self, poll: float = IDLE_WAIT) -> Iterator[list]:
        """Result rows as lists of Python values, in column order; with poll <= 0 the iterator
        ends as soon as nothing more is available (it can be called again to go on)."""
        while True:
            rows, done = self.poll()
            yield from rows
            if done:
                return
            if not rows:
                if poll <= 0:
                    return
                self.log.wait(poll)

    def poll(self) -> tuple[list[list], bool]:
        """The rows available now, and whether the query has ended (LIMIT, closed, scan done).
        Never blocks, so a server can serve many push queries without a thread each."""
        if self._closed.is_set() or self.limit == 0:
            self.pipeline.store.close()  # here, on the thread that uses the store
            return [], True
        if self.pipeline.join is not None:
            return self._poll_joined()
        parts = []
        for (topic, partition), position in self.positions.items():
            if not self.push and position >= self.ends[(topic, partition)]:
                continue
            records, next_offset = self.log.read(topic, partition, position, PUSH_BATCH if self.push else MAX_BATCH,
                                                 PUSH_BYTES if self.push else None)
            if records is None:
                self.positions[(topic, partition)] = next_offset
                continue
            if not self.push:
                records = _before(records, self.ends[(topic, partition)])
            else:
                records, cut_at = _within_bytes(records, PUSH_BYTES)
                next_offset = next_offset if cut_at is None else cut_at
            self.positions[(topic, partition)] = next_offset
            if self.skip_nulls:
                records = _with_key_and_value(records, self.keyed)
                if not records.num_rows:
                    continue
            parts += [(index, partition, records) for index, source in enumerate(self.pipeline.sources)
                      if source.topic == topic]
        try:
            results = [self.pipeline.run(records, partition) for _, partition, records in parts]
        except QueryCancelled:
            return [], True
        return self._rows_of(results)

    def _poll_joined(self) -> tuple[list[list], bool]:
        wanted = {tp: position for tp, position in self.positions.items()
                  if self.push or position < self.ends[tp]}
        ends = None if self.push else self.ends
        reads = _read_partitions(self.log, self.pipeline, wanted, PUSH_BATCH if self.push else MAX_BATCH, ends,
                                 PUSH_BYTES if self.push else None)
        results = []
        if reads:
            try:
                rows, entries, counts = self.pipeline.run_reads(reads)
            except QueryCancelled:
                return [], True
            self.positions.update(_positions_after(reads, counts))
            results.append((rows, entries))
        else:
            self.positions.update(wanted)
        return self._rows_of(results)

    def _rows_of(self, results) -> tuple[list[list], bool]:
        out = []
        for rows, entries in results:
            if entries and self._on_log:
                self._on_log(entries)
            for row in _python_rows(rows, self.columns, self.tombstone_keys):
                if self.limit is not None and self.emitted >= self.limit:  # LIMIT 0 too
                    self.close()
                    return out, True
                out.append(row)
                self.emitted += 1
                if self.limit is not None and self.emitted >= self.limit:
                    self.close()
                    return out, True
        if not self.push and all(self.positions[p] >= self.ends[p] for p in self.positions):
            return out, True
        return out, False


def _read_partitions(log, pipeline: Pipeline, positions: dict, max_records: int,
                     ends: dict | None = None, max_bytes: int | None = None,
                     ahead: dict | None = None) -> list[PartitionRead]:
    """What each partition holds from its position (up to `ends`, for a scan; about
    `max_bytes` of it, for a push query); a partition with nothing readable moves its position
    past transaction markers in place. `ahead`: (topic, partition) -> (position, records, next
    offset) read before, taken when the position is still theirs."""
    reads = []
    for (topic, partition), position in positions.items():
        read_before = ahead.get((topic, partition)) if ahead and ends is None else None
        if read_before is not None and read_before[0] == position:
            _, records, next_offset = read_before
        else:
            records, next_offset = _read_one(log, topic, partition, position, max_records, max_bytes)
            if records is not None and ends is not None:  # (both cut a prefix: in either order)
                records = _before(records, ends[(topic, partition)])
                next_offset = min(next_offset, ends[(topic, partition)])
                if records.num_rows == 0:
                    records = None
        if records is None:
            positions[(topic, partition)] = next_offset
            continue
        end = log.end_offset(topic, partition) if ends is None else ends[(topic, partition)]
        reads.append(PartitionRead(topic, partition, records, next_offset, next_offset < end,
                                   pipeline.read_times(topic, partition, records)))
    return reads


def _read_one(log, topic: str, partition: int, position: int, max_records: int,
              max_bytes: int | None) -> tuple[pa.RecordBatch | None, int]:
    """A partition's records from `position` (about `max_bytes` of them) and the offset after them."""
    records, next_offset = log.read(topic, partition, position, max_records, max_bytes)
    if records is not None and max_bytes is not None:
        records, cut_at = _within_bytes(records, max_bytes)
        next_offset = next_offset if cut_at is None else cut_at
    return records, next_offset


def _positions_after(reads: list[PartitionRead], counts: list[int]) -> dict:
    """Each read partition's next position: past what was joined."""
    out = {}
    for read, n in zip(reads, counts):
        out[(read.topic, read.partition)] = read.next_offset if n == read.records.num_rows \
            else read.records.column(0)[n].as_py()
    return out


def _within_bytes(records: pa.RecordBatch, limit: int) -> tuple[pa.RecordBatch, int | None]:
    """The first records whose keys and values add up to at most `limit` bytes (at least one),
    and the offset of the first one left out (None: none was)."""
    sizes = pc.add(pc.fill_null(pc.binary_length(records.column(2)), 0),
                   pc.fill_null(pc.binary_length(records.column(3)), 0))
    keep = max(int(np.searchsorted(np.cumsum(sizes.to_numpy()), limit, side="right")), 1)
    if keep >= records.num_rows:
        return records, None
    return records.slice(0, keep), records.column(0)[keep].as_py()


def _before(records: pa.RecordBatch, end: int) -> pa.RecordBatch:
    offsets = records.column(0).to_numpy()
    return records.slice(0, int(np.searchsorted(offsets, end)))


def _python_rows(rows: pa.RecordBatch, columns, tombstone_keys=None) -> Iterator[list]:
    """Each output row as a list; a tombstone is left out, or, when `tombstone_keys` names the
    key columns to keep, given as a TombstoneRow with every other column null."""
    if rows.num_rows == 0:
        return
    null_value = rows.column(NULL_VALUE).to_pylist()
    values = [rows.column(c.name).to_pylist() for c in columns]
    kept = [tombstone_keys is not None and c.name in tombstone_keys for c in columns]
    for i in range(rows.num_rows):
        if null_value[i]:
            if tombstone_keys is not None:
                yield TombstoneRow(v[i] if keep else None for v, keep in zip(values, kept))
            continue
        yield [v[i] for v in values]


__all__ = ["PersistentQuery", "TransientQuery"]
