"""Provider status reports: duplicates and any order of arrival lead to the same final state."""

from __future__ import annotations

import itertools
import uuid

import pytest

from campaign_service.calls.repository import apply_status_reports
from campaign_service.calls.status import CallStatus
from campaign_service.db.session import unit_of_work
from campaign_service.telephony.base import StatusReport
from tests.conftest import campaign_body
from tests.dispatcher.conftest import rows

S = CallStatus
LIFECYCLE = [
    StatusReport(uuid.UUID(int=0), S.QUEUED, provider_call_id="p-1"),
    StatusReport(uuid.UUID(int=0), S.RINGING),
    StatusReport(uuid.UUID(int=0), S.IN_PROGRESS),
    StatusReport(uuid.UUID(int=0), S.ENDED, ended_reason="voicemail"),
]


async def _one_call(client, org) -> str:
    body = (await client.post("/campaigns", json=campaign_body(n=1), headers=org.headers)).json()
    return next(iter(body["calls"]))


async def _apply_all(sessions, clock, call_id: str, events) -> None:
    for event in events:
        async with unit_of_work(sessions) as session:
            await apply_status_reports(
                session,
                [
                    StatusReport(
                        uuid.UUID(call_id), event.status, event.ended_reason, event.provider_call_id
                    )
                ],
                source="test",
                now=clock(),
            )


async def _final_state(sessions, call_id: str):
    call = (
        await rows(sessions, "SELECT status, ended_reason FROM calls WHERE id = :id", id=call_id)
    )[0]
    events = await rows(
        sessions,
        "SELECT from_status, to_status FROM call_events WHERE call_id = :id ORDER BY id",
        id=call_id,
    )
    return (call.status, call.ended_reason), [(e.from_status, e.to_status) for e in events]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4)))[::5])
async def test_any_order_ends_in_the_same_state(client, org, sessions, clock, order):
    call_id = await _one_call(client, org)
    await _apply_all(sessions, clock, call_id, [LIFECYCLE[i] for i in order])
    (status, reason), events = await _final_state(sessions, call_id)
    assert (status, reason) == ("ended", "voicemail")
    ranks = ["scheduled", "queued", "ringing", "in-progress", "forwarding", "ended"]
    assert all(ranks.index(a) < ranks.index(b) for a, b in events)
    assert events[-1][1] == "ended"


async def test_duplicates_are_harmless(client, org, sessions, clock):
    call_id = await _one_call(client, org)
    doubled = [e for e in LIFECYCLE for _ in range(2)] + LIFECYCLE
    await _apply_all(sessions, clock, call_id, doubled)
    state, events = await _final_state(sessions, call_id)
    assert state == ("ended", "voicemail")
    assert events == [
        ("scheduled", "queued"),
        ("queued", "ringing"),
        ("ringing", "in-progress"),
        ("in-progress", "ended"),
    ]


async def test_a_late_event_never_reopens_an_ended_call(client, org, sessions, clock):
    call_id = await _one_call(client, org)
    await _apply_all(
        sessions,
        clock,
        call_id,
        [
            LIFECYCLE[3],
            StatusReport(uuid.UUID(int=0), S.ENDED, ended_reason="customer-ended-call"),
            LIFECYCLE[2],
        ],
    )
    state, events = await _final_state(sessions, call_id)
    assert state == ("ended", "voicemail")
    assert events == [("scheduled", "ended")]


async def test_event_for_an_unknown_call_changes_nothing(sessions, clock):
    async with unit_of_work(sessions) as session:
        changes = await apply_status_reports(
            session, [StatusReport(uuid.uuid4(), S.RINGING)], source="test", now=clock()
        )
    assert changes == []


def test_reports_are_validated():
    with pytest.raises(ValueError, match="endedReason"):
        StatusReport(uuid.uuid4(), S.ENDED)
    with pytest.raises(ValueError, match="unknown"):
        StatusReport(uuid.uuid4(), S.ENDED, ended_reason="hung-up-angrily")
    with pytest.raises(ValueError, match="back to scheduled"):
        StatusReport(uuid.uuid4(), S.SCHEDULED)
