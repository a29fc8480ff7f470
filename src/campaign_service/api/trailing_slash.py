"""`/campaigns/` is `/campaigns`: a trailing slash names the same resource, for every method.

Starlette's default answers such a path with a 307 redirect that has no body. curl without -L
prints nothing and stops there, and clients that do follow it send the request twice. None of
this service's paths end in a slash, so the slash is dropped before routing instead: the request
is served as if sent without it, whatever its method and body (and logged and counted so).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope["path"] = path.rstrip("/") or "/"
            raw_path = scope.get("raw_path")
            if isinstance(raw_path, bytes):
                scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)
