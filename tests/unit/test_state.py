"""The campaign lifecycle table and the call status sets."""

from __future__ import annotations

import pytest

from campaign_service.calls.status import OPEN, ORDER, PLACED, CallStatus, is_forward
from campaign_service.campaigns import state
from campaign_service.campaigns.state import CampaignEndedReason, CampaignStatus, Stage
from campaign_service.db import predicates
from campaign_service.errors import BadRequest

S = Stage


def test_transitions():
    allowed = {(a, b) for a in S for b in S if state.can_transition(a, b)}
    assert allowed == {
        (S.SCHEDULED, S.IN_PROGRESS),
        (S.SCHEDULED, S.ENDED),
        (S.IN_PROGRESS, S.ENDED),
        (S.ENDED, S.ARCHIVED),
    }


def test_a_compare_and_set_accepts_exactly_the_allowed_sources():
    assert state.sources_of(S.ENDED) == (S.SCHEDULED, S.IN_PROGRESS)
    assert state.sources_of(S.IN_PROGRESS) == (S.SCHEDULED,)
    assert state.sources_of(S.ARCHIVED) == (S.ENDED,)
    assert state.sources_of(S.SCHEDULED) == ()


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.ENDED, S.SCHEDULED), (S.ENDED, S.ENDED), (S.IN_PROGRESS, S.SCHEDULED)],
)
def test_refused_transition_names_the_current_status(current, target):
    with pytest.raises(BadRequest) as raised:
        state.require_transition(current, target)
    assert raised.value.message == f"campaign is {current.value} and cannot move to {target.value}"


def test_user_end_reason_records_where_the_campaign_was():
    assert state.user_end_reason(S.SCHEDULED) is CampaignEndedReason.SCHEDULED_ENDED_BY_USER
    assert state.user_end_reason(S.IN_PROGRESS) is CampaignEndedReason.IN_PROGRESS_ENDED_BY_USER
    with pytest.raises(BadRequest, match="ended"):
        state.user_end_reason(S.ENDED)


def test_every_cause_has_a_sentence():
    assert set(state.DETAIL) == set(state.Cause)


def test_configuration_is_editable_only_while_scheduled():
    C = CampaignStatus
    state.require_config_editable(C.SCHEDULED, {"assistantId", "maxConcurrency"})
    state.require_config_editable(C.IN_PROGRESS, set())
    with pytest.raises(BadRequest) as raised:
        state.require_config_editable(C.IN_PROGRESS, {"maxConcurrency", "assistantId"})
    assert raised.value.message == (
        "campaign is in-progress; assistantId, maxConcurrency can only be updated while it is "
        "scheduled"
    )


def test_call_status_sets():
    assert ORDER[0] is CallStatus.SCHEDULED
    assert ORDER[-1] is CallStatus.ENDED
    assert CallStatus.ENDED not in OPEN
    assert CallStatus.SCHEDULED in OPEN
    assert OPEN - {CallStatus.SCHEDULED} == PLACED
    assert is_forward(CallStatus.QUEUED, CallStatus.ENDED)
    assert not is_forward(CallStatus.ENDED, CallStatus.RINGING)


def test_sql_fragments_come_from_the_sets():
    assert predicates.in_flight("k") == (
        "(k.status IN ('queued', 'ringing', 'in-progress', 'forwarding')"
        " OR k.lease_expires_at IS NOT NULL)"
    )
    assert predicates.CALL_STATUS_CHECK == (
        "status IN ('scheduled', 'queued', 'ringing', 'in-progress', 'forwarding', 'ended')"
    )
