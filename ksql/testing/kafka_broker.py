"""A real single-node Apache Kafka broker (KRaft mode) for tests and local runs.

The broker's jars are fetched once with Maven into a cache outside the repository
(`~/.cache/ksql/kafka-VERSION`, or $KSQL_KAFKA_CACHE), then each broker runs with Java in a
temporary directory on free loopback ports:

    python -m ksql.testing.kafka_broker      # `make kafka`: prints the bootstrap servers, Ctrl-C stops it
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ksql.java import KAFKA_VERSION, MavenUnavailable, fetch_jars, free_port, stop_process

START_TIMEOUT = 60.0


class BrokerUnavailable(Exception):
    """No broker can run here (no Java, no Maven, or the jars could not be fetched)."""


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "ksql" / f"kafka-{KAFKA_VERSION}"
    return Path(os.environ.get("KSQL_KAFKA_CACHE", default))


def fetch() -> Path:
    """The folder of the broker's jars, fetched with Maven the first time."""
    try:
        return fetch_jars("kafka-broker", [f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}"], cache_dir() / "libs")
    except MavenUnavailable as error:
        raise BrokerUnavailable(str(error)) from None


class KafkaBroker:
    """One KRaft broker (also its own controller) in a temporary directory."""

    # A second listener takes SASL/PLAIN logins from these users (to test security settings).
    SASL_USERS = {"admin": "admin-secret", "ksql": "ksql-secret"}

    def __init__(self):
        self.port = free_port()
        self.sasl_port = free_port()
        self.controller_port = free_port()
        self.bootstrap_servers = f"127.0.0.1:{self.port}"
        self.sasl_bootstrap_servers = f"127.0.0.1:{self.sasl_port}"
        self.directory: tempfile.TemporaryDirectory | None = None
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self, attempts: int = 3) -> "KafkaBroker":
        """Start the broker; a start that fails (a port taken meanwhile by another process) is
        tried again on new ports."""
        libs = fetch()
        for attempt in range(attempts):
            try:
                return self._start(libs)
            except BrokerUnavailable:
                self.stop()
                if attempt == attempts - 1:
                    raise
                self.port, self.sasl_port, self.controller_port = free_port(), free_port(), free_port()
                self.bootstrap_servers = f"127.0.0.1:{self.port}"
                self.sasl_bootstrap_servers = f"127.0.0.1:{self.sasl_port}"
        raise AssertionError("unreachable")

    def _start(self, libs: Path) -> "KafkaBroker":
        self.directory = tempfile.TemporaryDirectory(prefix="ksql-kafka-")
        root = Path(self.directory.name)
        config = root / "server.properties"
        config.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},SASL_PLAINTEXT://127.0.0.1:{self.sasl_port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port},SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms=PLAIN",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config="
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="admin" password="admin-secret" '
            + " ".join(f'user_{name}="{password}"' for name, password in self.SASL_USERS.items()) + ";",
            f"log.dirs={root / 'data'}",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "num.partitions=1",
            # test records carry ksqlDB's test timestamps (1970): time-based retention would delete
            # them once the broker's retention check runs (every 5 minutes), under a test reading them
            "log.retention.ms=-1",
            # topics exist only when created, as the engine expects of a production cluster
            "auto.create.topics.enable=false",
            # small internal topics: a test broker starts and takes its first transaction sooner
            "offsets.topic.num.partitions=4",
            "transaction.state.log.num.partitions=4",
        ]) + "\n")
        classpath = str(libs / "*")
        cluster_id = _cluster_id()
        formatted = subprocess.run(["java", "-cp", classpath, "kafka.tools.StorageTool", "format",
                                    "--cluster-id", cluster_id, "--config", str(config)],
                                   capture_output=True, text=True)
        if formatted.returncode != 0:
            raise BrokerUnavailable(f"the broker's storage could not be formatted:\n{formatted.stderr[-2000:]}")
        self._log = open(root / "broker.log", "wb")
        self.process = subprocess.Popen(["java", "-Xmx512m", "-cp", classpath, "kafka.Kafka", str(config)],
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerUnavailable(f"the broker exited at start:\n{(root / 'broker.log').read_text()[-2000:]}")
            if self._answers():
                return self
            time.sleep(0.2)
        raise BrokerUnavailable(f"the broker did not listen on port {self.port} within {START_TIMEOUT:.0f} s")

    def _answers(self) -> bool:
        """The broker speaks Kafka on its port (not merely: something listens there)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        from confluent_kafka.admin import AdminClient

        try:
            AdminClient({"bootstrap.servers": self.bootstrap_servers}).list_topics(timeout=2)
            return self.process.poll() is None
        except Exception:  # noqa: BLE001 - not ready yet (or not a broker)
            return False

    def clean(self) -> None:
        """Delete every topic and consumer group but the broker's own (between tests)."""
        from confluent_kafka.admin import AdminClient

        from confluent_kafka import KafkaError, KafkaException

        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        deadline = time.monotonic() + 60
        groups = [g.group_id for g in admin.list_consumer_groups().result(timeout=30).valid]
        while groups:
            busy = []
            for group, future in admin.delete_consumer_groups(groups).items():
                try:
                    future.result(timeout=30)
                except KafkaException as error:
                    # a killed process's member stays until its session times out
                    if error.args[0].code() != KafkaError.NON_EMPTY_GROUP or time.monotonic() > deadline:
                        raise
                    busy.append(group)
            groups = busy
            if groups:
                time.sleep(0.5)
        topics = [t for t in admin.list_topics(timeout=30).topics if not t.startswith("__")]
        if topics:
            for future in admin.delete_topics(topics, operation_timeout=30).values():
                future.result(timeout=30)
        deadline = time.monotonic() + 30
        while any(not t.startswith("__") for t in admin.list_topics(timeout=30).topics):
            if time.monotonic() > deadline:
                raise TimeoutError("topics were not deleted within 30 s")
            time.sleep(0.05)

    def stop(self) -> None:
        stop_process(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.directory is not None:
            self.directory.cleanup()
            self.directory = None

    def __enter__(self) -> "KafkaBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as Kafka makes them."""
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def main() -> int:
    def stop(signum, frame):
        raise KeyboardInterrupt  # (a closed terminal or a kill stops the broker too, not only Ctrl-C)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    broker = KafkaBroker()
    try:
        try:
            broker.start()
        except BrokerUnavailable as error:
            print(f"kafka: {error}", file=sys.stderr)
            return 2
        print(f"Apache Kafka {KAFKA_VERSION} listening; bootstrap servers: {broker.bootstrap_servers} "
              f"(Ctrl-C stops it)", flush=True)
        broker.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
