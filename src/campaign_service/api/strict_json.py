"""Request JSON is read once, here, and refused with 400 when it cannot be stored faithfully.

Every route of the API uses `StrictJsonRoute`, so every JSON body (campaigns at every path,
do-not-call numbers, whatever comes next) is parsed by `json_values.loads_storable` before any
handler runs: a body holding U+0000, a lone surrogate, NaN or Infinity, an integer outside the
signed 64-bit range or nesting deeper than `json_values.MAX_DEPTH` is a 400 in Vapi's error
shape, with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from campaign_service.api.direct import direct_handler
from campaign_service.json_values import UnstorableValue, loads_storable


class UnstorableJson(HTTPException):
    """400; an HTTPException so FastAPI's body parsing passes it on to the error handler."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


def parse_request_json(body: bytes) -> Any:
    """Parse a request body; UnstorableJson (400) if it cannot be stored as sent."""
    try:
        return loads_storable(body)
    except UnstorableValue as exc:
        raise UnstorableJson(str(exc)) from None
    except UnicodeDecodeError:
        raise UnstorableJson("request body is not UTF-8 text") from None


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_request_json(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """Every route of the API: its JSON body is read by `parse_request_json`, and a read
    marked `@direct_read` gets its parameters without FastAPI's machinery (api/direct.py)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = direct_handler(self.endpoint, super().get_route_handler())

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict
