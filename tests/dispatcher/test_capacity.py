"""The capacity window: unplaced calls wait for capacity for one hour or until latestAt."""

from __future__ import annotations

from datetime import timedelta

from campaign_service.timeutil import iso_z
from tests.conftest import campaign_body
from tests.dispatcher.conftest import drive, scalar

CLOSED = "call.start.error-subscription-concurrency-limit-reached"


async def _get(client, org, campaign_id):
    return (await client.get(f"/campaigns/{campaign_id}", headers=org.headers)).json()


async def test_calls_without_capacity_wait_then_end_after_one_hour(
    client, org, clock, make_dispatcher, simulated
):
    # The network carries one call at a time and each call lasts 20 minutes: in one hour three
    # calls get through, the other two never find capacity.
    campaign = (
        await client.post(
            "/campaigns", json=campaign_body(n=5, maxConcurrency=5), headers=org.headers
        )
    ).json()
    provider = simulated(
        max_active_calls=1,
        ring_seconds=(1.0, 1.0),
        talk_seconds=(1199.0, 1199.0),
        outcomes={"customer-ended-call": 1},
    )
    dispatcher = await make_dispatcher(provider, capacity_retry_seconds=30)
    first = await dispatcher.tick()
    assert first.placed == 1
    assert first.retried == 4
    started = clock.now

    async def ended() -> bool:
        return (await _get(client, org, campaign["id"]))["status"] == "ended"

    await drive(dispatcher, clock, ended, provider=provider, step=30)
    body = await _get(client, org, campaign["id"])
    # Retried dials race for the one line, so which calls get it is not fixed, only how many.
    reasons = sorted(c["endedReason"] for c in body["calls"].values())
    assert reasons == [CLOSED] * 2 + ["customer-ended-call"] * 3
    unplaced_end = max(c["endedAt"] for c in body["calls"].values() if c["endedReason"] == CLOSED)
    assert unplaced_end <= iso_z(started + timedelta(hours=1, seconds=30))
    assert body["endedReason"] == "campaign.ended.success"


async def test_latest_at_closes_the_window_before_the_hour(
    client, org, clock, make_dispatcher, simulated, sessions
):
    latest = clock.now + timedelta(minutes=10)
    body = campaign_body(
        n=4,
        maxConcurrency=1,
        schedulePlan={"earliestAt": iso_z(clock.now), "latestAt": iso_z(latest)},
    )
    campaign = (await client.post("/campaigns", json=body, headers=org.headers)).json()
    provider = simulated(
        ring_seconds=(1.0, 1.0), talk_seconds=(239.0, 239.0), outcomes={"assistant-ended-call": 1}
    )
    dispatcher = await make_dispatcher(provider)

    async def ended() -> bool:
        return (await _get(client, org, campaign["id"]))["status"] == "ended"

    await drive(dispatcher, clock, ended, provider=provider, step=10)
    result = await _get(client, org, campaign["id"])
    placed = [c for c in result["calls"].values() if c["endedReason"] != CLOSED]
    # Calls of 4 minutes, one at a time, for 10 minutes: three get placed (at 0, 4 and 8 min).
    assert len(placed) == 3
    closed = [c for c in result["calls"].values() if c["endedReason"] == CLOSED]
    assert len(closed) == 1
    assert closed[0]["endedAt"] >= iso_z(latest)
    assert "startedAt" not in closed[0]
    assert await scalar(sessions, "SELECT count(*) FROM sim_calls") == 3
