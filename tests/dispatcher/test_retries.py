"""Retries: a contact whose attempt ends with a retried outcome gets a new call record, after
the delay and inside its calling hours; counters keep adding up; the campaign waits for it."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.helpers import assert_counters_add_up
from tests.conftest import campaign_body
from tests.dispatcher.conftest import rows
from tests.dispatcher.scripted import ScriptedNetwork, answer, end_calls

NY = "+12125550100"


def plan(**overrides: object) -> dict[str, object]:
    value: dict[str, object] = {
        "retryOn": ["no-answer", "busy"],
        "maxAttempts": 3,
        "delay": {"type": "fixed", "seconds": 3600},
    }
    value.update(overrides)
    return value


async def create(client, org, n=2, **overrides):
    overrides.setdefault("retryPlan", plan())
    response = await client.post(
        "/campaigns", json=campaign_body(n, **overrides), headers=org.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def get(client, org, campaign):
    return (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_no_answer_and_busy_are_retried_after_the_delay(client, org, clock, make_dispatcher):
    campaign = await create(client, org, n=3)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    first, second, third = (d.call_id for d in network.dials)
    await end_calls(dispatcher, [first], "customer-did-not-answer")
    await end_calls(dispatcher, [second], "customer-busy")
    await answer(dispatcher, [third])
    await end_calls(dispatcher, [third], "customer-ended-call")  # a conversation: not retried

    body = await get(client, org, campaign)
    assert len(body["calls"]) == 5  # two new attempts
    retries = [c for c in body["calls"].values() if c["attempt"] == 2]
    assert {r["contactId"] for r in retries} == {str(first), str(second)}
    assert {r["nextAttemptAt"] for r in retries} == {"2026-06-01T13:00:00.000Z"}
    assert body["status"] == "in-progress"
    assert len(body["customers"]) == 3  # the audience, one entry per contact
    assert_counters_add_up(body)
    assert (body["callsCounterScheduled"], body["callsCounterEnded"]) == (2, 3)

    clock.advance(minutes=59, seconds=59)
    await dispatcher.tick()
    await dispatcher.tick()
    assert len(network.dials) == 3, "finished before the campaign waited for its retries"
    clock.advance(seconds=1)
    await dispatcher.tick()
    assert len(network.dials) == 5
    assert (await get(client, org, campaign))["status"] == "in-progress"


async def test_attempts_stop_at_max_attempts_and_the_campaign_then_ends(
    client, org, clock, make_dispatcher
):
    campaign = await create(
        client, org, n=1, retryPlan=plan(maxAttempts=3, delay={"type": "backoff", "seconds": 60})
    )
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    waits = []
    for attempt in range(1, 4):
        await dispatcher.tick()
        assert len(network.dials) == attempt
        started = clock.now
        await end_calls(dispatcher, [network.dials[-1].call_id], "customer-did-not-answer")
        while len(network.dials) == attempt and attempt < 3:
            clock.advance(seconds=10)
            await dispatcher.tick()
        waits.append((clock.now - started).total_seconds())
    assert waits[:2] == [60, 120]  # backoff: 60 s, then 120 s
    await dispatcher.tick()
    body = await get(client, org, campaign)
    assert body["status"] == "ended"
    assert len(body["calls"]) == 3
    assert sorted(c["attempt"] for c in body["calls"].values()) == [1, 2, 3]
    contacts = (
        await client.get(f"/v2/campaign/{campaign['id']}/contacts", headers=org.headers)
    ).json()
    (contact,) = contacts["results"]
    first = next(c for c in body["calls"].values() if c["attempt"] == 1)
    last = next(c for c in body["calls"].values() if c["attempt"] == 3)
    assert contact["id"] == first["id"]  # stable across attempts
    assert contact["callId"] == last["id"]
    assert contact["attempts"] == 3
    assert contact["status"] == "contact.completed"
    assert contact["endedReason"] == "customer-did-not-answer"


async def test_a_retry_waits_for_the_calling_window(client, org, clock, make_dispatcher):
    # New York window 09:00-20:00; the first attempt at 19:30 local (23:30 UTC) is not
    # answered; the retry, due an hour later at 20:30, waits for 09:00 the next morning.
    clock.now = at("2026-06-01T23:30:00")
    window = {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "20:00",
        "fallbackTimeZone": "America/New_York",
    }
    campaign = await create(client, org, customers=[{"number": NY}], callingWindow=window)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    await end_calls(dispatcher, [network.dials[0].call_id], "customer-busy")
    clock.advance(hours=2)
    await dispatcher.tick()
    body = await get(client, org, campaign)
    retry = next(c for c in body["calls"].values() if c["attempt"] == 2)
    assert retry["nextAttemptAt"] == "2026-06-02T13:00:00.000Z"
    clock.now = at("2026-06-02T12:59:59")
    await dispatcher.tick()
    assert len(network.dials) == 1
    clock.now = at("2026-06-02T13:00:00")
    await dispatcher.tick()
    assert len(network.dials) == 2
    # The night's wait was no capacity wait.
    assert (await get(client, org, campaign))["callsCounterEnded"] == 1


async def test_a_provider_refusal_in_a_retried_group_is_retried(
    client, org, clock, make_dispatcher
):
    campaign = await create(client, org, n=1, retryPlan=plan(retryOn=["failed-to-connect"]))
    network = ScriptedNetwork(clock)
    network.reject_with = "twilio-failed-to-connect-call"
    dispatcher = await make_dispatcher(network)
    assert (await dispatcher.tick()).rejected == 1
    body = await get(client, org, campaign)
    assert sorted(c["attempt"] for c in body["calls"].values()) == [1, 2]


async def test_ending_the_campaign_ends_pending_retries_and_makes_no_more(
    client, org, clock, make_dispatcher, sessions
):
    campaign = await create(client, org, n=2)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    first, second = (d.call_id for d in network.dials)
    await end_calls(dispatcher, [first], "customer-did-not-answer")  # a retry is pending
    ended = await client.patch(
        f"/campaigns/{campaign['id']}", json={"status": "ended"}, headers=org.headers
    )
    assert ended.status_code == 200
    await end_calls(dispatcher, [second], "customer-busy")  # after the end: no retry
    clock.advance(hours=2)
    await dispatcher.tick()
    body = await get(client, org, campaign)
    assert len(network.dials) == 2
    assert len(body["calls"]) == 3
    assert all(c["status"] == "ended" for c in body["calls"].values())
    retry = next(c for c in body["calls"].values() if c["attempt"] == 2)
    assert retry["endedReason"] == "scheduled-call-deleted"
    assert_counters_add_up(body)
    events = await rows(
        sessions,
        "SELECT count(*) FROM call_events WHERE campaign_id = :c AND to_status = 'ended'",
        c=campaign["id"],
    )
    assert events[0][0] == 3


async def test_voicemail_is_retried_only_when_asked(client, org, clock, make_dispatcher):
    without = await create(client, org, n=1)
    with_vm = await create(client, org, n=1, retryPlan=plan(retryOn=["voicemail"]))
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    await end_calls(dispatcher, [d.call_id for d in network.dials], "voicemail")
    assert len((await get(client, org, without))["calls"]) == 1
    assert len((await get(client, org, with_vm))["calls"]) == 2
