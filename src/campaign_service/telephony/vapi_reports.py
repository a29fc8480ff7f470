"""Pure mapping of what Vapi reports (a Call, or a server message) to a `VapiReport`.

Mapping decisions where Vapi's statuses or reasons do not fit this service's call lifecycle:
- Vapi status `not-found` means Vapi no longer has the call: it will never progress, so it is
  reported as `ended` (with the call's endedReason if it has a known one, else `call-deleted`).
- Vapi status `deletion-failed`, and any status string this version does not know, say nothing
  about the call's progress: no report is made (the functions return None).
- An endedReason that is not in Vapi's list as this version knows it (Vapi adds reasons over
  time) becomes `call.start.error-get-resources-validation` if it names a start error
  (`call.start.*`), else `phone-call-provider-closed-websocket` (the call ended on the provider's
  side for a reason not known here). The raw value stays in `vapi_ended_reason`.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from campaign_service.calls.ended_reasons import ENDED_REASONS
from campaign_service.calls.status import CallStatus

# Vapi statuses that are this service's call statuses too.
REPORT_STATUSES = frozenset(CallStatus)
UNKNOWN_START_ERROR = "call.start.error-get-resources-validation"
UNKNOWN_ENDED_REASON = "phone-call-provider-closed-websocket"
GONE = "call-deleted"
SECRET_HEADER = "x-vapi-secret"


@dataclass(frozen=True)
class EndDetails:
    """What Vapi knows about a call once it has ended."""

    started_at: datetime | None
    ended_at: datetime | None
    cost: float | None
    summary: str | None
    analysis: dict[str, Any] | None
    recording_url: str | None


@dataclass(frozen=True)
class VapiReport:
    """One call's status as Vapi reports it; `call_id` is ours, read from the metadata tag."""

    vapi_call_id: str
    call_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    status: CallStatus
    ended_reason: str | None
    vapi_ended_reason: str | None
    occurred_at: datetime | None
    end: EndDetails | None
    source: Literal["call", "status-update", "end-of-call-report"]


def known_ended_reason(reason: str | None) -> str:
    """Vapi's endedReason if this service knows it, else the documented stand-in."""
    if reason in ENDED_REASONS:
        return reason
    if reason is not None and reason.startswith(("call.start.", "call-start-")):
        return UNKNOWN_START_ERROR
    return UNKNOWN_ENDED_REASON


def report_from_call(call: Mapping[str, Any]) -> VapiReport | None:
    """The report for a Call body (GET /call, POST /call); None if it has no usable status."""
    return _report(
        call,
        status=call.get("status"),
        reason=call.get("endedReason"),
        occurred_at=parse_instant(call.get("updatedAt")),
        details=call,
        source="call",
    )


def report_from_server_message(payload: Mapping[str, Any]) -> VapiReport | None:
    """The report for a `status-update` or `end-of-call-report` (wrapped in `{"message": ...}`
    or not); None for other message types or messages without a call or usable status."""
    message = payload.get("message", payload)
    if not isinstance(message, Mapping):
        return None
    call = message.get("call")
    if not isinstance(call, Mapping):
        return None
    occurred_at = _from_millis(message.get("timestamp")) or parse_instant(call.get("updatedAt"))
    reason = message.get("endedReason") or call.get("endedReason")
    kind = message.get("type")
    if kind == "status-update":
        status = message.get("status")
        return _report(call, status, reason, occurred_at, {**call, **message}, "status-update")
    if kind == "end-of-call-report":
        return _report(call, CallStatus.ENDED, reason, occurred_at, message, "end-of-call-report")
    return None


def _report(
    call: Mapping[str, Any],
    status: Any,
    reason: Any,
    occurred_at: datetime | None,
    details: Mapping[str, Any],
    source: Literal["call", "status-update", "end-of-call-report"],
) -> VapiReport | None:
    vapi_id = call.get("id")
    if not isinstance(vapi_id, str) or not vapi_id:
        return None
    raw_reason = reason if isinstance(reason, str) else None
    if status == "not-found":
        status = CallStatus.ENDED
        raw_reason = raw_reason if raw_reason in ENDED_REASONS else GONE
    if status not in REPORT_STATUSES:
        return None
    ended = status == CallStatus.ENDED
    metadata = _metadata(call)
    return VapiReport(
        vapi_call_id=vapi_id,
        call_id=_uuid(metadata.get("callId")),
        campaign_id=_uuid(metadata.get("campaignId")),
        status=CallStatus(status),
        ended_reason=known_ended_reason(raw_reason) if ended else None,
        vapi_ended_reason=raw_reason if ended else None,
        occurred_at=occurred_at,
        end=_end_details(details) if ended else None,
        source=source,
    )


def _end_details(body: Mapping[str, Any]) -> EndDetails:
    analysis = body.get("analysis") if isinstance(body.get("analysis"), dict) else None
    artifact = body.get("artifact") if isinstance(body.get("artifact"), dict) else {}
    recording = (artifact or {}).get("recordingUrl") or body.get("recordingUrl")
    cost = body.get("cost")
    return EndDetails(
        started_at=parse_instant(body.get("startedAt")),
        ended_at=parse_instant(body.get("endedAt")),
        cost=float(cost) if isinstance(cost, int | float) else None,
        summary=(analysis or {}).get("summary") or body.get("summary"),
        analysis=analysis or None,
        recording_url=recording if isinstance(recording, str) else None,
    )


def _metadata(call: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("assistantOverrides", "squadOverrides"):
        overrides = call.get(key)
        metadata = overrides.get("metadata") if isinstance(overrides, Mapping) else None
        if isinstance(metadata, Mapping) and "callId" in metadata:
            return metadata
    return {}


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def parse_instant(value: Any) -> datetime | None:
    """An ISO 8601 instant from Vapi (naive ones taken as UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _from_millis(value: Any) -> datetime | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def verify_webhook_secret(headers: Mapping[str, str], expected: str) -> bool:
    """Whether the request carries Vapi's `X-Vapi-Secret` equal to `expected` (constant time)."""
    if not expected:
        return False
    found = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER), None)
    if found is None:
        return False
    return hmac.compare_digest(found.encode(), expected.encode())
