"""Server messages POSTed to the call's server URL, in order, with the webhook faults applied.

Like Vapi without a `backoffPlan`, a delivery that fails is not retried. Each call's messages go
out one after the other; different calls' messages go out concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from campaign_service.fakevapi.faults import Faults

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where a call's server messages go, and the headers sent with them."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 10.0


def resolve_target(
    request: dict[str, Any], *, org_url: str | None, secret: str | None, timeout: float
) -> Target | None:
    """The call's `assistantOverrides.server` if it names a URL, else the org's server URL."""
    overrides = request.get("assistantOverrides") or {}
    server = overrides.get("server") or {}
    url = server.get("url") or org_url
    if not url:
        return None
    headers = {str(k): str(v) for k, v in (server.get("headers") or {}).items()}
    if secret:
        headers["X-Vapi-Secret"] = secret
    seconds = server.get("timeoutSeconds")
    return Target(url, headers, float(seconds) if seconds else timeout)


class WebhookSender:
    """Posts server messages; `note` writes one entry in the fake's record per attempt."""

    def __init__(self, *, faults: Faults, note: Callable[..., None]) -> None:
        self.faults = faults
        self._note = note
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = httpx.AsyncClient()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def for_call(self, vapi_call_id: str, target: Target | None) -> CallMessages:
        return CallMessages(self, vapi_call_id, target)

    async def post(self, delivery: CallMessages, envelope: dict[str, Any], **flags: bool) -> None:
        entry: dict[str, Any] = {
            "vapiCallId": delivery.vapi_call_id,
            "type": envelope["message"]["type"],
            "status": envelope["message"].get("status"),
            "url": delivery.target.url if delivery.target else None,
            "duplicate": flags.get("duplicate", False),
            "reordered": flags.get("reordered", False),
        }
        if delivery.target is None:
            self._note(**entry, outcome="no-server-url", httpStatus=None)
            return
        if self.faults.take("webhook-loss") is not None:
            self._note(**entry, outcome="dropped", httpStatus=None)
            return
        assert self._client is not None, "open() the sender before posting"
        target = delivery.target
        try:
            response = await self._client.post(
                target.url, json=envelope, headers=target.headers, timeout=target.timeout_seconds
            )
        except httpx.HTTPError as exc:
            log.info("fake vapi: webhook to %s failed: %s", target.url, exc)
            self._note(**entry, outcome="failed", httpStatus=None)
            return
        outcome = "delivered" if response.is_success else "failed"
        self._note(**entry, outcome=outcome, httpStatus=response.status_code)


class CallMessages:
    """One call's messages: sent in order unless the reorder fault holds one back."""

    def __init__(self, sender: WebhookSender, vapi_call_id: str, target: Target | None) -> None:
        self.sender = sender
        self.vapi_call_id = vapi_call_id
        self.target = target
        self._held: list[dict[str, Any]] = []

    async def send(self, envelope: dict[str, Any], *, last: bool = False) -> None:
        faults = self.sender.faults
        if not last and faults.take("webhook-reorder") is not None:
            self._held.append(envelope)  # goes out after the next message of this call
            return
        await self._post_once_or_twice(envelope, reordered=False)
        while self._held:
            await self._post_once_or_twice(self._held.pop(0), reordered=True)

    async def _post_once_or_twice(self, envelope: dict[str, Any], *, reordered: bool) -> None:
        await self.sender.post(self, envelope, reordered=reordered)
        if self.sender.faults.take("webhook-duplicate") is not None:
            await self.sender.post(self, envelope, reordered=reordered, duplicate=True)
