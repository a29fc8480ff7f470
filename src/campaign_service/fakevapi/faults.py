"""Faults a test switches on at runtime: each applies to a seeded fraction or to the next N.

Kinds and what they do:
- `latency`: POST /call waits `seconds` before it is handled.
- `timeout`: the call is created, then the answer is held back `seconds` (the client gives up
  first: the call exists but the client does not know it).
- `server-error`: answer `status` (5xx); with `createCall` the call is created first.
- `rate-limit`: answer 429 with `Retry-After: retryAfter`.
- `concurrency-limit`: answer as Vapi does when the org has no free call slot (`style`).
- `unauthorized`: answer 401 as for a revoked or rotated key.
- `webhook-loss`, `webhook-duplicate`, `webhook-reorder`: drop a server message, send it twice,
  or hold it back until the next message of the same call has been sent.
"""

from __future__ import annotations

import random
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

FaultKind = Literal[
    "latency",
    "timeout",
    "server-error",
    "rate-limit",
    "concurrency-limit",
    "unauthorized",
    "webhook-loss",
    "webhook-duplicate",
    "webhook-reorder",
]
# Which requests a request fault applies to: POST /call, the GET endpoints, or both.
Scope = Literal["create", "read", "any"]
_CREATE_ONLY = frozenset({"latency", "timeout", "concurrency-limit"})


class FaultSpec(BaseModel):
    """One fault, as sent to POST /_fake/faults (camelCase) or given in Python (snake_case)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

    kind: FaultKind
    fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    next: int | None = Field(default=None, ge=1)
    scope: Scope = "create"
    status: int = Field(default=500, ge=500, le=599)
    create_call: bool = False
    seconds: float = Field(default=30.0, ge=0.0)
    retry_after: float = Field(default=1.0, ge=0.0)
    style: Literal["blocked-call", "bad-request"] = "blocked-call"

    @model_validator(mode="after")
    def _applies_somewhere(self) -> FaultSpec:
        if self.next is None and self.fraction == 0:
            raise ValueError("a fault needs `next` (apply to the next N) or a `fraction` above 0")
        if self.kind in _CREATE_ONLY and self.scope != "create":
            raise ValueError(f"{self.kind} applies to POST /call only (scope create)")
        return self

    def covers(self, scope: Literal["create", "read"]) -> bool:
        return self.scope in (scope, "any")


class Faults:
    """The faults switched on. Thread-safe: tests change them while the server runs."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(None if seed is None else f"{seed}:faults")
        self._active: dict[str, FaultSpec] = {}
        self._left: dict[str, int] = {}
        self._lock = threading.Lock()

    def inject(self, spec: FaultSpec) -> None:
        """Switch a fault on, replacing any earlier one of the same kind."""
        with self._lock:
            self._active[spec.kind] = spec
            if spec.next is not None:
                self._left[spec.kind] = spec.next
            else:
                self._left.pop(spec.kind, None)

    def clear(self, kind: FaultKind | None = None) -> None:
        with self._lock:
            for name in [kind] if kind else list(self._active):
                self._active.pop(name, None)
                self._left.pop(name, None)

    def active(self) -> list[FaultSpec]:
        with self._lock:
            return list(self._active.values())

    def take(
        self, kind: FaultKind, scope: Literal["create", "read"] | None = None
    ) -> FaultSpec | None:
        """The fault of this kind if it applies to this request (of `scope`) or message."""
        with self._lock:
            spec = self._active.get(kind)
            if spec is None or (scope is not None and not spec.covers(scope)):
                return None
            if spec.next is None:
                return spec if self._rng.random() < spec.fraction else None
            self._left[kind] -= 1
            if self._left[kind] == 0:
                del self._active[kind], self._left[kind]
            return spec
