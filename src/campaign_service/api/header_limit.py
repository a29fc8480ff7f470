"""Refuse requests whose headers are too large or too many with 431, in Vapi's error shape."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from campaign_service.error_body import error_response


class HeaderLimitMiddleware:
    """Counts the request's header fields and their bytes (names and values) before anything
    else looks at them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_count: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            problem = None
            if len(headers) > self.max_count:
                problem = f"more than {self.max_count} request header fields"
            elif sum(len(name) + len(value) for name, value in headers) > self.max_bytes:
                problem = f"request headers larger than {self.max_bytes} bytes in all"
            if problem is not None:
                await error_response(431, problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)
