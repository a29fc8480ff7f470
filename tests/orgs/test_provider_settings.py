"""Per-org provider settings on the real database: encryption at rest, rotation, checks."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid

import pytest
from alembic import command
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from campaign_service.db.migrate import alembic_config, upgrade_to_head
from campaign_service.db.session import async_url, unit_of_work
from campaign_service.errors import AppError, BadRequest, NotFound
from campaign_service.orgs import service
from campaign_service.orgs.secrets import NO_MASTER_KEY, KeyRing, SecretsError

VAPI_KEY = "vapi-private-0d7c5e9a-41f2-4a8e-9b33-5d1f6e2c7a10"
DEFAULT_URL = "https://api.vapi.ai"
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def ring(*keys: str) -> KeyRing:
    return KeyRing.from_setting(SecretStr(",".join(keys)))


async def update(sessions, org_id: str, *, keys: KeyRing | None = None, **changes: object):
    def keyring() -> KeyRing:
        if keys is None:
            raise SecretsError(NO_MASTER_KEY)
        return keys

    async with unit_of_work(sessions) as session:
        return await service.update_provider_settings(
            session,
            org_id=uuid.UUID(org_id),
            default_base_url=DEFAULT_URL,
            keys=keyring,
            **changes,  # type: ignore[arg-type]
        )


async def stored(sessions, org_id: str) -> dict[str, object]:
    async with sessions() as session:
        row = await session.execute(
            text("SELECT * FROM orgs WHERE id = :id"), {"id": uuid.UUID(org_id)}
        )
        return dict(row.mappings().one())


async def credentials(sessions, org_id: str, keys: KeyRing) -> service.VapiCredentials:
    async with sessions() as session:
        return await service.vapi_credentials(
            session, org_id=uuid.UUID(org_id), keys=keys, default_base_url=DEFAULT_URL
        )


async def test_new_orgs_are_simulated_with_a_random_webhook_token(make_org, sessions):
    first, second = await make_org(), await make_org()
    async with sessions() as session:
        shown = await service.show_provider_settings(
            session, org_id=uuid.UUID(first.org_id), default_base_url=DEFAULT_URL
        )
    assert shown.as_json() == {
        "orgId": first.org_id,
        "provider": "simulated",
        "vapiApiKeyFingerprint": None,
        "vapiBaseUrl": DEFAULT_URL,
        "webhookPath": f"/webhooks/vapi/{shown.webhook_token}",
    }
    assert re.fullmatch(r"[0-9a-f]{64}", shown.webhook_token)
    assert (await stored(sessions, second.org_id))["webhook_token"] != shown.webhook_token


async def test_the_key_is_stored_encrypted(org, sessions):
    keys = ring(KEY_A)
    shown = await update(
        sessions, org.org_id, provider="vapi", vapi_api_key=f" {VAPI_KEY}\n", keys=keys
    )
    assert shown.provider == "vapi"
    assert shown.vapi_key_fingerprint == hashlib.sha256(VAPI_KEY.encode()).hexdigest()[:8]
    assert VAPI_KEY not in str(shown.as_json())
    row = await stored(sessions, org.org_id)
    assert VAPI_KEY not in str(row)  # not in any column, in clear
    assert row["vapi_api_key_encrypted"].startswith("gAAAAA")  # a Fernet token
    found = await credentials(sessions, org.org_id, keys)
    assert found.api_key == VAPI_KEY
    assert found.base_url == DEFAULT_URL
    assert VAPI_KEY not in repr(found)
    with pytest.raises(SecretsError, match="cannot be decrypted"):
        await credentials(sessions, org.org_id, ring(KEY_B))


async def test_rotation_with_two_master_keys(make_org, sessions):
    orgs = [await make_org(name=f"Org {i}") for i in range(3)]
    for org in orgs[:2]:
        await update(sessions, org.org_id, vapi_api_key=VAPI_KEY + org.org_id, keys=ring(KEY_A))
    before = [(await stored(sessions, o.org_id))["vapi_api_key_encrypted"] for o in orgs]

    async with unit_of_work(sessions) as session:
        assert await service.rotate_vapi_keys(session, keys=ring(KEY_B, KEY_A)) == 2
    after = [(await stored(sessions, o.org_id))["vapi_api_key_encrypted"] for o in orgs]
    assert after[0] != before[0]
    assert after[1] != before[1]
    assert after[2] is None
    for org in orgs[:2]:  # the old key can go: the new one alone reads every stored key
        assert (await credentials(sessions, org.org_id, ring(KEY_B))).api_key.endswith(org.org_id)
        with pytest.raises(SecretsError):
            await credentials(sessions, org.org_id, ring(KEY_A))


async def test_a_rotation_that_cannot_read_a_key_changes_nothing(make_org, sessions):
    readable, lost = await make_org(name="Readable"), await make_org(name="Lost")
    await update(sessions, readable.org_id, vapi_api_key=VAPI_KEY, keys=ring(KEY_A))
    await update(sessions, lost.org_id, vapi_api_key=VAPI_KEY, keys=ring(KEY_B))
    before = await stored(sessions, readable.org_id)
    with pytest.raises(SecretsError, match="cannot be decrypted"):
        async with unit_of_work(sessions) as session:
            await service.rotate_vapi_keys(
                session, keys=ring(Fernet.generate_key().decode(), KEY_A)
            )
    assert await stored(sessions, readable.org_id) == before


async def test_base_url_override_and_reset(org, sessions):
    shown = await update(sessions, org.org_id, vapi_base_url="http://127.0.0.1:8111/")
    assert shown.vapi_base_url == "http://127.0.0.1:8111"
    assert shown.provider == "simulated"  # unchanged
    assert (await update(sessions, org.org_id, vapi_base_url="")).vapi_base_url == DEFAULT_URL
    assert (await stored(sessions, org.org_id))["vapi_base_url"] is None


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            {"provider": "twilio"},
            BadRequest,
            "unknown provider 'twilio': use one of simulated, vapi",
        ),
        ({"provider": "vapi"}, BadRequest, "has no Vapi API key"),
        ({"vapi_api_key": "  \n"}, BadRequest, "the Vapi API key is empty"),
        ({"vapi_api_key": "two words"}, BadRequest, "one word of printable characters"),
        ({"vapi_base_url": "ftp://vapi"}, BadRequest, "must be an http(s) URL"),
        ({"vapi_base_url": "https://u:p@vapi"}, BadRequest, "must not contain credentials"),
        ({}, BadRequest, "nothing to update"),
        ({"vapi_api_key": VAPI_KEY, "keys": None}, SecretsError, "secrets new-key"),
    ],
)
async def test_bad_input_changes_nothing(org, sessions, changes, error, message):
    changes = {"keys": ring(KEY_A), **changes}
    before = await stored(sessions, org.org_id)
    with pytest.raises(error, match=re.escape(message)):
        await update(sessions, org.org_id, **changes)
    assert await stored(sessions, org.org_id) == before


async def test_unknown_org_and_bad_master_keys(sessions):
    with pytest.raises(NotFound):
        await update(sessions, str(uuid.uuid4()), provider="simulated")
    with pytest.raises(SecretsError, match="key 2 is not a Fernet key") as caught:
        ring(KEY_A, "not-a-key")
    assert "not-a-key" not in str(caught.value)
    with pytest.raises(SecretsError, match="no master key"):
        KeyRing.from_setting(SecretStr(" , "))
    assert issubclass(SecretsError, AppError)


async def test_the_database_refuses_inconsistent_settings(org, sessions):
    for statement in (
        "UPDATE orgs SET provider = 'carrier-pigeon'",
        "UPDATE orgs SET provider = 'vapi'",  # without a key
        "UPDATE orgs SET vapi_api_key_encrypted = 'x'",  # without its fingerprint
        "UPDATE orgs SET webhook_token = NULL",
    ):
        with pytest.raises(IntegrityError):
            async with unit_of_work(sessions) as session:
                await session.execute(text(statement))


def test_existing_and_new_orgs_get_distinct_tokens(empty_database):
    url = empty_database()
    command.upgrade(alembic_config(url), "0004")

    async def sql(statement: str) -> list[object]:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement))
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    asyncio.run(
        sql(
            "INSERT INTO orgs (id, name, concurrency_limit) VALUES (gen_random_uuid(), 'a', 1), "
            "(gen_random_uuid(), 'b', 1)"
        )
    )
    upgrade_to_head(url)
    # Rows inserted by plain SQL get a token from the column default too.
    asyncio.run(
        sql(f"INSERT INTO orgs (id, name, concurrency_limit) VALUES ('{uuid.uuid4()}', 'c', 1)")
    )
    rows = asyncio.run(sql("SELECT provider, webhook_token FROM orgs"))
    assert [r[0] for r in rows] == ["simulated"] * 3
    tokens = {r[1] for r in rows}
    assert len(tokens) == 3
    assert all(re.fullmatch(r"[0-9a-f]{64}", t) for t in tokens)
