"""The Kafka log backend: the same interface as EmbeddedLog, on a Kafka cluster.

Topics are Kafka topics; a query's consumer-group offsets are the Kafka group
`_confluent-ksql-<service id>query_<query id>`, as ksqlDB names it. With
`processing.guarantee=exactly_once_v2` a query's output, state changes and input offsets go
in one Kafka transaction (transactional.id = the group name, so a restarted query fences the
old one); otherwise output is flushed before the offsets are committed (at least once).

Records are produced to explicit partitions (the engine computes them with murmur2, as Java
producers do) and read by one consumer per thread, in read_committed mode, so readers never
see output of a transaction that did not commit. A consumer reads whatever partitions it is
asked for: each partition is assigned at its first read and sought when a read asks for an
offset other than the next one.
"""
from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pyarrow as pa
from confluent_kafka import (ConsumerGroupTopicPartitions, Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

from ksql.runtime.log.names import check_topic_name
from ksql.runtime.log.embedded import ChangeSignal, TopicError, TopicInfo
from ksql.runtime.log.partition_file import BrokerError, TopicExists
from ksql.runtime.log.kafka_reader import ADMIN_TIMEOUT, Reader

CONNECT_TIMEOUT = 15.0  # how long the engine tries to reach the cluster at start-up
# How long metadata of a topic seen once is trusted before asking the cluster again.
TOPIC_CACHE_SECONDS = 10.0

# Engine properties given to every Kafka client: where the cluster is, and how to reach it
# (passed through to librdkafka: security.protocol, sasl.username, ssl.ca.location, ...).
_PLAIN = ("bootstrap.servers", "security.protocol", "sasl.")
_STREAMS = _PLAIN + ("ssl.", "client.id", "socket.", "broker.")


def client_config(properties: dict) -> dict | None:
    """The Kafka client settings in engine properties, or None when no cluster is configured.
    Settings are read plain (`bootstrap.servers`, `sasl.username`) or as ksqlDB spells them
    for its Kafka Streams clients (`ksql.streams.bootstrap.servers`, `ksql.streams.ssl.ca.location`)."""
    config = {}
    for name, value in properties.items():
        if name.startswith("ksql.streams."):
            plain = name.removeprefix("ksql.streams.")
            wanted = plain.startswith(_STREAMS)
        else:
            plain, wanted = name, name.startswith(_PLAIN)
        if wanted:
            config[plain] = str(value)
    return config if config.get("bootstrap.servers") else None


def exactly_once(properties: dict) -> bool:
    for name in ("processing.guarantee", "ksql.streams.processing.guarantee"):
        if name in properties:
            return str(properties[name]).lower() in ("exactly_once_v2", "exactly_once", "exactly_once_beta")
    return False


class KafkaLog(ChangeSignal):
    """(wait() wakes at writes of this process; writes by others are seen at the next read.)"""

    shared = True  # other servers may use the same topics: queries join consumer groups

    def __init__(self, config: dict, data_dir: str, service_id: str = "default_",
                 exactly_once: bool = False, advertised_url: str = ""):
        super().__init__()
        self.config = dict(config)
        self.root = Path(data_dir)  # local files only: the spill files of query state
        self.root.mkdir(parents=True, exist_ok=True)
        self.service_id = service_id
        self.exactly_once = exactly_once
        _check_reachable(self.config)
        self.admin = AdminClient(self.config)
        self._producer = Producer({**self.config, "enable.idempotence": True, "linger.ms": 1})
        self._transactional: dict[str, Producer] = {}  # per query
        self._group_clients: dict[str, Consumer] = {}
        self._members: dict[str, Membership] = {}
        # This process's id, kept in the data folder: a restarted server takes up the
        # transactional ids it had, so the broker aborts what its previous life left open.
        self.instance_id = _instance_id(self.root)
        self.advertised_url = advertised_url  # told to the other servers through the group
        self._topics: dict[str, tuple[TopicInfo, float]] = {}
        self._readers: dict[threading.Thread, Reader] = {}
        self._lock = threading.RLock()
        self._closed = False

    def group(self, name: str) -> str:
        """The Kafka consumer group (and transactional id) of a query."""
        return f"_confluent-ksql-{self.service_id}query_{name}"

    # ---------------------------------------------------------------- topics

    def create_topic(self, name: str, partitions: int = 1, cleanup_policy: str = "delete",
                     config: dict | None = None, replicas: int | None = None) -> TopicInfo:
        check_topic_name(name)
        if partitions < 1:
            raise TopicError(f"Topic '{name}' needs at least one partition, not {partitions}")
        settings = {"cleanup.policy": cleanup_policy, **{k: str(v) for k, v in (config or {}).items()}}
        future = self.admin.create_topics([NewTopic(name, partitions, replicas or -1, config=settings)],
                                          operation_timeout=ADMIN_TIMEOUT)[name]
        try:
            future.result(timeout=ADMIN_TIMEOUT)
        except KafkaException as error:
            if error.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                raise TopicExists(f"Topic '{name}' already exists") from None
            raise BrokerError(f"Could not create topic '{name}': {error.args[0].str()}") from None
        self._await(lambda: self._describe(name) is not None, f"topic '{name}' to appear")
        info = TopicInfo(name, partitions, cleanup_policy, dict(config or {}))
        with self._lock:
            self._topics[name] = (info, time.monotonic())
        return info

    def delete_topic(self, name: str) -> None:
        with self._lock:
            self._topics.pop(name, None)
        future = self.admin.delete_topics([name], operation_timeout=ADMIN_TIMEOUT)[name]
        try:
            future.result(timeout=ADMIN_TIMEOUT)
        except KafkaException as error:
            if error.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise TopicError(f"Topic '{name}' does not exist") from None
            raise BrokerError(f"Could not delete topic '{name}': {error.args[0].str()}") from None
        # so that a CREATE right after finds the name free
        self._await(lambda: self._describe(name) is None, f"topic '{name}' to go")

    def compact(self, name: str) -> None:
        """The brokers compact topics with cleanup.policy=compact themselves."""

    def topic(self, name: str) -> TopicInfo | None:
        with self._lock:
            cached = self._topics.get(name)
        if cached is not None and time.monotonic() - cached[1] < TOPIC_CACHE_SECONDS:
            return cached[0]
        info = self._describe(name)
        with self._lock:
            if info is None:
                self._topics.pop(name, None)
            else:
                self._topics[name] = (info, time.monotonic())
        return info

    def cluster_id(self) -> str:
        return self.admin.list_topics(timeout=ADMIN_TIMEOUT).cluster_id or ""

    def topics(self) -> list[TopicInfo]:
        metadata = self.admin.list_topics(timeout=ADMIN_TIMEOUT)
        return sorted((TopicInfo(t.topic, len(t.partitions)) for t in metadata.topics.values()
                       if t.error is None and not t.topic.startswith("__")), key=lambda t: t.name)

    def _describe(self, name: str) -> TopicInfo | None:
        metadata = self.admin.list_topics(topic=name, timeout=ADMIN_TIMEOUT)
        topic = metadata.topics.get(name)
        if topic is None or topic.error is not None or not topic.partitions:
            return None
        if any(p.leader < 0 for p in topic.partitions.values()):
            return None  # still being created: not usable yet
        return TopicInfo(name, len(topic.partitions))

    def _await(self, condition, what: str) -> None:
        deadline = time.monotonic() + ADMIN_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                raise BrokerError(f"Timed out waiting for {what}")
            time.sleep(0.02)

    # ---------------------------------------------------------------- producing

    def append(self, topic: str, partition: int, batch: pa.RecordBatch, sync: bool = True) -> int:
        """Produce records outside any transaction; returns the first offset (-1 unless sync)."""
        first = []

        def delivered(error, message):
            if error is None and not first:
                first.append(message.offset())
            elif error is not None:
                first.append(error)

        _produce(self._producer, topic, partition, batch, delivered if sync else None)
        if sync:
            self._producer.flush()
            if first and isinstance(first[0], KafkaError):
                raise BrokerError(f"Could not write to topic '{topic}': {first[0].str()}")
            self._notify()
            return first[0] if first else -1
        self._producer.poll(0)
        self._notify()
        return -1

    def open_producer(self, producer: str) -> None:
        """With exactly-once, register the query's transactional id now: the broker aborts a
        transaction an earlier instance left open, and fences that instance off."""
        if self.exactly_once:
            self._transactional_producer(producer)

    def begin(self, producer: str):
        if self.exactly_once:
            return _KafkaTransaction(self, producer)
        return _AtLeastOnce(self, producer)

    def _transactional_producer(self, name: str) -> Producer:
        with self._lock:
            producer = self._transactional.get(name)
            if producer is None:
                # retry.backoff.ms: a transaction that starts right after the last one commits is
                # refused until the broker has written the markers (CONCURRENT_TRANSACTIONS), and
                # retried after this. transaction.timeout.ms: a dead server's open transaction
                # holds back readers of its output until it times out.
                producer = Producer({**self.config, "transactional.id": f"{self.group(name)}-{self.instance_id}",
                                     "linger.ms": 1, "retry.backoff.ms": 5, "transaction.timeout.ms": 10_000})
                producer.init_transactions(ADMIN_TIMEOUT)
                self._transactional[name] = producer
            return producer

    def _group_client(self, name: str) -> Consumer:
        """The consumer that commits the group's offsets and names the group in transactions:
        the query's group member when it has joined (the broker then fences a member of an
        older generation), else one that joins no group."""
        with self._lock:
            member = self._members.get(name)
            if member is not None:
                return member.consumer
            client = self._group_clients.get(name)
            if client is None:
                client = self._group_clients[name] = Consumer({
                    **self.config, "group.id": self.group(name), "enable.auto.commit": False})
            return client

    # ---------------------------------------------------------------- consuming

    def read(self, topic: str, partition: int, offset: int, max_records: int = 10_000,
             max_bytes: int | None = None):
        return self._reader().read(topic, partition, offset, max_records, max_bytes)

    def end_offset(self, topic: str, partition: int) -> int:
        """The last stable offset: records below it are committed (or outside transactions)."""
        return self._reader().watermarks(topic, partition)[1]

    def start_offset(self, topic: str, partition: int) -> int:
        return self._reader().watermarks(topic, partition)[0]

    def _reader(self) -> "Reader":
        thread = threading.current_thread()
        with self._lock:
            reader = self._readers.get(thread)
            if reader is None:
                for gone in [t for t in self._readers if not t.is_alive()]:
                    self._readers.pop(gone).close()
                reader = self._readers[thread] = Reader(self.config)
            return reader

    def committed(self, group: str, stable: bool = True) -> dict[tuple[str, int], int]:
        """The group's committed offsets. Offsets a transaction is still committing are waited
        for (KIP-447's require_stable): a server taking a dead one's partitions over must not
        resume from before a commit that is about to land (nor take the unsettled partitions for
        uncommitted ones). `stable=False`: what is committed now (for reports such as lags,
        which must not wait for a dead server's transaction to time out)."""
        request = ConsumerGroupTopicPartitions(self.group(group))
        deadline = time.monotonic() + ADMIN_TIMEOUT
        while True:
            try:
                result = self.admin.list_consumer_group_offsets([request], require_stable=stable)[
                    self.group(group)].result(ADMIN_TIMEOUT)
            except KafkaException as error:
                code = error.args[0].code()
                if code == KafkaError.GROUP_ID_NOT_FOUND:
                    return {}
                if code != KafkaError.UNSTABLE_OFFSET_COMMIT or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
                continue
            partitions = result.topic_partitions or []
            unsettled = [tp for tp in partitions if tp.error is not None]
            if not unsettled:
                return {(tp.topic, tp.partition): tp.offset for tp in partitions if tp.offset >= 0}
            if unsettled[0].error.code() != KafkaError.UNSTABLE_OFFSET_COMMIT or time.monotonic() > deadline:
                raise BrokerError(f"Could not read the committed offsets of {group}: {unsettled[0].error.str()}")
            time.sleep(0.2)

    def commit_offsets(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        if offsets:
            self._group_client(group).commit(offsets=_partitions(offsets), asynchronous=False)

    def join_group(self, name: str, topics: list[str]) -> "Membership":
        """Join the query's consumer group: the brokers share the topics' partitions among
        every server running the query."""
        member = Membership(self, name, topics)
        with self._lock:
            earlier, self._members[name] = self._members.get(name), member
        if earlier is not None:
            earlier.close()  # a member left behind would hold up every rebalance of the group
        return member

    def group_members(self, name: str) -> list[tuple[str, str, list[tuple[str, int]]]]:
        """(instance id, server URL, assigned partitions) of each member of a query's group."""
        group = self.group(name)
        try:
            description = self.admin.describe_consumer_groups([group])[group].result(ADMIN_TIMEOUT)
        except KafkaException:
            return []
        members = []
        for member in description.members:
            instance, _, url = member.client_id.partition(" ")
            partitions = member.assignment.topic_partitions if member.assignment else []
            members.append((instance, url, [(tp.topic, tp.partition) for tp in partitions]))
        return members

    def leave_group(self, name: str) -> None:
        with self._lock:
            member = self._members.pop(name, None)
        if member is not None:
            member.close()

    def delete_group(self, group: str) -> None:
        self.leave_group(group)
        with self._lock:
            client = self._group_clients.pop(group, None)
            producer = self._transactional.pop(group, None)
        if client is not None:
            client.close()
        if producer is not None:
            producer.flush()
        try:
            self.admin.delete_consumer_groups([self.group(group)])[self.group(group)].result(ADMIN_TIMEOUT)
        except KafkaException:
            pass  # a group that never committed does not exist

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._producer.flush(10)
            for producer in self._transactional.values():
                producer.flush(10)
            for client in self._group_clients.values():
                client.close()
            for member in self._members.values():
                member.close()
            self._members.clear()
            for reader in self._readers.values():
                reader.close()
            self._transactional.clear()
            self._group_clients.clear()
            self._readers.clear()


def _check_reachable(config: dict) -> None:
    """Fail at once, saying why, when the cluster refuses us (bad credentials, TLS), and within
    CONNECT_TIMEOUT when it cannot be reached."""
    errors: list[KafkaError] = []
    probe = AdminClient({**config, "error_cb": errors.append})
    refused = (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._SSL)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        try:
            probe.list_topics(timeout=1)
            return
        except KafkaException as error:
            errors.append(error.args[0])
        probe.poll(0)
        fatal = [e for e in errors if e.code() in refused]
        if fatal or time.monotonic() > deadline:
            reason = (fatal or errors)[-1].str()
            raise BrokerError(f"Cannot reach the Kafka cluster at {config['bootstrap.servers']}: {reason}")


class _KafkaTransaction:
    """A query step's output, state changes and input offsets in one Kafka transaction."""

    def __init__(self, log: KafkaLog, name: str):
        self.log = log
        self.producer = log._transactional_producer(name)
        self.group_client = log._group_client(name)
        self.producer.begin_transaction()
        # per partition, the offset after this transaction's last record (known once delivered):
        # the broker moves the partition's stable end past it only some time after the commit
        self.written: dict[tuple[str, int], int] = {}

    def append(self, topic: str, partition: int, batch: pa.RecordBatch) -> None:
        noting = _noting_end(self.written, topic, partition)
        _produce(self.producer, topic, partition, batch, on_last_delivery=noting)

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if offsets:
            self.producer.send_offsets_to_transaction(_partitions(offsets), self.group_client.consumer_group_metadata(),
                                                      ADMIN_TIMEOUT)
        self.producer.commit_transaction(ADMIN_TIMEOUT)
        self.log._notify()

    def abort(self) -> None:
        try:
            self.producer.abort_transaction(ADMIN_TIMEOUT)
        except KafkaException:
            pass  # a fenced or failed producer: the broker aborts the transaction itself


class _AtLeastOnce:
    """Without transactions: the output is flushed before the offsets are committed, so a
    crash in between repeats output rather than losing it."""

    def __init__(self, log: KafkaLog, name: str):
        self.log = log
        self.name = name
        self.failed: list[KafkaError] = []
        self.written: dict[tuple[str, int], int] = {}  # as _KafkaTransaction's

    def append(self, topic: str, partition: int, batch: pa.RecordBatch) -> None:
        def delivered(error, _message):
            if error is not None:
                self.failed.append(error)

        noting = _noting_end(self.written, topic, partition)
        _produce(self.log._producer, topic, partition, batch, delivered, noting)

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        self.log._producer.flush()
        if self.failed:
            raise BrokerError(f"Could not write the output: {self.failed[0].str()}")
        self.log.commit_offsets(self.name, offsets)
        self.log._notify()

    def abort(self) -> None:
        self.log._producer.flush()


class Membership:
    """A query's place in its consumer group. It fetches nothing (its partitions stay paused;
    the query reads through the log); it tells which source partitions this server owns now,
    and commits the group's offsets as a member."""

    def __init__(self, log: KafkaLog, name: str, topics: list[str]):
        self.consumer = Consumer({
            **log.config,
            "group.id": log.group(name),
            # who this member is, for /clusterStatus on every server: "<instance id> <url>"
            "client.id": f"{log.instance_id} {log.advertised_url}".strip(),
            "enable.auto.commit": False,
            "partition.assignment.strategy": "range",  # partition p of every source to the same server
            "session.timeout.ms": 6000,  # a dead server's partitions move on after this
            "heartbeat.interval.ms": 1000,
        })
        self.assigned: frozenset[tuple[str, int]] = frozenset()
        self.generation = 0  # counts the assignments this member has seen
        self.consumer.subscribe(list(topics), on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, consumer, partitions) -> None:
        consumer.assign(partitions)
        consumer.pause(partitions)
        self.assigned = frozenset((p.topic, p.partition) for p in partitions)
        self.generation += 1

    def _on_revoke(self, consumer, partitions) -> None:
        consumer.unassign()
        self.assigned = frozenset()
        self.generation += 1

    def poll(self) -> None:
        """Serve the group protocol (rebalances call back from here)."""
        self.consumer.poll(0)

    def close(self) -> None:
        try:
            self.consumer.close()
        except RuntimeError:
            pass  # already closed


def _instance_id(root: Path) -> str:
    path = root / "instance.id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = uuid.uuid4().hex[:12]
        path.write_text(value + "\n")
        return value


def _partitions(offsets: dict[tuple[str, int], int]) -> list[TopicPartition]:
    return [TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()]


def _noting_end(written: dict, topic: str, partition: int):
    """A delivery callback for a batch's last record: keeps the offset after it in `written`."""
    def delivered(error, message):
        if error is None:
            key = (topic, partition)
            written[key] = max(written.get(key, 0), message.offset() + 1)
    return delivered


def _produce(producer: Producer, topic: str, partition: int, batch: pa.RecordBatch, on_delivery=None,
             on_last_delivery=None) -> None:
    """Send a batch's records; on_delivery is called for each, on_last_delivery for the last
    (a partition's records are delivered in order)."""
    columns = batch.to_pydict()
    extra = {} if on_delivery is None else {"on_delivery": on_delivery}
    last = batch.num_rows - 1
    for i, (timestamp, key, value, headers) in enumerate(zip(columns["timestamp"], columns["key"],
                                                             columns["value"], columns["headers"])):
        kafka_headers = [(h["key"], h["value"]) for h in headers] if headers else None
        if i == last and on_last_delivery is not None:
            extra = {"on_delivery": on_last_delivery if on_delivery is None
                     else lambda error, message: (on_delivery(error, message), on_last_delivery(error, message))}
        while True:
            try:
                producer.produce(topic, value, key, partition=partition, timestamp=timestamp or 0,
                                 headers=kafka_headers, **extra)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.05)


