"""The campaign state machine."""

from __future__ import annotations

import pytest

from campaign_service.campaigns import state
from campaign_service.campaigns.schemas import CampaignEndedReason, CampaignStatus
from campaign_service.errors import BadRequest

S = CampaignStatus


def test_transitions():
    allowed = {(a, b) for a in S for b in S if state.can_transition(a, b)}
    assert allowed == {
        (S.SCHEDULED, S.IN_PROGRESS),
        (S.SCHEDULED, S.ENDED),
        (S.IN_PROGRESS, S.ENDED),
    }


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


def test_configuration_is_editable_only_while_scheduled():
    state.require_config_editable(S.SCHEDULED, {"assistantId", "maxConcurrency"})
    state.require_config_editable(S.IN_PROGRESS, set())
    with pytest.raises(BadRequest) as raised:
        state.require_config_editable(S.IN_PROGRESS, {"maxConcurrency", "assistantId"})
    assert raised.value.message == (
        "campaign is in-progress; assistantId, maxConcurrency can only be updated while it is "
        "scheduled"
    )
