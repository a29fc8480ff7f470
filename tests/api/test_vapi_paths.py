"""Vapi's singular paths (/campaign, /campaign/{id}) serve the same resource as /campaigns."""

from __future__ import annotations

from tests.api.helpers import assert_error
from tests.conftest import campaign_body


async def test_full_lifecycle_on_singular_paths(client, org, clock):
    created = await client.post("/campaign", json=campaign_body(2), headers=org.headers)
    assert created.status_code == 201, created.text
    campaign = created.json()
    cid = campaign["id"]

    got = await client.get(f"/campaign/{cid}", headers=org.headers)
    assert got.json() == campaign
    listed = await client.get("/campaign", params={"limit": 1.0}, headers=org.headers)
    assert listed.json()["results"] == [campaign]

    calls = await client.get(f"/campaign/{cid}/calls", headers=org.headers)
    assert {c["id"] for c in calls.json()["results"]} == set(campaign["calls"])
    call_id = next(iter(campaign["calls"]))
    call = await client.get(f"/campaign/{cid}/calls/{call_id}", headers=org.headers)
    assert call.json() == campaign["calls"][call_id]

    clock.advance(seconds=1)
    renamed = await client.patch(f"/campaign/{cid}", json={"name": "Renamed"}, headers=org.headers)
    assert renamed.json()["name"] == "Renamed"
    ended = await client.patch(f"/campaign/{cid}", json={"status": "ended"}, headers=org.headers)
    assert ended.json()["status"] == "ended"

    deleted = await client.delete(f"/campaign/{cid}", headers=org.headers)
    assert deleted.status_code == 200
    assert deleted.json()["id"] == cid
    assert_error(await client.get(f"/campaign/{cid}", headers=org.headers), 404)


async def test_both_prefixes_see_the_same_campaigns(client, org):
    via_plural = (await client.post("/campaigns", json=campaign_body(), headers=org.headers)).json()
    via_singular = (
        await client.post("/campaign", json=campaign_body(), headers=org.headers)
    ).json()

    for prefix in ("/campaign", "/campaigns"):
        for campaign in (via_plural, via_singular):
            response = await client.get(f"{prefix}/{campaign['id']}", headers=org.headers)
            assert response.json() == campaign
        listed = (await client.get(prefix, params={"sortOrder": "ASC"}, headers=org.headers)).json()
        assert {c["id"] for c in listed["results"]} == {via_plural["id"], via_singular["id"]}

    await client.patch(f"/campaign/{via_plural['id']}", json={"name": "x"}, headers=org.headers)
    response = await client.get(f"/campaigns/{via_plural['id']}", headers=org.headers)
    assert response.json()["name"] == "x"


async def test_singular_paths_validate_the_same_way(client, org):
    response = await client.post("/campaign", json=campaign_body(0), headers=org.headers)
    assert_error(response, 400, "at least 1 customer")
    assert_error(await client.get("/campaign"), 401)
