"""Vapi's v2 paths: summaries with counters, contacts with outcomes, and the shared writes."""

from __future__ import annotations

import uuid

from campaign_service.calls.repository import apply_status_reports
from campaign_service.calls.status import CallStatus
from campaign_service.db.session import unit_of_work
from campaign_service.telephony.base import StatusReport
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
