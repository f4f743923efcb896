"""Apache Kafka's file connectors: FileStreamSource writes each line of a file to a topic
(`file`, `topic`, `batch.size`); FileStreamSink writes each record's value of some topics
(`topics`, a comma-separated list) as a line of a file. Both keep to the folder connectors may
use (ksql.connect.file.dir).

The source's position is the byte offset after the last whole line it wrote. The sink commits
its topics' offsets with the length the file had once their lines were written and synced; at
a restart it cuts the file back to that length, so lines of an uncommitted poll are written
once, not twice."""
from __future__ import annotations

import os

from ksql.runtime.connect.task import REQUIRED, ConnectorTask, SourceTask

STRING_SCHEMA = {"type": "string", "optional": False}


class FileSourceTask(SourceTask):
    connector_class = "org.apache.kafka.connect.file.FileStreamSourceConnector"
    settings = {"file": REQUIRED, "topic": REQUIRED, "batch.size": 2000}

    def configure(self, problems: list[str]) -> None:
        self.path = self.path_of("file", problems)
        if self.values["topic"] is not None and "," in self.values["topic"]:
            problems.append("topic - The 'topic' configuration definition must be a single topic when used "
                            "with FileStreamSource")
        self.key_converter = self.converter("key", problems)
        self.value_converter = self.converter("value", problems)

    def topics(self) -> list[str]:
        return [self.values["topic"]]

    def step(self) -> bool:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.position)
                data = f.read(1 << 20)
        except FileNotFoundError:  # waits for the file to appear, as Connect's task does
            return False
        whole = data.rfind(b"\n") + 1  # a line still being written waits for its end
        if whole == 0:
            return False
        lines = data[:whole].split(b"\n")[:-1][: self.values["batch.size"]]
        consumed = sum(len(line) + 1 for line in lines)
        values = [self.value_converter.to_bytes(line.removesuffix(b"\r").decode("utf-8", "replace"), STRING_SCHEMA,
                                                self.values["topic"]) for line in lines]
        self.write({self.values["topic"]: ([None] * len(values), values)}, self.position + consumed)
        return True


FILE_LENGTH = "__file_length"  # the file's committed length, among the sink group's offsets


class FileSinkTask(ConnectorTask):
    kind = "sink"
    connector_class = "org.apache.kafka.connect.file.FileStreamSinkConnector"
    settings = {"file": REQUIRED, "topics": REQUIRED}
    BATCH = 10_000

    def configure(self, problems: list[str]) -> None:
        self.path = self.path_of("file", problems)
        self.value_converter = self.converter("value", problems)
        self.positions: dict = {}

    def open(self) -> None:
        committed = self.log.committed(self.group)
        length = committed.pop((FILE_LENGTH, 0), 0)
        self.positions = committed
        if self.path.exists() and self.path.stat().st_size > length:
            with open(self.path, "r+b") as f:  # lines written after the last commit: written again
                f.truncate(length)

    def topics(self) -> list[str]:
        return [t.strip() for t in self.values["topics"].split(",") if t.strip()]

    def step(self) -> bool:
        lines: list[bytes] = []
        reached = {}
        for topic in self.topics():
            info = self.log.topic(topic)
            if info is None:
                continue
            for partition in range(info.partitions):
                offset = self.positions.get((topic, partition), self.log.start_offset(topic, partition))
                batch, next_offset = self.log.read(topic, partition, offset, self.BATCH)
                if batch is None:
                    # past transaction markers or aborted records at most: no need to read them again
                    self.positions[(topic, partition)] = next_offset
                    continue
                lines += [self.value_converter.to_text(v).encode() + b"\n" for v in batch.column(3).to_pylist()]
                reached[(topic, partition)] = next_offset
        if not reached:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as f:
            f.write(b"".join(lines))
            f.flush()
            os.fsync(f.fileno())
            length = f.tell()
        self.log.commit_offsets(self.group, {**reached, (FILE_LENGTH, 0): length})
        self.positions.update(reached)
        return True
