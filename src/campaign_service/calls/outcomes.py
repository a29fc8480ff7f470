"""Groups of call endedReasons the engine acts on: which outcomes a retry plan may retry, and
which count as a failure at the provider for the breaker.

Built from Vapi's endedReason list (`ended_reasons.txt`) and its documented meanings. A
reason that is in no retry group is never retried: a completed conversation, a wrong number
(`twilio-reported-customer-misdialed`, `sip-outbound-unallocated-number`, SIP 403/407,
`vonage-rejected`), or an error of the assistant or the platform, which another try would
only repeat.
"""

from __future__ import annotations

from enum import StrEnum

from campaign_service.calls.ended_reasons import CAPACITY_WINDOW_CLOSED, ENDED_REASONS


class RetryGroup(StrEnum):
    """The outcomes a retry plan can name in `retryOn`."""

    NO_ANSWER = "no-answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    FAILED_TO_CONNECT = "failed-to-connect"


_SIP = "call.in-progress.error-providerfault-outbound-sip-"

RETRY_GROUPS: dict[RetryGroup, frozenset[str]] = {
    RetryGroup.NO_ANSWER: frozenset(
        {
            "customer-did-not-answer",
            _SIP + "408-request-timeout",
            _SIP + "480-temporarily-unavailable",
        }
    ),
    RetryGroup.BUSY: frozenset({"customer-busy"}),
    RetryGroup.VOICEMAIL: frozenset({"voicemail"}),
    RetryGroup.FAILED_TO_CONNECT: frozenset(
        {
            "call.in-progress.error-sip-outbound-call-failed-to-connect",
            "twilio-failed-to-connect-call",
            "vonage-failed-to-connect-call",
            "sip-outbound-carrier-released-call",
            _SIP + "503-service-unavailable",
        }
    ),
}

# Prefixes of the reasons that say the platform, the provider or the configuration failed
# (not the person called): the start errors, pipeline and provider faults, a missing or
# invalid assistant.
_FAILURE_PREFIXES = (
    "call.start.",
    "call-start-error-",
    "pipeline-error-",
    "call.in-progress.error-vapifault-",
    "call.in-progress.error-providerfault-",
    "call.in-progress.error-pipeline-",
    "call.in-progress.error-configfault-",
    "assistant-not-",
    "assistant-request-",
)
_FAILURE_NAMES = (
    frozenset({"worker-shutdown", "phone-call-provider-closed-websocket"})
    | RETRY_GROUPS[RetryGroup.FAILED_TO_CONNECT]
)
# Outbound SIP answers about the number called, not about the caller's setup.
_NOT_FAILURES = frozenset(
    {
        _SIP + "403-forbidden",
        _SIP + "407-proxy-authentication-required",
        _SIP + "408-request-timeout",
        _SIP + "480-temporarily-unavailable",
        # This service's own reason for a call that never got a slot.
        CAPACITY_WINDOW_CLOSED,
    }
)

PROVIDER_FAILURES: frozenset[str] = frozenset(
    reason
    for reason in ENDED_REASONS
    if (reason.startswith(_FAILURE_PREFIXES) or reason in _FAILURE_NAMES)
    and reason not in _NOT_FAILURES
)
"""Outcomes the breaker counts as a failure at the provider."""


def retry_reasons(groups: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Every endedReason of these retry groups."""
    return frozenset().union(*(RETRY_GROUPS[RetryGroup(g)] for g in groups))


def group_table() -> tuple[list[str], list[str]]:
    """(reason, group) pairs as two parallel lists, for SQL that joins on them."""
    pairs = sorted((reason, group.value) for group, rs in RETRY_GROUPS.items() for reason in rs)
    return [r for r, _ in pairs], [g for _, g in pairs]


def _check() -> None:
    unknown = set().union(*RETRY_GROUPS.values()) - ENDED_REASONS
    if unknown:  # a typo here would silently never retry
        raise RuntimeError(f"unknown endedReasons in retry groups: {sorted(unknown)}")


_check()
