"""POST /webhooks/vapi/{token}: Vapi's server messages update the org's calls through the one
status-report path; unknown tokens write nothing; other messages are accepted and ignored."""

from __future__ import annotations

from typing import Any

from campaign_service.calls import repository as calls
from campaign_service.calls.status import CallStatus
from campaign_service.db.session import unit_of_work
from campaign_service.telephony.base import StatusReport
from campaign_service.timeutil import utcnow
from tests.conftest import campaign_body
from tests.dispatcher.conftest import rows, scalar

HISTORY = "SELECT to_status, source FROM call_events WHERE call_id = :id ORDER BY id"


async def _token(sessions, org_id: str) -> str:
    return str(await scalar(sessions, "SELECT webhook_token FROM orgs WHERE id = :id", id=org_id))


async def _placed_call(client, org, sessions, vapi_id: str) -> tuple[str, str]:
    """A campaign with one call placed at Vapi as `vapi_id`; (campaign id, call id)."""
    created = await client.post("/campaigns", json=campaign_body(n=1), headers=org.headers)
    campaign_id = created.json()["id"]
    call_id = await scalar(sessions, "SELECT id FROM calls WHERE campaign_id = :c", c=campaign_id)
    async with unit_of_work(sessions) as session:
        await calls.apply_status_reports(
            session,
            [StatusReport(call_id, CallStatus.QUEUED, provider_call_id=vapi_id)],
            source="dispatcher",
            now=utcnow(),
        )
    return campaign_id, str(call_id)


def _message(kind: str, vapi_id: str, call_id: str, **fields: Any) -> dict[str, Any]:
    call = {
        "id": vapi_id,
        "assistantOverrides": {"metadata": {"callId": call_id, "campaignId": "c"}},
    }
    return {"message": {"type": kind, "call": call, "timestamp": 1_795_000_000_000, **fields}}


END_OF_CALL = {
    "endedReason": "customer-ended-call",
    "cost": 0.37,
    "startedAt": "2026-11-30T10:00:00.000Z",
    "endedAt": "2026-11-30T10:01:30.000Z",
    "analysis": {"summary": "Booked a demo.", "successEvaluation": "true"},
    "artifact": {"recordingUrl": "https://example.test/rec.wav"},
}


async def test_status_and_end_of_call_report_reach_the_call(client, org, sessions):
    campaign_id, call_id = await _placed_call(client, org, sessions, "vapi-1")
    url = f"/webhooks/vapi/{await _token(sessions, org.org_id)}"
    ringing = _message("status-update", "vapi-1", call_id, status="ringing")
    ended = _message("end-of-call-report", "vapi-1", call_id, **END_OF_CALL)
    # Duplicated and reordered: the end first, then the ringing, then both again.
    for message in (ended, ringing, ended, ringing):
        response = await client.post(url, json=message)
        assert response.status_code == 200, response.text
    history = await rows(sessions, HISTORY, id=call_id)
    assert [r.to_status for r in history] == ["queued", "ended"]
    assert history[-1].source == "vapi-webhook"
    call = await client.get(f"/campaigns/{campaign_id}/calls/{call_id}", headers=org.headers)
    body = call.json()
    assert body["status"] == "ended"
    assert body["endedReason"] == "customer-ended-call"
    assert body["providerCallId"] == "vapi-1"
    assert body["cost"] == 0.37
    report = body["endOfCallReport"]
    assert report["summary"] == "Booked a demo."
    assert report["recordingUrl"] == "https://example.test/rec.wav"
    assert report["analysis"]["successEvaluation"] == "true"


async def test_a_late_end_of_call_report_still_keeps_its_details(client, org, sessions):
    campaign_id, call_id = await _placed_call(client, org, sessions, "vapi-2")
    url = f"/webhooks/vapi/{await _token(sessions, org.org_id)}"
    status_ended = _message(
        "status-update", "vapi-2", call_id, status="ended", **{"endedReason": "customer-ended-call"}
    )
    await client.post(url, json=status_ended)
    await client.post(url, json=_message("end-of-call-report", "vapi-2", call_id, **END_OF_CALL))
    body = (
        await client.get(f"/campaigns/{campaign_id}/calls/{call_id}", headers=org.headers)
    ).json()
    assert body["cost"] == 0.37
    assert body["endOfCallReport"]["summary"] == "Booked a demo."
    assert [r.to_status for r in await rows(sessions, HISTORY, id=call_id)] == ["queued", "ended"]


async def test_an_unknown_token_is_refused_and_writes_nothing(client, org, sessions):
    _, call_id = await _placed_call(client, org, sessions, "vapi-3")
    message = _message("end-of-call-report", "vapi-3", call_id, **END_OF_CALL)
    response = await client.post("/webhooks/vapi/not-a-token", json=message)
    assert response.status_code == 401
    assert set(response.json()) == {"message", "error", "statusCode"}
    assert [r.to_status for r in await rows(sessions, HISTORY, id=call_id)] == ["queued"]


async def test_another_orgs_token_does_not_reach_the_call(client, org, make_org, sessions):
    other = await make_org(name="Other")
    _, call_id = await _placed_call(client, org, sessions, "vapi-4")
    message = _message("end-of-call-report", "vapi-4", call_id, **END_OF_CALL)
    response = await client.post(
        f"/webhooks/vapi/{await _token(sessions, other.org_id)}", json=message
    )
    assert response.status_code == 200
    assert response.json()["applied"] is False
    assert [r.to_status for r in await rows(sessions, HISTORY, id=call_id)] == ["queued"]


async def test_other_messages_are_accepted_and_ignored(client, org, sessions):
    _, call_id = await _placed_call(client, org, sessions, "vapi-5")
    url = f"/webhooks/vapi/{await _token(sessions, org.org_id)}"
    for message in (
        _message("transcript", "vapi-5", call_id, transcript="hello"),
        _message("status-update", "vapi-5", call_id, status="deletion-failed"),
        {"message": {"type": "hang"}},
    ):
        response = await client.post(url, json=message)
        assert response.status_code == 200
        assert response.json()["applied"] is False
    assert [r.to_status for r in await rows(sessions, HISTORY, id=call_id)] == ["queued"]
    bad = await client.post(url, content=b"not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400


async def test_the_token_stays_out_of_the_logs(client, org, sessions, caplog):
    token = await _token(sessions, org.org_id)
    with caplog.at_level("INFO"):
        await client.post(f"/webhooks/vapi/{token}", json={"message": {"type": "hang"}})
        await client.post("/webhooks/vapi/wrong-token", json={"message": {"type": "hang"}})
    # The service's own lines (the test's HTTP client logs its requests too).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("campaign"))
    assert "/webhooks/vapi/{token}" in logged
    assert token not in logged
    assert "wrong-token" not in logged
