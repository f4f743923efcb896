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

from ksql.planner.aggregation import AggregateNode
from ksql.planner.plan import QueryPlan
from ksql.planner.schema import ROWOFFSET, ROWPARTITION, ROWTIME, Column
from ksql.runtime.expressions.compile import compile_expr
from ksql.runtime.formats.make import make_format
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.murmur2 import partitions_for
from ksql.runtime.pipeline import joined_fields
from ksql.runtime.source import SourceDecoder
from ksql.runtime.state import freeze


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

    def write(self, records: pa.RecordBatch, partition: int) -> tuple[dict[int, pa.RecordBatch], list[bytes]]:
        """Stage one over source records: the topic's records per partition, and processing-log
        entries."""
        rows, entries = self.stage_one.run(records, partition)
        if rows.num_rows == 0:
            return {}, entries
        groups = [key.column(rows).to_pylist() for key in self.keys]
        keys = [pickle.dumps(tuple(freeze(column[i]) for column in groups)) for i in range(rows.num_rows)]
        values = [pickle.dumps(row) for row in rows.to_pylist()]
        out = make_records(keys, values, rows.column(ROWTIME))
        targets = partitions_for(keys, self.partitions)
        return {int(p): out.filter(pa.array(targets == p)) for p in np.unique(targets)}, entries

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
            written = self.key_format.encode_array([keys], decoded.num_rows).to_pylist()
            hashed = partitions_for(written, self.partitions)
            at = np.searchsorted(records.column(0).to_numpy(), decoded.column(ROWOFFSET).to_numpy())
            known = np.array([k is not None for k in written], dtype=bool)
            targets[at[known]] = hashed[known]
        out = make_records(records.column(2), records.column(3), records.column(1), records.column(4))
        return {int(p): out.filter(pa.array(targets == p)) for p in np.unique(targets)}
