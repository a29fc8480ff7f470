"""`org update`, `org show` and `secrets` as real processes: the key never shows."""

from __future__ import annotations

import asyncio
import subprocess
import uuid

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text

from campaign_service.orgs.secrets import NO_MASTER_KEY, KeyRing
from tests.test_cli import COMMAND, base_env, fails, ok_json, run, run_all

VAPI_KEY = "vapi-private-5b1e2f3a-9c8d-4e7f-a6b5-c4d3e2f1a0b9"
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return {
        **base_env(),
        "DATABASE_URL": database_url,
        "CAMPAIGN_SERVICE_SECRET_KEYS": KEY_A,
        # Even debug logs must not carry the key.
        "CAMPAIGN_SERVICE_LOG_LEVEL": "DEBUG",
    }


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "vapi.key"
    path.write_text(VAPI_KEY + "\n")
    return path


def assert_no_key(*results: subprocess.CompletedProcess[str]) -> None:
    for result in results:
        assert VAPI_KEY not in result.stdout
        assert VAPI_KEY not in result.stderr


async def stored_token(sessions, org_id: str) -> str:
    async with sessions() as session:
        value = await session.scalar(
            text("SELECT vapi_api_key_encrypted FROM orgs WHERE id = :id"),
            {"id": uuid.UUID(org_id)},
        )
    return str(value)


async def test_set_and_show_a_vapi_key(org, env, key_file, sessions):
    updated = run(
        "org", "update", org.org_id, "--provider", "vapi", "--vapi-api-key-file", str(key_file),
        "--vapi-base-url", "http://127.0.0.1:8111", env=env,
    )  # fmt: skip
    shown = run("org", "show", org.org_id, env=env)
    assert_no_key(updated, shown)
    output = ok_json(updated)
    assert output == ok_json(shown)
    assert output["provider"] == "vapi"
    assert output["vapiBaseUrl"] == "http://127.0.0.1:8111"
    assert len(output["vapiApiKeyFingerprint"]) == 8
    assert output["webhookPath"].startswith("/webhooks/vapi/")
    token = await stored_token(sessions, org.org_id)
    assert VAPI_KEY not in token
    assert KeyRing.from_setting(SecretStr(KEY_A)).decrypt(token) == VAPI_KEY

    # From stdin, and back to the simulated provider (the key stays, shown as before).
    piped = await asyncio.to_thread(
        subprocess.run,
        [str(COMMAND), "org", "update", org.org_id, "--vapi-api-key-stdin"],
        input="another-key\n", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    simulated = run("org", "update", org.org_id, "--provider", "simulated", env=env)
    assert ok_json(piped)["vapiApiKeyFingerprint"] != output["vapiApiKeyFingerprint"]
    assert ok_json(simulated)["provider"] == "simulated"
    assert ok_json(simulated)["vapiApiKeyFingerprint"] == ok_json(piped)["vapiApiKeyFingerprint"]


async def test_rotate_the_master_key(org, env, key_file, sessions):
    ok_json(run("org", "update", org.org_id, "--vapi-api-key-file", str(key_file), env=env))
    before = await stored_token(sessions, org.org_id)
    rotated = run(
        "secrets", "rotate", env={**env, "CAMPAIGN_SERVICE_SECRET_KEYS": f"{KEY_B},{KEY_A}"}
    )
    assert ok_json(rotated) == {"reencrypted": 1}
    after = await stored_token(sessions, org.org_id)
    assert after != before
    assert KeyRing.from_setting(SecretStr(KEY_B)).decrypt(after) == VAPI_KEY

    new_key = run("secrets", "new-key", env=env)
    assert new_key.returncode == 0
    assert KeyRing.from_setting(SecretStr(new_key.stdout.strip())).size == 1


def test_bad_input_is_a_one_line_error(org, env, key_file, tmp_path):
    env = {**env, "CAMPAIGN_SERVICE_LOG_LEVEL": "WARNING"}
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    no_master = {k: v for k, v in env.items() if k != "CAMPAIGN_SERVICE_SECRET_KEYS"}
    unknown = str(uuid.uuid4())
    cases = {
        (("org", "update", org.org_id, "--provider", "twilio"), "env"): (
            "unknown provider 'twilio': use one of simulated, vapi"
        ),
        (("org", "update", org.org_id, "--vapi-api-key-file", str(tmp_path / "nope")), "env"): (
            f"cannot read the Vapi API key file {tmp_path / 'nope'}: No such file or directory"
        ),
        (("org", "update", org.org_id, "--vapi-api-key-file", str(empty)), "env"): (
            "the Vapi API key is empty"
        ),
        (("org", "update", org.org_id, "--vapi-api-key-file", str(key_file)), "no_master"): (
            NO_MASTER_KEY
        ),
        (("org", "update", org.org_id, "--provider", "vapi"), "env"): (
            f"org {org.org_id} has no Vapi API key"
        ),
        (("org", "show", unknown), "env"): f"org {unknown} not found",
        (("org", "show", "x"), "env"): "org id 'x' is not a valid ID",
        (("secrets", "rotate"), "no_master"): NO_MASTER_KEY,
    }
    envs = {"env": env, "no_master": no_master}
    results = run_all(*((args, envs[which]) for args, which in cases))
    for result, message in zip(results, cases.values(), strict=True):
        fails(result, message)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert_no_key(*results)
    shown = ok_json(run("org", "show", org.org_id, env=env))
    assert shown["provider"] == "simulated"
    assert shown["vapiApiKeyFingerprint"] is None


async def test_webhook_secret_is_shown_and_rotated(org, env, sessions):
    shown = ok_json(run("org", "webhook-secret", org.org_id, env=env))
    assert shown["webhookSecret"].startswith("whsec_")
    assert ok_json(run("org", "webhook-secret", org.org_id, env=env)) == shown
    rotated = ok_json(run("org", "webhook-secret", org.org_id, "--rotate", env=env))
    assert rotated["rotated"] is True
    assert rotated["webhookSecret"].startswith("whsec_")
    assert rotated["webhookSecret"] != shown["webhookSecret"]
    async with sessions() as session:
        stored = await session.scalar(
            text("SELECT webhook_secret FROM orgs WHERE id = :id"), {"id": uuid.UUID(org.org_id)}
        )
    assert stored == rotated["webhookSecret"]
    unknown = str(uuid.uuid4())
    fails(run("org", "webhook-secret", unknown, env=env), f"org {unknown} not found")
