"""The server's own state over REST: /info, /healthcheck, command statuses, /v1/metadata,
/is_valid_property, /clusterStatus, /ksql/terminate and Prometheus /metrics."""
from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ksql import __version__
from ksql.server.protocol import BAD_REQUEST, NOT_FOUND, error_response


class StatusEndpoints:
    """The endpoints that report on the server rather than run statements (KsqlServer has them)."""

    async def metrics(self, request: Request) -> Response:
        """Prometheus text format: per query records in and out and state; per server open
        push queries and request latencies."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def info(self, request: Request) -> Response:
        if self.cluster_id is None:
            self.cluster_id = await run_in_threadpool(self.engine.log.cluster_id)
        return JSONResponse({"KsqlServerInfo": {"version": __version__, "kafkaClusterId": self.cluster_id,
                                                "ksqlServiceId": self.engine.service_id,
                                                "serverStatus": "RUNNING" if self.state == "READY" else self.state}})

    async def healthcheck(self, request: Request) -> Response:
        healthy = {"isHealthy": True}
        return JSONResponse({"isHealthy": True, "details": {"metastore": healthy, "kafka": healthy,
                                                            "commandRunner": healthy},
                             "serverState": self.state})

    async def statuses(self, request: Request) -> Response:
        return JSONResponse({"commandStatuses": {k: "SUCCESS" for k in self.engine.command_statuses}})

    async def status(self, request: Request) -> Response:
        p = request.path_params
        command_id = f"{p['type']}/{p['entity']}/{p['action']}"
        message = self.engine.command_statuses.get(command_id)
        if message is None and not p["entity"].startswith("`"):  # the docs' form: stream/PAGEVIEWS/create
            message = self.engine.command_statuses.get(f"{p['type']}/`{p['entity']}`/{p['action']}")
        if message is None:
            return error_response(NOT_FOUND, f"Command not found: {command_id}")
        return JSONResponse({"status": "SUCCESS", "message": message})

    async def metadata(self, request: Request) -> Response:
        return JSONResponse({"version": __version__, "clusterId": {"scope": {"path": [], "clusters": {
            "kafka-cluster": "embedded", "ksql-cluster": "default_"}}}})

    async def valid_property(self, request: Request) -> Response:
        name = request.path_params["name"]
        refused = self._prohibited([name])
        if refused:
            return error_response(BAD_REQUEST, refused)
        if name.startswith(("ksql.", "auto.offset.reset", "cache.max.bytes.buffering", "processing.guarantee")):
            return JSONResponse(True)
        return error_response(BAD_REQUEST, f"Not recognizable as ksql, streams, consumer, or producer property: '{name}'")

    async def cluster_status(self, request: Request) -> Response:
        url = f"{request.url.scheme}://{request.url.hostname}:{request.url.port}"
        members = await run_in_threadpool(self.engine.cluster_members)
        now = int(time.time() * 1000)
        hosts = {}
        for member in members:
            where = member["url"] or url if member["local"] else member["url"]
            host = _host_port(where) if where else member["instance"]  # ksqlDB's keys: host:port
            hosts[host] = {
                "hostAlive": True, "lastStatusUpdateMs": now, "local": member["local"],
                "activeStandbyPerQuery": {
                    query: {"activeStores": member["stores"].get(query, []) if parts else [],
                            "activePartitions": [{"topic": t, "partition": p} for t, p in parts],
                            "standByStores": [], "standByPartitions": []}
                    for query, parts in member["queries"].items()},
                "hostStoreLags": {"stateStoreLags": {
                    f"_confluent-ksql-{self.engine.service_id}query_{query}#{store}": _store_lags(lags)
                    for query, lags in member["lags"].items() for store in member["stores"].get(query, [])},
                    "updateTimeMs": now}}
        return JSONResponse({"clusterStatus": hosts})

    async def terminate_cluster(self, request: Request) -> Response:
        await run_in_threadpool(self.engine.execute, "TERMINATE ALL;")
        self.state = "TERMINATING"
        return JSONResponse({"@type": "currentStatus", "statementText": "TERMINATE CLUSTER;",
                             "commandStatus": {"status": "SUCCESS", "message": "Cluster terminated."}})


def _store_lags(lags: dict) -> dict:
    """A state store's lag by partition, as ksqlDB reports it: how far the query has read the
    partitions that feed the store (the repartition topic's when it has one) against their ends."""
    by_partition = {}
    for (topic, partition), (position, end) in sorted(lags.items(), key=lambda item: "repartition" in item[0][0]):
        by_partition[str(partition)] = {"currentOffsetPosition": position, "endOffsetPosition": end,
                                        "offsetLag": max(end - position, 0)}
    return {"lagByPartition": dict(sorted(by_partition.items(), key=lambda item: int(item[0]))),
            "size": len(by_partition)}


def _host_port(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url
