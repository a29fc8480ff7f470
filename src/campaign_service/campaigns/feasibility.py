"""How long a campaign's calling takes: the feasibility estimate made at creation and the ETA
of the progress report. Pure arithmetic over the audience's time-zone groups, the calling
hours, the concurrency and a typical call length.

The model: `concurrency` calls at once, each taking `call_seconds`, so a stretch of time in
which some contacts may be called serves `concurrency x seconds / call_seconds` of them.
Contacts are served only while their calling hours are open (groups in order, like the
engine's dial order within the open ones). Retries are not included: they depend on
outcomes not known in advance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaign_service.campaigns.calling_hours import CallingHours, next_callable

# A campaign that needs longer than this is reported as not estimable.
HORIZON = timedelta(days=366)
MAX_STEPS = 20_000


@dataclass(frozen=True)
class Estimate:
    finish_at: datetime | None  # when the last call ends; None: beyond the horizon
    never_callable: int  # contacts whose zones share no calling hours


def estimate(
    *,
    start: datetime,
    groups: Sequence[tuple[tuple[str, ...], int]],
    hours: CallingHours | None,
    concurrency: int,
    call_seconds: float,
) -> Estimate:
    """When the call to the last of these contacts would end, starting at `start`."""
    total = sum(count for _, count in groups)
    if hours is None:
        batches = math.ceil(total / concurrency) if total else 0
        return Estimate(start + timedelta(seconds=batches * call_seconds), 0)
    callable_groups = [
        (zones, count) for zones, count in groups if next_callable(hours, zones, start)
    ]
    never = total - sum(count for _, count in callable_groups)
    last_start = _with_hours(start, callable_groups, hours, concurrency, call_seconds)
    if last_start is None or not callable_groups:
        return Estimate(last_start, never)
    return Estimate(last_start + timedelta(seconds=call_seconds), never)


def _with_hours(
    start: datetime,
    groups: Sequence[tuple[tuple[str, ...], int]],
    hours: CallingHours,
    concurrency: int,
    call_seconds: float,
) -> datetime | None:
    remaining = [float(count) for _, count in groups]
    at, rate = start, concurrency / call_seconds  # contacts per second
    for _ in range(MAX_STEPS):
        if at - start > HORIZON:
            return None
        found = {
            i: next_callable(hours, groups[i][0], at) for i, left in enumerate(remaining) if left
        }
        if not found:
            return at
        stretches = {i: s for i, s in found.items() if s is not None}
        if len(stretches) < len(found):  # cannot happen for a weekly pattern; be safe
            return None
        opens = min(s[0] for s in stretches.values())
        open_now = [i for i, s in stretches.items() if s[0] == opens]
        later = [s[0] for s in stretches.values() if s[0] > opens]
        until = min([stretches[i][1] for i in open_now] + later)
        capacity = (until - opens).total_seconds() * rate
        wanted = sum(remaining[i] for i in open_now)
        if wanted <= capacity:
            for i in open_now:
                remaining[i] = 0
            # The first `concurrency` calls start at once, the rest as slots free.
            at = opens + timedelta(seconds=max(0.0, wanted - concurrency) / rate)
            continue
        for i in open_now:  # served in order, as the engine dials in position order
            served = min(remaining[i], capacity)
            remaining[i] -= served
            capacity -= served
        at = until
    return None


def retry_delay_seconds(plan: dict[str, object], ended_attempt: int) -> float:
    """The wait before the attempt after `ended_attempt` (1-based): `delay.seconds`, doubled
    per attempt already made with `backoff`. The calls repository computes the same in SQL
    when it writes the next attempt."""
    delay = plan["delay"]
    assert isinstance(delay, dict)
    seconds = float(delay["seconds"])
    return seconds * (2 ** (ended_attempt - 1) if delay["type"] == "backoff" else 1)
