"""Vapi's v2 paths: summaries with counters, contacts with outcomes, and the shared writes."""

from __future__ import annotations

import uuid

import orjson
from sqlalchemy import select

from campaign_service.calls.repository import apply_status_reports
from campaign_service.calls.status import CallStatus
from campaign_service.db.models import Campaign
from campaign_service.db.session import unit_of_work
from campaign_service.readmodel.campaigns import summaries
from campaign_service.telephony.base import StatusReport
from tests.api.helpers import create, execute
from tests.conftest import campaign_body

S = CallStatus


async def _create(client, org, n=6, **overrides):
    response = await client.post(
        "/v2/campaign", json=campaign_body(n, **overrides), headers=org.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["calls"]) == n  # create answers the full Campaign, as on v1
    return body


async def _play(sessions, clock, campaign, outcomes):
    """Move the campaign's calls (in position order) through the given event sequences."""
    calls = sorted(campaign["calls"].values(), key=lambda c: c["position"])
    events = [
        StatusReport(uuid.UUID(call["id"]), status, reason)
        for call, sequence in zip(calls, outcomes, strict=False)
        for status, reason in sequence
    ]
    async with unit_of_work(sessions) as session:
        await apply_status_reports(session, events, source="test", now=clock())


PLACED = (S.QUEUED, None)
ANSWERED = (S.IN_PROGRESS, None)
OUTCOMES = [
    [],  # pending
    [PLACED, (S.RINGING, None)],  # dispatched
    [PLACED, ANSWERED, (S.ENDED, "customer-ended-call")],  # completed, connected
    [PLACED, ANSWERED, (S.ENDED, "voicemail")],  # completed, not connected
    [(S.ENDED, "call.start.error-get-phone-number")],  # failed (refused, never placed)
    [(S.ENDED, "scheduled-call-deleted")],  # skipped
]


async def test_summary_has_no_audience_and_counts_contacts(client, org, sessions, clock):
    campaign = await _create(client, org)
    await _play(sessions, clock, campaign, OUTCOMES)
    plain = (await client.get(f"/v2/campaign/{campaign['id']}", headers=org.headers)).json()
    assert plain["id"] == campaign["id"]
    assert plain["status"] == "scheduled"
    assert plain["phoneNumberId"] == "pn_1"
    for absent in ("customers", "calls", "dialPlan", "callsCounterEnded", "contactCounters"):
        assert absent not in plain
    counted = (
        await client.get(f"/v2/campaign/{campaign['id']}?includeCounters=true", headers=org.headers)
    ).json()
    assert counted["contactCounters"] == {
        "pending": 1,
        "dispatched": 1,
        "completed": 2,
        "failed": 1,
        "skipped": 1,
        "predialFailed": 0,
    }
    assert counted["callMetrics"] == {"dialed": 3, "connected": 1}


async def test_list_summaries_with_counters_and_filters(client, org, clock):
    first = await _create(client, org, n=2, name="first")
    clock.advance(seconds=1)
    await _create(client, org, n=3, name="second")
    listed = (
        await client.get("/v2/campaign?includeCounters=true&sortOrder=ASC", headers=org.headers)
    ).json()
    assert [c["name"] for c in listed["results"]] == ["first", "second"]
    assert [c["contactCounters"]["pending"] for c in listed["results"]] == [2, 3]
    assert listed["metadata"]["totalItems"] == 2
    one = (await client.get(f"/v2/campaign?id={first['id']}", headers=org.headers)).json()
    assert [c["id"] for c in one["results"]] == [first["id"]]
    assert "contactCounters" not in one["results"][0]


async def test_contacts_with_outcomes_filters_and_order(client, org, sessions, clock):
    campaign = await _create(client, org)
    await _play(sessions, clock, campaign, OUTCOMES)
    url = f"/v2/campaign/{campaign['id']}/contacts"
    everyone = (await client.get(url, headers=org.headers)).json()
    assert [c["status"] for c in everyone["results"]] == [
        "contact.pending",
        "contact.dispatched",
        "contact.completed",
        "contact.completed",
        "contact.failed",
        "contact.skipped",
    ]
    assert everyone["metadata"]["itemsPerPage"] == 50
    first = everyone["results"][0]
    assert first["number"] == "+14155550000"
    assert first["name"] == "Customer 0"
    assert "callId" not in first
    completed = everyone["results"][2]
    assert completed["callId"] == completed["id"]
    assert completed["endedReason"] == "customer-ended-call"
    assert completed["dispatchedAt"].endswith("Z")

    some = (
        await client.get(f"{url}?status=contact.failed&status=contact.pending", headers=org.headers)
    ).json()
    assert sorted(c["status"] for c in some["results"]) == ["contact.failed", "contact.pending"]
    assert some["metadata"]["totalItems"] == 2

    by_status = (
        await client.get(f"{url}?sortBy=status&limit=2&page=2", headers=org.headers)
    ).json()
    assert [c["status"] for c in by_status["results"]] == ["contact.completed", "contact.completed"]
    assert by_status["metadata"]["hasNextPage"] is True

    bad = await client.get(f"{url}?status=contact.lost", headers=org.headers)
    assert bad.status_code == 400


async def test_cancel_and_archive_through_v2(client, org):
    campaign = await _create(client, org, n=2)
    cancelled = await client.patch(
        f"/v2/campaign/{campaign['id']}", json={"status": "cancelled"}, headers=org.headers
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["endedReason"] == "campaign.scheduled.ended-by-user"
    deleted = await client.delete(f"/v2/campaign/{campaign['id']}", headers=org.headers)
    assert deleted.status_code == 200
    assert deleted.json()["id"] == campaign["id"]
    gone = await client.get(f"/v2/campaign/{campaign['id']}", headers=org.headers)
    assert gone.status_code == 404
    assert gone.json()["statusCode"] == 404


async def test_screened_out_contacts_show_why_and_counters_add_up(client, org, sessions, clock):
    """Calls a pre-dial check screened out end unplaced, with the reason on the call record and
    the matching v2 contact status; v1 and v2 counters still add up."""
    from campaign_service.calls import repository as calls
    from campaign_service.calls.status import SkipReason
    from campaign_service.campaigns import lifecycle

    campaign = await _create(client, org, n=4)
    async with unit_of_work(sessions) as session:
        await lifecycle.start_due_campaigns(session, now=clock())
        leased = await calls.lease_due_calls(
            session,
            campaign_id=uuid.UUID(campaign["id"]),
            count=3,
            owner="test",
            now=clock(),
            lease_until=clock(),
        )
    reasons = [SkipReason.PREDIAL_INELIGIBLE, SkipReason.PREDIAL_FAILED, SkipReason.DO_NOT_CALL]
    async with unit_of_work(sessions) as session:
        await calls.end_screened_calls(
            session,
            screened=[(c.call_id, r) for c, r in zip(leased, reasons, strict=True)],
            owner="test",
            now=clock(),
        )
    v1 = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    by_position = sorted(v1["calls"].values(), key=lambda c: c["position"])
    assert [c.get("skipReason") for c in by_position] == [
        "predial-ineligible",
        "predial-failed",
        "do-not-call",
        None,
    ]
    assert {c["endedReason"] for c in by_position[:3]} == {"scheduled-call-deleted"}
    assert all("startedAt" not in c for c in by_position)
    assert (v1["callsCounterEnded"], v1["callsCounterScheduled"]) == (3, 1)
    counted = (
        await client.get(f"/v2/campaign/{campaign['id']}?includeCounters=true", headers=org.headers)
    ).json()
    assert counted["contactCounters"] == {
        "pending": 1,
        "dispatched": 0,
        "completed": 0,
        "failed": 0,
        "skipped": 2,
        "predialFailed": 1,
    }
    assert counted["callMetrics"] == {"dialed": 0, "connected": 0}
    contacts = (
        await client.get(f"/v2/campaign/{campaign['id']}/contacts", headers=org.headers)
    ).json()
    assert [c["status"] for c in contacts["results"]] == [
        "contact.skipped",
        "contact.predial-failed",
        "contact.skipped",
        "contact.pending",
    ]


async def test_listed_summaries_are_the_summaries_get_answers(client, org, engine, sessions):
    """List and get answer the summaries PostgreSQL keeps (migration 0701); the progress
    endpoint builds them in Python: the same documents, with and without counters, whatever
    optional fields a campaign has."""

    window = {"days": ["fri", "mon"], "start": "09:00", "end": "20:00", "fallbackTimeZone": "UTC"}
    bodies = [
        campaign_body(2),
        campaign_body(
            3,
            name='quotes " and \\ and é',
            schedulePlan={"earliestAt": "2030-01-01T00:00:00Z", "latestAt": "2030-01-02T00:00:00Z"},
            assistantOverrides={"variableValues": {"a": None, "b": [1, 2.5, None]}},
            serverMessages=["campaign.ended"],
            callingWindow=window,
            retryPlan={"retryOn": ["busy"]},
        ),
        campaign_body(1, schedulePlan={"earliestAt": "2030-01-01T00:00:00Z"}),
    ]
    ids = [(await create(client, org, body))["id"] for body in bodies]
    await execute(
        engine,
        "UPDATE campaigns SET status = 'in-progress', paused_at = now(), paused_by = 'user',"
        " pause_reason = 'a reason', resumed_at = now() WHERE id = :c",
        c=ids[2],
    )
    for counters in ("false", "true"):
        params = {"includeCounters": counters}
        listed = await client.get("/v2/campaign", params=params, headers=org.headers)
        assert listed.status_code == 200, listed.text
        got = {}
        for campaign_id in ids:
            response = await client.get(
                f"/v2/campaign/{campaign_id}", params=params, headers=org.headers
            )
            got[campaign_id] = response.json()
        assert {c["id"]: c for c in listed.json()["results"]} == got
        async with sessions() as session:
            rows = (
                await session.scalars(
                    select(Campaign).where(Campaign.id.in_([uuid.UUID(i) for i in ids]))
                )
            ).all()
            built = await summaries(session, rows, counters=counters == "true")
        assert {s["id"]: s for s in orjson.loads(orjson.dumps(built))} == got
