"""API keys (401 in Vapi's shape) and org isolation on every campaign route."""

from __future__ import annotations

import uuid

from campaign_service.db.session import unit_of_work
from campaign_service.orgs import service as orgs
from tests.api.helpers import assert_error, create
from tests.conftest import campaign_body

INVALID_KEY = "Invalid Key: no active API key of this service matches it"
GET_A_KEY = "campaign-service org create --name NAME"


BAD_CREDENTIALS = {
    "none": ({}, "Missing API key"),
    "basic": ({"Authorization": "Basic dXNlcjpwYXNz"}, "Missing API key"),
    "bearer only": ({"Authorization": "Bearer"}, "Missing API key"),
    "empty key": ({"Authorization": "Bearer "}, "Missing API key"),
    "other scheme": ({"Authorization": "Token csk_whatever"}, "Missing API key"),
    "unknown key": ({"Authorization": "Bearer csk_not_a_real_key"}, INVALID_KEY),
    "key without scheme": ({"Authorization": "csk_not_a_real_key"}, "Missing API key"),
}


async def test_requests_without_a_valid_key_are_401(client, org, subtests):
    for case, (headers, needle) in BAD_CREDENTIALS.items():
        for method, path in (("GET", "/campaigns"), ("POST", "/campaigns"), ("GET", "/campaign")):
            with subtests.test(f"{case}: {method} {path}"):
                response = await client.request(method, path, json=campaign_body(), headers=headers)
                body = assert_error(response, 401, needle, GET_A_KEY, "csk_")
                # Vapi's hint about public and private keys means nothing here.
                assert "private" not in body["message"]


async def test_401_comes_before_validation(client, engine):
    response = await client.post("/campaigns", json={"bad": True})
    assert_error(response, 401)


async def test_bearer_scheme_is_case_insensitive(client, org):
    response = await client.get("/campaigns", headers={"Authorization": f"bearer {org.api_key}"})
    assert response.status_code == 200


async def test_a_revoked_key_is_401_and_other_keys_keep_working(client, org, sessions, clock):
    async with unit_of_work(sessions) as session:
        second = await orgs.create_key(session, org_id=uuid.UUID(org.org_id))
    async with unit_of_work(sessions) as session:
        await orgs.revoke_key(session, key_id=uuid.UUID(org.key_id), now=clock())

    response = await client.get("/campaigns", headers=org.headers)
    assert_error(response, 401, INVALID_KEY)
    other = await client.get("/campaigns", headers={"Authorization": f"Bearer {second.api_key}"})
    assert other.status_code == 200


async def test_keys_of_one_org_share_its_campaigns(client, org, sessions):
    created = await create(client, org)
    async with unit_of_work(sessions) as session:
        second = await orgs.create_key(session, org_id=uuid.UUID(org.org_id))
    response = await client.get(
        f"/campaigns/{created['id']}", headers={"Authorization": f"Bearer {second.api_key}"}
    )
    assert response.json() == created


def campaign_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every operation under /campaign and /campaigns."""
    paths = app.openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/campaign")
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


async def test_another_orgs_campaign_is_invisible_on_every_route(client, app, make_org):
    owner = await make_org(name="Owner")
    intruder = await make_org(name="Intruder")
    theirs = await create(client, owner, campaign_body(2))
    mine = await create(client, intruder, campaign_body(1))
    call_id = next(iter(theirs["calls"]))
    bodies = {"POST": campaign_body(1), "PATCH": {"status": "ended", "name": "hijacked"}}

    routes = campaign_routes(app)
    for prefix in ("/campaigns", "/campaign"):
        assert {
            ("GET", prefix),
            ("POST", prefix),
            ("GET", prefix + "/{id}"),
            ("PATCH", prefix + "/{id}"),
            ("DELETE", prefix + "/{id}"),
            ("GET", prefix + "/{id}/calls"),
            ("GET", prefix + "/{id}/calls/{callId}"),
        } <= set(routes)

    checked = 0
    for method, template in routes:
        if "{id}" not in template:
            continue
        path = template.replace("{id}", theirs["id"]).replace("{callId}", call_id)
        assert "{" not in path, f"don't know how to fill {template}"
        body = bodies.get(method)
        if template.endswith(("/pause", "/resume")):  # extension actions: their own bodies
            body = {"reason": "hijack"} if template.endswith("/pause") else None
        response = await client.request(method, path, json=body, headers=intruder.headers)
        assert_error(response, 404, "not found")
        checked += 1
    assert checked >= 10
    # Routes without a campaign ID are the two collections, covered by the list checks below,
    # and the CSV import, which creates in the caller's own org like POST does (a new one would
    # need its own tenancy check here).
    assert {r for r in routes if "{id}" not in r[1]} == {
        (method, prefix) for method in ("GET", "POST") for prefix in ("/campaigns", "/campaign")
    } | {("POST", "/campaigns/import")}

    for prefix in ("/campaigns", "/campaign"):
        for params in ({}, {"id": theirs["id"]}, {"status": "scheduled"}, {"limit": 1000}):
            response = await client.get(prefix, params=params, headers=intruder.headers)
            assert response.status_code == 200
            ids = [c["id"] for c in response.json()["results"]]
            assert theirs["id"] not in ids
            assert response.json()["metadata"]["totalItems"] == len(ids)
        listed = await client.get(prefix, headers=intruder.headers)
        assert [c["id"] for c in listed.json()["results"]] == [mine["id"]]

    # Nothing the intruder sent reached the owner's campaign.
    response = await client.get(f"/campaigns/{theirs['id']}", headers=owner.headers)
    assert response.json() == theirs
    owner_list = await client.get("/campaigns", headers=owner.headers)
    assert [c["id"] for c in owner_list.json()["results"]] == [theirs["id"]]


async def test_calls_of_another_orgs_campaign_via_own_campaign_are_404(client, make_org):
    owner = await make_org(name="Owner")
    intruder = await make_org(name="Intruder")
    theirs = await create(client, owner)
    mine = await create(client, intruder)
    call_id = next(iter(theirs["calls"]))
    response = await client.get(
        f"/campaigns/{mine['id']}/calls/{call_id}", headers=intruder.headers
    )
    assert_error(response, 404)
