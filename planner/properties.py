"""What the records flowing out of a plan node are: a stream of events or a changelog of
upserts by key, their key, what they are partitioned by, their window (with its grace), and
where their event time comes from (what stream time, and so lateness, is measured by). Each node derives
its own from its input's once, when the plan is made (planner/plan.py: `with_properties`);
EXPLAIN prints them and planner/partitioning.py reads them."""
from __future__ import annotations

from dataclasses import dataclass

from ksql.planner.metastore import DataSource


@dataclass(frozen=True, slots=True)
class StreamProperties:
    """What a node's output records are."""

    changelog: bool  # upserts by key (a table's changes), else a stream of events
    key: tuple[str, ...]  # the key columns ((): no key)
    partitioning: tuple[str, ...]  # what records are partitioned by ((): no key to hash)
    window: str | None = None  # the window of the key, when windowed
    # the column the records' timestamps (ROWTIME) were taken from: a source's TIMESTAMP
    # column, or ROWTIME itself (the record's own, or an aggregate's or join's latest input's)
    event_time: str = "ROWTIME"

    @classmethod
    def of_source(cls, source: DataSource) -> "StreamProperties":
        """A source's records, as its topic holds them: partitioned by their key."""
        key = tuple(c.name for c in source.schema.key)
        return cls(source.is_table, key, key, source.window_type, source.timestamp_column or "ROWTIME")

    def describe(self) -> str:
        parts = ["changelog" if self.changelog else "stream", "key " + (", ".join(self.key) or "none"),
                 "partitioned by " + (", ".join(self.partitioning) or "nothing")]
        if self.window:
            parts.append("window " + self.window)
        if self.event_time != "ROWTIME":
            parts.append("event time " + self.event_time)
        return "; ".join(parts)
