"""The control extensions at the API: callingWindow, retryPlan and timeZone are validated (400
in Vapi's shape, nothing written), echoed back, and set at creation only; the feasibility
estimate comes with the new campaign; the CLI pauses and resumes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from campaign_service.timeutil import iso_z
from tests.api.helpers import (
    assert_validation_error,
    create,
    fetch,
    row_counts,
    start_campaign,
)
from tests.conftest import campaign_body
from tests.test_cli import env as env  # the CLI's fixture
from tests.test_cli import fails, ok_json, run

WINDOW = {
    "days": ["fri", "mon"],
    "start": "09:00",
    "end": "20:00",
    "fallbackTimeZone": "America/New_York",
}


async def test_extension_fields_are_stored_and_echoed(client, org):
    body = await create(
        client,
        org,
        campaign_body(
            customers=[{"number": "+14155550100", "timeZone": "America/Chicago"}],
            callingWindow=WINDOW,
            retryPlan={"retryOn": ["busy"]},
        ),
    )
    assert body["callingWindow"] == {**WINDOW, "days": ["mon", "fri"]}  # calendar order
    assert body["retryPlan"] == {
        "retryOn": ["busy"],
        "maxAttempts": 2,
        "delay": {"type": "fixed", "seconds": 3600},
    }
    assert body["customers"][0]["timeZone"] == "America/Chicago"
    got = (await client.get(f"/campaigns/{body['id']}", headers=org.headers)).json()
    assert got["callingWindow"] == body["callingWindow"]
    summary = (await client.get(f"/v2/campaign/{body['id']}", headers=org.headers)).json()
    assert summary["retryPlan"] == body["retryPlan"]
    plain = await create(client, org)
    for field in ("callingWindow", "retryPlan", "pausedAt", "pausedBy", "resumedAt"):
        assert field not in plain


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"callingWindow": {**WINDOW, "end": "08:00"}}, "end must be after start"),
        ({"callingWindow": {**WINDOW, "start": "9:00"}}, "callingWindow.start must be a local"),
        ({"callingWindow": {**WINDOW, "days": []}}, "callingWindow.days"),
        ({"callingWindow": {**WINDOW, "days": ["mon", "mon"]}}, "days must not repeat"),
        ({"callingWindow": {**WINDOW, "days": ["monday"]}}, "callingWindow.days.0"),
        ({"callingWindow": {**WINDOW, "fallbackTimeZone": "Mars/Base"}}, "IANA time zone"),
        (
            {"callingWindow": {k: v for k, v in WINDOW.items() if k != "fallbackTimeZone"}},
            "callingWindow.fallbackTimeZone is required",
        ),
        ({"retryPlan": {"retryOn": []}}, "retryPlan.retryOn"),
        ({"retryPlan": {"retryOn": ["ringing"]}}, "retryPlan.retryOn.0"),
        ({"retryPlan": {"retryOn": ["busy"], "maxAttempts": 6}}, "retryPlan.maxAttempts"),
        ({"retryPlan": {"retryOn": ["busy"], "delay": {"seconds": 0}}}, "retryPlan.delay.seconds"),
        ({"retryPlan": {"retryOn": ["busy"], "delay": {"type": "random"}}}, "delay.type"),
        ({"customers": [{"number": "+14155550100", "timeZone": "EST5"}]}, "IANA time zone"),
    ],
)
async def test_bad_extension_fields_answer_400_and_write_nothing(
    client, org, engine, overrides, message
):
    before = await row_counts(engine)
    response = await client.post("/campaigns", json=campaign_body(**overrides), headers=org.headers)
    assert_validation_error(response, message)
    assert await row_counts(engine) == before


async def test_extension_fields_are_set_at_creation_only(client, org):
    campaign = await create(client, org)
    response = await client.patch(
        f"/campaigns/{campaign['id']}", json={"callingWindow": WINDOW}, headers=org.headers
    )
    assert_validation_error(response, "property callingWindow should not exist")


async def test_feasibility_says_whether_latest_at_can_be_met(client, org, clock):
    # 30 contacts, one at a time, a minute each (no calls observed yet): 30 minutes.
    start = clock.now + timedelta(hours=1)
    tight = {"earliestAt": iso_z(start), "latestAt": iso_z(start + timedelta(minutes=20))}
    roomy = {"earliestAt": iso_z(start), "latestAt": iso_z(start + timedelta(minutes=45))}
    late = await create(client, org, campaign_body(30, maxConcurrency=1, schedulePlan=tight))
    fine = await create(client, org, campaign_body(30, maxConcurrency=1, schedulePlan=roomy))
    assert late["feasibility"] == {
        "contacts": 30,
        "concurrency": 1,
        "typicalCallSeconds": 60.0,
        "typicalCallSource": "default",
        "estimatedFinishAt": "2026-06-01T13:30:00.000Z",
        "fitsBeforeLatestAt": False,
        "message": "The last first attempt would end around 2026-06-01T13:30:00.000Z, after "
        "latestAt (2026-06-01T13:20:00.000Z).",
    }
    assert fine["feasibility"]["fitsBeforeLatestAt"] is True
    open_ended = await create(client, org)
    assert "fitsBeforeLatestAt" not in open_ended["feasibility"]


async def test_feasibility_counts_calling_hours(client, org, clock):
    # Monday 12:00 UTC; New York opens at 13:00 UTC. Two contacts, two slots: one minute.
    body = campaign_body(
        customers=[{"number": "+12125550100"}, {"number": "+12125550101"}],
        callingWindow=WINDOW,
        schedulePlan={
            "earliestAt": iso_z(clock.now),
            "latestAt": iso_z(clock.now + timedelta(minutes=30)),
        },
    )
    campaign = await create(client, org, body)
    assert campaign["feasibility"]["estimatedFinishAt"] == "2026-06-01T13:01:00.000Z"
    assert campaign["feasibility"]["fitsBeforeLatestAt"] is False


async def test_cli_pauses_and_resumes(client, org, env, engine):
    campaign = await create(client, org, campaign_body(3))
    await start_campaign(engine, campaign["id"])
    paused = await asyncio.to_thread(
        run, "campaign", "pause", campaign["id"], "--reason", "carrier outage", env=env
    )
    state = ok_json(paused)
    assert (state["status"], state["pausedBy"], state["pauseReason"]) == (
        "in-progress",
        "user",
        "carrier outage",
    )
    again = await asyncio.to_thread(run, "campaign", "pause", campaign["id"], env=env)
    fails(again, "campaign is already paused")
    resumed = ok_json(await asyncio.to_thread(run, "campaign", "resume", campaign["id"], env=env))
    assert resumed["pausedAt"] is None
    events = (await client.get(f"/campaigns/{campaign['id']}/events", headers=org.headers)).json()
    assert [e["cause"] for e in events["results"]][-2:] == ["paused-by-user", "resumed-by-user"]
    fails(
        await asyncio.to_thread(run, "campaign", "resume", "nope", env=env),
        "campaign id 'nope' is not a valid ID",
    )


async def test_a_new_dial_plan_gets_its_time_zones(client, org, engine):
    campaign = await create(
        client,
        org,
        campaign_body(callingWindow=WINDOW, schedulePlan={"earliestAt": "2030-01-01T00:00:00Z"}),
    )
    plan = [
        {
            "phoneNumberId": "pn_2",
            "customers": [{"number": "+14155550100"}, {"sipUri": "sip:x@y.z"}],
        }
    ]
    response = await client.patch(
        f"/campaigns/{campaign['id']}", json={"dialPlan": plan}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    zones = await fetch(
        engine,
        "SELECT time_zones FROM calls WHERE campaign_id = :c ORDER BY position",
        c=campaign["id"],
    )
    # The number's own zone; the SIP contact's is the fallback.
    assert [z["time_zones"] for z in zones] == [["America/Los_Angeles"], ["America/New_York"]]
