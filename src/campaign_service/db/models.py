"""ORM models: organizations, API keys, campaigns and their history, per-call records and
their history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from campaign_service.calls.status import CallStatus, SkipReason
from campaign_service.campaigns.state import CampaignStatus, PauseSource, Stage
from campaign_service.db import predicates
from campaign_service.db.base import Base

# Dispatcher numbers (see db/liveness.py).
DISPATCHER_WORKER_IDS = Sequence("dispatcher_worker_ids", metadata=Base.metadata)


class Org(Base):
    __tablename__ = "orgs"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    concurrency_limit: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Telephony provider settings. The Vapi key is stored only as Fernet ciphertext (see
    # orgs/secrets.py); its fingerprint is what may be shown. The webhook token names the org
    # in its webhook URL, so it is random and unique.
    provider: Mapped[str] = mapped_column(String(20), server_default="simulated")
    vapi_api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    vapi_api_key_fingerprint: Mapped[str | None] = mapped_column(String(8))
    vapi_base_url: Mapped[str | None] = mapped_column(Text)
    # 244 random bits (gen_random_uuid draws from PostgreSQL's strong random source) as 64 hex
    # digits, spelled as PostgreSQL shows it back so the schema comparison sees no drift.
    webhook_token: Mapped[str] = mapped_column(
        String(64),
        unique=True,
        server_default=text(
            "replace(((gen_random_uuid())::text || (gen_random_uuid())::text), '-'::text, ''::text)"
        ),
    )
    # Set when the provider refused the org's credentials: its calls are not dispatched, and
    # its campaigns show the reason, until a new key is given.
    dispatch_blocked_reason: Mapped[str | None] = mapped_column(Text)
    dispatch_blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The key that signs the org's campaign events (Standard Webhooks: "whsec_" and base64;
    # 64 hex digits are valid base64, 48 random-looking bytes once decoded). Rotated by the CLI.
    webhook_secret: Mapped[str] = mapped_column(
        String(80),
        server_default=text(
            "('whsec_'::text || replace(((gen_random_uuid())::text || (gen_random_uuid())::text),"
            " '-'::text, ''::text))"
        ),
    )

    __table_args__ = (
        CheckConstraint("concurrency_limit >= 1", name="concurrency_limit_positive"),
        CheckConstraint("provider IN ('simulated', 'vapi')", name="provider_valid"),
        CheckConstraint(
            "(vapi_api_key_encrypted IS NULL) = (vapi_api_key_fingerprint IS NULL)",
            name="vapi_key_fingerprint",
        ),
        CheckConstraint(
            "provider <> 'vapi' OR vapi_api_key_encrypted IS NOT NULL", name="vapi_needs_key"
        ),
    )


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


CAMPAIGN_SUMMARY = (
    "campaign_summary(status, ended_reason, name, id, org_id, created_at, updated_at,"
    " assistant_id, squad_id, phone_number_id, has_schedule_plan, earliest_at, latest_at,"
    " max_concurrency, calling_window, retry_plan, paused_at, paused_by, pause_reason,"
    " resumed_at, extra_config)"
)

CAMPAIGN_HEAD = (
    "campaign_head(status, ended_reason, name, assistant_id, workflow_id, squad_id,"
    " phone_number_id, has_schedule_plan, earliest_at, latest_at, id, org_id, created_at,"
    " updated_at, max_concurrency, extra_config, calling_window, retry_plan, paused_at,"
    " paused_by, pause_reason, resumed_at, feasibility)"
)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), server_default=CampaignStatus.SCHEDULED.value)
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    assistant_id: Mapped[str | None] = mapped_column(Text)
    workflow_id: Mapped[str | None] = mapped_column(Text)
    squad_id: Mapped[str | None] = mapped_column(Text)
    phone_number_id: Mapped[str | None] = mapped_column(Text)
    # Phone number of each dialPlan entry, in order; None when the campaign uses phoneNumberId.
    # The customers themselves live in the call rows (dial_plan_index says which entry).
    dial_plan_numbers: Mapped[list[str] | None] = mapped_column(JSONB)
    earliest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    has_schedule_plan: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    max_concurrency: Mapped[int] = mapped_column(Integer)
    # Opaque config echoed back as given: assistantOverrides, squadOverrides, server,
    # serverMessages, predialPlan.
    extra_config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    # Extensions: local calling hours and the retry plan as given (validated JSON), and the
    # feasibility estimate made at creation. None is SQL NULL (the engine tests IS NULL).
    calling_window: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    retry_plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    feasibility: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    # Extension: a running campaign that is paused places no new calls.
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_by: Mapped[str | None] = mapped_column(String(20))
    pause_reason: Mapped[str | None] = mapped_column(Text)
    resumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The campaign's v2 summary without counters and without its closing brace, rendered by
    # PostgreSQL on every write of the row (migration 0701 defines campaign_summary), so a
    # page of summaries reads stored text and puts the counters, if asked, on its end.
    summary_open: Mapped[str | None] = mapped_column(
        Text, Computed(f"left({CAMPAIGN_SUMMARY}, -1)", persisted=True), deferred=True
    )
    # The v1 body's fields from this row (migration 0701 defines campaign_head): a read adds
    # the audience, the call map, the counters and the org's dispatch block.
    head: Mapped[str | None] = mapped_column(
        Text, Computed(CAMPAIGN_HEAD, persisted=True), deferred=True
    )

    __table_args__ = (
        CheckConstraint(predicates.status_in("status", CampaignStatus), name="status_valid"),
        CheckConstraint("max_concurrency BETWEEN 1 AND 500", name="max_concurrency_range"),
        CheckConstraint(predicates.status_in("paused_by", PauseSource), name="paused_by_valid"),
        Index("ix_campaigns_org_created", "org_id", "created_at"),
        Index(
            "ix_campaigns_live_status",
            "status",
            postgresql_where=text(f"status <> '{CampaignStatus.ENDED.value}'"),
        ),
        UniqueConstraint("id", "org_id", name="uq_campaigns_id_org_id"),
    )


# A call's entry in its campaign's `calls` map: its id as the key, then its JSON document
# (call_document, migration 0601).
CALL_MAP_ENTRY = (
    """'"' || id::text || '":' || """
    "call_document(id, campaign_id, position, customer, phone_number_id, status, ended_reason,"
    " skip_reason, attempt_number, contact_id,"
    f" {predicates.waiting()},"
    " next_attempt_at, started_at, ended_at, created_at, updated_at)"
)


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID)
    position: Mapped[int] = mapped_column(Integer)
    dial_plan_index: Mapped[int | None] = mapped_column(Integer)
    phone_number_id: Mapped[str] = mapped_column(Text)
    customer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), server_default=CallStatus.SCHEDULED.value)
    ended_reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Dispatch bookkeeping. A lease marks a call being dialed: it holds a concurrency slot
    # until the provider's answer is recorded, and a lease that expires is recovered.
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(Text)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_call_id: Mapped[str | None] = mapped_column(Text)
    skip_reason: Mapped[str | None] = mapped_column(String(40))
    # Retries: which attempt at the contact this record is, and the contact's first record
    # (None on that first record itself).
    attempt_number: Mapped[int] = mapped_column(Integer, server_default="1")
    contact_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    # Calling hours: the contact's time zones, and when the stretch of calling hours this
    # waiting call is in closes (at or before now: it must be given its next stretch).
    time_zones: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    window_closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When this waiting call began to wait for a free slot, if later than its campaign's
    # start: its retry time, the opening of its calling hours, the campaign's resume.
    capacity_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Provider follow-up: when the latest dial attempt whose outcome is not yet known started
    # (cleared when it is known to have placed nothing), when the provider last reported on the
    # call, when the reconciler last asked it; its refusal text, the cost and end-of-call report.
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    polled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_error: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[float | None] = mapped_column(Float)
    end_report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The call's entry in its campaign's `calls` map, rendered by PostgreSQL on every write
    # of the row (migration 0703), so reads join stored text as it is.
    map_entry: Mapped[str | None] = mapped_column(
        Text, Computed(CALL_MAP_ENTRY, persisted=True), deferred=True
    )

    __table_args__ = (
        CheckConstraint(predicates.CALL_STATUS_CHECK, name="status_valid"),
        CheckConstraint(predicates.status_in("skip_reason", SkipReason), name="skip_reason_valid"),
        # The call's org is its campaign's org (one check per inserted row covers both).
        ForeignKeyConstraint(
            ["campaign_id", "org_id"],
            ["campaigns.id", "campaigns.org_id"],
            name="fk_calls_campaign_id_campaigns",
        ),
        UniqueConstraint(
            "campaign_id", "position", "attempt_number", name="uq_calls_campaign_position_attempt"
        ),
        Index("ix_calls_campaign_status", "campaign_id", "status"),
        Index(
            "ix_calls_due",
            "campaign_id",
            "position",
            postgresql_where=text(predicates.waiting()),
        ),
        Index(
            "ix_calls_window_closes_at",
            "window_closes_at",
            postgresql_where=text(f"{predicates.waiting()} AND window_closes_at IS NOT NULL"),
        ),
        Index(
            "ix_calls_waiting_since",
            "campaign_id",
            "capacity_since",
            postgresql_where=text(predicates.waiting()),
        ),
        Index("ix_calls_org_in_flight", "org_id", postgresql_where=text(predicates.in_flight())),
        Index("ix_calls_open", "campaign_id", postgresql_where=text(predicates.is_open())),
        Index(
            "ix_calls_provider_call_id",
            "provider_call_id",
            postgresql_where=text("provider_call_id IS NOT NULL"),
        ),
        Index(
            "ix_calls_lease_expires_at",
            "lease_expires_at",
            postgresql_where=text("lease_expires_at IS NOT NULL"),
        ),
    )


class CampaignEvent(Base):
    """Append-only history of every campaign lifecycle move (and its creation)."""

    __tablename__ = "campaign_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40))
    # Why, in words, where the cause alone does not say it (a pause's reason).
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(predicates.status_in("to_stage", Stage), name="to_stage_valid"),
        Index("ix_campaign_events_campaign_id", "campaign_id", "id"),
    )


class CampaignCount(Base):
    """Append-only changes of each campaign's v2 counters, written by triggers on `calls` in
    the writing statement's transaction (migration 0702): a campaign's counters are the sums
    of its rows; maintenance folds them into one."""

    __tablename__ = "campaign_counts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    pending: Mapped[int] = mapped_column(Integer)
    dispatched: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    predial_failed: Mapped[int] = mapped_column(Integer)
    dialed: Mapped[int] = mapped_column(Integer)
    connected: Mapped[int] = mapped_column(Integer)


# The counters campaign_counts keeps, in the order of its columns.
COUNT_COLUMNS = tuple(
    column.name
    for column in CampaignCount.__table__.columns
    if column.name not in ("id", "campaign_id")
)


class CallEvent(Base):
    """Append-only history of every call status change."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id"), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    ended_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SimCall(Base):
    """A call as the simulated telephony provider knows it (its own bookkeeping)."""

    __tablename__ = "sim_calls"

    provider_call_id: Mapped[str] = mapped_column(Text, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(Text, unique=True)
    call_id: Mapped[uuid.UUID] = mapped_column(UUID)
    outcome: Mapped[str] = mapped_column(Text)
    dial_requests: Mapped[int] = mapped_column(Integer, server_default="1")
    # The engine's attempt number of the request that reached the network first.
    attempt: Mapped[int] = mapped_column(Integer, server_default="1")
    # When that request was sent (before the simulated dial latency).
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SimCallStep(Base):
    """A status change the simulated provider will report for one of its calls."""

    __tablename__ = "sim_call_steps"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    provider_call_id: Mapped[str] = mapped_column(ForeignKey("sim_calls.provider_call_id"))
    call_id: Mapped[uuid.UUID] = mapped_column(UUID)
    status: Mapped[str] = mapped_column(String(20))
    ended_reason: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_sim_call_steps_due", "due_at", postgresql_where=text("delivered_at IS NULL")),
    )


class DncNumber(Base):
    """A number the org must never call (its do-not-call list), in E.164."""

    __tablename__ = "dnc_numbers"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # The primary key (org_id, number) answers the dial-time lookup; this one the newest-first list.
    __table_args__ = (Index("ix_dnc_numbers_org_created", "org_id", "created_at"),)


class IdempotencyKey(Base):
    """A write request's Idempotency-Key and the response it got, kept for a retry to replay.

    The row is inserted in the write's own transaction, before the write, and its response is
    stored in that same transaction: a concurrent repeat waits on the primary key until the
    first commits (then replays) or rolls back (then runs), and a crash leaves no row behind.
    """

    __tablename__ = "idempotency_keys"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    # SHA-256 of the query string and the body, hex.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # The purge deletes keys older than the retention, whichever org they belong to.
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)


class OutboxEvent(Base):
    """A campaign event waiting to be delivered to the campaign's server, or the record of its
    delivery. Written in the same statement as the change it reports; delivered after commit
    by the workers (at least once; `event_id` is the stable id receivers deduplicate on)."""

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID, server_default=text("gen_random_uuid()"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"))
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"))
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # pending (due at next_attempt_at, which is also the lease of a delivery under way),
    # delivered, or dead (gave up after the retry time, last_error says why).
    state: Mapped[str] = mapped_column(String(20), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'dead')", name="state_valid"),
        UniqueConstraint("event_id", name="uq_event_outbox_event_id"),
        Index(
            "ix_event_outbox_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_event_outbox_campaign", "campaign_id", "id"),
    )
