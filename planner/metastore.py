"""The metastore: every stream and table the engine knows, with its schema, topic and formats."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ksql.parser.errors import KsqlStatementError
from ksql.planner.schema import LogicalSchema


@dataclass
class DataSource:
    name: str
    kind: str  # STREAM | TABLE
    schema: LogicalSchema
    topic: str
    key_format: str
    value_format: str
    sql: str = ""
    is_source: bool = False  # CREATE SOURCE STREAM/TABLE: read-only
    value_delimiter: str = ","
    key_delimiter: str = ","
    wrap_single_value: bool | None = None
    timestamp_column: str | None = None
    timestamp_format: str | None = None
    partitions: int = 1
    is_internal: bool = False
    window_type: str | None = None  # TUMBLING | HOPPING | SESSION: keys carry their window
    window_size: int | None = None  # milliseconds
    window_retention: int | None = None  # milliseconds a window is kept (windowed aggregations)
    # registry formats: write with this registered schema / name the message or record so
    key_schema_id: int | None = None
    value_schema_id: int | None = None
    key_schema_full_name: str | None = None
    value_schema_full_name: str | None = None
    key_nullable_representation: str | None = None  # PROTOBUF: WRAPPER or OPTIONAL scalars hold NULL
    value_nullable_representation: str | None = None
    read_queries: set = field(default_factory=set)
    write_queries: set = field(default_factory=set)

    @property
    def is_table(self) -> bool:
        return self.kind == "TABLE"

    def key_options(self) -> dict:
        return {"delimiter": self.key_delimiter, "topic": self.topic, "schema_id": self.key_schema_id,
                "full_name": self.key_schema_full_name, "nullable": self.key_nullable_representation}

    def value_options(self) -> dict:
        return {"delimiter": self.value_delimiter, "wrap_single_value": self.wrap_single_value, "topic": self.topic,
                "schema_id": self.value_schema_id, "full_name": self.value_schema_full_name,
                "nullable": self.value_nullable_representation}


class MetaStore:
    def __init__(self):
        self._sources: dict[str, DataSource] = {}
        self.types: dict = {}  # CREATE TYPE name -> SqlType
        self._lock = threading.RLock()

    def get(self, name: str) -> DataSource | None:
        return self._sources.get(name)

    def require(self, name: str) -> DataSource:
        source = self._sources.get(name)
        if source is None:
            raise KsqlStatementError(f"{name} does not exist.")
        return source

    def put(self, source: DataSource) -> None:
        with self._lock:
            self._sources[source.name] = source

    def remove(self, name: str) -> DataSource:
        with self._lock:
            return self._sources.pop(name)

    def sources(self, kind: str | None = None) -> list[DataSource]:
        return sorted((s for s in self._sources.values() if kind is None or s.kind == kind),
                      key=lambda s: s.name)

    def names(self) -> list[str]:
        return sorted(self._sources)
