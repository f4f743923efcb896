"""The web console: a static page the server serves at `/` to browsers (API clients asking
for JSON still get /info there), its files under /console, and the words its editor completes
and highlights, from the same lists the shell uses (the grammar's keywords, the functions)."""
from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ksql.parser import keywords
from ksql.planner.library import FUNCTIONS

FILES = Path(__file__).parent / "console"


def console_routes() -> list:
    return [Route("/console/words", words, methods=["GET"]),
            Mount("/console", StaticFiles(directory=FILES), name="console")]


def wants_page(request: Request) -> bool:
    """A browser asking for `/` (it accepts HTML), not a client asking for the server's info."""
    return "text/html" in request.headers.get("accept", "")


def page() -> Response:
    return FileResponse(FILES / "index.html", media_type="text/html")


async def words(request: Request) -> Response:
    return JSONResponse({"keywords": sorted(keywords()), "functions": sorted(FUNCTIONS)})
