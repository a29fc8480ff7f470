"""The engine with the Vapi provider, pass by pass (in-process dispatcher, the fake Vapi): a
Retry-After is honoured, a refusal keeps Vapi's words, and a lookup that fails never dials."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from campaign_service.dispatcher.reconciler import SILENT_CALL_REASON, Reconciler
from campaign_service.dispatcher.worker import Dispatcher
from campaign_service.fakevapi import RunningFakeVapi, Timings, run_fake_vapi
from campaign_service.telephony.factory import RoutingProvider
from campaign_service.telephony.instant import InstantProvider
from tests.conftest import campaign_body
from tests.dispatcher.conftest import engine_settings, rows, scalar
from tests.vapi.conftest import MASTER_KEY, fake_config, set_vapi


@pytest.fixture
async def vapi_setup(client, org, sessions, clock) -> AsyncIterator[Callable[..., Any]]:
    stack = ExitStack()
    made: list[Dispatcher] = []

    async def factory(**fake: Any) -> tuple[Dispatcher, RunningFakeVapi, str]:
        running = stack.enter_context(run_fake_vapi(fake_config(10, **fake)))
        await set_vapi(sessions, org.org_id, running.url)
        settings = engine_settings(secret_keys=SecretStr(MASTER_KEY))
        provider = RoutingProvider(default=InstantProvider(), sessions=sessions, settings=settings)
        dispatcher = Dispatcher(
            sessions=sessions, provider=provider, settings=settings, clock=clock
        )
        made.append(dispatcher)
        created = await client.post("/campaigns", json=campaign_body(n=1), headers=org.headers)
        return dispatcher, running, created.json()["id"]

    yield factory
    for dispatcher in made:
        await dispatcher.provider.stop()
    stack.close()


CALL = "SELECT * FROM calls WHERE campaign_id = :c"


async def test_retry_after_is_honoured(vapi_setup, sessions, clock):
    dispatcher, fake, campaign_id = await vapi_setup()
    fake.fake.inject("rate-limit", next=1, retry_after=120)
    report = await dispatcher.tick()
    assert report.retried == 1
    (call,) = await rows(sessions, CALL, c=campaign_id)
    assert call.next_attempt_at >= clock() + timedelta(seconds=119)
    assert call.last_attempt_at is None  # Vapi placed nothing: no lookup needed next time
    clock.advance(seconds=121)
    await dispatcher.tick()
    (call,) = await rows(sessions, CALL, c=campaign_id)
    assert call.provider_call_id is not None
    assert len(fake.fake.record().post_call_requests) == 2


async def test_a_refusal_ends_the_call_with_vapis_words(vapi_setup, client, org, sessions):
    dispatcher, _, campaign_id = await vapi_setup(phone_number_ids=frozenset({"pn_other"}))
    report = await dispatcher.tick()
    assert report.rejected == 1
    call_id = await scalar(sessions, "SELECT id FROM calls WHERE campaign_id = :c", c=campaign_id)
    body = (
        await client.get(f"/campaigns/{campaign_id}/calls/{call_id}", headers=org.headers)
    ).json()
    assert body["status"] == "ended"
    assert body["endedReason"] == "call.start.error-get-phone-number"
    assert body["providerError"]


async def test_a_failed_lookup_never_dials(vapi_setup, sessions, clock):
    dispatcher, fake, campaign_id = await vapi_setup()
    fake.fake.inject("timeout", next=1, seconds=60)
    dispatcher.settings = dispatcher.settings.model_copy(update={"vapi_read_timeout": 0.5})
    dispatcher.provider.vapi.settings = dispatcher.settings
    report = await dispatcher.tick()
    assert report.unknown == 1
    (call,) = await rows(sessions, CALL, c=campaign_id)
    assert call.lease_owner is not None
    assert call.last_attempt_at is not None
    # Its lease expires while Vapi cannot be asked: the call is not placed again.
    fake.fake.inject("server-error", next=5, status=503, scope="read")
    clock.advance(seconds=31)
    report = await dispatcher.tick()
    assert report.unknown == 1
    assert len(fake.fake.record().post_call_requests) == 1
    # Vapi answers again: the call it created is found and adopted, never dialed twice.
    fake.fake.clear_faults()
    clock.advance(seconds=31)
    report = await dispatcher.tick()
    assert report.placed == 1
    (call,) = await rows(sessions, CALL, c=campaign_id)
    assert call.provider_call_id == fake.fake.record().calls[0]["id"]
    assert len(fake.fake.record().post_call_requests) == 1
    assert set(fake.fake.record().dials_by_number.values()) == {1}


async def test_the_reconciler_follows_a_call_and_ends_a_silent_one(vapi_setup, sessions, clock):
    stuck = Timings(queued_seconds=0.01, ring_seconds=(0.01, 0.01), talk_seconds=(600, 600))
    dispatcher, _, campaign_id = await vapi_setup(timings=stuck)
    await dispatcher.tick()
    settings = dispatcher.settings.model_copy(
        update={"vapi_poll_quiet_seconds": 60, "vapi_silent_call_seconds": 3600}
    )
    reconciler = Reconciler(
        sessions=sessions,
        provider=dispatcher.provider,
        sink=dispatcher.events,
        settings=settings,
        clock=clock,
    )
    assert await reconciler.pass_once() == 0  # heard of just now (placed)
    await asyncio.sleep(0.2)  # Vapi: queued -> ringing -> in-progress
    clock.advance(seconds=61)
    assert await reconciler.pass_once() == 1
    (call,) = await rows(sessions, CALL, c=campaign_id)
    assert call.status == "in-progress"
    assert call.polled_at == clock()
    assert await reconciler.pass_once() == 0  # asked just now
    clock.advance(seconds=3600)
    assert await reconciler.pass_once() == 1
    (call,) = await rows(sessions, CALL, c=campaign_id)
    assert call.status == "ended"
    assert call.ended_reason == SILENT_CALL_REASON
