"""Shared by the fake Vapi and Vapi client tests: a webhook inbox, waiting, SDK checks."""

from __future__ import annotations

import threading
import time
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from campaign_service.fakevapi import FakeOrg, FakeVapiConfig, ServerThread, Timings

KEY = "test-key"
ORG = FakeOrg(KEY, concurrency_limit=10)
FAST = Timings(queued_seconds=0.01, ring_seconds=(0.01, 0.02), talk_seconds=(0.01, 0.03))
# Calls that stay up for the whole test (the fake's shutdown cancels them).
SLOW = Timings(queued_seconds=60, ring_seconds=(60, 60), talk_seconds=(60, 60))
HEADERS = {"Authorization": f"Bearer {KEY}"}


def config(**overrides: Any) -> FakeVapiConfig:
    values: dict[str, Any] = {"orgs": (ORG,), "timings": FAST, "seed": 7}
    values.update(overrides)
    return FakeVapiConfig(**values)


def call_body(number: str = "+14155550100", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assistantId": "asst_1",
        "phoneNumberId": "pn_1",
        "customer": {"number": number, "name": "Ada"},
        "assistantOverrides": {
            "variableValues": {"plan": "gold"},
            "metadata": {"campaignId": "camp-1", "callId": f"call-{number}"},
        },
    }
    body.update(overrides)
    return body


def wait_until(condition: Callable[[], Any], *, timeout: float = 20.0) -> Any:
    """Poll until `condition()` is truthy (returns it); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


class Inbox:
    """A server URL that keeps every POST it receives (headers and JSON body)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self._lock = threading.Lock()
        self._received: list[tuple[dict[str, str], Any]] = []
        self.url = ""

    async def _receive(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self._received.append((dict(request.headers), body))
        return JSONResponse({}, status_code=self.status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    @property
    def received(self) -> list[tuple[dict[str, str], Any]]:
        with self._lock:
            return list(self._received)

    def messages(self, vapi_call_id: str | None = None) -> list[dict[str, Any]]:
        found = [body["message"] for _, body in self.received]
        return [m for m in found if vapi_call_id is None or m["call"]["id"] == vapi_call_id]


@contextmanager
def running_inbox(status: int = 200) -> Iterator[Inbox]:
    inbox = Inbox(status)
    with ServerThread(inbox.app()) as server:
        inbox.url = server.url + "/hook"
        yield inbox


def literal_values(annotation: Any) -> set[str]:
    """The strings of a Fern enum (`Union[Literal[...], Any]`)."""
    literal = typing.get_args(annotation)[0]
    return set(typing.get_args(literal))


def unknown_fields(model: BaseModel, path: str = "") -> set[str]:
    """Every property the SDK model does not declare, anywhere in the object (dotted paths)."""
    found = {f"{path}{name}" for name in (model.model_extra or {})}
    for name in type(model).model_fields:
        found |= _unknown_in(getattr(model, name), f"{path}{name}.")
    return found


def _unknown_in(value: Any, path: str) -> set[str]:
    if isinstance(value, BaseModel):
        return unknown_fields(value, path)
    if isinstance(value, list):
        return set().union(*(_unknown_in(v, path) for v in value)) if value else set()
    return set()
