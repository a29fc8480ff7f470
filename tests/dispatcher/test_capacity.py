"""The capacity window: unplaced calls wait for capacity for one hour or until latestAt."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from campaign_service.calls.repository import end_calls_past_capacity_window
from campaign_service.db.session import unit_of_work
from campaign_service.timeutil import iso_z
from tests.conftest import campaign_body
from tests.dispatcher.conftest import drive, rows, scalar

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


# Which waiting calls a pass ends, over the cases the rule tells apart: a campaign's start
# before or after the cutoff, paused or not, latestAt passed, not yet or absent; a call's own
# capacity clock (none, old, recent), its calling-hours stretch (none, closed, open), and a
# call being dialed (leased, so not waiting).
CAMPAIGN_CASES = {  # name: (started minutes ago, paused, latestAt minutes from now)
    "running for two hours": (120, False, None),
    "paused for two hours": (120, True, None),
    "paused past latestAt": (10, True, -1),
    "young, past latestAt": (10, False, -1),
    "young": (10, False, None),
    "old, latestAt ahead": (120, False, 30),
}
CALL_CASES = {  # name: (capacity clock minutes ago, stretch closes in minutes, leased)
    "no clock": (None, None, False),
    "old clock": (90, None, False),
    "recent clock": (10, None, False),
    "old clock, stretch closed": (90, -5, False),
    "old clock, stretch open": (90, 30, False),
    "being dialed": (90, None, True),
}


def _ends(campaign: tuple, call: tuple) -> bool:
    """The rule, as end_calls_past_capacity_window documents it (window: one hour)."""
    started, paused, latest = campaign
    since, closes, leased = call
    if leased:
        return False
    if latest is not None and latest <= 0:
        return True
    return (
        not paused
        and started >= 60
        and (since is None or since >= 60)
        and (closes is None or closes > 0)
    )


async def test_a_pass_ends_exactly_the_calls_whose_window_closed(client, org, clock, sessions):
    now = clock.now
    minutes = lambda m: None if m is None else now + timedelta(minutes=m)  # noqa: E731
    calls: dict[str, tuple[str, str]] = {}
    for campaign_name, (started, paused, latest) in CAMPAIGN_CASES.items():
        body = campaign_body(n=len(CALL_CASES))
        created = (await client.post("/campaigns", json=body, headers=org.headers)).json()
        async with unit_of_work(sessions) as session:
            await session.execute(
                text(
                    "UPDATE campaigns SET status = 'in-progress', started_at = :started,"
                    " paused_at = :paused, latest_at = :latest WHERE id = :id"
                ),
                {
                    "id": created["id"],
                    "started": minutes(-started),
                    "paused": minutes(-started) if paused else None,
                    "latest": minutes(latest),
                },
            )
            for call_id, (call_name, (since, closes, leased)) in zip(
                sorted(created["calls"]), CALL_CASES.items(), strict=True
            ):
                await session.execute(
                    text(
                        "UPDATE calls SET capacity_since = :since, window_closes_at = :closes,"
                        " lease_expires_at = :lease WHERE id = :id"
                    ),
                    {
                        "id": call_id,
                        "since": minutes(None if since is None else -since),
                        "closes": minutes(closes),
                        "lease": minutes(30) if leased else None,
                    },
                )
                calls[call_id] = (campaign_name, call_name)
    async with unit_of_work(sessions) as session:
        count = await end_calls_past_capacity_window(session, now=now, window_seconds=3600)
    closed = await rows(sessions, "SELECT id FROM calls WHERE ended_reason = :r", r=CLOSED)
    ended = {calls[str(row.id)] for row in closed}
    expected = {
        (campaign_name, call_name)
        for campaign_name, campaign in CAMPAIGN_CASES.items()
        for call_name, call in CALL_CASES.items()
        if _ends(campaign, call)
    }
    assert ended == expected
    assert count == len(expected)
