"""Every path answers the same with a trailing slash as without it, for every method: no 307
(curl without -L would print nothing), no 404."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import create
from tests.conftest import OrgKey, campaign_body

WRITE_BODIES: dict[str, dict[str, Any] | None] = {
    "post": campaign_body(2),
    "patch": {"name": "Renamed"},
    "delete": None,
}
# Operations these bodies do not fit (multipart uploads, other resources): for them only the
# sameness of both forms is checked, not that the request succeeds.
OTHER_BODIES = ("/import", "/dnc", "/webhooks", "/pause", "/resume")


def operations(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, ops in openapi["paths"].items()
        for method in ops
        if method in ("get", "post", "patch", "delete")
    ]


async def send(
    client: httpx.AsyncClient,
    org: OrgKey,
    method: str,
    template: str,
    *,
    slash: bool,
    shared: dict[str, Any],
) -> httpx.Response:
    """The operation with or without the slash; a write gets a campaign of its own."""
    campaign = shared if method == "get" else await create(client, org)
    path = template.format_map(
        {
            "id": campaign["id"],
            "callId": next(iter(campaign["calls"])),
            "number": "+14155550100",
            "token": "not-a-token",
        }
    )
    return await client.request(
        method,
        path + ("/" if slash else ""),
        json=WRITE_BODIES.get(method),
        headers=org.headers,
        follow_redirects=False,
    )


def comparable(response: httpx.Response) -> Any:
    """What must not differ between the two forms (writes differ only in their new IDs)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response.headers.get("content-type")
    body = response.json()
    if isinstance(body, dict) and "calls" in body:
        return {k: v for k, v in body.items() if k not in ("id", "calls", "createdAt", "updatedAt")}
    return body


async def test_every_path_with_a_trailing_slash_is_the_same_resource(client, org, app, subtests):
    # Reads first, so no write of the loop changes what two reads of a list see.
    ops = sorted(operations(app.openapi()), key=lambda op: op[0] != "get")
    assert len(ops) > 20
    shared = await create(client, org)
    for method, template in ops:
        with subtests.test(f"{method.upper()} {template}/"):
            plain = await send(client, org, method, template, slash=False, shared=shared)
            slashed = await send(client, org, method, template, slash=True, shared=shared)
            if not any(part in template for part in OTHER_BODIES):
                assert plain.status_code < 300, plain.text
            assert slashed.status_code == plain.status_code, slashed.text
            if template != "/metrics":  # counts the requests themselves
                assert comparable(slashed) == comparable(plain)


async def test_a_slash_keeps_the_method_and_body(client, org):
    created = await client.post("/campaigns/", json=campaign_body(3), headers=org.headers)
    assert created.status_code == 201
    assert len(created.json()["calls"]) == 3
    cid = created.json()["id"]
    got = await client.get(f"/campaigns/{cid}/", headers=org.headers)
    assert got.json() == created.json()
    renamed = await client.patch(f"/v2/campaign/{cid}/", json={"name": "B"}, headers=org.headers)
    assert renamed.json()["name"] == "B"
    listed = await client.get("/v2/campaign/", params={"limit": 5}, headers=org.headers)
    assert [c["name"] for c in listed.json()["results"]] == ["B"]
    deleted = await client.delete(f"/campaign/{cid}//", headers=org.headers)
    assert deleted.status_code == 200
    assert (await client.get(f"/campaigns/{cid}", headers=org.headers)).status_code == 404
    assert (await client.get("/health/")).json() == {"status": "ok"}
