"""The server's Prometheus metrics (/metrics): ksqlDB's JMX metrics (reference/metrics.md),
each named `ksql_<group>_<attribute>` with the attribute's dashes as underscores, plus the
server's own (request latencies, push queries open, the per-query series the web console
draws).

| ksqlDB MBean type | here |
|---|---|
| _confluent-ksql-engine-query-stats | ksql_engine_* (label ksql_service_id) |
| ksql-queries | ksql_queries_ksql_query_status, _query_status, _error_status (label query_id; the state is a label, the value 1) |
| producer-metrics, consumer-metrics | ksql_producer_*, ksql_consumer_* (label query_id) |
| _confluent-ksql-pull-query | ksql_pull_query_* (with ksql.query.pull.metrics.enabled=true) |
| ksql-udf | ksql_udf_ksql_(udf or udtf)_<name>_(avg, count, max, rate) (with ksql.udf.collect.metrics=true) |
| _confluent-ksql-rest-app-command-runner | ksql_command_runner_status (the status is a label) |

Rates are per second over the last 30 seconds of scrapes (the first scrape reports 0)."""
from __future__ import annotations

import threading
import time
from collections import deque

RATE_WINDOW = 30.0  # seconds of samples a rate is measured over
LATENCY_SAMPLES = 10_000  # pull query latencies kept for the percentiles

# a query's state as Kafka Streams would report it (PAUSE leaves the streams running)
_STREAMS_STATE = {"CREATED": "CREATED", "RUNNING": "RUNNING", "PAUSED": "RUNNING", "ERROR": "ERROR",
                  "TERMINATED": "NOT_RUNNING"}


class Rates:
    """Per-second rates of growing totals, from the totals seen at each scrape."""

    def __init__(self):
        self._samples: dict[str, deque] = {}
        self._lock = threading.Lock()

    def rate(self, key: str, total: float, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            samples = self._samples.setdefault(key, deque())
            samples.append((now, total))
            while len(samples) > 2 and samples[1][0] <= now - RATE_WINDOW:
                samples.popleft()  # (one sample older than the window stays: the rate spans it)
            first_time, first_total = samples[0]
        return (total - first_total) / (now - first_time) if now > first_time else 0.0


class PullQueryMetrics:
    """Pull queries answered by this server (local) or sent on to the one owning the key
    (remote), failed ones, and how long each took."""

    def __init__(self):
        self.local = self.remote = self.errors = 0
        self.latencies: deque = deque(maxlen=LATENCY_SAMPLES)  # seconds
        self.total_seconds = 0.0
        self.fewest = self.most = None
        self._lock = threading.Lock()

    def record(self, seconds: float, remote: bool = False, error: bool = False) -> None:
        with self._lock:
            if error:
                self.errors += 1
            if remote:
                self.remote += 1
            else:
                self.local += 1
            self.latencies.append(seconds)
            self.total_seconds += seconds
            self.fewest = seconds if self.fewest is None else min(self.fewest, seconds)
            self.most = seconds if self.most is None else max(self.most, seconds)


def _percentile(ordered: list, fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def metrics_registry(server):
    """(the registry /metrics serves, the request latency histogram, the counter of forwarded
    pull queries)"""
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    from ksql.planner import functions, plan

    registry = CollectorRegistry()
    latency = Histogram("ksql_request_seconds", "Time to answer a request (to the first byte for streams).",
                        ["path"], registry=registry)
    rates = Rates()

    class QueryCollector:
        def collect(self):
            engine = server.engine
            queries = list(engine.queries.values())
            # the console's series, one per query
            series = {name: GaugeMetricFamily(f"ksql_query_{name}", text, labels=["query"]) for name, text in (
                ("records_in", "Records read by a persistent query."),
                ("records_out", "Rows written by a persistent query."),
                ("running", "1 when a persistent query runs."),
                ("errors", "Records of a persistent query that went to the processing log."),
                ("late_records", "Records dropped because their windows had closed."),
                ("lag", "Input records not yet processed."),
                ("state_entries", "Entries in a query's state store."))}
            for query in queries:
                for name, value in (("records_in", query.records_in), ("records_out", query.records_out),
                                    ("running", 1 if query.state == "RUNNING" else 0), ("errors", query.errors),
                                    ("late_records", query.late_records), ("lag", query.lag),
                                    ("state_entries", query.state_entries)):
                    series[name].add_metric([query.id], value)
            yield from series.values()
            yield from _query_groups(queries, rates, engine.service_id)
            pushes = GaugeMetricFamily("ksql_push_queries_open", "Push queries being served.")
            pushes.add_metric([], len(server.queries))
            yield pushes
            yield CounterMetricFamily("ksql_password_hashes_checked", "Passwords checked against their scrypt "
                                      "hash (a good one is then remembered for a while).",
                                      value=server.authenticator.hashes_checked)
            status = GaugeMetricFamily("ksql_command_runner_status", "status: the command runner's state as it "
                                       "runs the command topic (RUNNING, or ERROR when it stopped).",
                                       labels=["status"])
            status.add_metric(["RUNNING" if engine.command_runner_alive() else "ERROR"], 1)
            yield status
            if _enabled(engine, "ksql.query.pull.metrics.enabled"):
                yield from _pull_query_metrics(server.pull_metrics, rates)
            if functions.CALL_METRICS is not None and _enabled(engine, "ksql.udf.collect.metrics"):
                yield from _function_metrics(functions.CALL_METRICS, plan.TABLE_FUNCTIONS, rates)

    registry.register(QueryCollector())
    forwarded = Counter("ksql_pull_queries_forwarded", "Pull queries sent on to the server owning their key.",
                        registry=registry)
    return registry, latency, forwarded


def _enabled(engine, name: str) -> bool:
    return str(engine.properties.get(name, "false")).lower() == "true"


def _query_groups(queries: list, rates: Rates, service_id: str):
    from prometheus_client.core import GaugeMetricFamily

    consumed = {q.id: rates.rate(f"in:{q.id}", q.records_in) for q in queries}
    produced = {q.id: rates.rate(f"out:{q.id}", q.records_out) for q in queries}
    streams_state = {q.id: getattr(q, "streams_state", None) or _STREAMS_STATE.get(q.state, "NOT_RUNNING")
                     for q in queries}
    running = [q for q in queries if q.state == "RUNNING"]
    records_in = sum(q.records_in for q in queries)
    engine_values = {
        "bytes-consumed-total": sum(q.reader.bytes for q in queries),
        "created-queries": sum(1 for q in queries if streams_state[q.id] == "CREATED"),
        "error-rate": sum(q.errors for q in queries) / records_in if records_in else 0.0,
        "error-queries": sum(1 for q in queries if q.state == "ERROR"),
        "liveness-indicator": 1,
        "messages-consumed-max": max((consumed[q.id] for q in running), default=0.0),
        "messages-consumed-min": min((consumed[q.id] for q in running), default=0.0),
        "messages-consumed-avg": sum(consumed[q.id] for q in running) / len(running) if running else 0.0,
        "messages-consumed-per-sec": sum(consumed.values()),
        "messages-consumed-total": records_in,
        "messages-produced-per-sec": sum(produced.values()),
        "not-running-queries": sum(1 for q in queries if streams_state[q.id] == "NOT_RUNNING"),
        "num-active-queries": sum(1 for q in running if consumed[q.id] > 0),
        "num-idle-queries": sum(1 for q in running if consumed[q.id] == 0),
        "num-persistent-queries": len(queries),
        "pending-shutdown-queries": sum(1 for q in queries if streams_state[q.id] == "PENDING_SHUTDOWN"),
        "rebalancing-queries": sum(1 for q in queries if streams_state[q.id] == "REBALANCING"),
        "running-queries": len(running),
    }
    for attribute, value in engine_values.items():
        family = GaugeMetricFamily(f"ksql_engine_{attribute.replace('-', '_')}",
                                   f"{attribute} (_confluent-ksql-engine-query-stats)", labels=["ksql_service_id"])
        family.add_metric([service_id], value)
        yield family
    states = {name: GaugeMetricFamily(f"ksql_queries_{name.replace('-', '_')}", f"{name} (ksql-queries): {text}",
                                      labels=["query_id", "status"]) for name, text in (
        ("ksql-query-status", "the query's state in ksql (PAUSED shows here)"),
        ("query-status", "the query's state as Kafka Streams reports it"),
        ("error-status", "NO_ERROR, or the kind of error that stopped the query"))}
    per_query = {name: GaugeMetricFamily(f"ksql_{group}_{name.replace('-', '_')}", f"{name} ({group}-metrics)",
                                         labels=["query_id"])
                 for group, name in (("producer", "total-messages"), ("producer", "messages-per-sec"),
                                     ("consumer", "consumer-total-messages"),
                                     ("consumer", "consumer-messages-per-sec"),
                                     ("consumer", "consumer-total-bytes"))}
    for q in queries:
        states["ksql-query-status"].add_metric([q.id, q.state], 1)
        states["query-status"].add_metric([q.id, streams_state[q.id]], 1)
        states["error-status"].add_metric([q.id, "UNKNOWN" if q.state == "ERROR" else "NO_ERROR"], 1)
        for name, value in (("total-messages", q.records_out), ("messages-per-sec", produced[q.id]),
                            ("consumer-total-messages", q.records_in),
                            ("consumer-messages-per-sec", consumed[q.id]),
                            ("consumer-total-bytes", q.reader.bytes)):
            per_query[name].add_metric([q.id], value)
    yield from states.values()
    yield from per_query.values()


def _pull_query_metrics(pull: PullQueryMetrics, rates: Rates):
    from prometheus_client.core import GaugeMetricFamily

    with pull._lock:
        ordered = sorted(pull.latencies)
        counted = pull.local + pull.remote
        values = {
            "pull-query-requests-total": counted,
            "pull-query-requests-rate": rates.rate("pull", counted),
            "pull-query-requests-error-total": pull.errors,
            "pull-query-requests-error-rate": rates.rate("pull-errors", pull.errors),
            "pull-query-requests-local": pull.local,
            "pull-query-requests-local-rate": rates.rate("pull-local", pull.local),
            "pull-query-requests-remote": pull.remote,
            "pull-query-requests-remote-rate": rates.rate("pull-remote", pull.remote),
            # latencies in milliseconds, as ksqlDB reports them
            "pull-query-requests-latency-latency-min": 1000 * (pull.fewest or 0.0),
            "pull-query-requests-latency-latency-max": 1000 * (pull.most or 0.0),
            "pull-query-requests-latency-latency-avg": 1000 * pull.total_seconds / counted if counted else 0.0,
        }
        for percent in (50, 75, 90, 99):
            values[f"pull-query-requests-latency-distribution-{percent}"] = 1000 * _percentile(ordered, percent / 100)
    for attribute, value in values.items():
        yield GaugeMetricFamily(f"ksql_pull_query_{attribute.replace('-', '_')}",
                                f"{attribute} (_confluent-ksql-pull-query)", value=value)


def _function_metrics(calls: dict, table_functions, rates: Rates):
    from prometheus_client.core import GaugeMetricFamily

    for name, (count, seconds, most) in sorted(calls.items()):
        kind = "udtf" if name in table_functions else "udf"
        prefix = f"ksql-{kind}-{name.lower()}"
        for suffix, value in (("avg", 1000 * seconds / count if count else 0.0), ("count", count),
                              ("max", 1000 * most), ("rate", rates.rate(f"call:{name}", count))):
            attribute = f"{prefix}-{suffix}"
            yield GaugeMetricFamily(f"ksql_udf_{attribute.replace('-', '_')}", f"{attribute} (ksql-udf; times in "
                                    "milliseconds, a batch's time shared among its rows)", value=value)
