"""Per-request log line, request id and HTTP metrics, as one pure ASGI middleware.

Pure ASGI (not BaseHTTPMiddleware): no extra task per request and streaming bodies pass through.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaign_service.error_body import error_response
from campaign_service.observability.context import request_id_var

log = logging.getLogger("campaign_service.request")
errors_log = logging.getLogger("campaign_service.errors")

REQUEST_ID_HEADER = b"x-request-id"
# An incoming id is reused only if it is short and cannot smuggle anything into logs or headers.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UNMATCHED_ROUTE = "<unmatched>"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class HttpMetrics:
    """Request counters of one app, in that app's own registry."""

    requests: Counter
    latency: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> HttpMetrics:
        return cls(
            requests=Counter(
                "campaign_service_http_requests_total",
                "HTTP requests answered, by method, route template and status code.",
                ["method", "route", "status"],
                registry=registry,
            ),
            latency=Histogram(
                "campaign_service_http_request_duration_seconds",
                "Time from request start to the end of the response body, by route template.",
                ["method", "route"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
        )


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            return candidate if _SANE_REQUEST_ID.match(candidate) else None
    return None


# Paths whose parameters are credentials: logged as their template.
SECRET_PATHS = ("/webhooks/",)


def route_template(scope: Scope, path: str) -> str:
    """The matched route's path template (`/campaigns/{id}`), never the raw path.

    A route included under a prefix may be the router's own route with its template relative
    to that prefix (FastAPI shares one route between /campaigns and /campaign), so the prefix is
    recovered from the request path: what is left once the route's rendered part is removed.
    """
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if not isinstance(template, str):
        return UNMATCHED_ROUTE
    try:
        rendered = template.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return template
    if rendered and not path.endswith(rendered):
        return template
    return path[: len(path) - len(rendered)] + template


class RequestObservabilityMiddleware:
    """Sets X-Request-ID, writes one log line per request and counts it in the app's metrics."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or os.urandom(16).hex()
        # Read before routing: a Mount rewrites root_path in this same scope dict.
        path = scope["path"]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before starting a response
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                headers = [(k, v) for k, v in message.get("headers", []) if k != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if responded:
                self._record(scope, path, status, time.perf_counter() - started, request_id)
                raise
            # Answer here rather than in Starlette's outer error handler, so the 500 carries
            # the X-Request-ID the log line names.
            errors_log.exception(
                "unhandled error while serving %s %s",
                scope["method"],
                path,
                extra={"fields": {"request_id": request_id}},
            )
            await error_response(500, "Internal server error")(scope, receive, send_with_id)
            self._record(scope, path, 500, time.perf_counter() - started, request_id)
            request_id_var.reset(token)
            return
        except BaseException:
            self._record(scope, path, status, time.perf_counter() - started, request_id)
            # Not reset: Starlette's outermost error middleware logs the traceback after this
            # frame, and that line should carry the id too. The server runs each request in a
            # task of its own, so the value ends with the request anyway.
            raise
        self._record(scope, path, status, time.perf_counter() - started, request_id)
        request_id_var.reset(token)

    def _record(
        self, scope: Scope, path: str, status: int, seconds: float, request_id: str
    ) -> None:
        method, route = scope["method"], route_template(scope, path)
        if route.startswith(SECRET_PATHS):
            path = route  # the path carries a credential (an org's webhook token)
        series = self._series.get((method, route, status))
        if series is None:  # labels() validates and locks on every call: look each up once
            series = self._series[method, route, status] = (
                self.metrics.requests.labels(method, route, str(status)),
                self.metrics.latency.labels(method, route),
            )
        series[0].inc()
        series[1].observe(seconds)
        if not log.isEnabledFor(logging.INFO):
            return  # the line's fields are not built for nobody
        duration_ms = round(seconds * 1000, 2)
        log.info(
            "%s %s %s %.1fms",
            method,
            path,
            status,
            duration_ms,
            extra={
                "fields": {
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": duration_ms,
                    "request_id": request_id,
                },
                # On a terminal the message already says method, path, status and time.
                "text_fields": {"request_id": request_id},
            },
        )
