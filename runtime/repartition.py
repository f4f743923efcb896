"""Repartitioning a GROUP BY, or a join's inputs, for several servers.

A GROUP BY on columns other than the source's key meets rows of one group in several source
partitions, which different servers may own. As in ksqlDB, such a query runs in two stages
around an internal topic (`..._query_<id>-Aggregate-GroupBy-repartition`): stage one applies
the steps before the aggregation to each source partition and writes every row to the topic,
keyed and partitioned by its group; stage two reads its partitions of the topic and
aggregates, so all rows of a group meet on the one server that owns their partition (and its
state goes to the changelog partition of that number).

Rows travel as pickled dicts: the topic is the engine's own, written and read by this module.
"""
from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ksql.planner.aggregation import AggregateNode
from ksql.planner.plan import NULL_VALUE, QueryPlan
from ksql.planner.schema import ROWOFFSET, ROWPARTITION, ROWTIME, Column
from ksql.runtime.expressions.compile import compile_expr
from ksql.runtime.formats.make import make_format
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.murmur2 import partitions_for
from ksql.runtime.pipeline import joined_fields
from ksql.runtime.source import SourceDecoder
from ksql.runtime.state import StateView, freeze


class Repartition:
    def __init__(self, stage_one, node: AggregateNode, topic: str, partitions: int):
        """stage_one: the stateless Pipeline of stage_one(plan, index); node: the aggregation."""
        self.topic = topic
        self.partitions = partitions
        self.node = node
        self.keys = [compile_expr(k) for k in node.keys]
        self.stage_one = stage_one
        # the rows' layout, for stage two to read them back whatever the first batch it sees
        self.schema = self.stage_one.run(make_records([], [], []), 0)[0].schema

    def write(self, records: pa.RecordBatch, partition: int, store=None) -> tuple[dict[int, pa.RecordBatch], list[bytes]]:
        """Stage one over source records: the topic's records per partition, and processing-log
        entries (stage one keeps no state: `store` is not used)."""
        rows, entries = self.stage_one.run(records, partition)
        if rows.num_rows == 0:
            return {}, entries
        groups = [key.column(rows).to_pylist() for key in self.keys]
        keys = [pickle.dumps(tuple(freeze(column[i]) for column in groups)) for i in range(rows.num_rows)]
        values = [pickle.dumps(row) for row in rows.to_pylist()]
        out = make_records(keys, values, rows.column(ROWTIME))
        targets = partitions_for(keys, self.partitions)
        return {int(p): out.filter(pa.array(targets == p)) for p in np.unique(targets)}, entries

    def stage_two(self, pipeline, records: pa.RecordBatch, partition: int):
        """The aggregation and what follows it over a partition of the topic."""
        return pipeline.run_batch(self.read(records, partition), partition)

    def read(self, records: pa.RecordBatch, partition: int) -> pa.RecordBatch:
        """Stage two's input: the rows back as a batch, their partition that of the topic (stream
        time is kept per partition of what the aggregation reads, as in Kafka Streams)."""
        rows = [pickle.loads(value) for value in records.column(3).to_pylist()]
        batch = pa.RecordBatch.from_pylist(rows, schema=self.schema)
        index = batch.schema.get_field_index(ROWPARTITION)
        return batch.set_column(index, ROWPARTITION, pa.array([partition] * batch.num_rows,
                                                              batch.schema.field(index).type))


class JoinRepartition:
    """Stage one of a join whose inputs are not all partitioned by its key, spread over servers:
    each such input's records go unchanged to the partition of a repartition topic that their
    join key's bytes hash to (in the key format of the input that is partitioned by its key,
    else JSON), so that stage two joins partition p of every input on its own. A record that
    cannot be read goes to the partition of its number: stage two reads it again and logs it."""

    def __init__(self, plan: QueryPlan, query_id: str, moved: dict[int, str], partitions: int):
        """moved: input index -> its repartition topic, of `partitions` partitions."""
        self.moved = moved
        self.partitions = partitions
        self.sources = plan.sources
        self.aliases = [i.alias for i in plan.joins.inputs]
        self.decoders = {index: SourceDecoder(plan.sources[index], query_id) for index in moved}
        node = plan.joins.joins[0]
        kept = [i.source for index, i in enumerate(plan.joins.inputs) if index not in moved]
        key_source = kept[0] if kept else None
        self.keys = {index: compile_expr(node.left_key if index == 0 else node.right_key) for index in moved}
        key_type = node.left_key.type
        if key_source is not None:
            self.key_format = make_format(key_source.key_format, (Column("K", key_type),), key=True,
                                          options=key_source.key_options())
        else:
            self.key_format = make_format("JSON", (Column("K", key_type),), key=True)

    def input_of(self, topic: str) -> int | None:
        """The input whose source is this topic and goes through a repartition topic."""
        return next((index for index in self.moved if self.sources[index].topic == topic), None)

    def write(self, index: int, records: pa.RecordBatch, partition: int) -> dict[int, pa.RecordBatch]:
        """The repartition topic's records of these source records, by partition."""
        decoded = self.decoders[index].decode(records, partition).batch
        targets = np.full(records.num_rows, partition % self.partitions, dtype=np.int32)
        if decoded.num_rows:
            keys = self.keys[index].column(joined_fields(self.aliases[index], decoded))
            if not isinstance(keys, pa.Array):
                keys = pa.array([keys.as_py()] * decoded.num_rows, keys.type)
            written = self.key_format.encode_array([keys], decoded.num_rows)
            hashed = partitions_for(written.to_pylist(), self.partitions)
            at = np.searchsorted(records.column(0).to_numpy(), decoded.column(ROWOFFSET).to_numpy())
            known = written.is_valid().to_numpy(zero_copy_only=False)
            targets[at[known]] = hashed[known]
        out = make_records(records.column(2), records.column(3), records.column(1), records.column(4))
        return {int(p): out.filter(pa.array(targets == p)) for p in np.unique(targets)}


class TableRepartition:
    """Stage one of a GROUP BY over a table on several servers. A table row leaves its group
    when its key's next row arrives, so stage one sends each key's rows, unchanged, to the
    partition of their group (a hash of its values, as `Repartition` does), and when a key
    changes group, a tombstone of that key to the partition it leaves. Each partition of the
    topic then reads as a table of the keys now in its groups, and stage two runs the whole
    query over it: the aggregation there takes a key's row back from its old group as it
    always does. Which partition each key is in is kept in the query's state (a view of its
    own, by the key's bytes), changelogged by source partition. A record without a key, or one
    that cannot be read, stays in the partition of its number (stage two drops or logs it)."""

    def __init__(self, plan: QueryPlan, query_id: str, node: AggregateNode, topic: str, partitions: int):
        self.topic = topic
        self.partitions = partitions
        self.decoder = SourceDecoder(plan.sources[0], query_id)
        self.keys = [compile_expr(k) for k in node.keys]

    def write(self, records: pa.RecordBatch, partition: int, store) -> tuple[dict[int, pa.RecordBatch], list]:
        """The topic's records of these source records, by partition (store: the query's
        StateStore, which keeps where each key is)."""
        store.partition = partition  # its entries go to the changelog partition of the source's
        n = records.num_rows
        here = partition % self.partitions
        decoded = self.decoder.decode(records, partition).batch
        groups = np.full(n, -1, dtype=np.int64)  # each record's group's partition (-1: stays with its key)
        readable = np.zeros(n, dtype=bool)
        deletes = np.zeros(n, dtype=bool)
        if decoded.num_rows:
            at = np.searchsorted(records.column(0).to_numpy(), decoded.column(ROWOFFSET).to_numpy())
            readable[at] = True
            values = [key.column(decoded) for key in self.keys]
            values = [v.to_pylist() if isinstance(v, pa.Array) else [v.as_py()] * decoded.num_rows for v in values]
            deleted = decoded.column(NULL_VALUE).to_pylist()
            deletes[at] = deleted
            rows, hashed = [], []  # rows with a whole group, and their groups' bytes
            for row in range(decoded.num_rows):
                group = tuple(freeze(column[row]) for column in values)
                if not deleted[row] and all(v is not None for v in group):
                    rows.append(row)
                    hashed.append(pickle.dumps(group))
            if rows:
                groups[at[rows]] = partitions_for(hashed, self.partitions)
        where = StateView(store, "Regroup")  # key bytes -> the partition its rows go to
        keys = records.column(2).to_pylist()
        picks, tombstone, targets = [], [], []  # what goes out, in log order
        for i in range(n):
            key = keys[i]
            if key is None or not readable[i]:
                picks.append(i), tombstone.append(False), targets.append(here)
                continue
            before = where.get(key)
            target = int(groups[i]) if groups[i] >= 0 else (here if before is None else before)
            if before is not None and before != target:
                picks.append(i), tombstone.append(True), targets.append(before)
            picks.append(i), tombstone.append(False), targets.append(target)
            if deletes[i]:
                where.delete(key)
            elif before != target:
                where.put(key, target)
        taken = records.take(pa.array(picks, pa.int64()))
        gone = pa.array(tombstone, pa.bool_())
        out = make_records(taken.column(2), pc.if_else(gone, pa.scalar(None, pa.binary()), taken.column(3)),
                           taken.column(1), pc.if_else(gone, pa.scalar(None, taken.column(4).type), taken.column(4)))
        targets = np.asarray(targets, dtype=np.int32)
        return {int(p): out.filter(pa.array(targets == p)) for p in np.unique(targets)}, []

    def stage_two(self, pipeline, records: pa.RecordBatch, partition: int):
        """The whole query over a partition of the topic, read as the source table."""
        return pipeline.run(records, partition)
