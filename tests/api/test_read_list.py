"""GET /campaigns/{id} and GET /campaigns: pagination, sorting and every filter."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.helpers import assert_error, assert_validation_error, create, execute, start_campaign
from tests.conftest import campaign_body, new_id

T0 = "2026-06-01T12:00:00"


async def names(client, org, **params) -> list[str]:
    response = await client.get("/campaigns", params=params, headers=org.headers)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["results"]]


async def series(client, org, clock, n: int, *, step: float = 1.0) -> list[dict]:
    """n campaigns named c0..c(n-1), created `step` seconds apart starting at T0."""
    created = []
    for i in range(n):
        if i:
            clock.advance(seconds=step)
        created.append(await create(client, org, name=f"c{i}"))
    return created


async def test_get_returns_the_body_create_returned(client, org):
    created = await create(client, org, campaign_body(3, schedulePlan={"earliestAt": T0 + "Z"}))
    response = await client.get(f"/campaigns/{created['id']}", headers=org.headers)
    assert response.status_code == 200
    assert response.json() == created


async def test_get_unknown_or_malformed_id_is_404(client, org):
    await create(client, org)
    for campaign_id in (new_id(), "not-a-uuid", "1234"):
        response = await client.get(f"/campaigns/{campaign_id}", headers=org.headers)
        assert_error(response, 404, f"campaign {campaign_id} not found")


async def test_list_items_are_full_campaigns(client, org):
    created = await create(client, org, campaign_body(2))
    response = await client.get("/campaigns", headers=org.headers)
    assert response.json()["results"] == [created]


async def test_list_metadata_defaults(client, org, clock):
    await series(client, org, clock, 3)
    response = await client.get("/campaigns", headers=org.headers)
    assert response.status_code == 200
    assert response.json()["metadata"] == {
        "itemsPerPage": 100,
        "totalItems": 3,
        "currentPage": 1,
        "totalPages": 1,
        "hasNextPage": False,
        "sortOrder": "DESC",
    }


async def test_empty_list(client, org):
    response = await client.get("/campaigns", headers=org.headers)
    assert response.json() == {
        "results": [],
        "metadata": {
            "itemsPerPage": 100,
            "totalItems": 0,
            "currentPage": 1,
            "totalPages": 0,
            "hasNextPage": False,
            "sortOrder": "DESC",
        },
    }


async def test_pages(client, org, clock):
    await series(client, org, clock, 5)
    pages = []
    for page in (1, 2, 3, 4):
        response = await client.get(
            "/campaigns", params={"limit": 2, "page": page}, headers=org.headers
        )
        body = response.json()
        pages.append([c["name"] for c in body["results"]])
        assert body["metadata"]["itemsPerPage"] == 2
        assert body["metadata"]["totalItems"] == 5
        assert body["metadata"]["totalPages"] == 3
        assert body["metadata"]["currentPage"] == page
        assert body["metadata"]["hasNextPage"] is (page < 3)
    assert pages == [["c4", "c3"], ["c2", "c1"], ["c0"], []]


async def test_integral_float_page_and_limit(client, org, clock):
    await series(client, org, clock, 3)
    response = await client.get("/campaigns?page=2.0&limit=1.0", headers=org.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["name"] for c in body["results"]] == ["c1"]
    assert body["metadata"]["currentPage"] == 2
    assert body["metadata"]["itemsPerPage"] == 1
    assert '"currentPage":2,' in response.text


async def test_limit_zero_counts_without_items(client, org, clock):
    await series(client, org, clock, 2)
    body = (await client.get("/campaigns?limit=0", headers=org.headers)).json()
    assert body["results"] == []
    assert body["metadata"]["totalItems"] == 2
    assert body["metadata"]["itemsPerPage"] == 0
    assert body["metadata"]["totalPages"] == 0
    assert body["metadata"]["hasNextPage"] is False


async def test_limit_1000_is_allowed(client, org):
    assert (await client.get("/campaigns?limit=1000", headers=org.headers)).status_code == 200


BAD_QUERIES = {
    "limit=1001": "limit must be less than or equal to 1000",
    "limit=-1": "limit must be greater than or equal to 0",
    "page=0": "page must be greater than or equal to 1",
    "page=-3": "page must be greater than or equal to 1",
    "page=1.5": "page must be a valid integer",
    "page=1249766910993822120900": "page must be less than or equal to 1000000000",
    "limit=ten": "limit must be a valid integer",
    "sortOrder=UP": "sortOrder must be 'ASC' or 'DESC'",
    "sortBy=name": "sortBy must be 'createdAt', 'duration' or 'cost'",
    "status=paused": "status must be",
    "createdAtGt=yesterday": "createdAtGt must be an ISO 8601 date-time",
    "updatedAtLt=0.5": "updatedAtLt must be an ISO 8601 date-time",
    "updatedAtLe=2026-13-01T00:00:00Z": "updatedAtLe must be a valid datetime",
}


async def test_bad_query_parameters(client, org, subtests):
    for query, needle in BAD_QUERIES.items():
        with subtests.test(query):
            response = await client.get(f"/campaigns?{query}", headers=org.headers)
            assert_validation_error(response, needle)


async def test_unknown_query_parameters_are_ignored(client, org):
    await create(client, org)
    assert len(await names(client, org, cursor="abc", includeCounters="true")) == 1


async def test_sort_order(client, org, clock):
    await series(client, org, clock, 3)
    assert await names(client, org) == ["c2", "c1", "c0"]
    assert await names(client, org, sortOrder="DESC") == ["c2", "c1", "c0"]
    assert await names(client, org, sortOrder="ASC") == ["c0", "c1", "c2"]
    response = await client.get("/campaigns?sortOrder=ASC", headers=org.headers)
    assert response.json()["metadata"]["sortOrder"] == "ASC"


async def test_sort_order_ignores_insertion_order(client, org, clock):
    """Sorting is by createdAt, not by when the row happened to be written."""
    clock.advance(hours=1)
    await create(client, org, name="late")
    clock.advance(hours=-2)
    await create(client, org, name="early")
    assert await names(client, org, sortOrder="ASC") == ["early", "late"]


async def test_sort_by_is_accepted_and_sorts_by_created_at(client, org, clock):
    await series(client, org, clock, 3)
    for sort_by in ("createdAt", "duration", "cost"):
        assert await names(client, org, sortBy=sort_by, sortOrder="ASC") == ["c0", "c1", "c2"]
        assert await names(client, org, sortBy=sort_by) == ["c2", "c1", "c0"]


async def test_id_filter(client, org, clock):
    campaigns = await series(client, org, clock, 3)
    target = campaigns[1]["id"]
    assert await names(client, org, id=target) == ["c1"]
    assert await names(client, org, id=f"  {target} ") == ["c1"]
    assert await names(client, org, id=new_id()) == []
    assert await names(client, org, id="not-a-uuid") == []


async def test_status_filter(client, org, engine, clock):
    _scheduled, user_ended, running, finished, deleted = await series(client, org, clock, 5)
    response = await client.patch(
        f"/campaigns/{user_ended['id']}", json={"status": "ended"}, headers=org.headers
    )
    assert response.status_code == 200
    await start_campaign(engine, running["id"])
    await execute(
        engine,
        "UPDATE campaigns SET status = 'ended', ended_reason = 'campaign.ended.success'"
        " WHERE id = :c",
        c=finished["id"],
    )
    assert (await client.delete(f"/campaigns/{deleted['id']}", headers=org.headers)).is_success

    assert await names(client, org) == ["c3", "c2", "c1", "c0"]
    assert await names(client, org, status="scheduled") == ["c0"]
    assert await names(client, org, status="in-progress") == ["c2"]
    assert await names(client, org, status="ended") == ["c3", "c1"]
    assert await names(client, org, status="cancelled") == ["c1"]
    assert await names(client, org, status="archived") == []


async def test_status_filter_counts_only_matches(client, org, clock):
    await series(client, org, clock, 3)
    body = (await client.get("/campaigns?status=ended", headers=org.headers)).json()
    assert body["metadata"]["totalItems"] == 0


def at(seconds: float, suffix: str = "Z") -> str:
    whole, frac = divmod(seconds, 1)
    stamp = f"2026-06-01T12:00:{int(whole):02d}"
    if frac:
        stamp += f".{round(frac * 1_000_000):06d}"
    return stamp + suffix


CREATED_AT_FILTERS = [
    ({"createdAtGt": at(1)}, ["c2"]),
    ({"createdAtGe": at(1)}, ["c1", "c2"]),
    ({"createdAtLt": at(1)}, ["c0"]),
    ({"createdAtLe": at(1)}, ["c0", "c1"]),
    ({"createdAtGt": at(0), "createdAtLt": at(2)}, ["c1"]),
    ({"createdAtGe": at(0), "createdAtLe": at(2)}, ["c0", "c1", "c2"]),
    ({"createdAtGt": "2026-06-01T14:00:01+02:00"}, ["c2"]),
    ({"createdAtLe": "2026-06-01T07:00:01-05:00"}, ["c0", "c1"]),
    ({"createdAtGt": "2026-06-01T12:00:01"}, ["c2"]),
    ({"createdAtGt": at(0.5)}, ["c1", "c2"]),
    ({"createdAtLt": at(1.001)}, ["c0", "c1"]),
    ({"createdAtGt": at(1.000001)}, ["c2"]),
    ({"createdAtGe": "2026-06-01T14:00:00.999+02:00"}, ["c1", "c2"]),
    ({"createdAtGt": at(5)}, []),
    ({"createdAtLt": at(0)}, []),
]


async def test_created_at_filters(client, org, clock, subtests):
    await series(client, org, clock, 3)
    for params, expected in CREATED_AT_FILTERS:
        with subtests.test(str(params)):
            assert await names(client, org, sortOrder="ASC", **params) == expected


async def test_created_at_filter_with_the_echoed_timestamp(client, org, clock):
    """A createdAt read from a response, passed back as a bound, must behave as that instant:
    the stored time may not carry precision the response did not show."""
    clock.now = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    first = await create(client, org, name="first")
    clock.advance(seconds=1)
    await create(client, org, name="second")
    echoed = first["createdAt"]
    assert echoed == "2026-06-01T12:00:00.123Z"

    assert await names(client, org, sortOrder="ASC", createdAtGt=echoed) == ["second"]
    assert await names(client, org, sortOrder="ASC", createdAtLe=echoed) == ["first"]
    assert await names(client, org, sortOrder="ASC", createdAtGe=echoed) == ["first", "second"]


async def test_updated_at_filters(client, org, clock):
    campaigns = await series(client, org, clock, 3)
    clock.advance(minutes=10)
    touched_at = clock.now
    response = await client.patch(
        f"/campaigns/{campaigns[0]['id']}", json={"name": "renamed"}, headers=org.headers
    )
    assert response.json()["updatedAt"] == "2026-06-01T12:10:02.000Z"
    stamp = touched_at.strftime("%Y-%m-%dT%H:%M:%S")

    assert await names(client, org, updatedAtGt=at(2)) == ["renamed"]
    assert await names(client, org, updatedAtGe=stamp + "Z") == ["renamed"]
    assert await names(client, org, updatedAtGt=stamp + "Z") == []
    assert await names(client, org, updatedAtLt=stamp + ".000+00:00") == ["c2", "c1"]
    assert await names(client, org, updatedAtLe="2026-06-01T14:10:02+02:00") == [
        "c2",
        "c1",
        "renamed",
    ]
    assert await names(client, org, sortOrder="ASC", createdAtLt=at(1), updatedAtGt=at(5)) == [
        "renamed"
    ]


async def test_filters_and_pagination_combine(client, org, clock):
    await series(client, org, clock, 6)
    response = await client.get(
        "/campaigns",
        params={"createdAtGe": at(2), "limit": 2, "page": 2, "sortOrder": "ASC"},
        headers=org.headers,
    )
    body = response.json()
    assert [c["name"] for c in body["results"]] == ["c4", "c5"]
    assert body["metadata"]["totalItems"] == 4
    assert body["metadata"]["hasNextPage"] is False


async def test_v2_list_filters_as_v1_does(client, org, engine, clock):
    """Both lists build their statement from the same filters: the same campaigns, in the
    same order, with the same totals, whatever the combination."""
    campaigns = await series(client, org, clock, 5, step=60)
    await start_campaign(engine, campaigns[3]["id"])
    ended = await client.patch(
        f"/campaigns/{campaigns[1]['id']}", json={"status": "ended"}, headers=org.headers
    )
    assert ended.status_code == 200
    middle = campaigns[2]["createdAt"]
    combos = [
        {},
        {"sortOrder": "ASC", "limit": 2, "page": 2},
        {"createdAtGt": middle},
        {"createdAtGe": middle, "createdAtLe": campaigns[3]["createdAt"]},
        {"createdAtLt": middle, "status": "scheduled"},
        {"status": "in-progress"},
        {"status": "cancelled"},
        {"updatedAtGt": "2000-01-01T00:00:00Z", "updatedAtLt": "2999-01-01T00:00:00Z"},
        {"id": campaigns[4]["id"]},
        {"id": "not-a-uuid"},
    ]
    for params in combos:
        v1 = (await client.get("/campaigns", params=params, headers=org.headers)).json()
        v2 = (await client.get("/v2/campaign", params=params, headers=org.headers)).json()
        assert [c["id"] for c in v1["results"]] == [c["id"] for c in v2["results"]], params
        assert v1["metadata"]["totalItems"] == v2["metadata"]["totalItems"], params
    gt = await client.get("/v2/campaign", params={"createdAtGt": middle}, headers=org.headers)
    assert [c["name"] for c in gt.json()["results"]] == ["c4", "c3"]
