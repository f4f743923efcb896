"""The real Kafka broker the Kafka backend is tested against: it starts, and records produced
with keys, headers and timestamps come back from it as they were sent."""
from __future__ import annotations

from conftest import wait_for


def test_records_go_through_the_broker(kafka_broker):
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    config = {"bootstrap.servers": kafka_broker.bootstrap_servers}
    admin = AdminClient(config)
    for future in admin.create_topics([NewTopic("smoke", num_partitions=2, replication_factor=1)]).values():
        future.result(timeout=30)
    producer = Producer(config)
    for i in range(3):
        producer.produce("smoke", key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 2,
                         timestamp=1000 + i, headers=[("h", b"x")])
    assert producer.flush(30) == 0
    consumer = Consumer({**config, "group.id": "smoke", "auto.offset.reset": "earliest"})
    consumer.subscribe(["smoke"])
    received = []

    def all_received():
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            received.append((message.partition(), message.key(), message.value(), message.timestamp()[1],
                             message.headers()))
        return len(received) == 3

    try:
        wait_for(all_received, timeout=60, interval=0)
    finally:
        consumer.close()
        kafka_broker.clean()
    assert sorted(received) == [(0, b"k0", b"v0", 1000, [("h", b"x")]), (0, b"k2", b"v2", 1002, [("h", b"x")]),
                                (1, b"k1", b"v1", 1001, [("h", b"x")])]


def test_make_kafka_stops_its_broker_when_it_is_terminated(kafka_broker, tmp_path):
    """`make kafka` killed with SIGTERM or SIGHUP (a closed terminal) takes its broker along."""
    import os
    import signal
    import subprocess
    import sys

    for signum in (signal.SIGTERM, signal.SIGHUP):
        launcher = subprocess.Popen([sys.executable, "-m", "ksql.testing.kafka_broker"], stdout=subprocess.PIPE,
                                    text=True, cwd=tmp_path)
        try:
            assert "listening; bootstrap servers:" in launcher.stdout.readline()
            children = open(f"/proc/{launcher.pid}/task/{launcher.pid}/children").read().split()
            assert len(children) == 1
            broker = int(children[0])
            launcher.send_signal(signum)
            assert launcher.wait(timeout=60) == 0

            def gone():
                try:
                    os.kill(broker, 0)
                except ProcessLookupError:
                    return True
                return open(f"/proc/{broker}/stat").read().split()[2] == "Z"  # exited, not yet reaped

            wait_for(gone)
        finally:
            if launcher.poll() is None:
                launcher.kill()
