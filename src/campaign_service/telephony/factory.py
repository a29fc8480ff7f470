"""Build the configured telephony provider."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.settings import Settings
from campaign_service.telephony.base import TelephonyProvider
from campaign_service.telephony.instant import InstantProvider
from campaign_service.telephony.simulated import SimulatedProvider, SimulationConfig
from campaign_service.timeutil import Clock


def build_provider(
    settings: Settings, *, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> TelephonyProvider:
    if settings.provider == "instant":
        return InstantProvider()
    return SimulatedProvider(
        sessions=sessions, config=SimulationConfig.from_settings(settings), clock=clock
    )
