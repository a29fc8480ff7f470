"""Operator commands: --version, info, org list and key list (never a key or its hash)."""

from __future__ import annotations

import json
import uuid

import pytest

import campaign_service
from campaign_service.orgs.service import hash_key
from tests.test_cli import base_env, fails, ok_json, run, run_all


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return {**base_env(), "DATABASE_URL": database_url}


def test_version():
    result = run("--version", env=base_env())
    assert result.returncode == 0
    assert result.stdout.strip() == f"campaign-service {campaign_service.__version__}"


def test_org_list_and_key_list(env):
    first = ok_json(run("org", "create", "--name", "First", "--concurrency-limit", "3", env=env))
    second = ok_json(run("org", "create", "--name", "Second", env=env))
    extra = ok_json(run("key", "create", "--org", first["orgId"], env=env))
    ok_json(run("key", "revoke", first["keyId"], env=env))

    orgs_out, keys_out, other_keys = run_all(
        (("org", "list"), env),
        (("key", "list", first["orgId"]), env),
        (("key", "list", second["orgId"]), env),
    )
    assert orgs_out.returncode == 0, orgs_out.stderr
    orgs = json.loads(orgs_out.stdout)
    assert [(o["orgId"], o["name"], o["concurrencyLimit"], o["activeKeys"]) for o in orgs] == [
        (first["orgId"], "First", 3, 1),
        (second["orgId"], "Second", 10, 1),
    ]
    assert all(o["createdAt"].endswith("Z") for o in orgs)

    keys = json.loads(keys_out.stdout)
    assert [k["keyId"] for k in keys] == [first["keyId"], extra["keyId"]]
    assert keys[0]["revokedAt"].endswith("Z")
    assert keys[1]["revokedAt"] is None
    assert set(keys[0]) == {"keyId", "createdAt", "revokedAt"}
    assert [k["keyId"] for k in json.loads(other_keys.stdout)] == [second["keyId"]]
    for secret in (first["apiKey"], extra["apiKey"], hash_key(extra["apiKey"]), "csk_"):
        assert secret not in keys_out.stdout + orgs_out.stdout


def test_key_list_of_an_unknown_org(env):
    unknown = str(uuid.uuid4())
    missing, malformed = run_all((("key", "list", unknown), env), (("key", "list", "acme"), env))
    fails(missing, f"org {unknown} not found")
    fails(malformed, "org id 'acme' is not a valid ID")


def test_info_says_where_the_data_lives_without_starting_anything(tmp_path):
    home = tmp_path / "home"
    env = {**base_env(), "CAMPAIGN_SERVICE_HOME": str(home)}
    embedded, configured = run_all(
        (("info",), env), (("info",), {**env, "DATABASE_URL": "postgresql://db/x"})
    )
    assert json.loads(embedded.stdout) == {
        "version": campaign_service.__version__,
        "database": "embedded",
        "home": str(home),
        "pgdata": str(home / "pgdata"),
    }
    assert json.loads(configured.stdout)["database"] == "DATABASE_URL"
    assert json.loads(configured.stdout)["pgdata"] is None
    assert not home.exists()


def test_no_warning_without_xdg_runtime_dir(passable_tmp):
    tmp_path = passable_tmp
    """Containers and CI have no XDG_RUNTIME_DIR; the embedded server must not complain."""
    env = {k: v for k, v in base_env().items() if k != "XDG_RUNTIME_DIR"}
    env["CAMPAIGN_SERVICE_HOME"] = str(tmp_path / "home")
    listed = run("org", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert "XDG_RUNTIME_DIR" not in listed.stderr
    assert "Warning" not in listed.stderr


def test_a_bad_setting_is_one_line(env):
    result = run("org", "list", env={**env, "CAMPAIGN_SERVICE_DB_POOL_SIZE": "many"})
    fails(result, "CAMPAIGN_SERVICE_DB_POOL_SIZE: Input should be a valid integer")
