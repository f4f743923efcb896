"""What a SQL test case is, whichever of `ksql test`'s input forms it came from: its statements,
input records, expected outputs or error, and the result of running it (cases.py)."""
from __future__ import annotations

from dataclasses import dataclass, field


PASSED, FAILED, ERROR, UNSUPPORTED = "passed", "failed", "error", "unsupported"


# What the reference harness assumes: read from the start, emit every update.
TEST_PROPERTIES = {"auto.offset.reset": "earliest", "cache.max.bytes.buffering": "0"}


@dataclass
class Record:
    topic: str
    key: object = None
    value: object = None
    timestamp: int | None = None
    window: dict | None = None
    headers: list | None = None


@dataclass
class Case:
    file: str
    name: str
    statements: list[str]
    inputs: list[Record] = field(default_factory=list)
    outputs: list[Record] | None = None  # None: outputs are not checked
    expected_error: str | None = None  # a message substring
    # a query's failure while it processes the inputs (Kafka Streams wraps it in "Exception
    # caught in process"): the cause's message, which the query's error must contain
    expected_failure: str | None = None
    properties: dict = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)  # topic -> partitions
    # subject -> (schema, id or None, type, references), registered first, in order
    schemas: dict[str, tuple] = field(default_factory=dict)
    post_sources: list[dict] = field(default_factory=list)
    unsupported: str | None = None  # why the engine cannot run this case yet
    malformed: str | None = None  # what is wrong with the test file itself
    responses: list | None = None  # REST cases: the expected response of each statement
    verify_order: bool = False  # REST cases: rows must come in the expected order (else any order)
    inputs_after_query: bool = False  # REST cases: the inputs arrive once the push query runs
    gap: str | None = None  # documented behaviour the engine lacks: why (tests/sql/docs)
    # the statements are one script, one per line (ksqlDB's query-validation-tests): an error's
    # "Line: L" counts across them; otherwise each statement's lines count from 1
    one_script: bool = False


@dataclass
class Result:
    file: str
    case: str
    status: str
    reason: str = ""

    def as_dict(self) -> dict:
        return {"file": self.file, "case": self.case, "status": self.status, "reason": self.reason}
