"""The `campaign-service` command, run as a real subprocess against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import assert_error
from tests.conftest import OrgKey, campaign_body

COMMAND = Path(sys.executable).with_name("campaign-service")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (result,) = run_all((args, env))
    return result


def run_all(
    *commands: tuple[tuple[str, ...], dict[str, str]],
) -> list[subprocess.CompletedProcess[str]]:
    """Run independent commands side by side (each one is mostly interpreter start-up)."""
    processes = [
        (
            args,
            subprocess.Popen(
                [str(COMMAND), *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for args, env in commands
    ]
    results = []
    for args, process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(list(args), process.returncode, stdout, stderr))
    return results


def base_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CAMPAIGN_SERVICE_DATABASE_URL")
    }
    env["CAMPAIGN_SERVICE_LOG_LEVEL"] = "WARNING"
    return env


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return {**base_env(), "DATABASE_URL": database_url}


def ok_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout)
    return output


def fails(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode != 0, result.stdout
    assert result.stdout == ""
    assert f"error: {message}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_is_installed():
    assert COMMAND.exists(), f"{COMMAND} missing: pip install -e . first"


async def test_org_create_prints_a_working_key(client, env):
    with_limit, with_default = run_all(
        (("org", "create", "--name", "Acme", "--concurrency-limit", "3"), env),
        (
            ("org", "create", "--name", "Defaults"),
            {**env, "CAMPAIGN_SERVICE_DEFAULT_ORG_CONCURRENCY_LIMIT": "4"},
        ),
    )
    output = ok_json(with_limit)
    assert set(output) == {"orgId", "keyId", "apiKey"}
    assert uuid.UUID(output["orgId"])
    assert uuid.UUID(output["keyId"])
    assert output["apiKey"].startswith("csk_")
    key = OrgKey(output["orgId"], output["keyId"], output["apiKey"])
    created = await client.post("/campaigns", json=campaign_body(), headers=key.headers)
    assert created.status_code == 201, created.text
    assert created.json()["orgId"] == output["orgId"]
    assert created.json()["maxConcurrency"] == 3  # the org's limit, below the default 10
    too_many = await client.post(
        "/campaigns", json=campaign_body(maxConcurrency=4), headers=key.headers
    )
    assert_error(too_many, 400, "concurrency limit of 3")

    # Without --concurrency-limit the org gets CAMPAIGN_SERVICE_DEFAULT_ORG_CONCURRENCY_LIMIT.
    default = ok_json(with_default)
    assert default["orgId"] != output["orgId"]
    headers = {"Authorization": f"Bearer {default['apiKey']}"}
    created = await client.post("/campaigns", json=campaign_body(), headers=headers)
    assert created.json()["maxConcurrency"] == 4


async def test_key_create_and_revoke(client, env, org):
    second = ok_json(run("key", "create", "--org", org.org_id, env=env))
    assert second["orgId"] == org.org_id
    assert second["keyId"] != org.key_id
    assert second["apiKey"] != org.api_key
    second_headers = {"Authorization": f"Bearer {second['apiKey']}"}
    created = await client.post("/campaigns", json=campaign_body(), headers=org.headers)
    seen = await client.get(f"/campaigns/{created.json()['id']}", headers=second_headers)
    assert seen.json() == created.json()

    revoked = ok_json(run("key", "revoke", org.key_id, env=env))
    assert revoked == {"keyId": org.key_id, "revoked": True}
    assert_error(await client.get("/campaigns", headers=org.headers), 401, "Invalid Key")
    assert (await client.get("/campaigns", headers=second_headers)).status_code == 200


def test_bad_input_fails_with_a_clear_message(env):
    unknown = str(uuid.uuid4())
    cases = {
        ("key", "create", "--org", "not-an-id"): "org id 'not-an-id' is not a valid ID",
        ("key", "create", "--org", unknown): f"org {unknown} not found",
        ("key", "revoke", unknown): f"active key {unknown} not found",
        ("org", "create", "--name", "Zero", "--concurrency-limit", "0"): (
            "concurrency limit must be at least 1"
        ),
        ("org", "create", "--name", "   "): "org name should not be empty",
    }
    results = run_all(*((args, env) for args in cases))
    for result, message in zip(results, cases.values(), strict=True):
        fails(result, message)


def test_embedded_database_is_shared_between_commands(passable_tmp):
    tmp_path = passable_tmp
    env = {**base_env(), "CAMPAIGN_SERVICE_HOME": str(tmp_path / "home")}

    migrated = run("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == "migrations applied"
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()

    first = ok_json(run("org", "create", "--name", "First", env=env))
    second = ok_json(run("org", "create", "--name", "Second", env=env))
    assert first["orgId"] != second["orgId"]
    # The first org is still there for a later command: one database, kept on disk.
    extra = ok_json(run("key", "create", "--org", first["orgId"], env=env))
    assert extra["orgId"] == first["orgId"]
