"""The fake Vapi itself: its orgs, calls, record and faults, and how calls unfold.

The HTTP routes (`app.py`) call into `FakeVapi`; tests in the same process use its Python API
(`inject`, `clear_faults`, `record`, `add_org`, `revoke_key`) from any thread, so shared state
changes only under one lock and the network I/O happens outside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, Literal

from campaign_service.calls.status import CallStatus
from campaign_service.fakevapi import bodies
from campaign_service.fakevapi.calls import CallBook, FakeCall, Step, draw_outcome, plan_call
from campaign_service.fakevapi.config import FakeOrg, FakeVapiConfig
from campaign_service.fakevapi.faults import FaultKind, Faults, FaultSpec
from campaign_service.fakevapi.record import Record, RecordSnapshot
from campaign_service.fakevapi.validation import (
    FakeHttpError,
    check_resources,
    parse_call_query,
    validate_create,
)
from campaign_service.fakevapi.webhooks import CallMessages, WebhookSender, resolve_target
from campaign_service.timeutil import utcnow as _utcnow

CONCURRENCY_LIMIT_REACHED = "call.start.error-subscription-concurrency-limit-reached"
INVALID_KEY = (
    "Invalid Key. Hot tip, you may be using the private key instead of the public key, "
    "or vice versa."
)
# Price of a connected minute in USD, and the fixed part of every answered call.
_PER_MINUTE = 0.1
_PER_CALL = 0.02


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeVapi:
    def __init__(self, config: FakeVapiConfig | None = None) -> None:
        self.config = config or FakeVapiConfig()
        self.faults = Faults(self.config.seed)
        self._lock = threading.Lock()
        self._orgs = {org.api_key: org for org in self.config.orgs}
        self._book = CallBook()
        self._record = Record()
        self._webhooks = WebhookSender(faults=self.faults, note=self._note_webhook)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None

    # Python API for tests (any thread).

    def inject(self, kind: FaultKind, **params: Any) -> FaultSpec:
        """Switch a fault on, e.g. `inject("server-error", next=2, status=503)`."""
        spec = FaultSpec(kind=kind, **params)
        self.faults.inject(spec)
        return spec

    def clear_faults(self, kind: FaultKind | None = None) -> None:
        self.faults.clear(kind)

    def record(self) -> RecordSnapshot:
        with self._lock:
            return self._record.snapshot()

    def add_org(self, org: FakeOrg) -> None:
        """Accept another key (or replace the org of a known one), e.g. after a rotation."""
        with self._lock:
            self._orgs[org.api_key] = org

    def revoke_key(self, api_key: str) -> bool:
        with self._lock:
            return self._orgs.pop(api_key, None) is not None

    def call_body(self, call_id: str) -> dict[str, Any] | None:
        with self._lock:
            call = self._book.calls.get(call_id)
            return bodies.call_json(call) if call is not None else None

    # Lifecycle, run by the app's lifespan in the server's event loop.

    async def startup(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._release = asyncio.Event()
        await self._webhooks.open()

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._webhooks.close()

    def release_held(self) -> None:
        """Answer every request a `timeout` fault holds back (called before stopping)."""
        if self._loop is not None and self._release is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                self._loop.call_soon_threadsafe(self._release.set)

    # Request handling (server loop).

    def authenticate(self, authorization: str | None, scope: Literal["create", "read"]) -> FakeOrg:
        scheme, _, key = (authorization or "").partition(" ")
        with self._lock:
            org = self._orgs.get(key.strip()) if scheme.lower() == "bearer" else None
        if org is None or self.faults.take("unauthorized", scope) is not None:
            raise FakeHttpError(401, INVALID_KEY)
        return org

    def refuse_read(self) -> None:
        """The request faults that apply to GET endpoints."""
        if (fault := self.faults.take("rate-limit", "read")) is not None:
            raise _too_many(fault)
        if (fault := self.faults.take("server-error", "read")) is not None:
            raise _server_error(fault)

    async def create_call(self, authorization: str | None, content: bytes, base_url: str) -> Answer:
        """POST /call: every request is recorded with the answer it got (refused ones too, with
        a null orgId when the key was refused, and the raw text when the body is not JSON)."""
        try:
            raw: Any = json.loads(content)
        except ValueError:
            raw = content.decode(errors="replace")
        org: FakeOrg | None = None
        with contextlib.suppress(FakeHttpError):
            org = self.authenticate(authorization, "create")
        with self._lock:
            entry = self._record.request_received(org.org_id if org else None, raw)
        try:
            answer = await self._create(org, raw, base_url)
        except FakeHttpError as exc:
            answer = Answer(exc.status, bodies.error_body(exc.status, exc.message), exc.headers)
        with self._lock:
            entry["answer"] = answer.status
        return answer

    async def _create(self, org: FakeOrg | None, raw: Any, base_url: str) -> Answer:
        if org is None:
            raise FakeHttpError(401, INVALID_KEY)
        if isinstance(raw, str):
            raise FakeHttpError(400, ["request body is not valid JSON"])
        if (fault := self.faults.take("rate-limit", "create")) is not None:
            raise _too_many(fault)
        server_error = self.faults.take("server-error", "create")
        if server_error is not None and not server_error.create_call:
            raise _server_error(server_error)
        if (fault := self.faults.take("latency")) is not None:
            await asyncio.sleep(fault.seconds)
        body = validate_create(raw)
        check_resources(body, self.config)
        forced = self.faults.take("concurrency-limit")
        if forced is not None and forced.style == "bad-request":
            raise FakeHttpError(400, "Over Concurrency Limit.")
        call, steps, limits = self._admit(org, body, base_url, forced=forced is not None)
        self._spawn(self._unfold(call, steps, org))
        if server_error is not None:
            raise _server_error(server_error)
        if (fault := self.faults.take("timeout")) is not None:
            await self._hold(fault.seconds)
        with self._lock:
            created = bodies.call_json(call)
        return Answer(201, {"subscriptionLimits": limits, **created})

    def _admit(
        self, org: FakeOrg, body: dict[str, Any], base_url: str, *, forced: bool
    ) -> tuple[FakeCall, list[Step], dict[str, Any]]:
        """Create the call, blocked (ended at once) if the org has no free call slot."""
        with self._lock:
            active = self._book.active_count(org.org_id)
            blocked = forced or active >= org.concurrency_limit
            if blocked and not forced and self.config.concurrency_answer == "bad-request":
                raise FakeHttpError(400, "Over Concurrency Limit.")
            number = str(body["customer"].get("number") or body["customer"].get("sipUri"))
            rng = self._rng(org.org_id, number, self._book.next_ordinal(org.org_id, number))
            call = _new_call(rng, org, body, base_url, blocked=blocked)
            steps = [] if blocked else plan_call(rng, self._outcome(rng), self.config.timings)
            self._book.add(call)
            self._record.call_created(call)
            limits = {
                "concurrencyBlocked": blocked,
                "concurrencyLimit": org.concurrency_limit,
                "remainingConcurrentCalls": 0 if blocked else org.concurrency_limit - active,
            }
            return call, steps, limits

    def _outcome(self, rng: random.Random) -> str:
        return draw_outcome(rng, self.config.outcomes)

    def _rng(self, org_id: str, number: str, ordinal: int) -> random.Random:
        """Seeded per (org, number, nth call to it), so concurrency does not change a draw."""
        if self.config.seed is None:
            return random.Random()
        return random.Random(f"{self.config.seed}:{org_id}:{number}:{ordinal}")

    async def _unfold(self, call: FakeCall, steps: list[Step], org: FakeOrg) -> None:
        """Move the call through its steps, sending status-update and end-of-call-report."""
        target = resolve_target(
            call.request,
            org_url=org.server_url or self.config.server_url,
            secret=self.config.server_secret,
            timeout=self.config.webhook_timeout_seconds,
        )
        messages = self._webhooks.for_call(call.id, target)
        if call.blocked:
            if self.config.report_blocked_calls:
                await self._send_ended(call, messages)
            return
        with self._lock:
            queued = bodies.status_update(call, utcnow())
        await messages.send(queued)
        for step in steps:
            await asyncio.sleep(step.delay)
            ended = self._advance(call, step)
            if ended:
                await self._send_ended(call, messages)
            else:
                with self._lock:
                    update = bodies.status_update(call, utcnow())
                await messages.send(update)

    async def _send_ended(self, call: FakeCall, messages: CallMessages) -> None:
        with self._lock:
            now = utcnow()
            update, report = bodies.status_update(call, now), bodies.end_of_call_report(call, now)
        await messages.send(update)
        await messages.send(report, last=True)

    def _advance(self, call: FakeCall, step: Step) -> bool:
        """Apply one step; True when the call has ended."""
        with self._lock:
            now = utcnow()
            call.status, call.updated_at = step.status, now
            if step.status is CallStatus.IN_PROGRESS:
                call.started_at = now
            if step.status is not CallStatus.ENDED:
                return False
            call.ended_reason, call.ended_at = step.ended_reason, now
            if call.started_at is not None:
                call.talk_seconds = (now - call.started_at).total_seconds()
                call.cost = round(_PER_CALL + call.talk_seconds / 60 * _PER_MINUTE, 4)
            self._book.ended(call)
            self._record.call_ended(call)
            return True

    def list_calls(self, org: FakeOrg, params: dict[str, str]) -> list[dict[str, Any]]:
        query = parse_call_query(params)
        with self._lock:
            return [bodies.call_json(c) for c in self._book.query(org.org_id, query)]

    def get_call(self, org: FakeOrg, call_id: str) -> dict[str, Any]:
        with self._lock:
            call = self._book.get(org.org_id, call_id)
            if call is None:
                raise FakeHttpError(404, "Call not found.")
            return bodies.call_json(call)

    def answered_call(self, call_id: str) -> FakeCall | None:
        """A call that was answered and has ended (it has a recording)."""
        with self._lock:
            call = self._book.calls.get(call_id)
            return call if call is not None and bodies.answered(call) else None

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hold(self, seconds: float) -> None:
        assert self._release is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), seconds)

    def _note_webhook(self, **entry: Any) -> None:
        with self._lock:
            self._record.webhook(**entry)


def utcnow() -> datetime:
    """Now, to the millisecond: Vapi's timestamps (and so its filters) have no finer grain."""
    now = _utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _new_call(
    rng: random.Random, org: FakeOrg, body: dict[str, Any], base_url: str, *, blocked: bool
) -> FakeCall:
    now = utcnow()
    return FakeCall(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        org_id=org.org_id,
        request=body,
        created_at=now,
        updated_at=now,
        base_url=base_url,
        blocked=blocked,
        status=CallStatus.ENDED if blocked else CallStatus.QUEUED,
        ended_reason=CONCURRENCY_LIMIT_REACHED if blocked else None,
        ended_at=now if blocked else None,
    )


def _server_error(fault: FaultSpec) -> FakeHttpError:
    return FakeHttpError(fault.status, HTTPStatus(fault.status).phrase)


def _too_many(fault: FaultSpec) -> FakeHttpError:
    error = FakeHttpError(429, "Too Many Requests")
    error.headers["Retry-After"] = str(math.ceil(fault.retry_after))
    return error
