"""The automatic breaker: a running campaign whose recent attempts mostly fail at the
provider (a broken caller number, a missing assistant, a provider outage) pauses itself,
so it does not burn through its audience. The user resumes it once the cause is fixed.

It looks at the attempts that ended in the last `breaker_window_seconds` (since the campaign
started or was last resumed). Once at least `breaker_min_attempts` have, and a share of at
least `breaker_failure_share` of them ended with a provider failure
(`calls.outcomes.PROVIDER_FAILURES`), the campaign is paused by the engine, with the reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import stats_repository as stats
from campaign_service.calls.outcomes import PROVIDER_FAILURES
from campaign_service.campaigns import lifecycle
from campaign_service.campaigns.state import PauseSource
from campaign_service.settings import Settings


async def trip_breakers(
    session: AsyncSession, *, now: datetime, settings: Settings
) -> list[uuid.UUID]:
    """Pause the campaigns whose recent attempts mostly failed; returns those paused."""
    failing = await stats.failing_campaigns(
        session,
        since=now - timedelta(seconds=settings.breaker_window_seconds),
        failures=PROVIDER_FAILURES,
        min_attempts=settings.breaker_min_attempts,
        share=settings.breaker_failure_share,
    )
    paused: list[uuid.UUID] = []
    for found in failing:
        reason = (
            f"{found.failed} of the last {found.attempts} attempts failed at the provider "
            f"(most often {found.most_common})"
        )
        if await lifecycle.pause(
            session,
            campaign_id=found.campaign_id,
            source=PauseSource.ENGINE,
            reason=reason,
            now=now,
        ):
            paused.append(found.campaign_id)
    return paused
