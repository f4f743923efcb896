"""Repartitioning a GROUP BY for several servers.

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
from ksql.planner.schema import ROWPARTITION, ROWTIME
from ksql.runtime.expressions.compile import compile_expr
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.murmur2 import partitions_for
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
