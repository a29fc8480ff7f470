"""The do-not-call list over HTTP: add (idempotent), remove, list, bulk CSV; per org."""

from __future__ import annotations

from tests.api.helpers import assert_error, fetch
from tests.audiences.helpers import rejected, row_errors

NUMBER = "+14155550100"


async def add(client, org, number: str = NUMBER, **extra: str) -> dict:
    params = {"defaultRegion": extra.pop("defaultRegion")} if "defaultRegion" in extra else {}
    response = await client.post(
        "/dnc", json={"number": number, **extra}, params=params, headers=org.headers
    )
    assert response.status_code in (200, 201), response.text
    return {"status": response.status_code, **response.json()}


async def test_adding_a_number_stores_it_in_e164_and_adding_it_again_changes_nothing(
    client, org, engine, clock
):
    first = await add(client, org, "(415) 555-0100", defaultRegion="US", reason="asked twice")
    assert first == {
        "status": 201,
        "number": NUMBER,
        "reason": "asked twice",
        "source": "api",
        "createdAt": "2026-06-01T12:00:00.000Z",
    }
    clock.advance(minutes=5)
    again = await add(client, org, "+1 415 555 0100", reason="other", source="crm")
    assert again == {**first, "status": 200}  # the first entry is kept as it was
    rows = await fetch(engine, "SELECT number, reason, source FROM dnc_numbers")
    assert rows == [{"number": NUMBER, "reason": "asked twice", "source": "api"}]


async def test_the_list_is_paginated_newest_first_and_filters_by_number(client, org, clock):
    for i in range(3):
        await add(client, org, f"+1415555010{i}")
        clock.advance(seconds=1)
    page = (await client.get("/dnc?limit=2", headers=org.headers)).json()
    assert [e["number"] for e in page["results"]] == ["+14155550102", "+14155550101"]
    assert page["metadata"] == {
        "itemsPerPage": 2,
        "totalItems": 3,
        "currentPage": 1,
        "totalPages": 2,
        "hasNextPage": True,
        "sortOrder": "DESC",
    }
    second = (await client.get("/dnc?limit=2&page=2", headers=org.headers)).json()
    assert [e["number"] for e in second["results"]] == ["+14155550100"]
    one = await client.get(
        "/dnc", params={"number": "415-555-0101", "defaultRegion": "US"}, headers=org.headers
    )
    assert [e["number"] for e in one.json()["results"]] == ["+14155550101"]


async def test_removing_a_number(client, org):
    await add(client, org, reason="opted out")
    removed = await client.delete("/dnc/%2B14155550100", headers=org.headers)
    assert removed.status_code == 200, removed.text
    assert removed.json()["reason"] == "opted out"
    assert (await client.get("/dnc", headers=org.headers)).json()["results"] == []
    again = await client.delete("/dnc/%2B14155550100", headers=org.headers)
    assert_error(again, 404, "+14155550100 is not on the do-not-call list")
    national = await client.delete("/dnc/4155550100?defaultRegion=US", headers=org.headers)
    assert_error(national, 404)


async def test_lists_belong_to_one_organization(client, org, make_org):
    other = await make_org("Other")
    await add(client, org)
    assert (await client.get("/dnc", headers=other.headers)).json()["results"] == []
    assert_error(await client.delete(f"/dnc/{NUMBER}", headers=other.headers), 404)
    assert (await add(client, other))["status"] == 201  # its own entry, not a repeat
    assert_error(await client.get("/dnc"), 401)


async def test_bad_numbers_and_bodies_are_refused(client, org, engine):
    cases = [
        ({"number": "hello"}, "number 'hello' is not a phone number"),
        ({"number": "4155550100"}, "has no country code"),
        ({"number": NUMBER, "reason": "r" * 201}, "reason must have at most 200 characters"),
        ({"number": NUMBER, "colour": "red"}, "property colour should not exist"),
        ({}, "number is required"),
    ]
    for body, needle in cases:
        assert_error(await client.post("/dnc", json=body, headers=org.headers), 400, needle)
    assert await fetch(engine, "SELECT * FROM dnc_numbers") == []


async def test_bulk_add_from_a_csv(client, org, engine):
    await add(client, org, "+14155550101")
    data = (
        b"number;reason;source;ignored\n"
        b"(415) 555-0100;asked;crm;x\n"
        b"+14155550101;;;\n"
        b"+14155550102;;;\n"
        b"415 555 0100;again;;\n"
    )
    response = await client.post(
        "/dnc/import?defaultRegion=US",
        files={"file": ("optouts.csv", data, "text/csv")},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"rowsRead": 4, "added": 2, "alreadyListed": 1, "rowErrors": []}
    rows = await fetch(engine, "SELECT number, reason, source FROM dnc_numbers ORDER BY number")
    assert rows == [
        {"number": "+14155550100", "reason": "asked", "source": "crm"},
        {"number": "+14155550101", "reason": None, "source": "api"},
        {"number": "+14155550102", "reason": None, "source": "csv"},
    ]


async def test_bulk_add_with_bad_rows_adds_nothing_unless_asked(client, org, engine):
    data = b"number\n+14155550100\nnot a number\n\n+1 415\n"
    body = rejected(
        await client.post("/dnc/import", files={"file": ("a.csv", data)}, headers=org.headers)
    )
    assert row_errors(body) == [
        (3, "number", "'not a number' is not a phone number"),
        (5, "number", "'+1 415' is too short to be a phone number"),
    ]
    assert body["message"][0] == "nothing was added to the do-not-call list"
    assert await fetch(engine, "SELECT * FROM dnc_numbers") == []
    skipped = await client.post(
        "/dnc/import?skipInvalidRows=true", files={"file": ("a.csv", data)}, headers=org.headers
    )
    assert skipped.json()["added"] == 1
    assert [e["row"] for e in skipped.json()["rowErrors"]] == [3, 5]
    unreadable = await client.post(
        "/dnc/import", files={"file": ("a.csv", b"phone\n+14155550100\n")}, headers=org.headers
    )
    assert row_errors(rejected(unreadable)) == [
        (1, None, "the required column 'number' is missing (rename 'phone' to number)")
    ]
