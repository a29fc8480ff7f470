"""Engine metrics: module-level objects the dispatcher updates, in the process-wide registry.

They live in prometheus_client's default registry (created once, at import), so every process
that runs the dispatcher (`serve` or `worker`) counts into the same objects and `/metrics` shows
them next to the process collectors. Per-app metrics (HTTP requests, database gauges) use a
registry of their own per app, see `observability.http` and `observability.db_metrics`, so tests
that build many apps never register a time series twice.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

ENGINE_REGISTRY: CollectorRegistry = REGISTRY

CALLS_PLACED = Counter(
    "campaign_calls_placed_total",
    "Calls handed to the telephony provider.",
    registry=ENGINE_REGISTRY,
)
CALLS_ENDED = Counter(
    "campaign_calls_ended_total",
    "Calls that reached the ended status (any ended reason).",
    registry=ENGINE_REGISTRY,
)
DISPATCH_LAG = Histogram(
    "campaign_dispatch_lag_seconds",
    "Delay between a call slot freeing and the next call being placed",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=ENGINE_REGISTRY,
)
DISPATCHER_TICKS = Counter(
    "campaign_dispatcher_ticks_total",
    "Dispatcher loop iterations (claim passes), whether or not they placed a call.",
    registry=ENGINE_REGISTRY,
)

DISPATCHER_LISTENING = Gauge(
    "campaign_dispatcher_listening",
    "1 while the dispatcher holds its own database connection: registered (liveness lock "
    "held, so it may claim calls) and listening for wake-ups; 0 while it reconnects.",
    registry=ENGINE_REGISTRY,
)
DISPATCHER_RECONNECTS = Counter(
    "campaign_dispatcher_reconnects_total",
    "Times the dispatcher's own connection was lost or could not be made.",
    registry=ENGINE_REGISTRY,
)
LEASES_RECOVERED = Counter(
    "campaign_leases_recovered_total",
    "Calls taken over from a dispatcher that died (its liveness lock gone, or its lease expired).",
    registry=ENGINE_REGISTRY,
)

__all__ = [
    "CALLS_ENDED",
    "CALLS_PLACED",
    "DISPATCHER_LISTENING",
    "DISPATCHER_RECONNECTS",
    "DISPATCHER_TICKS",
    "DISPATCH_LAG",
    "ENGINE_REGISTRY",
    "LEASES_RECOVERED",
]
