"""Several `ksql server` processes with one service id on one Kafka broker share a query's
partitions; when one dies, another takes its partitions over, restores their state from the
changelog, and the output is that of a run that never failed."""
from __future__ import annotations

import time
import json
import signal
import struct
import subprocess
import sys

import httpx
import pytest

from ksql.engine import KsqlEngine
from ksql.runtime.log.murmur2 import partitions_for

from conftest import topic_records, wait_for
from processes import free_port

NOW = int(time.time() // 60 * 60 * 1000)  # event times near now, on a minute boundary

SETUP = """
CREATE STREAM src (id INT KEY, n INT) WITH (kafka_topic='src', value_format='JSON', partitions=4);
CREATE TABLE counts AS SELECT id, COUNT(*) AS c, SUM(n) AS total, COLLECT_LIST(n) AS ns
  FROM src WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY id;
"""


def inserts(numbers) -> str:
    return "".join(f"INSERT INTO src (rowtime, id, n) VALUES ({NOW + n * 1000}, {n % 8}, {n});" for n in numbers)


class KafkaServer:
    """`ksql server` on the broker, its log in a file (a full pipe would stall it)."""

    def __init__(self, folder, config):
        folder.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = open(folder / "server.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "ksql.cli", "server", "--host", "127.0.0.1",
                                         "--port", str(self.port), "--data-dir", str(folder / "data"),
                                         "--config", str(config)], stdout=self.output, stderr=subprocess.STDOUT)
        wait_for(self._healthy, timeout=60)

    def _healthy(self):
        assert self.process.poll() is None, "the server exited"
        try:
            return httpx.get(self.url + "/healthcheck", timeout=1).json()["isHealthy"]
        except httpx.HTTPError:
            return False

    def ksql(self, statements: str):
        response = httpx.post(self.url + "/ksql", json={"ksql": statements, "streamsProperties": {
            "auto.offset.reset": "earliest"}}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def owned(self) -> list:
        """The source partitions this server processes for each query (from /clusterStatus)."""
        status = httpx.get(self.url + "/clusterStatus", timeout=10).json()["clusterStatus"]
        mine = next(host for host in status.values() if host.get("local"))
        return sorted((q, p["partition"]) for q, active in mine["activeStandbyPerQuery"].items()
                      for p in active["activePartitions"])

    def log(self) -> str:
        if not self.output.closed:
            self.output.flush()
        return open(self.output.name, errors="replace").read()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.output.close()


def both_own_partitions(first, second) -> None:
    """Wait until the group has given each server some partitions."""
    shares = {}

    def both():
        shares.update(first=first.owned(), second=second.owned())
        return shares["first"] and shares["second"]

    try:
        wait_for(both)
    except AssertionError:
        raise AssertionError(f"a server was given no partitions: {shares}") from None


def pull(server, sql: str) -> list:
    response = httpx.post(server.url + "/query", json={"ksql": sql}, timeout=30)
    assert response.status_code == 200, response.text
    return sorted(item["row"]["columns"] for item in response.json()[1:] if "row" in item)


def by_key(records) -> dict:
    out = {}
    for partition, key, value, ts in records:
        out.setdefault((partition, key), []).append((json.loads(value), ts))
    return out


@pytest.fixture
def kafka(kafka_broker):
    yield kafka_broker
    kafka_broker.clean()


@pytest.fixture
def servers(kafka, tmp_path, request):
    """Two servers with one service id on the broker, exactly once."""
    config = tmp_path / "kafka.properties"
    config.write_text(f"bootstrap.servers={kafka.bootstrap_servers}\nprocessing.guarantee=exactly_once_v2\n")
    first = KafkaServer(tmp_path / "first", config)
    second = KafkaServer(tmp_path / "second", config)
    yield first, second
    first.stop()
    second.stop()
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:  # what the servers said, for a failure seen only in CI
        for server in (first, second):
            print(f"--- {server.url}:\n" + server.log()[-20_000:])


def test_two_servers_share_a_windowed_aggregation_and_one_dying_loses_nothing(kafka, servers, tmp_path):
    reference = KsqlEngine(str(tmp_path / "reference"), background=False)
    reference.session.properties["auto.offset.reset"] = "earliest"
    reference.execute(SETUP + inserts(range(120)))
    reference.drain()
    expected = by_key(topic_records(reference.log, "COUNTS"))
    reference.close()
    assert sum(map(len, expected.values())) == 120

    first, second = servers
    first.ksql(SETUP)
    # the second server runs the statements the first wrote, and the two split the partitions
    both_own_partitions(first, second)
    wait_for(lambda: sorted(first.owned() + second.owned()) == [("CTAS_COUNTS_1", p) for p in range(4)])
    first.ksql(inserts(range(30)))
    # either server answers a pull query with every row, whichever server computed it
    expected_now = sorted([n % 8, len(range(n % 8, 30, 8))] for n in range(8))
    for server in (first, second):
        wait_for(lambda: pull(server, "SELECT id, SUM(c) FROM counts GROUP BY id;") == expected_now)
    # a key lookup goes to the server that owns the key's partition
    owned_by_first = {p for _, p in first.owned()}
    keys_elsewhere = [k for k in range(8) if int(partitions_for([struct.pack(">i", k)], 4)[0]) in owned_by_first]
    assert 0 < len(keys_elsewhere) < 8
    for k in range(8):
        assert pull(second, f"SELECT id, SUM(c) FROM counts WHERE id = {k} GROUP BY id;") == [[k, 4 if k < 6 else 3]]
    assert f"ksql_pull_queries_forwarded_total {float(len(keys_elsewhere))}" in httpx.get(second.url + "/metrics").text
    # every server lists both, with their partitions and how far each has read them
    status = httpx.get(second.url + "/clusterStatus", timeout=10).json()["clusterStatus"]
    hosts = {server: server.url.removeprefix("http://") for server in (first, second)}  # keyed host:port
    assert set(status) == set(hosts.values()) and status[hosts[second]]["local"]
    assert status[hosts[second]]["activeStandbyPerQuery"]["CTAS_COUNTS_1"]["activeStores"] == [
        "Aggregate-Aggregate-Materialize"]
    store = "_confluent-ksql-default_query_CTAS_COUNTS_1#Aggregate-Aggregate-Materialize"
    lags = {host: status[host]["hostStoreLags"]["stateStoreLags"][store]["lagByPartition"] for host in status}
    assert sorted(p for host in lags for p in lags[host]) == [str(p) for p in range(4)]
    wait_for(lambda: all(lag["offsetLag"] == 0 for host in httpx.get(first.url + "/clusterStatus").json()[
        "clusterStatus"].values() for lag in host["hostStoreLags"]["stateStoreLags"][store][
        "lagByPartition"].values()))
    first.ksql(inserts(range(30, 60)))
    wait_for(lambda: len(topic_records_of(kafka, "COUNTS")) >= 45)
    second.kill()  # most likely in the middle of its share of the first 60 records
    first.ksql(inserts(range(60, 120)))
    wait_for(lambda: first.owned() == [("CTAS_COUNTS_1", p) for p in range(4)])
    assert list(httpx.get(first.url + "/clusterStatus").json()["clusterStatus"]) == [hosts[first]]
    wait_for(lambda: len(topic_records_of(kafka, "COUNTS")) >= 120, timeout=90)
    assert by_key(topic_records_of(kafka, "COUNTS")) == expected


def topic_records_of(broker, topic: str) -> list[tuple]:
    """The committed records of a topic, read as another Kafka client would."""
    from ksql.runtime.log.kafka import KafkaLog

    log = KafkaLog({"bootstrap.servers": broker.bootstrap_servers}, "/tmp/ksql-test-reader")
    try:
        return topic_records(log, topic)
    finally:
        log.close()


GROUPED = """
CREATE STREAM clicks (id INT KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=4);
CREATE TABLE per_page AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page;
"""


def clicks(numbers) -> str:
    return "".join(f"INSERT INTO clicks (rowtime, id, page) VALUES ({NOW + n}, {n % 16}, 'p{n % 5}');"
                   for n in numbers)


def test_a_group_by_on_other_columns_is_repartitioned_across_servers(kafka, servers):
    """Rows of one page come from every source partition: stage one sends them to the page's
    partition of the repartition topic, so each page is counted on one server, through a kill."""
    first, second = servers
    first.ksql(GROUPED)
    both_own_partitions(first, second)
    wait_for(lambda: sorted(first.owned() + second.owned()) == sorted(
        [("CTAS_PER_PAGE_1", p) for p in range(4)] * 2))  # clicks and the repartition topic
    first.ksql(clicks(range(100)))
    wait_for(lambda: len(topic_records_of(kafka, "PER_PAGE")) >= 50)
    second.kill()
    first.ksql(clicks(range(100, 200)))
    wait_for(lambda: len(topic_records_of(kafka, "PER_PAGE")) >= 200, timeout=90)
    records = topic_records_of(kafka, "PER_PAGE")
    counts = {}
    for _, key, value, _ in records:  # each page's updates count 1, 2, 3, ... in order
        counts.setdefault(key, []).append(json.loads(value)["N"])
    assert {key.decode(): n for key, n in counts.items()} == {f"p{i}": list(range(1, 41)) for i in range(5)}
    assert pull(first, "SELECT * FROM per_page;") == [[f"p{i}", 40] for i in range(5)]


JOINED = """
CREATE TABLE users (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=4);
CREATE STREAM orders (id INT KEY, amount INT, user_id INT) WITH (kafka_topic='orders', value_format='JSON',
  partitions=4);
CREATE TABLE accounts (id INT PRIMARY KEY, user_id INT) WITH (kafka_topic='accounts', value_format='JSON',
  partitions=4);
CREATE STREAM enriched AS SELECT o.id AS id, o.amount, u.name FROM orders o JOIN users u ON o.id = u.id;
CREATE STREAM by_user AS SELECT u.id AS id, o.amount, u.name FROM orders o JOIN users u ON o.user_id = u.id;
CREATE TABLE holders AS SELECT a.id AS id, u.name FROM accounts a JOIN users u ON a.user_id = u.id;
"""


def test_joins_are_shared_by_partition_and_move_when_a_server_dies(kafka, servers):
    """Orders joined to users on both sides' keys: partition p of each is joined on its own, so
    the servers share the partitions. Joined on the orders' user_id, the orders go through a
    repartition topic first, keyed by user_id, and the join is shared the same way. When a
    server dies the other takes its partitions over with their tables' rows. A foreign-key
    join's rows of a key may sit in any partition: one server runs it whole."""
    first, second = servers
    first.ksql(JOINED + "".join(f"INSERT INTO users (rowtime, id, name) VALUES ({NOW}, {i}, 'u{i}');"
                                f"INSERT INTO accounts (rowtime, id, user_id) VALUES ({NOW}, {10 + i}, {i});"
                                for i in range(8)))
    both_own_partitions(first, second)
    repartition = "_confluent-ksql-default_query_CSAS_BY_USER_4-Join-left-repartition"
    shares = {"CSAS_ENRICHED_3": sorted([("CSAS_ENRICHED_3", p) for p in range(4)] * 2),  # orders and users
              "CSAS_BY_USER_4": sorted([("CSAS_BY_USER_4", p) for p in range(4)] * 3),  # and the repartition topic
              "CTAS_HOLDERS_5": sorted([("CTAS_HOLDERS_5", p) for p in range(4)] * 2)}

    def share(server, query):
        return sorted(q for q in server.owned() if q[0] == query)

    def settled(query, split):
        """Every partition owned once and, when `split`, some by each server. A rebalance in
        progress can show every partition still on the server that had them all."""
        mine, theirs = share(first, query), share(second, query)
        return sorted(mine + theirs) == shares[query] and (bool(mine and theirs) if split else not (mine and theirs))

    for query, split in (("CSAS_ENRICHED_3", True), ("CSAS_BY_USER_4", True), ("CTAS_HOLDERS_5", False)):
        try:
            wait_for(lambda: settled(query, split))
        except AssertionError:
            raise AssertionError(f"{query}: {share(first, query)} and {share(second, query)}") from None
    assert kafka_topic_partitions(kafka, repartition) == 4

    def orders(numbers) -> str:
        return "".join(f"INSERT INTO orders (rowtime, id, amount, user_id) VALUES ({NOW + 1 + n}, {n % 8}, {n}, "
                       f"{(n + 3) % 8});" for n in numbers)

    first.ksql(orders(range(40)))
    wait_for(lambda: len(topic_records_of(kafka, "ENRICHED")) >= 20)
    second.kill()
    first.ksql(orders(range(40, 80)))
    wait_for(lambda: sorted(first.owned()) == sorted(sum(shares.values(), [])))
    for sink, user in (("ENRICHED", lambda n: n % 8), ("BY_USER", lambda n: (n + 3) % 8)):
        wait_for(lambda: len(topic_records_of(kafka, sink)) >= 80, timeout=90)
        rows = sorted((json.loads(value)["AMOUNT"], json.loads(value)["NAME"])
                      for _, _, value, _ in topic_records_of(kafka, sink))
        assert rows == [(n, f"u{user(n)}") for n in range(80)], sink
    assert pull(first, "SELECT * FROM holders;") == [[10 + i, f"u{i}"] for i in range(8)]


def kafka_topic_partitions(broker, topic: str) -> int:
    from ksql.runtime.log.kafka import KafkaLog

    log = KafkaLog({"bootstrap.servers": broker.bootstrap_servers}, "/tmp/ksql-test-reader")
    try:
        return log.topic(topic).partitions
    finally:
        log.close()


REGROUPED = """
CREATE TABLE people (id INT PRIMARY KEY, city STRING) WITH (kafka_topic='people', value_format='JSON', partitions=4);
CREATE TABLE per_city AS SELECT city, COUNT(*) AS n FROM people WHERE city <> 'nowhere' GROUP BY city;
"""


def test_a_table_aggregation_is_regrouped_across_servers(kafka, servers):
    """A person's rows go to their city's partition of the repartition topic, and when they
    move, a tombstone goes to the partition they leave: each city is counted on one server,
    the people who moved counted once, through a kill."""
    first, second = servers
    first.ksql(REGROUPED)
    both_own_partitions(first, second)
    wait_for(lambda: sorted(first.owned() + second.owned()) == sorted(
        [("CTAS_PER_CITY_1", p) for p in range(4)] * 2))  # people and the repartition topic

    def people(numbers, shift: int) -> str:
        return "".join(f"INSERT INTO people (id, city) VALUES ({n}, 'c{(n + shift) % 5}');" for n in numbers)

    first.ksql(people(range(40), 0))
    wait_for(lambda: pull(first, "SELECT * FROM per_city;") == [[f"c{i}", 8] for i in range(5)])
    first.ksql(people(range(20), 1))  # the first 20 move to the next city
    wait_for(lambda: len(topic_records_of(kafka, "PER_CITY")) >= 50)
    second.kill()
    first.ksql(people(range(10), 3) + "INSERT INTO people (id, city) VALUES (39, 'nowhere');")
    cities = {n: f"c{(n + (3 if n < 10 else 1 if n < 20 else 0)) % 5}" for n in range(39)}
    expected = sorted([city, list(cities.values()).count(city)] for city in set(cities.values()))
    wait_for(lambda: pull(first, "SELECT * FROM per_city;") == expected, timeout=90)
    last = {}
    for _, key, value, _ in topic_records_of(kafka, "PER_CITY"):
        last[key.decode()] = json.loads(value)["N"] if value is not None else None
    assert sorted([city, n] for city, n in last.items() if n) == expected
