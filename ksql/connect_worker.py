"""An Apache Kafka Connect worker (distributed mode) beside a Kafka cluster: the one `ksql
server` runs on Kafka when `ksql.connect.worker.config` names its settings (ksqlDB's embedded
Connect), and the tests'. Kafka's file connectors are on its classpath; on its plugin path,
connectors from Maven Central named by their coordinates (Debezium's, say) and
`ksql.connect.AvroConverter`, built from `connect_plugin/` (Confluent's AvroConverter is not
on Maven Central): with `value.converter.schema.registry.url` set to a `ksql server`'s URL it
registers each topic's Avro schema there, so streams over the topic infer their columns.

Its jars are fetched once with Maven into a cache outside the repository
(`~/.cache/ksql/connect-VERSION`, or $KSQL_CONNECT_CACHE), as the broker's are:

    python -m ksql.connect_worker BOOTSTRAP [GROUP:ARTIFACT:VERSION ...]
        # prints the worker's URL, Ctrl-C stops it
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from ksql.java import KAFKA_VERSION, MavenUnavailable, fetch_jars, free_port, stop_process

START_TIMEOUT = 90.0


class ConnectUnavailable(Exception):
    """No Connect worker can run here (no Java, no Maven, or the jars could not be fetched)."""


def _cache() -> Path:
    return Path(os.environ.get("KSQL_CONNECT_CACHE", Path.home() / ".cache" / "ksql" / f"connect-{KAFKA_VERSION}"))


def fetch() -> Path:
    """The folder of the worker's jars, fetched with Maven the first time."""
    try:
        return fetch_jars("connect-worker", [f"org.apache.kafka:{a}:{KAFKA_VERSION}" for a in
                                             ("connect-runtime", "connect-file", "connect-json")], _cache() / "libs")
    except MavenUnavailable as error:
        raise ConnectUnavailable(str(error)) from None


def fetch_plugin(coordinates: str) -> Path:
    """The folder of a connector plugin's jars (and those it needs at run time but Connect's
    own), fetched with Maven the first time: one folder of the worker's plugin path."""
    _, artifact, version = coordinates.split(":")
    try:
        return fetch_jars("connect-plugin", [coordinates], _cache() / "plugins" / f"{artifact}-{version}",
                          "-DincludeScope=runtime")
    except MavenUnavailable as error:
        raise ConnectUnavailable(str(error)) from None


CONVERTER_SOURCE = Path(__file__).parent / "connect_plugin"  # ksql.connect.AvroConverter's Maven project


def fetch_converter() -> Path:
    """The plugin folder of `ksql.connect.AvroConverter` (Avro in the registry's wire format,
    its schemas registered with the registry API `ksql server` serves), built with Maven the
    first time its sources are seen."""
    sources = sorted(p for p in CONVERTER_SOURCE.rglob("*") if p.is_file())
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]
    folder = _cache() / "plugins" / f"ksql-avro-converter-{digest}"
    if folder.is_dir() and any(folder.glob("ksql-avro-converter-*.jar")):
        return folder
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise ConnectUnavailable(f"`{tool}` is not installed: Kafka Connect needs Java 17 and Maven")
    with tempfile.TemporaryDirectory(prefix="ksql-converter-build-") as work:
        shutil.copytree(CONVERTER_SOURCE, work, dirs_exist_ok=True)
        staging = Path(work) / "plugin"
        result = subprocess.run(["mvn", "-q", "-B", "package", "dependency:copy-dependencies", "-DincludeScope=runtime",
                                 f"-DoutputDirectory={staging}"], cwd=work, capture_output=True, text=True)
        if result.returncode != 0:
            raise ConnectUnavailable(f"Maven could not build the Avro converter:\n{(result.stdout + result.stderr)[-2000:]}")
        for jar in (Path(work) / "target").glob("*.jar"):
            shutil.copy(jar, staging)
        folder.parent.mkdir(parents=True, exist_ok=True)
        if folder.exists():
            shutil.rmtree(folder)
        shutil.move(str(staging), str(folder))
    return folder


class ConnectWorker:
    """One distributed-mode worker. Unless `settings` (a worker's properties) say otherwise: its
    own group and internal topics, REST on a free loopback port, keys as strings and values as
    JSON without the schema envelope."""

    def __init__(self, bootstrap_servers: str, plugins: tuple[str, ...] = (), settings: dict | None = None):
        self.bootstrap_servers = bootstrap_servers
        self.plugins = plugins  # Maven coordinates of connector plugins
        self.settings = dict(settings or {})
        self.port = free_port()
        listeners = self.settings.get("listeners")
        if listeners:  # the worker's own REST address, where the engine sends the statements
            self.url = listeners.split(",")[0].strip().replace("0.0.0.0", "127.0.0.1")
        else:
            self.url = f"http://127.0.0.1:{self.port}"
        self.directory: tempfile.TemporaryDirectory | None = None
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self) -> "ConnectWorker":
        libs = fetch()
        self.directory = tempfile.TemporaryDirectory(prefix="ksql-connect-")
        root = Path(self.directory.name)
        plugin_path = root / "plugins"  # each plugin in a folder of its own, loaded in isolation
        plugin_path.mkdir()
        for folder in [fetch_converter()] + [fetch_plugin(c) for c in self.plugins]:
            (plugin_path / folder.name).symlink_to(folder, target_is_directory=True)
        name = f"ksql-connect-{uuid.uuid4().hex[:8]}"
        settings = {
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": name,
            "config.storage.topic": f"_{name}-configs",
            "offset.storage.topic": f"_{name}-offsets",
            "status.storage.topic": f"_{name}-status",
            # -1: the brokers' default replication (a single broker has only one copy to give)
            "config.storage.replication.factor": "-1",
            "offset.storage.replication.factor": "-1",
            "status.storage.replication.factor": "-1",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "listeners": f"http://127.0.0.1:{self.port}",
            "offset.flush.interval.ms": "500",
            "scheduled.rebalance.max.delay.ms": "0",
            **self.settings,
        }
        given = settings.get("plugin.path")
        settings["plugin.path"] = f"{given},{plugin_path}" if given else str(plugin_path)
        config = root / "worker.properties"
        config.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        self._log = open(root / "worker.log", "wb")
        self.process = subprocess.Popen(["java", "-Xmx512m", "-cp", str(libs / "*"),
                                         "org.apache.kafka.connect.cli.ConnectDistributed", str(config)],
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConnectUnavailable(f"the worker exited at start:\n{self.log()[-2000:]}")
            try:
                if httpx.get(self.url + "/connectors", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise ConnectUnavailable(f"the worker did not answer on {self.url} within {START_TIMEOUT:.0f} s:\n"
                                 f"{self.log()[-2000:]}")

    def log(self) -> str:
        return (Path(self.directory.name) / "worker.log").read_text(errors="replace") if self.directory else ""

    def stop(self) -> None:
        stop_process(self.process)
        if self._log is not None:
            self._log.close()
        if self.directory is not None:
            self.directory.cleanup()
            self.directory = None


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m ksql.connect_worker BOOTSTRAP_SERVERS [GROUP:ARTIFACT:VERSION ...]")
    worker = ConnectWorker(sys.argv[1], tuple(sys.argv[2:])).start()
    print(f"Kafka Connect at {worker.url} (set ksql.connect.url to it); Ctrl-C stops it", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        worker.stop()


if __name__ == "__main__":
    main()
