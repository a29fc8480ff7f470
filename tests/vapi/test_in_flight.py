"""A dispatcher killed mid-request is found dead within a second, but the request it sent may
still be creating the call at Vapi: a lookup then would not see it, and the retry would dial
the customer a second time. The provider waits until that request cannot still be in flight."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from campaign_service.fakevapi import run_fake_vapi
from campaign_service.settings import Settings
from campaign_service.telephony.base import OutcomeUnknown
from campaign_service.telephony.vapi import OrgVapi, VapiProvider
from campaign_service.timeutil import utcnow
from tests.telephony.helpers import place_request
from tests.vapi.conftest import VAPI_KEY, fake_config

SETTINGS = Settings(
    vapi_connect_timeout=1.0, vapi_read_timeout=1.0, vapi_in_flight_margin_seconds=1.0
)


async def test_a_retry_while_the_first_request_may_be_in_flight_waits_then_adopts() -> None:
    with run_fake_vapi(fake_config(10)) as fake:
        fake.fake.inject("latency", fraction=1.0, seconds=0.6)
        org = OrgVapi(api_key=VAPI_KEY, base_url=fake.url)

        async def credentials(_: uuid.UUID) -> OrgVapi:
            return org

        now = [utcnow()]
        dying = VapiProvider(settings=SETTINGS, credentials=credentials)
        survivor = VapiProvider(settings=SETTINGS, credentials=credentials, clock=lambda: now[0])
        call = place_request()
        attempt_at = utcnow()
        # The first dispatcher's request is on its way (the fake takes 0.6 s to create the
        # call) when the dispatcher dies: its request is not cancelled at Vapi.
        first = asyncio.create_task(dying.place_call(call))
        await asyncio.sleep(0.2)
        retry = replace(call, previous_attempt_at=attempt_at)
        with pytest.raises(OutcomeUnknown, match="may still be in flight"):
            await survivor.place_call(retry)
        with pytest.raises(OutcomeUnknown, match="may still be in flight"):
            await survivor.find_call(retry)
        created = await first  # Vapi finished creating the call the dead dispatcher asked for
        fake.fake.clear_faults()
        # Once that request cannot be in flight any more, the retry finds the call and adopts it.
        now[0] = attempt_at + timedelta(seconds=3.5)
        assert await survivor.place_call(retry) == created
        dials = [c for c in fake.fake.record().calls if c["callId"] == str(call.call_id)]
        assert len(dials) == 1, dials
        await dying.stop()
        await survivor.stop()
