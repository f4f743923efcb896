"""What the Java processes the engine and its tests start (a Kafka broker, a Kafka Connect
worker) share: Apache Kafka's jars, fetched once with Maven into a cache outside the repository
(`~/.cache/ksql/`), a free port, and a clean stop."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

KAFKA_VERSION = "4.3.1"

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.ksql</groupId>
  <artifactId>{name}</artifactId>
  <version>1</version>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""


class MavenUnavailable(Exception):
    """The jars cannot be had here: no Java, no Maven, or Maven could not fetch them."""


def fetch_jars(name: str, coordinates: list[str], target: Path, *options: str) -> Path:
    """Copy these artifacts (group:artifact:version) and what they need into `target`, unless
    it holds jars already."""
    if target.is_dir() and any(target.glob("*.jar")):
        return target
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise MavenUnavailable(f"`{tool}` is not installed: {name} needs Java 17 and Maven")
    dependencies = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>"
        for g, a, v in (c.split(":") for c in coordinates))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ksql-fetch-") as work:
        (Path(work) / "pom.xml").write_text(POM.format(name=name, dependencies=dependencies))
        staging = Path(work) / "libs"
        result = subprocess.run(["mvn", "-q", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={staging}",
                                 *options], cwd=work, capture_output=True, text=True)
        if result.returncode != 0:
            raise MavenUnavailable(f"Maven could not fetch {', '.join(coordinates)}:\n"
                                   f"{(result.stdout + result.stderr)[-2000:]}")
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(staging), str(target))
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 30 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
