"""GET /campaigns/{id}/calls and /calls/{callId}: the per-call records."""

from __future__ import annotations

from tests.api.helpers import assert_error, assert_validation_error, create, start_campaign
from tests.conftest import campaign_body, new_id


async def list_calls(client, org, campaign_id: str, **params) -> dict:
    response = await client.get(
        f"/campaigns/{campaign_id}/calls", params=params, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def positions(body: dict) -> list[int]:
    return [call["position"] for call in body["results"]]


async def test_calls_are_listed_in_dial_order(client, org):
    campaign = await create(client, org, campaign_body(4))
    body = await list_calls(client, org, campaign["id"])

    assert positions(body) == [0, 1, 2, 3]
    assert body["metadata"] == {
        "itemsPerPage": 100,
        "totalItems": 4,
        "currentPage": 1,
        "totalPages": 1,
        "hasNextPage": False,
        "sortOrder": "ASC",
    }
    assert {call["id"]: call for call in body["results"]} == campaign["calls"]


async def test_calls_pagination(client, org):
    campaign = await create(client, org, campaign_body(5))
    pages = [
        await list_calls(client, org, campaign["id"], limit=2, page=page) for page in (1, 2, 3)
    ]
    assert [positions(p) for p in pages] == [[0, 1], [2, 3], [4]]
    assert [p["metadata"]["hasNextPage"] for p in pages] == [True, True, False]
    assert {p["metadata"]["totalPages"] for p in pages} == {3}
    floats = await list_calls(client, org, campaign["id"], limit="2.0", page="2.0")
    assert positions(floats) == [2, 3]


async def test_calls_sort_order(client, org):
    campaign = await create(client, org, campaign_body(3))
    body = await list_calls(client, org, campaign["id"], sortOrder="DESC")
    assert positions(body) == [2, 1, 0]
    assert body["metadata"]["sortOrder"] == "DESC"
    assert positions(await list_calls(client, org, campaign["id"], sortOrder="ASC")) == [0, 1, 2]


async def test_calls_status_filter(client, org, engine):
    campaign = await create(client, org, campaign_body(5))
    await start_campaign(
        engine, campaign["id"], call_statuses={1: "in-progress", 3: "in-progress", 4: "queued"}
    )
    await client.patch(
        f"/campaigns/{campaign['id']}", json={"status": "ended"}, headers=org.headers
    )

    in_progress = await list_calls(client, org, campaign["id"], status="in-progress")
    assert positions(in_progress) == [1, 3]
    assert in_progress["metadata"]["totalItems"] == 2
    ended = await list_calls(client, org, campaign["id"], status="ended", sortOrder="DESC")
    assert positions(ended) == [2, 0]
    assert {c["endedReason"] for c in ended["results"]} == {"scheduled-call-deleted"}
    assert positions(await list_calls(client, org, campaign["id"], status="queued")) == [4]
    assert positions(await list_calls(client, org, campaign["id"], status="scheduled")) == []


async def test_calls_bad_query_parameters(client, org, subtests):
    campaign = await create(client, org)
    for query, needle in {
        "status=voicemail": "status must be",
        "limit=1001": "limit must be less than or equal to 1000",
        "page=0": "page must be greater than or equal to 1",
        "sortOrder=down": "sortOrder must be 'ASC' or 'DESC'",
    }.items():
        with subtests.test(query):
            response = await client.get(
                f"/campaigns/{campaign['id']}/calls?{query}", headers=org.headers
            )
            assert_validation_error(response, needle)


async def test_calls_of_an_unknown_campaign_is_404(client, org):
    assert_error(await client.get(f"/campaigns/{new_id()}/calls", headers=org.headers), 404)
    assert_error(await client.get("/campaigns/nope/calls", headers=org.headers), 404)


async def test_get_one_call(client, org):
    campaign = await create(client, org, campaign_body(3))
    for call_id, call in campaign["calls"].items():
        response = await client.get(
            f"/campaigns/{campaign['id']}/calls/{call_id}", headers=org.headers
        )
        assert response.status_code == 200
        assert response.json() == call


async def test_unknown_or_malformed_call_id_is_404(client, org):
    campaign = await create(client, org)
    for call_id in (new_id(), "not-a-uuid"):
        response = await client.get(
            f"/campaigns/{campaign['id']}/calls/{call_id}", headers=org.headers
        )
        assert_error(response, 404, f"call {call_id} not found")


async def test_a_call_of_another_campaign_is_404(client, org):
    first = await create(client, org)
    second = await create(client, org)
    call_of_second = next(iter(second["calls"]))
    response = await client.get(
        f"/campaigns/{first['id']}/calls/{call_of_second}", headers=org.headers
    )
    assert_error(response, 404, "not found")
    response = await client.get(
        f"/campaigns/{second['id']}/calls/{call_of_second}", headers=org.headers
    )
    assert response.status_code == 200
