"""The command topic: every statement that changes the metastore is appended to it; at
start-up the engine replays it, and on Kafka each server runs the statements the others write."""
from __future__ import annotations

import logging

import time

import orjson

from ksql.errors import KsqlError
from ksql.parser import (parse_statement)
from ksql.runtime import processing_log
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.partition_file import BrokerError, TopicExists
from ksql.runtime.log.reading import read_available, read_to_end
from ksql.engine import clock
from ksql.engine.session import Session

LOG = logging.getLogger("ksql.engine")


COMMAND_POLL_SECONDS = 0.5  # how soon a server runs statements another server wrote (Kafka)


class CommandTopic:
    """The command topic, as part of KsqlEngine (a mixin: its methods run on the engine)."""

    def _ensure_internal_topics(self) -> None:
        if self.log.topic(self.command_topic) is None:
            self._create_topic(self.command_topic, 1)
        if self.log.topic(self.processing_log_topic) is None:
            self._create_topic(self.processing_log_topic, 1)
        sql = processing_log.stream_sql(self.processing_log_topic)
        source = self._source_from_create(parse_statement(sql), sql)
        source.is_internal = True
        self.metastore.put(source)

    def _create_topic(self, name: str, partitions: int, cleanup_policy: str = "delete",
                      replicas: int | None = None) -> None:
        """Create a topic this engine found missing; another server sharing the service id may
        have made it a moment ago, which is as good."""
        try:
            self.log.create_topic(name, partitions, cleanup_policy, replicas=replicas)
        except TopicExists:
            deadline = time.monotonic() + 10  # (a topic just made has no leaders for a moment)
            while self.log.topic(name) is None:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _replay(self) -> None:
        """Rebuild the metastore and restart persistent queries from the command topic."""
        self._command_offset = 0
        self._own_commands: set[int] = set()  # offsets of the commands this engine wrote
        self._run_new_commands(to_end=True)

    def _run_new_commands(self, to_end: bool = False) -> None:
        """Run the commands appended since the last call, but those this engine wrote (it ran
        them when it wrote them). to_end: every command the topic held when this began, however
        long its reads take to come (at start-up: not a part of the statements)."""
        with self._lock:
            self._replaying = True
            try:
                reads = read_to_end if to_end else read_available
                for batch, next_offset in reads(self.log, self.command_topic, 0, self._command_offset):
                    if batch is None:
                        self._command_offset = next_offset
                        continue
                    for command_offset, value in zip(batch.column(0).to_pylist(), batch.column(3).to_pylist()):
                        if command_offset not in self._own_commands:
                            self._run_command(command_offset, orjson.loads(value))
                        self._command_offset = command_offset + 1
                    self._command_offset = next_offset
            finally:
                self._replaying = False

    def _run_command(self, offset: int, command: dict) -> None:
        session = Session(properties=command.get("properties", {}))
        self._replay_query_id = command.get("queryId")
        try:
            self._execute_one(command["statement"], session, offset)
        except BrokerError:
            raise  # the brokers failed it, not the statement: it is run again at the next poll
        except KsqlError as error:  # a command that no longer applies is skipped
            LOG.warning("could not run `%s` from the command topic: %s", command["statement"], error)

    def wait_for_command(self, sequence: int, timeout: float) -> bool:
        """Until the command at this offset of the command topic has run here (False at the
        timeout): a client that got the number from one server reads its effect from another."""
        deadline = time.monotonic() + timeout
        while True:
            if self._command_offset > sequence:
                return True
            if time.monotonic() > deadline:
                return False
            if self._follower is None:
                self._run_new_commands()
                if self._command_offset > sequence:
                    return True
            self.log.wait(0.05)

    def _follow_commands(self) -> None:
        """Servers sharing a service id (on Kafka) run each other's statements: poll the
        command topic for commands other servers wrote."""
        while not self._closing.wait(COMMAND_POLL_SECONDS):
            try:
                self._run_new_commands()
            except Exception:  # noqa: BLE001 - a failed poll is retried at the next one
                LOG.exception("reading the command topic failed")

    def _record_command(self, text: str, session: Session, query_id: str | None = None) -> int:
        """Append a metastore-changing statement (and the id of the query it starts) to the
        command topic; returns its offset."""
        if self._replaying:
            return self._replay_offset
        command = {"statement": text, "properties": session.properties}
        if query_id is not None:
            command["queryId"] = query_id
        value = orjson.dumps(command)
        offset = self.log.append(self.command_topic, 0, make_records([None], [value], [clock.now()]))
        self._own_commands.add(offset)
        self._recorded = offset
        if offset == self._command_offset:  # nobody else's came between: already run here
            self._command_offset = offset + 1
        return offset

    def _next_command_offset(self) -> int:
        if self._replaying:
            return self._replay_offset
        return self.log.end_offset(self.command_topic, 0)

    def _recorded_query_id(self, query_id: str) -> str:
        """Replaying, the id the statement's query got when it first ran: the offset a server
        saw before appending may not be where its command landed, if another server appended
        at the same moment, and every server must name the query (its group) alike."""
        recorded = self._replay_query_id
        return recorded if self._replaying and recorded else query_id
