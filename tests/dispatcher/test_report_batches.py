"""Several reports of one call in one batch (a provider telling "answered" and "ended" at
once) are applied in one statement, with exactly the effect of applying them one at a time:
the same call row, history, outbox events, retries and returned changes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from campaign_service.calls.repository import apply_status_reports, lease_due_calls
from campaign_service.calls.status import CallStatus
from campaign_service.db.session import unit_of_work
from campaign_service.dispatcher.scheduler import activate_due_campaigns
from campaign_service.telephony.base import StatusReport
from tests.conftest import campaign_body
from tests.dispatcher.conftest import rows
from tests.dispatcher.test_server_events import EVERY_EVENT

S = CallStatus
# (which call of two, status, ended reason, provider call ID, extras): each sequence is
# given whole in one batch to two calls, and one report at a time to two twin calls.
Step = tuple[int, CallStatus, str | None, str | None, dict[str, Any]]
ENDED_TALKING = (S.ENDED, "customer-ended-call")
SEQUENCES: dict[str, list[Step]] = {
    "answered then ended (the instant provider)": [
        (0, S.IN_PROGRESS, None, "p-a", {}),
        (0, *ENDED_TALKING, "p-a", {}),
    ],
    "the whole lifecycle, two calls interleaved": [
        (0, S.QUEUED, None, "p-a", {}),
        (1, S.QUEUED, None, "p-b", {}),
        (0, S.RINGING, None, None, {"heard": True}),
        (1, S.RINGING, None, None, {}),
        (0, S.IN_PROGRESS, None, None, {}),
        (1, S.ENDED, "customer-did-not-answer", None, {"cost": 0.1}),
        (0, *ENDED_TALKING, None, {"cost": 1.5, "end_report": {"summary": "ok"}}),
    ],
    "a step back between two steps forward": [
        (0, S.IN_PROGRESS, None, "p-a", {}),
        (0, S.RINGING, None, "p-other", {"heard": True}),
        (0, S.ENDED, "voicemail", None, {}),
        (1, S.RINGING, None, None, {}),
        (1, S.QUEUED, None, "p-b", {}),  # says nothing new: the call keeps no provider ID
        (1, S.IN_PROGRESS, None, None, {}),
    ],
    "ended straight from scheduled, then late reports": [
        (0, S.ENDED, "customer-busy", "p-a", {"provider_error": "busy"}),
        (0, S.IN_PROGRESS, None, None, {}),
        (0, S.ENDED, "voicemail", None, {"end_report": {"late": True}, "cost": 2.0}),
        (1, S.RINGING, None, "p-b", {}),
        (1, S.ENDED, "customer-busy", None, {}),
        (1, S.ENDED, "customer-busy", None, {}),
    ],
    "a repeat between two steps, with the reports' own times": [
        (0, S.QUEUED, None, "p-a", {"at": 1}),
        (0, S.QUEUED, None, "p-a", {"at": 2}),
        (0, S.IN_PROGRESS, None, None, {"at": 3}),
        (0, S.IN_PROGRESS, None, None, {"at": 4, "heard": True}),
        (0, S.FORWARDING, None, None, {"at": 5}),
        (0, S.ENDED, "assistant-forwarded-call", None, {"at": 6}),
    ],
    "only what the provider said": [
        (0, S.RINGING, None, None, {}),
        (0, S.QUEUED, None, "p-a", {"heard": True}),  # heard: its provider ID is kept
        (0, S.IN_PROGRESS, None, "p-a2", {}),
        (1, S.QUEUED, None, "p-b", {}),
        (1, S.QUEUED, None, None, {"cost": 0.5}),
        (1, S.QUEUED, None, None, {"provider_error": "slow"}),
    ],
}

CALL_COLUMNS = (
    "status, ended_reason, ended_at, started_at, provider_call_id, lease_owner,"
    " lease_expires_at, next_attempt_at, provider_error, cost, end_report, reported_at,"
    " updated_at, attempts"
)
RETRY_PLAN = {
    "retryOn": ["no-answer", "busy"],
    "maxAttempts": 3,
    "delay": {"type": "fixed", "seconds": 60},
}


async def _four_leased_calls(client, org, sessions, clock) -> list[uuid.UUID]:
    """A running campaign that retries and writes every event; its four calls, leased."""
    body = campaign_body(4, server={"url": "http://127.0.0.1:9/events"}, serverMessages=EVERY_EVENT)
    body["retryPlan"] = RETRY_PLAN
    response = await client.post("/campaigns", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    campaign_id = uuid.UUID(response.json()["id"])
    async with unit_of_work(sessions) as session:
        await activate_due_campaigns(session, now=clock())
    clock.advance(seconds=1)
    async with unit_of_work(sessions) as session:
        leased = await lease_due_calls(
            session,
            campaign_id=campaign_id,
            count=4,
            owner="test",
            now=clock(),
            lease_until=clock() + timedelta(seconds=30),
        )
    clock.advance(seconds=1)
    return [c.call_id for c in sorted(leased, key=lambda c: c.position)]


def _reports(sequence: list[Step], calls: list[uuid.UUID], clock) -> list[StatusReport]:
    reports = []
    for which, status, reason, provider_call_id, extras in sequence:
        extras = dict(extras)
        at = extras.pop("at", None)
        occurred_at = None if at is None else clock() - timedelta(seconds=10 - at)
        reports.append(
            StatusReport(calls[which], status, reason, provider_call_id, occurred_at, **extras)
        )
    return reports


async def _state(sessions, call_id: uuid.UUID) -> dict[str, Any]:
    """What the reports made of one call, without the call's own identity."""
    (call,) = await rows(sessions, f"SELECT {CALL_COLUMNS} FROM calls WHERE id = :id", id=call_id)
    history = await rows(
        sessions,
        "SELECT from_status, to_status, ended_reason, source, created_at FROM call_events"
        " WHERE call_id = :id ORDER BY id",
        id=call_id,
    )
    events = await rows(
        sessions,
        "SELECT type, (payload -> 'call') - 'id' AS call, payload -> 'timestamp' AS at,"
        " created_at FROM event_outbox"
        " WHERE payload -> 'call' ->> 'id' = CAST(CAST(:id AS uuid) AS text)"
        " ORDER BY id",
        id=call_id,
    )
    retries = await rows(
        sessions,
        "SELECT attempt_number, status, next_attempt_at, capacity_since, created_at"
        " FROM calls WHERE contact_id = :id ORDER BY attempt_number",
        id=call_id,
    )
    return {
        "call": tuple(call),
        "history": [tuple(e) for e in history],
        "events": [tuple(e) for e in events],
        "retries": [tuple(r) for r in retries],
    }


@pytest.mark.parametrize("name", list(SEQUENCES))
async def test_a_batch_does_what_its_reports_do_one_at_a_time(client, org, sessions, clock, name):
    calls = await _four_leased_calls(client, org, sessions, clock)
    batch_calls, single_calls = calls[:2], calls[2:]
    sequence = SEQUENCES[name]

    batch = _reports(sequence, batch_calls, clock)
    stranger = StatusReport(uuid.uuid4(), S.RINGING)  # an unknown call changes nothing
    async with unit_of_work(sessions) as session:
        batch_changes = await apply_status_reports(
            session, [stranger, *batch], source="test", now=clock()
        )
    singles_changes = []
    for report in _reports(sequence, single_calls, clock):
        async with unit_of_work(sessions) as session:
            singles_changes += await apply_status_reports(
                session, [report], source="test", now=clock()
            )

    for batch_call, single_call in zip(batch_calls, single_calls, strict=True):
        assert await _state(sessions, batch_call) == await _state(sessions, single_call)

    def per_call(changes, ids):
        return [
            [(c.from_status, c.to_status) for c in changes if c.call_id == call_id]
            for call_id in ids
        ]

    assert per_call(batch_changes, batch_calls) == per_call(singles_changes, single_calls)
    assert len(batch_changes) == len(singles_changes)
    # Changes come back step by step: every call's first change before any second one.
    steps = [
        sum(1 for d in batch_changes[:i] if d.call_id == c.call_id)
        for i, c in enumerate(batch_changes)
    ]
    assert steps == sorted(steps)


async def test_the_instant_providers_pair_writes_both_steps(client, org, sessions, clock):
    calls = await _four_leased_calls(client, org, sessions, clock)
    batch = _reports(SEQUENCES["answered then ended (the instant provider)"], calls, clock)
    async with unit_of_work(sessions) as session:
        changes = await apply_status_reports(session, batch, source="test", now=clock())
    assert [(c.from_status, c.to_status) for c in changes] == [
        (S.SCHEDULED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.ENDED),
    ]
    state = await _state(sessions, calls[0])
    assert [h[:3] for h in state["history"]] == [
        ("scheduled", "in-progress", None),
        ("in-progress", "ended", "customer-ended-call"),
    ]
    assert [(e[0], e[1]["status"]) for e in state["events"]] == [
        ("contact.dispatched", "in-progress"),
        ("contact.completed", "ended"),
    ]
    assert state["call"][:2] == ("ended", "customer-ended-call")
    assert state["call"][5:8] == (None, None, None)  # the lease is gone
