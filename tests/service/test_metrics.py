# from reference/metrics.md
"""ksqlDB's metrics, served by `ksql server` on /metrics in Prometheus' format: the engine's
query statistics, each query's status, production and consumption, pull query requests and
latencies (when ksql.query.pull.metrics.enabled), function calls (when
ksql.udf.collect.metrics), and the command runner. Each ksqlDB attribute is
ksql_<group>_<attribute> with dashes as underscores (ksql/server/metrics.py)."""
from __future__ import annotations

import re

import httpx

from conftest import wait_for
from processes import Server


def scrape(server) -> dict[str, float]:
    """Every sample line of /metrics: {'name{labels}': value}."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    samples = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)", line)
        if match and not line.startswith("#"):
            samples[match.group(1)] = float(match.group(2))
    return samples


def pull(server, sql):
    return httpx.post(server.url + "/query-stream", json={"sql": sql, "properties": {}}, timeout=30)


def test_the_documented_metrics(tmp_path):
    config = tmp_path / "server.properties"
    config.write_text("ksql.query.pull.metrics.enabled=true\nksql.udf.collect.metrics=true\n")
    server = Server(tmp_path / "data", "--config", str(config))
    try:
        server.ksql("CREATE STREAM words (id INT KEY, word STRING) WITH (kafka_topic='words', value_format='JSON', "
                    "partitions=1);"
                    "CREATE TABLE loud AS SELECT id, LATEST_BY_OFFSET(UCASE(word)) AS word FROM words GROUP BY id;",
                    **{"auto.offset.reset": "earliest"})
        query = "CTAS_LOUD_1"
        first = scrape(server)
        assert first['ksql_engine_liveness_indicator{ksql_service_id="default_"}'] == 1
        for values in ("(1, 'a')", "(2, 'bb')", "(3, 'ccc')"):
            server.ksql(f"INSERT INTO words (id, word) VALUES {values};")
        wait_for(lambda: scrape(server)[f'ksql_consumer_consumer_total_messages{{query_id="{query}"}}'] == 3)
        samples = scrape(server)
        engine = {name[len("ksql_engine_"):name.index("{")]: value for name, value in samples.items()
                  if name.startswith("ksql_engine_")}
        assert engine["num_persistent_queries"] == 1 and engine["running_queries"] == 1
        assert engine["messages_consumed_total"] == 3 and engine["error_queries"] == 0
        assert engine["not_running_queries"] == 0 and engine["error_rate"] == 0
        # keys 4 bytes each (KAFKA INT), values {"WORD":"a"} and so on: 3 * 4 + 12 + 13 + 14
        assert engine["bytes_consumed_total"] == 51
        assert samples[f'ksql_consumer_consumer_total_bytes{{query_id="{query}"}}'] == 51
        assert samples[f'ksql_producer_total_messages{{query_id="{query}"}}'] == 3
        # consumed between the two scrapes: a rate above zero, and the query counts as active
        assert engine["messages_consumed_per_sec"] > 0 and engine["num_active_queries"] == 1
        assert samples[f'ksql_queries_ksql_query_status{{query_id="{query}",status="RUNNING"}}'] == 1
        assert samples[f'ksql_queries_error_status{{query_id="{query}",status="NO_ERROR"}}'] == 1
        assert samples['ksql_command_runner_status{status="RUNNING"}'] == 1
        assert samples["ksql_udf_ksql_udf_ucase_count"] == 3  # one call per row

        # PAUSE shows in ksqlDB's status, not in Kafka Streams' (the streams keep running)
        server.ksql(f"PAUSE {query};")
        paused = scrape(server)
        assert paused[f'ksql_queries_ksql_query_status{{query_id="{query}",status="PAUSED"}}'] == 1
        assert paused[f'ksql_queries_query_status{{query_id="{query}",status="RUNNING"}}'] == 1
        server.ksql(f"RESUME {query};")

        assert pull(server, "SELECT * FROM loud WHERE id = 2;").status_code == 200
        assert pull(server, "SELECT * FROM loud WHERE nope = 2;").status_code == 400
        samples = scrape(server)
        assert samples["ksql_pull_query_pull_query_requests_total"] == 2
        assert samples["ksql_pull_query_pull_query_requests_error_total"] == 1
        assert samples["ksql_pull_query_pull_query_requests_local"] == 2
        assert samples["ksql_pull_query_pull_query_requests_remote"] == 0
        low, high = (samples[f"ksql_pull_query_pull_query_requests_latency_latency_{s}"] for s in ("min", "max"))
        assert 0 < low <= samples["ksql_pull_query_pull_query_requests_latency_distribution_50"] <= high
    finally:
        server.stop()


def test_pull_query_and_function_metrics_are_off_by_default(tmp_path):
    server = Server(tmp_path / "data")
    try:
        server.ksql("CREATE TABLE t (id INT PRIMARY KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', "
                    "partitions=1);")
        pull(server, "SELECT * FROM t WHERE id = 1;")
        names = scrape(server)
        assert not any(name.startswith(("ksql_pull_query_", "ksql_udf_")) for name in names)
        assert names['ksql_engine_liveness_indicator{ksql_service_id="default_"}'] == 1
    finally:
        server.stop()
