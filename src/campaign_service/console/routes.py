"""Serves the web console: one HTML page at /console and its files under /console/static.

The console is plain HTML, CSS and JavaScript modules shipped inside the package (no build
step, nothing fetched from elsewhere). The browser calls the public API with the API key the
user typed, kept in sessionStorage; the server never sees the key except on API requests.
"""

from __future__ import annotations

import functools
from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from campaign_service.api.strict_json import StrictJsonRoute

CONSOLE_URL = "/console"
STATIC_URL = "/console/static"

# Everything comes from this service: no inline script or style (scripts are modules loaded
# from /console/static), no frames, no form posts elsewhere, no plugins.
CONSOLE_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is small; always revalidate so an upgrade is seen at the next load.
    "Cache-Control": "no-cache",
}

router = APIRouter(route_class=StrictJsonRoute, include_in_schema=False)


def static_dir() -> Path:
    return Path(str(files("campaign_service.console") / "static"))


@functools.cache
def _page_template() -> str:
    return (files("campaign_service.console") / "page.html").read_text(encoding="utf-8")


class ConsoleStaticFiles(StaticFiles):
    """The console's files, with nosniff so a script is never run as something else."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


@router.get(CONSOLE_URL, response_class=HTMLResponse)
async def console_page(request: Request) -> HTMLResponse:
    """The console's single page; behind a path prefix, its links carry the prefix."""
    root = escape(request.scope.get("root_path", "").rstrip("/"), quote=True)
    return HTMLResponse(_page_template().replace("{{root}}", root), headers=SECURITY_HEADERS)


def install_console(app: FastAPI) -> None:
    """Register /console and /console/static."""
    app.mount(STATIC_URL, ConsoleStaticFiles(directory=static_dir()), name="console-static")
    app.include_router(router)
