"""Pure rules of the control extensions: outcome groups, retry delays, the feasibility
arithmetic, and the wording of blockedBy."""

from __future__ import annotations

from datetime import UTC, datetime

from campaign_service.calls.ended_reasons import CAPACITY_WINDOW_CLOSED, ENDED_REASONS
from campaign_service.calls.outcomes import PROVIDER_FAILURES, RETRY_GROUPS, retry_reasons
from campaign_service.campaigns.calling_hours import CallingHours
from campaign_service.campaigns.feasibility import estimate, retry_delay_seconds
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.readmodel.blockers import Facts, Held, blocked_by

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday


def test_retry_groups_are_known_reasons_and_do_not_overlap():
    seen: set[str] = set()
    for reasons in RETRY_GROUPS.values():
        assert reasons <= ENDED_REASONS
        assert not reasons & seen
        seen |= reasons
    assert retry_reasons(["no-answer", "busy"]) >= {"customer-did-not-answer", "customer-busy"}
    # A wrong number is never retried.
    assert "sip-outbound-unallocated-number" not in seen
    assert "twilio-reported-customer-misdialed" not in seen


def test_provider_failures_are_the_platforms_not_the_callees():
    assert {
        "call.start.error-get-phone-number",
        "assistant-not-found",
        "pipeline-error-openai-llm-failed",
        "call.in-progress.error-sip-outbound-call-failed-to-connect",
    } <= PROVIDER_FAILURES
    for outcome in (
        "customer-did-not-answer",
        "customer-busy",
        "voicemail",
        CAPACITY_WINDOW_CLOSED,
    ):
        assert outcome not in PROVIDER_FAILURES
    assert PROVIDER_FAILURES <= ENDED_REASONS


def test_retry_delays_fixed_and_backoff():
    fixed = {"delay": {"type": "fixed", "seconds": 600}}
    backoff = {"delay": {"type": "backoff", "seconds": 600}}
    assert [retry_delay_seconds(fixed, a) for a in (1, 2, 3)] == [600, 600, 600]
    assert [retry_delay_seconds(backoff, a) for a in (1, 2, 3)] == [600, 1200, 2400]


def test_estimate_without_calling_hours_counts_batches():
    result = estimate(start=START, groups=[((), 25)], hours=None, concurrency=10, call_seconds=60)
    assert result.finish_at == datetime(2026, 6, 1, 12, 3, tzinfo=UTC)  # 3 batches of a minute


def test_estimate_with_calling_hours_carries_over_to_the_next_day():
    window = CallingHours.from_config(
        {"days": ["mon", "tue"], "start": "09:00", "end": "10:00", "fallbackTimeZone": "UTC"}
    )
    # One hour a day at 1 call a minute: 90 calls need Monday's hour and half of Tuesday's.
    monday_morning = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    result = estimate(
        start=monday_morning, groups=[(("UTC",), 90)], hours=window, concurrency=1, call_seconds=60
    )
    assert result.finish_at == datetime(2026, 6, 2, 9, 30, tzinfo=UTC)
    # From Monday noon, Monday's hour is gone: Tuesday's, then the next Monday's.
    late = estimate(
        start=START, groups=[(("UTC",), 90)], hours=window, concurrency=1, call_seconds=60
    )
    assert late.finish_at == datetime(2026, 6, 8, 9, 30, tzinfo=UTC)
    assert result.never_callable == 0


def test_estimate_reports_contacts_that_are_never_callable():
    window = CallingHours.from_config(
        {"days": ["mon"], "start": "09:00", "end": "17:00", "fallbackTimeZone": "UTC"}
    )
    far = ("Asia/Tokyo", "America/New_York")
    result = estimate(
        start=START,
        groups=[(far, 3), (("UTC",), 2)],
        hours=window,
        concurrency=5,
        call_seconds=60,
    )
    assert result.never_callable == 3
    assert result.finish_at == datetime(2026, 6, 1, 12, 1, tzinfo=UTC)  # open now: one batch


def test_running_campaign_with_free_slots_is_blocked_by_nothing():
    facts = Facts(
        status=CampaignStatus.IN_PROGRESS,
        now=START,
        waiting=3,
        callable=3,
        in_flight=1,
        max_concurrency=5,
        org_limit=10,
        org_usage=[("a", "A", 1)],
    )
    assert blocked_by(facts) == []


def test_held_calls_keep_the_earliest_time():
    held = Held().add(2, datetime(2026, 6, 2, tzinfo=UTC)).add(1, datetime(2026, 6, 1, tzinfo=UTC))
    assert (held.calls, held.until) == (3, datetime(2026, 6, 1, tzinfo=UTC))
