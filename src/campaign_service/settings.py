"""Service settings, read from the environment once and passed to whoever needs them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    # Root's home is private (0700), and the embedded server runs as an unprivileged user that
    # must pass through every folder above its data: a service's own state folder fits root.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ROOT_HOME
    return Path(platformdirs.user_data_dir("campaign-service", appauthor=False))


ROOT_HOME = Path("/var/lib/campaign-service")


class Settings(BaseSettings):
    """Every setting of the service. Environment variables use the CAMPAIGN_SERVICE_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CAMPAIGN_SERVICE_", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "CAMPAIGN_SERVICE_DATABASE_URL"),
        description="PostgreSQL URL (postgresql:// or postgresql+asyncpg://). "
        "Unset: an embedded PostgreSQL is started in HOME/pgdata.",
    )
    home: Path = Field(
        default_factory=_default_home,
        description="Data directory for the embedded PostgreSQL.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `serve` listens on.")
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="A pool opens up to twice this many connections (`serve` has two: the "
        "API's and its dispatcher's).",
    )
    db_connect_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a command waits for the database to answer its first "
        "connection before it gives up with an error.",
    )
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="Largest accepted request body; larger ones get 413.",
    )
    idempotency_key_hours: float = Field(
        default=24.0,
        ge=24,
        description="How long an Idempotency-Key and its answer are kept (at least 24 hours); "
        "older keys are purged as new ones are used.",
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        description="Largest total size of a request's headers (names and values); larger get 431.",
    )
    max_header_count: int = Field(
        default=100, ge=10, description="Most header fields in a request; more get 431."
    )
    auth_failure_limit: int = Field(
        default=20,
        ge=1,
        description="Invalid API keys one client address may send within the window before "
        "its further invalid keys get 429 (valid keys are never refused).",
    )
    auth_failure_window_seconds: float = Field(
        default=60.0, gt=0, description="The window of that count, in seconds."
    )
    default_org_concurrency_limit: int = Field(
        default=10, ge=1, description="Concurrency limit of orgs created without one."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )
    log_format: Literal["json", "text", "auto"] = Field(
        default="auto",
        description="`json`, `text`, or `auto` (text on a terminal, JSON otherwise).",
    )

    # The dispatcher (the engine that places calls).
    dispatcher_poll_interval: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between dispatcher passes when no NOTIFY wakes it earlier.",
    )
    dispatcher_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a claimed call may stay unconfirmed before another dispatcher "
        "recovers it (re-placing it with the same idempotency key).",
    )
    dispatcher_batch_size: int = Field(
        default=500, ge=1, description="Most calls one dispatcher claims per pass."
    )
    dispatcher_idle_transaction_seconds: float = Field(
        default=60.0,
        ge=0,
        description="PostgreSQL ends a dispatcher's transaction that sits idle this long (a "
        "frozen or hung process), so the locks it holds (an org's claim lock, calls' rows) do "
        "not stop the other dispatchers; nothing of that transaction is kept. 0: never.",
    )
    dispatcher_dial_concurrency: int = Field(
        default=100, ge=1, description="Most provider requests one dispatcher has open at once."
    )
    capacity_window_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How long an unplaced call keeps waiting for capacity once callable "
        "(Vapi: one hour from the campaign's start; with the control extensions from its retry "
        "time, the opening of its calling hours or a resume, if later). latestAt closes the "
        "window earlier.",
    )
    # Campaign events (serverMessages): the outbox's delivery to the campaigns' servers.
    events_enabled: bool = Field(
        default=True, description="Whether the workers deliver campaign events (the courier)."
    )
    events_batch_size: int = Field(
        default=200, ge=1, description="Most events one worker claims for delivery per pass."
    )
    events_receiver_concurrency: int = Field(
        default=8, ge=1, description="Most deliveries one worker has open to one receiver."
    )
    events_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed event stays with its worker before another one may "
        "deliver it again (a worker that died mid-delivery); POSTs time out within half of it.",
    )
    events_retry_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How long a failing event is retried after it was written; then it is "
        "dead and listed among the campaign's failed deliveries.",
    )
    events_poll_seconds: float = Field(
        default=0.5, gt=0, description="Seconds between delivery passes when nothing was due."
    )
    capacity_retry_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Wait before retrying a call the provider refused for lack of capacity.",
    )
    breaker_window_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How far back the breaker looks at a running campaign's ended attempts.",
    )
    breaker_min_attempts: int = Field(
        default=10,
        ge=1,
        description="Attempts that must have ended in that window before the breaker judges.",
    )
    breaker_failure_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Share of those attempts that failed at the provider at which the breaker "
        "pauses the campaign.",
    )
    breaker_check_seconds: float = Field(
        default=5.0, ge=0, description="How often a dispatcher runs the breaker's check."
    )
    typical_call_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Call length assumed by estimates until enough calls were observed.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Operator token the API's /metrics requires as `Authorization: Bearer "
        "<token>` (unset: /metrics is open; expose it only where Prometheus can reach).",
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port on which `worker` serves its Prometheus metrics (unset: none).",
    )
    provider: Literal["simulated", "instant"] = Field(
        default="simulated",
        description="Telephony provider: `simulated` (realistic fake phone network) or "
        "`instant` (calls are answered and end at once; for benchmarks).",
    )
    instant_place_seconds: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="Seconds the `instant` provider takes to accept each call, as a network "
        "API would (benchmarks of dispatch bound by the provider, not the CPU).",
    )

    # Vapi's call API (the `vapi` provider) and the secrets stored for it.
    vapi_base_url: str = Field(
        default="https://api.vapi.ai",
        description="Vapi API base URL; an org may override it (`org update --vapi-base-url`).",
    )
    vapi_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a connection to Vapi."
    )
    vapi_read_timeout: float = Field(
        default=15.0,
        gt=0,
        description="Seconds to wait for Vapi's answer; past it the outcome of a call "
        "creation is unknown and the call is looked up before any new attempt.",
    )
    vapi_in_flight_margin_seconds: float = Field(
        default=5.0,
        ge=0,
        description="A call whose attempt had an unknown outcome is looked up at Vapi only "
        "once that attempt cannot still be creating it: its connect and read timeouts plus "
        "this margin after it started (a dispatcher killed mid-request included).",
    )
    vapi_requests_per_second: float = Field(
        default=10.0, gt=0, description="Requests per second sent to Vapi, per org."
    )
    vapi_request_burst: int = Field(
        default=20,
        ge=1,
        description="Requests an org may send to Vapi at once before the per-second rate applies.",
    )
    vapi_webhook_base_url: str | None = Field(
        default=None,
        description="This service's public URL as Vapi reaches it; when set, every call placed "
        "through Vapi carries its org's webhook URL (`assistantOverrides.server.url`).",
    )
    vapi_webhook_secret: SecretStr | None = Field(
        default=None,
        description="When set, Vapi's server messages must carry it in `X-Vapi-Secret` (the "
        "secret of the Vapi server credential) besides the org's webhook token.",
    )
    vapi_poll_quiet_seconds: float = Field(
        default=60.0,
        gt=0,
        description="The reconciler asks Vapi about a placed call not heard of for this long.",
    )
    vapi_poll_interval: float = Field(
        default=5.0, gt=0, description="Seconds between the reconciler's passes."
    )
    vapi_poll_batch: int = Field(
        default=50, ge=1, description="Calls the reconciler asks Vapi about per pass, at most."
    )
    vapi_silent_call_seconds: float = Field(
        default=3 * 3600.0,
        gt=0,
        description="A placed call Vapi has not reported ended this long after it was placed is "
        "ended with endedReason `call.in-progress.error-vapifault-worker-died`.",
    )
    org_settings_cache_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a dispatcher keeps an org's provider settings without a change "
        "notice (a change made with `org update` reaches it at once).",
    )
    secret_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys that encrypt stored Vapi API keys: the first "
        "encrypts, all decrypt (add a new key first to rotate).",
    )

    # The simulated provider.
    sim_preset: Literal["standard", "demo", "realistic"] = Field(
        default="standard",
        description="Timing preset: `demo` finishes a small campaign in seconds, `standard` "
        "in a minute or two, `realistic` has phone-like durations.",
    )
    sim_seed: int | None = Field(
        default=None, description="Seed for outcomes and durations; the same seed repeats a run."
    )
    sim_ring_seconds: tuple[float, float] | None = Field(
        default=None, description="Ringing time range as JSON `[min, max]` (overrides the preset)."
    )
    sim_talk_seconds: tuple[float, float] | None = Field(
        default=None,
        description="Conversation length range as JSON `[min, max]` (overrides the preset).",
    )
    sim_dial_latency_seconds: float = Field(
        default=0.0, ge=0, description="Delay before the simulated network accepts a dial."
    )
    sim_outcomes: dict[str, float] | None = Field(
        default=None,
        description='Outcome weights by endedReason as JSON, e.g. {"voicemail": 1, '
        '"customer-ended-call": 3} (overrides the default mix).',
    )
    sim_max_active_calls: int | None = Field(
        default=None,
        ge=1,
        description="Calls the simulated network carries at once; beyond it dials get "
        "`no capacity` (unset: unlimited).",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
