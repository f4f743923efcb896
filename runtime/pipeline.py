"""A query's operators over the batches read from its sources: decoding, the join (records
of several sources met in timestamp order), the operators after it, and the query's state
store. PersistentQuery and TransientQuery (query.py) feed it."""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.parser.errors import KsqlFunctionError
from ksql.planner.aggregation import AggregateNode
from ksql.planner.functions import function_errors
from ksql.planner.partitioning import co_partitioned
from ksql.planner.bound import Column, fields_of
from ksql.planner.plan import NULL_VALUE, FilterNode, PartitionByNode, ProjectNode, QueryPlan
from ksql.planner.schema import ROWOFFSET, ROWTIME
from ksql.runtime import processing_log
from ksql.runtime.join_order import PartitionRead, order_keys, partition_time_key
from ksql.runtime.operators.build import build_operators
from ksql.runtime.operators.join import SOURCE, JoinOp
from ksql.runtime.source import Decoded, SourceDecoder
from ksql.runtime.state import StateLimits, StateStore, StateView


LOG = logging.getLogger("ksql.query")


class Pipeline:
    """The operators of one query, applied to each batch read from one source partition."""

    def __init__(self, plan: QueryPlan, query_id: str, log=None, changelog: str | None = None,
                 limits: StateLimits | None = None, state_by_source: bool = False, cancelled=None,
                 join_topics: dict[int, str] | None = None, task_per_partition: bool = False):
        """join_topics: join inputs read from a repartition topic instead of their source's
        (runtime/repartition.py: JoinRepartition), by input index. task_per_partition: each
        partition's rows go through operators of their own, whose state is named apart (a
        table's rows regrouped by partition, runtime/repartition.py: TableRepartition: a key's
        previous row is that of the partition it leaves, not of the one it enters)."""
        self.query_id = query_id
        # asked between records when a batch is redone one record at a time (slow records, such
        # as a regular expression that runs out of time on each): a query that is closing stops
        self.cancelled = cancelled or (lambda: False)
        self.sources = plan.sources
        self.decoders = [SourceDecoder(source, query_id) for source in self.sources]
        self.decoder = self.decoders[0]
        # One store per query, each operator keeping its state in a view of its own; the
        # pipeline's own keys (each source partition's stream time) are beside them.
        self.store = StateStore(log, changelog, limits, by_source=state_by_source)
        self.operators = build_operators(plan.steps, self.store)
        self._steps = plan.steps
        self._tasks = {0: self.operators} if task_per_partition else None  # partition -> its operators
        self._active = self.operators  # the operators of the batch being run
        # A join (the first step when there is one) is fed here, with the rows of all its
        # sources in their order; the operators after it take what it gives.
        self.join = self.operators.pop(0) if plan.joins is not None else None
        # A join whose sources are co-partitioned runs a task per partition number, as Kafka
        # Streams does: each partition's rows met in their own order, with their own stream
        # time (`self.join` is partition 0's). Otherwise one task joins every partition's rows.
        self.join_tasks = {0: self.join} if self.join is not None and (co_partitioned(plan.joins) or join_topics) \
            else None
        self.input_topics = [source.topic for source in self.sources]  # where each input's records come from
        for index, topic in (join_topics or {}).items():
            self.input_topics[index] = topic
        if self.join is not None:
            self.aliases = [i.alias for i in plan.joins.inputs]
            self.join.needed = fields_read(plan.steps[1:])
            after = plan.steps[1] if len(plan.steps) > 1 else None
            self._where_after_join = after.predicate if isinstance(after, FilterNode) and not after.table else None
            if self._where_after_join is not None:
                self.join.push_filter(self._where_after_join)
            for index, (decoder, alias) in enumerate(zip(self.decoders, self.aliases)):
                read = self.join.input_fields_read(index)
                if read is not None:
                    decoder.read_only({f[len(alias) + 2:] for f in read if f.startswith(alias + "__")})
        else:
            self.decoder.read_only(source_fields_read(plan.steps))
        self._owners: dict | None = None
        # join inputs' records read ahead, decoding on a thread of their own while the batch
        # before them commits: (input, partition, first offset) -> (how many records, decoding)
        self._decoding: dict[tuple[int, int, int], tuple[int, Future]] = {}
        self._decode_pool: ThreadPoolExecutor | None = None
        self._last_decoding: dict[int, Future] = {}  # input -> its decoding submitted last

    def restore(self, partitions=None) -> None:
        self.store.restore(partitions, self._owner_of)

    def _owner_of(self, key) -> str | None:
        """The operator whose state a key written before operators had state views of their own
        is (by its one-letter prefix; see StateStore.restore)."""
        if type(key) is not tuple or len(key) < 2 or not isinstance(key[0], str):
            return None
        if self._owners is None:  # prefix -> the first operator that uses it
            self._owners = {}
            for op in ([self.join] if self.join is not None else []) + self.operators:
                for prefix in getattr(op, "STATE_KEYS", ()):
                    self._owners.setdefault(prefix, op.store.name)
        return self._owners.get(key[0])

    def flush(self, txn) -> None:
        self.store.flush(txn)

    def run(self, records: pa.RecordBatch, partition: int) -> tuple[pa.RecordBatch, list[bytes]]:
        return self.run_decoded(self.decoder.decode(records, partition), partition)

    def run_decoded(self, decoded: Decoded, partition: int) -> tuple[pa.RecordBatch, list[bytes]]:
        """Run the operators on a batch of one partition decoded by `self.decoder`."""
        self.store.partition = partition
        self._active = self._task(partition)
        return self._apply_logged(decoded.batch, decoded.log_entries)

    def run_reads(self, reads: list[PartitionRead]) -> tuple[pa.RecordBatch, list[bytes], list[int]]:
        """Join the records read from the sources' partitions in Kafka Streams' order
        (runtime/join_order.py): (output, processing-log entries, how many records of each
        read were joined; the rest must be read again)."""
        if self.join_tasks is None:
            return self._run_task(reads, self.join)
        counts = [0] * len(reads)
        outputs, entries = [], []
        for partition in sorted({read.partition for read in reads}):
            mine = [i for i, read in enumerate(reads) if read.partition == partition]
            rows, logged, joined = self._run_task([reads[i] for i in mine], self._join_task(partition))
            outputs.append(rows)
            entries += logged
            for i, n in zip(mine, joined):
                counts[i] = n
        filled = [rows for rows in outputs if rows.num_rows] or outputs[:1]
        rows = filled[0] if len(filled) == 1 else pa.Table.from_batches(filled).combine_chunks().to_batches()[0]
        return rows, entries, counts

    def _join_task(self, partition: int):
        """The join of this partition's rows. A stream-stream join keeps its state (rows in the
        window, stream time) per partition; a join of tables by key shares one view, whose keys
        each come from one partition anyway (and so reads the state of earlier versions)."""
        task = self.join_tasks.get(partition)
        if task is None:
            name = self.join.store.name
            if any(node.within for node in self.join.plan.joins):
                name = f"{name}@{partition}"
            task = self.join_tasks[partition] = JoinOp(self.join.plan, StateView(self.store, name))
            task.needed = self.join.needed
            if self._where_after_join is not None:
                task.push_filter(self._where_after_join)
        return task

    def _run_task(self, reads: list[PartitionRead], join) -> tuple[pa.RecordBatch, list[bytes], list[int]]:
        times = [self.store.get(partition_time_key(r.topic, r.partition)) for r in reads]
        keys, counts = order_keys(reads, times)
        parts = []
        for i, (read, k, n) in enumerate(zip(reads, keys, counts)):
            if n == 0:
                continue
            self.store.partition = read.partition
            self.store.put(partition_time_key(read.topic, read.partition), int(k[n - 1]))
            records = read.records.slice(0, n) if n < read.records.num_rows else read.records
            for index, topic in enumerate(self.input_topics):
                if topic == read.topic:
                    parts.append((index, read.partition, records, k[:n], i))
        rows, entries = self.run_joined(parts, join)
        return rows, entries, counts

    def read_times(self, topic: str, partition: int, records: pa.RecordBatch) -> np.ndarray:
        """Each record's timestamp as the join orders by it: its TIMESTAMP column's, where the
        source has one (records it cannot read keep the record's own)."""
        stamps = records.column(1).to_numpy(zero_copy_only=False)
        index = self.input_topics.index(topic)
        if not self.sources[index].timestamp_column or records.num_rows == 0:
            return stamps
        ahead = self._decoding.get((index, partition, records.column(0)[0].as_py()))
        if ahead is not None and ahead[0] == records.num_rows:
            decoded = ahead[1].result().batch
        else:
            self._settle(index)
            decoded = self.decoders[index].decode(records, partition).batch
        at = np.searchsorted(records.column(0).to_numpy(), decoded.column(ROWOFFSET).to_numpy())
        stamps = stamps.copy()
        stamps[at] = decoded.column(ROWTIME).to_numpy(zero_copy_only=False)
        return stamps

    def decode_ahead(self, topic: str, partition: int, records: pa.RecordBatch) -> None:
        """Start decoding records a join will read next, for each input they are records of.
        Decoding is pure (read_ahead.py), and one thread decodes them in the order they were
        read, so what is decoded here is what the join would have decoded itself. What the
        join does not take is dropped (see `_decoded`)."""
        if not records.num_rows:
            return
        if self._decode_pool is None:
            self._decode_pool = ThreadPoolExecutor(1, thread_name_prefix=f"decode-{self.query_id}")
        first = records.column(0)[0].as_py()
        for index, input_topic in enumerate(self.input_topics):
            if input_topic == topic:
                decoding = self._decode_pool.submit(self.decoders[index].decode, records, partition)
                self._decoding[(index, partition, first)] = (records.num_rows, decoding)
                self._last_decoding[index] = decoding

    def forget_ahead(self) -> None:
        """Drop the decodings the join did not take."""
        self._decoding.clear()

    def _decoded(self, index: int, partition: int, records: pa.RecordBatch) -> Decoded:
        """The records of a join input decoded: as read ahead, when they were (the first of
        them, when the join takes fewer than were read), else here."""
        ahead = self._decoding.pop((index, partition, records.column(0)[0].as_py()), None) \
            if records.num_rows else None
        if ahead is not None:
            count, decoding = ahead
            decoded = decoding.result()
            if count == records.num_rows:
                return decoded
            if not decoded.log_entries:  # (else which entries are the first records' is not known)
                last = records.column(0)[records.num_rows - 1]
                return Decoded(decoded.batch.filter(pc.less_equal(decoded.batch.column(ROWOFFSET), last)))
        self._settle(index)
        return self.decoders[index].decode(records, partition)

    def _settle(self, index: int) -> None:
        """Wait for an input's decodings under way: a decoder is not used by two threads at once."""
        decoding = self._last_decoding.pop(index, None)
        if decoding is not None:
            wait([decoding])

    def run_joined(self, parts, join=None) -> tuple[pa.RecordBatch, list[bytes]]:
        """Rows read from several sources: (source index, partition, records, each record's
        order key, read number). They meet the joins in that order (ties: read, then record,
        then source), then go through the operators after the join (which takes them as one
        batch: `join`, else the query's JoinOp)."""
        join = join or self.join
        batches, entries, orders = [], [], []
        for index, partition, records, keys, read in parts:
            decoded = self._decoded(index, partition, records)
            entries += decoded.log_entries
            fields = self.joined_fields(index, decoded.batch)
            # only what the join and the operators after it read: the rows are reordered
            # below, every column copied (and a stream-stream join keeps them)
            wanted = join.input_fields_read(index)
            if wanted is not None:
                fields = fields.select([n for n in fields.schema.names if n in wanted or n == NULL_VALUE])
            batches.append((index, fields))
            at = np.searchsorted(records.column(0).to_numpy(), decoded.batch.column(ROWOFFSET).to_numpy())
            orders.append((np.asarray(keys, dtype=np.int64)[at], read, at, index))
        # every row in the join's order, as one batch: each source's rows with its index
        # (SOURCE), its columns NULL in the other sources' rows
        order = _join_order(orders)
        if len(order):
            tables = [pa.Table.from_batches([fields.append_column(SOURCE, pa.array(np.full(len(fields), index, np.int32)))])
                      for index, fields in batches]
            combined = pa.concat_tables(tables, promote_options="default")
            # (one chunk first: Arrow takes from a chunked column at twice the cost)
            joined = combined.combine_chunks().take(pa.array(order)).to_batches()[0]
        else:
            joined = pa.RecordBatch.from_pydict({SOURCE: pa.array([], pa.int32()), NULL_VALUE: pa.array([], pa.bool_())})
        with function_errors() as failed:  # a function's error gives NULL, and is logged
            out = self._apply(join.process(joined))
        return out, entries + [processing_log.function_error(self.query_id, message) for message in failed]

    def joined_fields(self, index: int, batch: pa.RecordBatch) -> pa.RecordBatch:
        return joined_fields(self.aliases[index], batch)

    def run_batch(self, batch: pa.RecordBatch, partition: int) -> tuple[pa.RecordBatch, list[bytes]]:
        """Run the operators on an already decoded batch of one partition."""
        self.store.partition = partition
        self._active = self._task(partition)
        return self._apply_logged(batch, [])

    def _task(self, partition: int) -> list:
        if self._tasks is None:
            return self.operators
        operators = self._tasks.get(partition)
        if operators is None:
            operators = self._tasks[partition] = build_operators(self._steps, self.store, partition)
        return operators

    @property
    def all_operators(self) -> list:
        """The operators of every task."""
        return self.operators if self._tasks is None else [op for ops in self._tasks.values() for op in ops]

    def apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Run the operators on an already decoded batch (pull queries over a snapshot)."""
        return self._apply(batch)

    def _apply_logged(self, batch: pa.RecordBatch, entries: list) -> tuple[pa.RecordBatch, list[bytes]]:
        """Run the operators. A row that fails is logged to the processing log and the others
        go on; an error a function answered with NULL is logged too."""
        with function_errors() as failed:
            try:
                out = self._apply(batch)
            except KsqlFunctionError:
                raise  # stops the query (it restarts from its last commit)
            except Exception as error:  # noqa: BLE001 - one bad record must not stop the query
                failed.clear()  # the rows are run again one by one
                out, entries = self._row_by_row(batch, entries, error)
        return out, entries + [processing_log.function_error(self.query_id, message) for message in failed]

    def _apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        for operator in self._active:
            batch = operator.process(batch)
        return batch

    def _row_by_row(self, batch, entries, error):
        """Find the rows that fail, log them, and keep the rest."""
        LOG.warning("query %s: batch failed (%s); retrying row by row", self.query_id, error)
        good = []
        for i in range(batch.num_rows):
            if self.cancelled():
                raise QueryCancelled(self.query_id)
            row = batch.slice(i, 1)
            try:
                good.append(self._apply(row))
            except KsqlFunctionError:
                raise
            except Exception as row_error:  # noqa: BLE001
                entries.append(processing_log.processing_error(self.query_id, str(row_error), row))
        if not good:
            return self._apply(batch.slice(0, 0)), entries
        return pa.concat_batches(good), entries


def fields_read(steps) -> frozenset | None:
    """The batch columns these steps read, when they are filters, projections, PARTITION BYs
    and an aggregation (None for other steps: any column may be read)."""
    exprs = []
    for step in steps:
        if isinstance(step, AggregateNode):
            # its keys and arguments; what comes after it reads its results, not these rows
            exprs += list(step.keys) + [arg for call in step.calls for arg in call.args]
            exprs += [Column(None, name) for name in step.source_key]
            break
        if isinstance(step, FilterNode):
            exprs.append(step.predicate)
            exprs += [Column(None, field) for field in step.key_fields]
        elif isinstance(step, ProjectNode):
            exprs += [expr for _, expr in step.columns]
        elif isinstance(step, PartitionByNode):
            exprs += list(step.keys)
        else:
            return None
    return fields_of(exprs)


def source_fields_read(steps) -> frozenset | None:
    """The source columns these steps read before a projection or an aggregation replaces the
    rows (None: any may be read, as when no step does, and the sink writes them)."""
    for end, step in enumerate(steps):
        if isinstance(step, (ProjectNode, AggregateNode)):
            return fields_read(steps[:end + 1])
    return None


def joined_fields(alias: str, batch: pa.RecordBatch) -> pa.RecordBatch:
    """A source's decoded rows with its columns named as the join names them (ALIAS__COL)."""
    keep = [name for name in batch.schema.names if not name.startswith("__")]
    return pa.RecordBatch.from_arrays([batch.column(n) for n in keep] + [batch.column(NULL_VALUE)],
                                      names=[f"{alias}__{n}" for n in keep] + [NULL_VALUE])


class QueryCancelled(Exception):
    """The query was closed or terminated in the middle of a batch: nothing of it counts."""


def _join_order(orders: list[tuple]) -> np.ndarray:
    """The rows of the batches, numbered one batch after another, in the join's order: by key,
    then read, then record, then source. `orders` has for each batch (its rows' keys, its
    read's number, its rows' record numbers, its source)."""
    if not orders:
        return np.zeros(0, np.int64)
    keys = np.concatenate([k for k, _, _, _ in orders])
    reads = np.concatenate([np.full(len(k), r) for k, r, _, _ in orders])
    records = np.concatenate([np.asarray(at) for _, _, at, _ in orders])
    sources = np.concatenate([np.full(len(k), s) for k, _, _, s in orders])
    return np.lexsort((sources, records, reads, keys))
