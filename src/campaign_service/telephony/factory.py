"""Build the telephony provider: the configured default, and Vapi for the orgs set to `vapi`.

One deployment can hold orgs on different providers. `RoutingProvider` picks the provider of
each call from its org's settings, kept in a cache: an entry is dropped when the org's settings
change (`org update` sends a notice naming the org, given to `invalidate`), when Vapi refuses
its key, and at the latest after `org_settings_cache_seconds`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.orgs import repository as orgs
from campaign_service.orgs.secrets import KeyRing
from campaign_service.settings import Settings
from campaign_service.telephony.base import (
    PlaceCallRequest,
    ProviderAuthFailed,
    StatusReport,
    StatusReportSink,
    TelephonyProvider,
)
from campaign_service.telephony.instant import InstantProvider
from campaign_service.telephony.simulated import SimulatedProvider, SimulationConfig
from campaign_service.telephony.vapi import OrgVapi, VapiProvider
from campaign_service.timeutil import Clock, utcnow


def build_default_provider(
    settings: Settings, *, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> TelephonyProvider:
    if settings.provider == "instant":
        return InstantProvider(place_seconds=settings.instant_place_seconds)
    return SimulatedProvider(
        sessions=sessions, config=SimulationConfig.from_settings(settings), clock=clock
    )


def build_provider(
    settings: Settings, *, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> RoutingProvider:
    return RoutingProvider(
        default=build_default_provider(settings, sessions=sessions, clock=clock),
        sessions=sessions,
        settings=settings,
        clock=clock,
    )


@dataclass(frozen=True)
class _Entry:
    vapi: OrgVapi | None  # None: the org uses the default provider
    loaded_at: float


class RoutingProvider:
    """A `TelephonyProvider` that sends each call to its org's provider."""

    def __init__(
        self,
        *,
        default: TelephonyProvider,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock = utcnow,
    ) -> None:
        self.default = default
        self.name = default.name
        self.sessions = sessions
        self.settings = settings
        self.vapi = VapiProvider(settings=settings, credentials=self._vapi_settings, clock=clock)
        self._cache: dict[uuid.UUID, _Entry] = {}
        self._keys: KeyRing | None = None
        self._lock = asyncio.Lock()

    # ---- org settings ----

    def invalidate(self, org_id: uuid.UUID | None = None) -> None:
        """Forget one org's settings (all orgs' with None); the next call reloads them."""
        if org_id is None:
            self._cache.clear()
        else:
            self._cache.pop(org_id, None)

    async def _entry(self, org_id: uuid.UUID) -> _Entry:
        entry = self._cache.get(org_id)
        ttl = self.settings.org_settings_cache_seconds
        if entry is not None and time.monotonic() - entry.loaded_at < ttl:
            return entry
        async with self._lock:
            # Many dials of one org wait here at once; the first loads, the others reuse it.
            entry = self._cache.get(org_id)
            if entry is not None and time.monotonic() - entry.loaded_at < ttl:
                return entry
            async with self.sessions() as session:
                org = await orgs.get_org(session, org_id)
            vapi = None
            if org is not None and org.provider == "vapi" and org.vapi_api_key_encrypted:
                if self._keys is None:
                    self._keys = KeyRing.from_setting(self.settings.secret_keys)
                vapi = OrgVapi(
                    api_key=self._keys.decrypt(org.vapi_api_key_encrypted),
                    base_url=org.vapi_base_url or self.settings.vapi_base_url,
                    webhook_token=org.webhook_token,
                )
            old = self._cache.get(org_id)
            if old is not None and old.vapi is not None and old.vapi != vapi:
                await self.vapi.forget(old.vapi)
            entry = _Entry(vapi, time.monotonic())
            self._cache[org_id] = entry
            return entry

    async def _vapi_settings(self, org_id: uuid.UUID) -> OrgVapi:
        entry = await self._entry(org_id)
        if entry.vapi is None:
            raise ProviderAuthFailed(f"org {org_id} has no Vapi API key")
        return entry.vapi

    async def uses_vapi(self, org_id: uuid.UUID) -> bool:
        return (await self._entry(org_id)).vapi is not None

    # ---- the provider interface ----

    async def start(self, sink: StatusReportSink) -> None:
        await self.default.start(sink)
        await self.vapi.start(sink)

    async def stop(self) -> None:
        await self.vapi.stop()
        await self.default.stop()

    async def place_call(self, request: PlaceCallRequest) -> str:
        if await self.uses_vapi(request.org_id):
            try:
                return await self.vapi.place_call(request)
            except ProviderAuthFailed:
                self.invalidate(request.org_id)
                raise
        return await self.default.place_call(request)

    async def find_call(self, request: PlaceCallRequest) -> str | None:
        if await self.uses_vapi(request.org_id):
            return await self.vapi.find_call(request)
        return await self.default.find_call(request)

    async def poll_call(
        self, org_id: uuid.UUID, call_id: uuid.UUID, provider_call_id: str
    ) -> StatusReport | None:
        """What the org's provider says now about a placed call (only Vapi is asked)."""
        if not await self.uses_vapi(org_id):
            return None
        return await self.vapi.poll_call(org_id, call_id, provider_call_id)
