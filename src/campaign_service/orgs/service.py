"""Organizations and their API keys. Keys are shown once and stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.db.models import ApiKey, Org
from campaign_service.db.notify import notify_settings_changed
from campaign_service.errors import BadRequest, NotFound
from campaign_service.orgs import repository
from campaign_service.orgs.secrets import KeyRing, fingerprint

KEY_PREFIX = "csk_"


@dataclass(frozen=True)
class NewKey:
    key_id: uuid.UUID
    org_id: uuid.UUID
    api_key: str


def hash_key(api_key: str) -> str:
    # The key carries 256 random bits, so a plain digest is enough (no slow KDF needed).
    return hashlib.sha256(api_key.encode()).hexdigest()


async def create_org(session: AsyncSession, *, name: str, concurrency_limit: int) -> NewKey:
    if not name.strip():
        raise BadRequest("org name should not be empty")
    if concurrency_limit < 1:
        raise BadRequest("concurrency limit must be at least 1")
    org = Org(id=uuid.uuid4(), name=name, concurrency_limit=concurrency_limit)
    session.add(org)
    await session.flush()
    return await create_key(session, org_id=org.id)


async def create_key(session: AsyncSession, *, org_id: uuid.UUID) -> NewKey:
    if await session.get(Org, org_id) is None:
        raise NotFound(f"org {org_id} not found")
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(id=uuid.uuid4(), org_id=org_id, key_hash=hash_key(api_key))
    session.add(key)
    await session.flush()
    return NewKey(key_id=key.id, org_id=org_id, api_key=api_key)


async def revoke_key(session: AsyncSession, *, key_id: uuid.UUID, now: datetime) -> None:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiKey.id)
    )
    if result.scalar_one_or_none() is None:
        raise NotFound(f"active key {key_id} not found")


async def org_for_key(session: AsyncSession, api_key: str) -> Org | None:
    stmt = (
        select(Org)
        .join(ApiKey, ApiKey.org_id == Org.id)
        .where(ApiKey.key_hash == hash_key(api_key), ApiKey.revoked_at.is_(None))
    )
    return (await session.execute(stmt)).scalar_one_or_none()


# Provider settings. The Vapi key leaves the database only decrypted for a call to Vapi
# (`vapi_credentials`); everything shown carries its fingerprint instead.

PROVIDERS = ("simulated", "vapi")  # as the orgs table's CHECK constraint allows
WEBHOOK_PATH = "/webhooks/vapi/{token}"


@dataclass(frozen=True)
class ProviderSettings:
    """An org's provider settings as they may be shown (never the key itself)."""

    org_id: uuid.UUID
    provider: str
    vapi_key_fingerprint: str | None
    vapi_base_url: str
    webhook_token: str

    def as_json(self) -> dict[str, Any]:
        return {
            "orgId": str(self.org_id),
            "provider": self.provider,
            "vapiApiKeyFingerprint": self.vapi_key_fingerprint,
            "vapiBaseUrl": self.vapi_base_url,
            "webhookPath": WEBHOOK_PATH.format(token=self.webhook_token),
        }


@dataclass(frozen=True)
class VapiCredentials:
    api_key: str
    base_url: str

    def __repr__(self) -> str:  # never print the key by accident
        return f"VapiCredentials(api_key=<{fingerprint(self.api_key)}>, base_url={self.base_url!r})"


def _settings_of(org: Org, default_base_url: str) -> ProviderSettings:
    return ProviderSettings(
        org_id=org.id,
        provider=org.provider,
        vapi_key_fingerprint=org.vapi_api_key_fingerprint,
        vapi_base_url=org.vapi_base_url or default_base_url,
        webhook_token=org.webhook_token,
    )


async def show_provider_settings(
    session: AsyncSession, *, org_id: uuid.UUID, default_base_url: str
) -> ProviderSettings:
    org = await repository.get_org(session, org_id)
    if org is None:
        raise NotFound(f"org {org_id} not found")
    return _settings_of(org, default_base_url)


async def update_provider_settings(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    default_base_url: str,
    provider: str | None = None,
    vapi_api_key: str | None = None,
    vapi_base_url: str | None = None,
    keys: Callable[[], KeyRing],
) -> ProviderSettings:
    """Change what is given; an empty `vapi_base_url` goes back to the default. `keys` is
    asked for only when a key is to be encrypted."""
    if provider is None and vapi_api_key is None and vapi_base_url is None:
        raise BadRequest("nothing to update: give a provider, a Vapi API key or a base URL")
    if provider is not None and provider not in PROVIDERS:
        raise BadRequest(f"unknown provider {provider!r}: use one of {', '.join(PROVIDERS)}")
    values: dict[str, Any] = {}
    if provider is not None:
        values["provider"] = provider
    if vapi_base_url is not None:
        values["vapi_base_url"] = _checked_base_url(vapi_base_url)
    if vapi_api_key is not None:
        key = _checked_api_key(vapi_api_key)
        values["vapi_api_key_encrypted"] = keys().encrypt(key)
        values["vapi_api_key_fingerprint"] = fingerprint(key)
        # A new key lifts a block the old one caused; the dispatchers are woken at commit.
        values["dispatch_blocked_reason"] = None
        values["dispatch_blocked_at"] = None
    org = await repository.lock_org(session, org_id)
    if org is None:
        raise NotFound(f"org {org_id} not found")
    has_key = org.vapi_api_key_encrypted is not None or vapi_api_key is not None
    if values.get("provider", org.provider) == "vapi" and not has_key:
        raise BadRequest(f"org {org_id} has no Vapi API key; the vapi provider needs one")
    await repository.save_provider_settings(session, org_id, values)
    await notify_settings_changed(session, org_id)
    await session.refresh(org)
    return _settings_of(org, default_base_url)


def _checked_api_key(value: str) -> str:
    key = value.strip()
    if not key:
        raise BadRequest("the Vapi API key is empty")
    if len(key) > 512 or any(c.isspace() or not c.isprintable() for c in key):
        raise BadRequest("the Vapi API key must be one word of printable characters")
    return key


def _checked_base_url(value: str) -> str | None:
    url = value.strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"the Vapi base URL must be an http(s) URL, got {value!r}")
    if parts.username or parts.password:
        raise BadRequest("the Vapi base URL must not contain credentials")
    return url


async def vapi_credentials(
    session: AsyncSession, *, org_id: uuid.UUID, keys: KeyRing, default_base_url: str
) -> VapiCredentials:
    """The org's Vapi key, decrypted, and the base URL to use it with."""
    org = await repository.get_org(session, org_id)
    if org is None:
        raise NotFound(f"org {org_id} not found")
    if org.vapi_api_key_encrypted is None:
        raise BadRequest(f"org {org_id} has no Vapi API key")
    return VapiCredentials(
        api_key=keys.decrypt(org.vapi_api_key_encrypted),
        base_url=org.vapi_base_url or default_base_url,
    )


async def rotate_vapi_keys(session: AsyncSession, *, keys: KeyRing) -> int:
    """Re-encrypt every stored Vapi key with the first master key; returns how many. All or
    nothing: one key that cannot be decrypted fails the whole rotation."""
    stored = await repository.lock_encrypted_vapi_keys(session)
    for org_id, token in stored:
        await repository.save_encrypted_vapi_key(session, org_id, keys.rotate(token))
    return len(stored)
