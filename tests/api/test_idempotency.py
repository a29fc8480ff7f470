"""Idempotency-Key (extension): a retried write replays the first answer and writes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.api.helpers import assert_error, create, fetch, row_counts
from tests.audiences.helpers import post_import
from tests.conftest import FakeClock, OrgKey, campaign_body

CSV = b"number,name\n+14155550100,Ada\n+14155550101,Alan\n"


def keyed(org: OrgKey, key: str) -> dict[str, str]:
    return {**org.headers, "Idempotency-Key": key}


async def stored_keys(engine: Any) -> list[dict[str, Any]]:
    return await fetch(engine, "SELECT key, org_id::text AS org_id FROM idempotency_keys")


async def test_ten_concurrent_identical_posts_create_one_campaign(client, org, engine):
    body = campaign_body(3)
    responses = await asyncio.gather(
        *(client.post("/campaigns", json=body, headers=keyed(org, "k-1")) for _ in range(10))
    )

    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.content for r in responses}) == 1
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert replayed.count("true") == 9
    assert replayed.count(None) == 1
    assert await row_counts(engine) == {"campaigns": 1, "calls": 3, "call_events": 0}


async def test_a_retry_replays_status_and_body(client, org, engine):
    first = await client.post("/campaigns", json=campaign_body(2), headers=keyed(org, "retry"))
    again = await client.post("/campaigns", json=campaign_body(2), headers=keyed(org, "retry"))

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (await row_counts(engine))["campaigns"] == 1


async def test_without_a_key_every_post_runs(client, org, engine):
    for _ in range(2):
        await create(client, org)
    assert (await row_counts(engine))["campaigns"] == 2
    assert await stored_keys(engine) == []


async def test_same_key_with_another_body_path_or_method_is_a_400(client, org, engine):
    first = await client.post("/campaigns", json=campaign_body(2), headers=keyed(org, "k"))
    assert first.status_code == 201
    other_body = await client.post("/campaigns", json=campaign_body(3), headers=keyed(org, "k"))
    other_path = await client.post("/campaign", json=campaign_body(2), headers=keyed(org, "k"))
    other_query = await client.post(
        "/campaigns?dedupe=true", json=campaign_body(2), headers=keyed(org, "k")
    )
    other_method = await client.patch(
        f"/campaigns/{first.json()['id']}", json={"name": "x"}, headers=keyed(org, "k")
    )

    for response in (other_body, other_path, other_query, other_method):
        assert_error(response, 400, "Idempotency-Key 'k' was already used for another request")
    counts = await row_counts(engine)
    assert counts["campaigns"] == 1
    got = await client.get(f"/campaigns/{first.json()['id']}", headers=org.headers)
    assert got.json()["name"] == "Spring outreach"


async def test_another_orgs_same_key_is_its_own(client, org, make_org, engine):
    other = await make_org(name="Other")
    mine = await client.post("/campaigns", json=campaign_body(2), headers=keyed(org, "shared"))
    theirs = await client.post("/campaigns", json=campaign_body(3), headers=keyed(other, "shared"))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["orgId"] == other.org_id
    assert (await row_counts(engine))["campaigns"] == 2


async def test_a_failed_request_keeps_no_key_and_its_retry_runs(client, org, engine):
    bad = await client.post(
        "/campaigns", json=campaign_body(2, assistantId=...), headers=keyed(org, "fix-me")
    )
    assert_error(bad, 400)
    assert await stored_keys(engine) == []
    # The caller fixes the body and retries with the same key: it runs.
    good = await client.post("/campaigns", json=campaign_body(2), headers=keyed(org, "fix-me"))
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


async def test_keys_are_purged_after_the_retention(client, org, make_org, engine, clock: FakeClock):
    other_org_key = "kept"
    await client.post("/campaigns", json=campaign_body(2), headers=keyed(org, "old"))
    await client.post("/campaigns", json=campaign_body(2), headers=keyed(org, other_org_key))
    clock.advance(hours=23, minutes=59)
    replay = await client.post("/campaigns", json=campaign_body(2), headers=keyed(org, "old"))
    assert replay.headers["Idempotent-Replayed"] == "true"

    clock.advance(minutes=2)  # past 24 hours: a new key's request purges the old ones
    other = await make_org(name="Other")  # any org's new key purges every org's expired keys
    await client.post("/campaigns", json=campaign_body(1), headers=keyed(other, "new"))
    assert sorted(k["key"] for k in await stored_keys(engine)) == ["new"]
    reused = await client.post("/campaigns", json=campaign_body(3), headers=keyed(org, "old"))
    assert reused.status_code == 201
    assert "Idempotent-Replayed" not in reused.headers
    assert (await row_counts(engine))["campaigns"] == 4


async def test_every_write_path_replays(client: httpx.AsyncClient, org, engine):
    created = await client.post("/v2/campaign", json=campaign_body(2), headers=keyed(org, "v2"))
    again = await client.post("/v2/campaign", json=campaign_body(2), headers=keyed(org, "v2"))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == created.content
    cid = created.json()["id"]

    for method, path, json in [
        ("PATCH", f"/campaign/{cid}", {"name": "Renamed"}),
        ("PATCH", f"/v2/campaign/{cid}", {"name": "Renamed again"}),
        ("POST", "/dnc", {"number": "+14155550199"}),
        ("DELETE", "/dnc/%2B14155550199", None),
        ("DELETE", f"/campaigns/{cid}", None),
    ]:
        key = f"{method} {path}"
        first = await client.request(method, path, json=json, headers=keyed(org, key))
        second = await client.request(method, path, json=json, headers=keyed(org, key))
        assert first.status_code in (200, 201), first.text
        assert (second.status_code, second.content) == (first.status_code, first.content), path
        assert second.headers["Idempotent-Replayed"] == "true", path

    # Uploads: httpx draws a new multipart boundary per request; the same file is the same
    # request all the same.
    for path in ("/campaigns/import", "/v2/campaign/import"):
        client.headers["Idempotency-Key"] = f"import {path}"
        try:
            first = await post_import(client, org, CSV, path=path)
            second = await post_import(client, org, CSV, path=path)
            changed = await post_import(client, org, CSV + b"+14155550102,Grace\n", path=path)
        finally:
            del client.headers["Idempotency-Key"]
        assert first.status_code == 201, first.text
        assert (second.status_code, second.content) == (201, first.content)
        assert second.headers["Idempotent-Replayed"] == "true"
        assert_error(changed, 400, "already used for another request")
    assert (await row_counts(engine))["campaigns"] == 3


async def test_a_malformed_key_is_a_400(client, org, engine):
    too_long = await client.post("/campaigns", json=campaign_body(1), headers=keyed(org, "x" * 256))
    assert_error(too_long, 400, "Idempotency-Key must be 1 to 255 printable ASCII characters")
    not_ascii = await client.post(
        "/campaigns", json=campaign_body(1), headers=keyed(org, "clé".encode("latin-1"))
    )
    assert_error(not_ascii, 400, "Idempotency-Key must be 1 to 255 printable ASCII characters")
    assert (await row_counts(engine))["campaigns"] == 0


def test_the_header_is_documented_on_every_write_as_an_extension(app):
    document = app.openapi()
    writes = [
        (path, method, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        # Vapi's webhooks are the provider's messages (authenticated by their path token), not
        # an API client's writes; repeats are harmless by design (status reports are idempotent).
        if method in ("post", "patch", "delete", "put") and not path.startswith("/webhooks/")
    ]
    assert len(writes) >= 14
    for path, method, op in writes:
        headers = [p for p in op.get("parameters", []) if p["in"] == "header"]
        assert [h["name"] for h in headers] == ["Idempotency-Key"], (path, method)
        assert headers[0]["required"] is False
        assert headers[0]["description"].startswith("Extension"), (path, method)
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if method == "get":
                assert all(p["in"] != "header" for p in op.get("parameters", [])), path
