"""GET /campaigns/{id}/progress: every `blockedBy` reason comes from a real situation of the
engine, with its figures; the counts, pace, ETA and concurrency describe the campaign."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import campaign_body
from tests.dispatcher.scripted import ScriptedNetwork, answer, end_calls

WINDOW = {
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "09:00",
    "end": "20:00",
    "fallbackTimeZone": "America/New_York",
}


async def create(client, org, n=2, **overrides):
    response = await client.post(
        "/campaigns", json=campaign_body(n, **overrides), headers=org.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def progress(client, org, campaign):
    response = await client.get(f"/campaigns/{campaign['id']}/progress", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def reasons(report):
    return {b["reason"]: b for b in report["blockedBy"]}


async def test_scheduled_waits_for_earliest_at(client, org):
    campaign = await create(client, org, schedulePlan={"earliestAt": "2026-06-01T15:00:00Z"})
    report = await progress(client, org, campaign)
    blocked = reasons(report)["waiting-for-earliest-at"]
    assert blocked["until"] == "2026-06-01T15:00:00.000Z"
    assert blocked["message"] == "Waiting for schedulePlan.earliestAt at 2026-06-01T15:00:00.000Z."
    assert report["calls"]["waiting"] == 2
    assert len(report["blockedBy"]) == 1


async def test_ended_campaign_says_so(client, org):
    campaign = await create(client, org)
    await client.patch(
        f"/campaigns/{campaign['id']}", json={"status": "ended"}, headers=org.headers
    )
    report = await progress(client, org, campaign)
    assert list(reasons(report)) == ["campaign-ended"]
    assert "campaign.scheduled.ended-by-user" in report["blockedBy"][0]["message"]


async def test_paused_by_the_user_with_the_reason(client, org, clock, make_dispatcher):
    campaign = await create(client, org, n=3, maxConcurrency=1)
    await (await make_dispatcher(ScriptedNetwork(clock))).tick()
    await client.post(
        f"/campaigns/{campaign['id']}/pause", json={"reason": "wrong script"}, headers=org.headers
    )
    report = await progress(client, org, campaign)
    blocked = reasons(report)["paused-by-user"]
    assert blocked["message"] == (
        "Paused by the user at 2026-06-01T12:00:00.000Z because wrong script."
    )
    assert "campaign-concurrency-limit" not in reasons(report)  # paused first: no slot wait
    assert report["pausedBy"] == "user"
    assert report["eta"].get("estimatedFinishAt") is None


async def test_paused_by_the_breaker(client, org, clock, make_dispatcher):
    campaign = await create(client, org, n=20, maxConcurrency=5)
    network = ScriptedNetwork(clock)
    network.reject_with = "assistant-not-found"
    dispatcher = await make_dispatcher(network, breaker_check_seconds=0)
    for _ in range(3):
        await dispatcher.tick()
    blocked = reasons(await progress(client, org, campaign))["paused-by-breaker"]
    assert blocked["message"] == (
        "Paused by the breaker at 2026-06-01T12:00:00.000Z because 10 of the last 10 attempts "
        "failed at the provider (most often assistant-not-found)."
    )


async def test_outside_calling_hours_counts_contacts_and_says_until_when(
    client, org, clock, make_dispatcher
):
    # 12:00 UTC is 08:00 in New York and 05:00 in Los Angeles.
    customers = [{"number": "+12125550100"}, {"number": "+14155550100"}, {"number": "+14155550101"}]
    campaign = await create(client, org, customers=customers, callingWindow=WINDOW)
    await (await make_dispatcher(ScriptedNetwork(clock))).tick()
    report = await progress(client, org, campaign)
    blocked = reasons(report)["outside-calling-hours"]
    assert (blocked["calls"], blocked["until"]) == (3, "2026-06-01T13:00:00.000Z")
    assert report["calls"]["outsideCallingHours"] == 3
    zones = {tuple(z["timeZones"]): z for z in report["callingWindow"]["zones"]}
    assert zones[("America/Los_Angeles",)]["waiting"] == 2
    assert zones[("America/Los_Angeles",)]["opensAt"] == "2026-06-01T16:00:00.000Z"
    assert zones[("America/New_York",)]["open"] is False
    # ETA: three calls, after the openings, at the default call length.
    assert report["eta"]["estimatedFinishAt"] == "2026-06-01T16:01:00.000Z"


async def test_retry_pending(client, org, clock, make_dispatcher):
    plan = {"retryOn": ["no-answer"], "maxAttempts": 2, "delay": {"seconds": 600}}
    campaign = await create(client, org, n=1, retryPlan=plan)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    await end_calls(dispatcher, [network.dials[0].call_id], "customer-did-not-answer")
    report = await progress(client, org, campaign)
    blocked = reasons(report)["retry-pending"]
    assert (blocked["calls"], blocked["until"]) == (1, "2026-06-01T12:10:00.000Z")
    assert report["calls"]["retryPending"] == 1
    assert report["calls"]["total"] == 2


async def test_provider_without_capacity(client, org, clock, make_dispatcher):
    campaign = await create(client, org, n=2)
    network = ScriptedNetwork(clock)
    network.no_capacity = True
    await (await make_dispatcher(network)).tick()
    blocked = reasons(await progress(client, org, campaign))["provider-no-capacity"]
    assert blocked["calls"] == 2
    assert "the provider reported no capacity" in blocked["message"]


async def test_campaign_concurrency_limit(client, org, clock, make_dispatcher):
    campaign = await create(client, org, n=3, maxConcurrency=1)
    network = ScriptedNetwork(clock)
    await (await make_dispatcher(network)).tick()
    report = await progress(client, org, campaign)
    blocked = reasons(report)["campaign-concurrency-limit"]
    assert blocked["message"] == "maxConcurrency 1/1 in use; 2 calls wait for a slot."
    assert report["concurrency"] == {
        "maxConcurrency": 1,
        "inFlight": 1,
        "orgLimit": 10,
        "orgInFlight": 1,
        "available": 0,
    }


async def test_org_concurrency_limit_names_the_campaigns_using_it(
    client, make_org, clock, make_dispatcher
):
    org = await make_org(concurrency_limit=2)
    first = await create(client, org, n=3, name="Renewals", maxConcurrency=2)
    second = await create(client, org, n=3, name="Upsell", maxConcurrency=2)
    await (await make_dispatcher(ScriptedNetwork(clock))).tick()
    report = await progress(client, org, second)
    blocked = reasons(report)["org-concurrency-limit"]
    assert blocked["message"] == (
        "Organization concurrency limit 2/2 used by campaigns Renewals (1), Upsell (1); "
        "2 calls wait for a slot."
    )
    assert sorted(blocked["campaignIds"]) == sorted([first["id"], second["id"]])
    assert "campaign-concurrency-limit" not in reasons(report)


async def test_all_placed_and_the_pace(client, org, clock, make_dispatcher):
    campaign = await create(client, org, n=2)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    await answer(dispatcher, [network.dials[0].call_id])
    report = await progress(client, org, campaign)
    assert list(reasons(report)) == ["all-placed"]
    assert report["blockedBy"][0]["message"] == "Every call has been placed; 2 still in progress."
    assert report["rate"] == {
        "windowSeconds": 300.0,
        "placed": 2,
        "ended": 0,
        "placedPerMinute": 0.4,
    }
    assert report["calls"]["queued"] + report["calls"]["inProgress"] == 2
    assert report["contacts"]["dispatched"] == 2


async def test_calls_placed_as_fast_as_allowed_block_nothing(client, org, clock, make_dispatcher):
    campaign = await create(client, org, n=4, maxConcurrency=2)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    clock.advance(seconds=90)
    await end_calls(dispatcher, [d.call_id for d in network.dials], "customer-ended-call")
    report = await progress(client, org, campaign)
    # Two calls can be placed right now, within both limits: nothing holds them back.
    assert report["blockedBy"] == []
    assert report["calls"]["callableNow"] == 2
    assert report["concurrency"]["available"] == 2
    assert report["eta"]["typicalCallSource"] == "default"
    assert report["at"] == datetime(2026, 6, 1, 12, 1, 30, tzinfo=UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
