"""The web console: a static page the server serves at `/` to browsers (API clients asking
for JSON still get /info there), its files under /console, and the words its editor completes
and highlights, from the same lists the shell uses (the grammar's keywords, the functions)."""
from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ksql.parser import keywords
from ksql.planner.library import FUNCTIONS

FILES = Path(__file__).parent / "console"


def console_routes(engine) -> list:
    async def topics(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(topic_sizes, engine.log))

    return [Route("/console/words", words, methods=["GET"]),
            Route("/console/topics", topics, methods=["GET"]),
            Mount("/console", StaticFiles(directory=FILES), name="console")]


def wants_page(request: Request) -> bool:
    """A browser asking for `/` (it accepts HTML), not a client asking for the server's info."""
    return "text/html" in request.headers.get("accept", "")


def page() -> Response:
    return FileResponse(FILES / "index.html", media_type="text/html")


async def words(request: Request) -> Response:
    return JSONResponse({"keywords": sorted(keywords()), "functions": sorted(FUNCTIONS)})


def topic_sizes(log) -> list[dict]:
    """Each topic's partitions and how many records they hold (end minus start offsets; a
    compacted topic may hold fewer)."""
    out = []
    for info in sorted(log.topics(), key=lambda t: t.name):
        ends = [log.end_offset(info.name, p) - log.start_offset(info.name, p) for p in range(info.partitions)]
        out.append({"name": info.name, "partitions": info.partitions, "messages": sum(ends)})
    return out
