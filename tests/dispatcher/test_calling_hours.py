"""Local calling hours in the engine: each contact is dialed only inside its own window,
across time zones, days and a DST change, and waiting for its morning never ends it."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import campaign_body
from tests.dispatcher.conftest import rows
from tests.dispatcher.scripted import ScriptedNetwork, answer, end_calls

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
LA, NY = "+14155550100", "+12125550100"


def window(**overrides: object) -> dict[str, object]:
    value: dict[str, object] = {
        "days": WEEKDAYS,
        "start": "09:00",
        "end": "20:00",
        "fallbackTimeZone": "Asia/Tokyo",
    }
    value.update(overrides)
    return value


async def create(client, org, customers, **overrides):
    overrides.setdefault("callingWindow", window())
    body = campaign_body(customers=customers, **overrides)
    response = await client.post("/campaigns", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_each_contact_is_dialed_when_its_own_morning_comes(
    client, org, clock, make_dispatcher
):
    # Monday 2026-06-01 12:00 UTC: 13:00 in London, 08:00 in New York, 05:00 in Los Angeles,
    # 21:00 in Tokyo (the fallback zone of a SIP contact).
    customers = [
        {"number": LA, "name": "LA"},
        {"number": NY, "name": "NY"},
        {"number": "+447700900123", "timeZone": "Europe/London", "name": "London"},
        {"sipUri": "sip:desk@example.com", "name": "Tokyo"},
    ]
    campaign = await create(client, org, customers)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    assert network.numbers() == ["+447700900123"]

    clock.now = at("2026-06-01T12:59:59")
    await dispatcher.tick()
    assert len(network.dials) == 1
    clock.now = at("2026-06-01T13:00:00")  # 09:00 in New York: the window's first instant
    await dispatcher.tick()
    assert network.numbers()[1:] == [NY]

    clock.now = at("2026-06-01T15:59:00")
    await dispatcher.tick()
    assert len(network.dials) == 2
    clock.now = at("2026-06-01T16:00:00")  # 09:00 in Los Angeles, 4 hours after the start
    await dispatcher.tick()
    assert network.numbers()[2:] == [LA]

    # Hours of waiting for the morning are not a capacity wait: nothing was ended.
    ended = await rows(
        dispatcher.sessions,
        "SELECT ended_reason FROM calls WHERE campaign_id = :c AND status = 'ended'",
        c=campaign["id"],
    )
    assert ended == []
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    tokyo = next(c for c in body["calls"].values() if c["customer"].get("name") == "Tokyo")
    assert tokyo["status"] == "scheduled"
    assert tokyo["nextAttemptAt"] == "2026-06-02T00:00:00.000Z"  # Tuesday 09:00 in Tokyo

    clock.now = at("2026-06-02T00:00:00")
    await dispatcher.tick()
    assert network.numbers()[3:] == ["None"]  # the SIP contact, dialed by its URI


async def test_the_window_end_stops_dialing_and_the_next_day_picks_up(
    client, org, clock, make_dispatcher
):
    # One slot; the New York window is 09:00-09:30 local (13:00-13:30 UTC).
    customers = [{"number": NY, "name": "first"}, {"number": "+12125550199", "name": "second"}]
    campaign = await create(
        client, org, customers, maxConcurrency=1, callingWindow=window(end="09:30")
    )
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    clock.now = at("2026-06-01T13:00:00")
    await dispatcher.tick()
    assert network.numbers() == [NY]
    await answer(dispatcher, [network.dials[0].call_id])

    clock.now = at("2026-06-01T13:29:59")
    await dispatcher.tick()
    assert len(network.dials) == 1  # the slot is busy
    clock.now = at("2026-06-01T13:30:00")  # the window's end: the slot frees just now
    await end_calls(dispatcher, [network.dials[0].call_id], "customer-ended-call")
    await dispatcher.tick()
    assert len(network.dials) == 1, "dialed at the window's end"

    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    second = next(c for c in body["calls"].values() if c["customer"]["name"] == "second")
    assert second["status"] == "scheduled"
    assert second["nextAttemptAt"] == "2026-06-02T13:00:00.000Z"
    clock.now = at("2026-06-02T13:00:00")
    await dispatcher.tick()
    assert network.numbers() == [NY, "+12125550199"]
    assert body["status"] == "in-progress"


async def test_a_dst_change_moves_the_utc_opening(client, org, clock, make_dispatcher):
    # Saturday 2026-03-07: New York is on EST (UTC-5). DST starts on Sunday the 8th, so the
    # Monday 09:00 opening is 13:00 UTC, not the 14:00 UTC that Friday's 09:00 was.
    clock.now = at("2026-03-07T12:00:00")
    await create(client, org, [{"number": NY}])
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    clock.now = at("2026-03-09T12:59:59")
    await dispatcher.tick()
    assert network.dials == []
    clock.now = at("2026-03-09T13:00:00")
    await dispatcher.tick()
    assert network.numbers() == [NY]


async def test_contacts_waiting_for_their_window_are_pending_with_a_time(
    client, org, clock, make_dispatcher
):
    campaign = await create(client, org, [{"number": LA}])
    dispatcher = await make_dispatcher(ScriptedNetwork(clock))
    await dispatcher.tick()
    contacts = (
        await client.get(f"/v2/campaign/{campaign['id']}/contacts", headers=org.headers)
    ).json()
    (contact,) = contacts["results"]
    assert contact["status"] == "contact.pending"
    assert contact["callableAt"] == "2026-06-01T16:00:00.000Z"
    assert contact["attempts"] == 1
    summary = (
        await client.get(
            f"/v2/campaign/{campaign['id']}",
            params={"includeCounters": "true"},
            headers=org.headers,
        )
    ).json()
    assert summary["contactCounters"]["pending"] == 1


async def test_zones_that_never_share_hours_skip_the_contact(client, org, clock, make_dispatcher):
    # A Russian mobile number spans zones from UTC+2 to UTC+12: a 09:00-17:00 window is
    # never open in all of them at once.
    campaign = await create(
        client, org, [{"number": "+79161234567"}], callingWindow=window(end="17:00")
    )
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    await dispatcher.tick()
    body = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    (call,) = body["calls"].values()
    assert call["status"] == "ended"
    assert call["skipReason"] == "no-calling-hours"
    assert call["endedReason"] == "scheduled-call-deleted"
    assert body["status"] == "ended"
    assert network.dials == []
