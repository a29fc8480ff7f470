"""Pause and resume: a paused campaign places no new call at once (claims hold it FOR SHARE),
calls in flight finish, the pause shows in the campaign and its history; the breaker pauses a
campaign whose attempts mostly fail at the provider."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import text

from campaign_service.dispatcher import claims
from tests.api.helpers import assert_error
from tests.conftest import campaign_body
from tests.dispatcher.conftest import scalar
from tests.dispatcher.scripted import ScriptedNetwork, answer, end_calls


async def create(client, org, n=6, **overrides):
    response = await client.post(
        "/campaigns", json=campaign_body(n, **overrides), headers=org.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def post(client, org, campaign, action, body=None):
    return await client.post(
        f"/campaigns/{campaign['id']}/{action}", json=body, headers=org.headers
    )


async def history(client, org, campaign):
    response = await client.get(f"/campaigns/{campaign['id']}/events", headers=org.headers)
    return response.json()["results"]


async def test_pause_stops_dialing_lets_calls_finish_and_resume_goes_on(
    client, org, clock, make_dispatcher
):
    campaign = await create(client, org, n=6, maxConcurrency=2)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    in_flight = [d.call_id for d in network.dials]
    await answer(dispatcher, in_flight)

    paused = await post(client, org, campaign, "pause", {"reason": "script review"})
    assert paused.status_code == 200, paused.text
    body = paused.json()
    assert body["status"] == "in-progress"
    assert (body["pausedBy"], body["pauseReason"]) == ("user", "script review")
    assert body["pausedAt"] == "2026-06-01T12:00:00.000Z"

    await end_calls(dispatcher, in_flight, "customer-ended-call")  # calls in flight finish
    clock.advance(hours=2)  # longer than the capacity window: the clock stands still
    await dispatcher.tick()
    assert len(network.dials) == 2
    got = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert (got["callsCounterEnded"], got["callsCounterScheduled"]) == (2, 4)
    assert got["pausedBy"] == "user"

    resumed = await post(client, org, campaign, "resume")
    assert resumed.status_code == 200, resumed.text
    assert "pausedAt" not in resumed.json()
    assert resumed.json()["resumedAt"] == "2026-06-01T14:00:00.000Z"
    await dispatcher.tick()
    assert len(network.dials) == 4
    moves = [
        (e["cause"], e["source"], e.get("reason")) for e in await history(client, org, campaign)
    ]
    assert moves[-2:] == [
        ("paused-by-user", "user", "script review"),
        ("resumed-by-user", "user", None),
    ]


async def test_refused_pauses_and_resumes_answer_400_and_write_nothing(
    client, org, clock, make_dispatcher
):
    scheduled = await create(client, org, n=1, schedulePlan={"earliestAt": "2030-01-01T00:00:00Z"})
    assert_error(await post(client, org, scheduled, "pause"), 400, "only an in-progress")
    running = await create(client, org, n=2)
    await (await make_dispatcher(ScriptedNetwork(clock))).tick()
    assert_error(await post(client, org, running, "resume"), 400, "campaign is not paused")
    assert (await post(client, org, running, "pause")).status_code == 200
    assert_error(await post(client, org, running, "pause"), 400, "already paused")
    assert_error(
        await post(client, org, running, "pause", {"reason": "x", "extra": 1}),
        400,
        "property extra should not exist",
    )
    await client.patch(f"/campaigns/{running['id']}", json={"status": "ended"}, headers=org.headers)
    assert_error(await post(client, org, running, "pause"), 400, "campaign is ended")
    assert_error(await post(client, org, running, "resume"), 400, "cannot be resumed")
    causes = [e["cause"] for e in await history(client, org, running)]
    assert causes.count("paused-by-user") == 1
    assert "resumed-by-user" not in causes
    missing = await client.post(f"/campaigns/{uuid.uuid4()}/pause", headers=org.headers)
    assert_error(missing, 404, "not found")


async def _backend_waits_for_a_lock(sessions) -> bool:
    return bool(
        await scalar(
            sessions,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'",
        )
    )


async def _claim(session, clock):
    return await claims.claim_for_next_org(
        session,
        skip=[],
        owner="test-claim",
        now=clock.now,
        lease_until=clock.now + timedelta(seconds=30),
        limit=10,
    )


async def test_a_pause_waits_for_a_claim_in_progress_and_no_claim_follows_it(
    client, org, clock, make_dispatcher, sessions
):
    campaign = await create(client, org, n=5, maxConcurrency=3)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()  # started; 3 calls in flight, 2 waiting for a slot
    async with sessions() as claim:  # a claim that has taken its FOR SHARE lock
        org_id, claimed, _ = await _claim(claim, clock)
        assert org_id == uuid.UUID(org.org_id)
        assert claimed == []  # the campaign's slots are all taken
        pausing = asyncio.create_task(post(client, org, campaign, "pause"))
        for _ in range(500):
            if await _backend_waits_for_a_lock(sessions):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the pause did not wait for the claim's lock")
        assert not pausing.done()
        await claim.commit()
    assert (await pausing).status_code == 200
    # Slots free up, but the campaign is paused: nothing of it is claimed.
    await end_calls(dispatcher, [d.call_id for d in network.dials], "customer-ended-call")
    async with sessions() as claim:
        assert await _claim(claim, clock) == (None, [], False)


async def test_the_breaker_pauses_a_campaign_whose_attempts_fail_at_the_provider(
    client, org, clock, make_dispatcher, sessions
):
    campaign = await create(client, org, n=30, maxConcurrency=5)
    network = ScriptedNetwork(clock)
    network.reject_with = "call.start.error-get-phone-number"  # a broken caller number
    dispatcher = await make_dispatcher(network, breaker_check_seconds=0)
    rejected = 0
    for _ in range(4):
        rejected += (await dispatcher.tick()).rejected
    assert rejected == 10  # then the breaker tripped
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert body["status"] == "in-progress"
    assert body["pausedBy"] == "engine"
    assert body["pauseReason"] == (
        "10 of the last 10 attempts failed at the provider "
        "(most often call.start.error-get-phone-number)"
    )
    (last,) = (await history(client, org, campaign))[-1:]
    assert (last["cause"], last["source"]) == ("paused-by-breaker", "engine")

    # Fixed, and resumed: dialing goes on, judged afresh from the resume.
    network.reject_with = None
    assert (await post(client, org, campaign, "resume")).status_code == 200
    report = await dispatcher.tick()
    assert (report.placed, report.paused) == (5, 0)
    waiting = await scalar(
        sessions,
        "SELECT count(*) FROM calls WHERE campaign_id = :c AND status = 'scheduled'",
        c=campaign["id"],
    )
    assert waiting == 20 - 5


async def test_a_few_failures_do_not_trip_the_breaker(client, org, clock, make_dispatcher):
    campaign = await create(client, org, n=10, maxConcurrency=10)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network, breaker_check_seconds=0)
    await dispatcher.tick()
    ids = [d.call_id for d in network.dials]
    await end_calls(dispatcher, ids[:7], "call.start.error-get-assistant")  # 70 % < 80 %
    await end_calls(dispatcher, ids[7:], "customer-ended-call")
    assert (await dispatcher.tick()).paused == 0
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert "pausedAt" not in body
    assert body["status"] == "ended"


async def test_a_recovered_lease_of_a_paused_campaign_is_not_dialed_again(
    client, org, clock, make_dispatcher, sessions
):
    """A dispatcher died after claiming a call, before its dial reached the network; the
    campaign is paused meanwhile. The call that takes over the lease is only looked up."""
    campaign = await create(client, org, n=1)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()  # starts it
    await end_calls(dispatcher, [network.dials[0].call_id], "customer-ended-call")
    async with sessions() as session:  # a second contact, claimed by a dispatcher that dies
        await session.execute(
            text(
                "UPDATE calls SET status = 'scheduled', ended_reason = NULL, ended_at = NULL,"
                " started_at = NULL, lease_owner = 'dead', lease_expires_at = :t, attempts = 1"
                " WHERE campaign_id = :c"
            ),
            {"c": campaign["id"], "t": clock.now},
        )
        await session.commit()
    network.dials.clear()
    assert (await post(client, org, campaign, "pause")).status_code == 200
    clock.advance(seconds=31)
    await dispatcher.tick()
    assert network.dials == []
    waiting = await scalar(
        sessions,
        "SELECT count(*) FROM calls WHERE campaign_id = :c AND status = 'scheduled'"
        " AND lease_owner IS NULL",
        c=campaign["id"],
    )
    assert waiting == 1  # given back, waiting for the resume
