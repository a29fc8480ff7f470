"""Campaigns start on time, calls move through their lifecycle, campaigns end by themselves."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from campaign_service.timeutil import iso_z
from tests.conftest import campaign_body
from tests.dispatcher.conftest import drive, rows, scalar


async def _campaign(client, org, **overrides):
    response = await client.post("/campaigns", json=campaign_body(**overrides), headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _assert_counters_add_up(body):
    total = (
        body["callsCounterScheduled"]
        + body["callsCounterQueued"]
        + body["callsCounterInProgress"]
        + body["callsCounterEnded"]
    )
    assert total == len(body["calls"])
    assert body["callsCounterEndedVoicemail"] == sum(
        1
        for c in body["calls"].values()
        if c["status"] == "ended" and c.get("endedReason") == "voicemail"
    )


async def test_campaign_without_schedule_starts_on_the_first_pass(
    client, org, clock, make_dispatcher, simulated
):
    campaign = await _campaign(client, org, n=3)
    dispatcher = await make_dispatcher(simulated())
    report = await dispatcher.tick()
    assert report.activated == 1
    assert report.placed == 3
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert body["status"] == "in-progress"
    assert body["callsCounterQueued"] == 3
    _assert_counters_add_up(body)


async def test_campaign_starts_at_earliest_at_and_not_before(
    client, org, clock, make_dispatcher, simulated
):
    earliest = clock.now + timedelta(minutes=10)
    campaign = await _campaign(client, org, n=2, schedulePlan={"earliestAt": iso_z(earliest)})
    dispatcher = await make_dispatcher(simulated())
    clock.advance(minutes=9, seconds=59)
    assert (await dispatcher.tick()).activated == 0
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert body["status"] == "scheduled"
    assert body["callsCounterScheduled"] == 2
    clock.advance(seconds=1)
    report = await dispatcher.tick()
    assert report.activated == 1
    assert report.placed == 2


async def test_campaign_runs_to_the_end_with_counters_always_adding_up(
    client, org, clock, make_dispatcher, simulated, sessions
):
    campaign = await _campaign(client, org, n=12, maxConcurrency=4)
    provider = simulated()
    dispatcher = await make_dispatcher(provider)
    seen_statuses: set[str] = set()

    async def check() -> None:
        body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
        _assert_counters_add_up(body)
        in_flight = body["callsCounterQueued"] + body["callsCounterInProgress"]
        assert in_flight <= 4
        seen_statuses.update(c["status"] for c in body["calls"].values())

    async def ended() -> bool:
        body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
        return body["status"] == "ended"

    await drive(dispatcher, clock, ended, provider=provider, each_step=check)
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert body["endedReason"] == "campaign.ended.success"
    assert body["callsCounterEnded"] == 12
    assert all(c["endedReason"] for c in body["calls"].values())
    assert {"queued", "ringing", "in-progress", "ended"} <= seen_statuses
    # Every status change left exactly one event row, forward only.
    events = await rows(sessions, "SELECT call_id, from_status, to_status FROM call_events")
    order = ["scheduled", "queued", "ringing", "in-progress", "forwarding", "ended"]
    assert all(order.index(e.from_status) < order.index(e.to_status) for e in events)
    assert (
        await scalar(
            sessions, "SELECT count(DISTINCT call_id) FROM call_events WHERE to_status = 'ended'"
        )
        == 12
    )


async def test_calls_are_placed_in_position_order(
    client, org, clock, make_dispatcher, simulated, sessions
):
    dial_plan = [
        {
            "phoneNumberId": "pn_a",
            "customers": [{"number": "+14155550001"}, {"number": "+14155550002"}],
        },
        {"phoneNumberId": "pn_b", "customers": [{"number": "+14155550003"}]},
    ]
    campaign = await _campaign(
        client, org, phoneNumberId=..., customers=..., dialPlan=dial_plan, maxConcurrency=1
    )
    provider = simulated()
    dispatcher = await make_dispatcher(provider)

    async def ended() -> bool:
        return await scalar(sessions, "SELECT status FROM campaigns") == "ended"

    await drive(dispatcher, clock, ended, provider=provider)
    placed = await rows(
        sessions,
        "SELECT k.position, k.phone_number_id FROM call_events e JOIN calls k ON k.id = e.call_id "
        "WHERE e.to_status = 'queued' ORDER BY e.id",
    )
    assert [(p.position, p.phone_number_id) for p in placed] == [
        (0, "pn_a"),
        (1, "pn_a"),
        (2, "pn_b"),
    ]
    assert campaign["dialPlan"][1]["phoneNumberId"] == "pn_b"


async def test_ending_by_user_stops_dispatch_and_lets_calls_finish(
    client, org, clock, make_dispatcher, simulated, sessions
):
    campaign = await _campaign(client, org, n=5, maxConcurrency=2)
    provider = simulated(
        ring_seconds=(1.0, 1.0), talk_seconds=(30.0, 30.0), outcomes={"customer-ended-call": 1}
    )
    dispatcher = await make_dispatcher(provider)
    assert (await dispatcher.tick()).placed == 2
    clock.advance(seconds=2)
    await provider.deliver_due(dispatcher.events)
    ended = await client.patch(
        f"/campaigns/{campaign['id']}", json={"status": "ended"}, headers=org.headers
    )
    assert ended.status_code == 200
    assert ended.json()["endedReason"] == "campaign.in-progress.ended-by-user"
    assert ended.json()["callsCounterInProgress"] == 2
    assert ended.json()["callsCounterEnded"] == 3
    for _ in range(40):
        report = await dispatcher.tick()
        assert report.claimed == 0
        clock.advance(seconds=1)
        await provider.deliver_due(dispatcher.events)
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    reasons = sorted(c["endedReason"] for c in body["calls"].values())
    assert reasons == ["customer-ended-call"] * 2 + ["scheduled-call-deleted"] * 3
    assert body["status"] == "ended"
    assert await scalar(sessions, "SELECT count(*) FROM sim_calls") == 2


async def test_rejected_call_ends_with_the_providers_reason(
    client, org, clock, make_dispatcher, sessions
):
    from campaign_service.telephony.base import CallRejected
    from campaign_service.telephony.instant import InstantProvider

    class Rejecting(InstantProvider):
        async def place_call(self, request):
            raise CallRejected("call.start.error-get-phone-number")

    campaign = await _campaign(client, org, n=2)
    dispatcher = await make_dispatcher(Rejecting())
    report = await dispatcher.tick()
    assert report.rejected == 2
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert {c["endedReason"] for c in body["calls"].values()} == {
        "call.start.error-get-phone-number"
    }
    assert body["status"] == "ended"
    assert body["endedReason"] == "campaign.ended.success"


async def test_a_due_campaign_starts_while_a_request_holds_its_row(
    client, org, clock, engine, make_dispatcher, simulated
):
    """Steady PATCH traffic keeps the campaign's row locked most of the time; the start must
    wait for the lock, not skip the campaign until a pass happens to find it free."""
    campaign = await _campaign(client, org, n=2)
    dispatcher = await make_dispatcher(simulated())
    async with engine.connect() as patching:
        transaction = await patching.begin()
        # What a PATCH does first: lock the campaign's row for the length of its transaction.
        await patching.execute(
            text("SELECT 1 FROM campaigns WHERE id = :id FOR UPDATE"), {"id": campaign["id"]}
        )
        tick = asyncio.create_task(dispatcher.tick())
        await asyncio.sleep(0.3)
        assert not tick.done()  # waiting for the row, not gone past it
        await transaction.commit()
    report = await asyncio.wait_for(tick, timeout=10)
    assert report.activated == 1
    assert report.placed == 2


async def test_a_number_put_on_do_not_call_mid_campaign_is_not_dialed(
    client, org, clock, sessions, make_dispatcher, simulated
):
    """Do-not-call is checked at dial time, not only at create: a number added while the
    campaign runs is screened out before its dial; counters still add up."""
    body = campaign_body(n=4, maxConcurrency=1)
    campaign = await _campaign(client, org, **{k: v for k, v in body.items() if k != "name"})
    provider = simulated()
    dispatcher = await make_dispatcher(provider)
    await dispatcher.tick()  # starts, places the first call (one at a time)
    numbers = [
        c["customer"]["number"]
        for c in sorted(campaign["calls"].values(), key=lambda c: c["position"])
    ]
    added = await client.post("/dnc", json={"number": numbers[2]}, headers=org.headers)
    assert added.status_code in (200, 201), added.text

    async def ended() -> bool:
        status = await scalar(
            sessions, "SELECT status FROM campaigns WHERE id = :id", id=campaign["id"]
        )
        return status == "ended"

    await drive(dispatcher, clock, ended, provider=provider)
    dialed = await rows(sessions, "SELECT call_id FROM sim_calls")
    assert len(dialed) == 3
    final = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    _assert_counters_add_up(final)
    by_number = {c["customer"]["number"]: c for c in final["calls"].values()}
    screened = by_number[numbers[2]]
    assert (screened["status"], screened["endedReason"], screened["skipReason"]) == (
        "ended",
        "scheduled-call-deleted",
        "do-not-call",
    )
    assert "startedAt" not in screened
    assert str(screened["id"]) not in {str(r.call_id) for r in dialed}
    counters = (
        await client.get(f"/v2/campaign/{campaign['id']}?includeCounters=true", headers=org.headers)
    ).json()["contactCounters"]
    assert counters["skipped"] == 1
    assert sum(counters.values()) == 4
