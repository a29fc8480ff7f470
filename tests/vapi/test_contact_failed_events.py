"""`contact.failed` end to end: worker processes dial through the fake Vapi, which refuses the
calls of a phone number it does not know (400, the call ends with Vapi's endedReason, never
placed); a real receiver on loopback gets one signed `contact.failed` per refused contact, as
README.md documents it, and the counters add up."""

from __future__ import annotations

from collections import Counter

import httpx

from campaign_service.events import signing
from campaign_service.fakevapi import run_fake_vapi
from tests.dispatcher.conftest import rows, scalar
from tests.receiver import Receiver
from tests.vapi.conftest import fake_config, set_vapi, wait_for

KNOWN, UNKNOWN = "pn_1", "pn_unknown"
REFUSED_REASON = "call.start.error-get-phone-number"
CONTACT_KEYS = {"type", "timestamp", "campaignId", "contact", "customer", "call"}


def _customers(first: int, n: int) -> list[dict[str, str]]:
    return [
        {"number": f"+1415557{i:04d}", "name": f"Customer {i}"} for i in range(first, first + n)
    ]


async def test_each_refused_contact_is_reported_failed_as_documented(
    make_org, sessions, service, workers
):
    receiver = await Receiver().start()
    org = await make_org()
    placed, refused = _customers(0, 2), _customers(2, 3)
    try:
        with run_fake_vapi(fake_config(10, phone_number_ids=frozenset({KNOWN}))) as fake:
            await set_vapi(sessions, org.org_id, fake.url)
            workers(
                CAMPAIGN_SERVICE_VAPI_WEBHOOK_BASE_URL=service,
                CAMPAIGN_SERVICE_EVENTS_POLL_SECONDS="0.1",
            ).start()
            body = {
                "name": "Spring outreach",
                "assistantId": "asst_1",
                "dialPlan": [
                    {"phoneNumberId": KNOWN, "customers": placed},
                    {"phoneNumberId": UNKNOWN, "customers": refused},
                ],
                "server": {"url": receiver.url},
                "serverMessages": ["contact.failed", "contact.completed", "campaign.ended"],
            }
            async with httpx.AsyncClient(base_url=service) as http:
                created = await http.post("/campaign", json=body, headers=org.headers)
                assert created.status_code == 201, created.text
                campaign_id = created.json()["id"]

                async def delivered() -> bool:
                    left = await scalar(
                        sessions, "SELECT count(*) FROM event_outbox WHERE state <> 'delivered'"
                    )
                    types = [e.json()["message"]["type"] for e in receiver.received]
                    return left == 0 and "campaign.ended" in types

                await wait_for(delivered, seconds=120)
                campaign = (await http.get(f"/campaign/{campaign_id}", headers=org.headers)).json()
                summary = (
                    await http.get(
                        f"/v2/campaign/{campaign_id}?includeCounters=true", headers=org.headers
                    )
                ).json()
            record = fake.fake.record()
    finally:
        await receiver.stop()

    events = [e.json()["message"] for e in receiver.received]
    assert Counter(e["type"] for e in events) == {
        "contact.completed": len(placed),
        "contact.failed": len(refused),
        "campaign.ended": 1,
    }
    secret = await scalar(sessions, "SELECT webhook_secret FROM orgs WHERE id = :id", id=org.org_id)
    for event in receiver.received:
        assert signing.verify(secret, event.headers, event.body)
    assert len({e.headers["webhook-id"] for e in receiver.received}) == len(events)

    calls = {
        r.customer["number"]: r
        for r in await rows(
            sessions,
            "SELECT id, contact_id, customer, attempt_number, provider_call_id, ended_reason"
            " FROM calls WHERE campaign_id = :c",
            c=campaign_id,
        )
    }
    failed = {e["contact"]["number"]: e for e in events if e["type"] == "contact.failed"}
    assert set(failed) == {c["number"] for c in refused}
    for customer in refused:
        call = calls[customer["number"]]
        assert call.provider_call_id is None  # refused: never placed
        event = failed[customer["number"]]
        assert set(event) == CONTACT_KEYS
        assert isinstance(event["timestamp"], int)
        assert event == {
            "type": "contact.failed",
            "timestamp": event["timestamp"],
            "campaignId": campaign_id,
            "contact": {
                "id": str(call.contact_id or call.id),
                "attempt": 1,
                "number": customer["number"],
                "name": customer["name"],
            },
            "customer": call.customer,
            "call": {"id": str(call.id), "status": "ended", "endedReason": REFUSED_REASON},
        }
        assert event["customer"]["number"] == customer["number"]
        assert event["customer"]["name"] == customer["name"]
    completed = {e["contact"]["number"] for e in events if e["type"] == "contact.completed"}
    assert completed == {c["number"] for c in placed}

    # Counters: the refused calls ended unplaced; Vapi was asked once per customer.
    n = len(placed) + len(refused)
    (ended,) = [e for e in events if e["type"] == "campaign.ended"]
    assert ended["counters"] == {
        "calls": n,
        "callsEnded": n,
        "placed": len(placed),
        "skipped": 0,
        "predialFailed": 0,
    }
    assert campaign["status"] == "ended"
    assert campaign["callsCounterEnded"] == n
    assert campaign["callsCounterScheduled"] == 0
    assert campaign["callsCounterInProgress"] == 0
    counters = summary["contactCounters"]
    assert counters["completed"] == len(placed)
    assert counters["failed"] == len(refused)
    assert sum(counters.values()) == n
    assert len(record.post_call_requests) == n
    assert set(record.dials_by_number) == {c["number"] for c in placed}
    assert set(record.dials_by_number.values()) == {1}
