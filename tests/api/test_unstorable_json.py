"""JSON that passes validation but cannot be stored as sent is a 400 on every write, with nothing
written: U+0000, lone surrogates, NaN/Infinity, integers beyond 64 bits, very deep nesting.
Values at the edge of what is allowed are stored and read back exactly as sent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.json_values import MAX_DEPTH
from tests.api.helpers import assert_error, create, fetch, row_counts
from tests.audiences.helpers import post_import
from tests.conftest import OrgKey, campaign_body

# Raw JSON text of values that cannot be stored faithfully, and a word the 400 must say.
UNSTORABLE: dict[str, tuple[str, str]] = {
    "U+0000 in a string": ('"a\\u0000b"', "U+0000"),
    "U+0000 in a property name": ('{"a\\u0000": 1}', "U+0000"),
    "lone high surrogate": ('"x\\ud800"', "surrogate"),
    "lone low surrogate in a property name": ('{"\\udc00": 1}', "surrogate"),
    "NaN": ("NaN", "must be a finite number"),
    "Infinity": ("Infinity", "must be a finite number"),
    "-Infinity": ("-Infinity", "must be a finite number"),
    "a number beyond a double": ("1e400", "finite"),
    "1e20, which jsonb gives back as an integer": ("1e20", "number between"),
    "1.5e308": ("1.5e308", "number between"),
    "2^64": ("18446744073709551616", "number between"),
    "2^63": ("9223372036854775808", "number between"),
    "below -2^63": ("-9223372036854775809", "number between"),
    "nested 254 levels": ("[" * 254 + "]" * 254, "nested more than"),
    "nested 300 levels": ('{"a":' * 300 + "1" + "}" * 300, "nested more than"),
    "nested 100000 levels": ("[" * 100_000 + "]" * 100_000, "nested more than"),
}

VALID_PREFIX = json.dumps(campaign_body(1))[:-1]


def create_text(fragment: str) -> str:
    """A valid create body whose assistantOverrides holds the fragment."""
    return VALID_PREFIX + ', "assistantOverrides": {"variableValues": {"v": ' + fragment + "}}}"


def customer_text(fragment: str) -> str:
    """A valid create body whose one customer's assistantOverrides holds the fragment."""
    body = campaign_body(1)
    customer = json.dumps(body.pop("customers")[0])[:-1]  # type: ignore[index]
    body_text = json.dumps(body)[:-1]
    overrides = ', "assistantOverrides": {"v": ' + fragment + "}}]}"
    return body_text + ', "customers": [' + customer + overrides


async def post_raw(
    client: httpx.AsyncClient, org: OrgKey, method: str, path: str, text: str
) -> httpx.Response:
    return await client.request(
        method,
        path,
        content=text.encode("utf-8", "surrogatepass"),
        headers={**org.headers, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("path", ["/campaigns", "/campaign", "/v2/campaign"])
@pytest.mark.parametrize("case", list(UNSTORABLE))
async def test_create_refuses_unstorable_json_and_writes_nothing(
    client: httpx.AsyncClient, org: OrgKey, engine: AsyncEngine, path: str, case: str
) -> None:
    fragment, needle = UNSTORABLE[case]
    before = await row_counts(engine)
    response = await post_raw(client, org, "POST", path, create_text(fragment))
    assert_error(response, 400, needle)
    response = await post_raw(client, org, "POST", path, customer_text(fragment))
    assert_error(response, 400, needle)
    assert await row_counts(engine) == before


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('{"name": "a\\u0000b"}', "name must not contain the character U+0000"),
        ('{"name": "a\\udfff"}', "name must not contain a lone surrogate"),
        ('{"maxConcurrency": NaN}', "maxConcurrency must be a finite number"),
        ('{"maxConcurrency": 18446744073709551616}', "maxConcurrency must be a number between"),
    ],
)
async def test_update_refuses_unstorable_json_and_changes_nothing(
    client: httpx.AsyncClient, org: OrgKey, body: str, needle: str
) -> None:
    campaign = await create(client, org)
    for path in (f"/campaigns/{campaign['id']}", f"/v2/campaign/{campaign['id']}"):
        response = await post_raw(client, org, "PATCH", path, body)
        assert_error(response, 400, needle)
    after = await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)
    assert after.json()["updatedAt"] == campaign["updatedAt"]


async def test_do_not_call_refuses_unstorable_json(
    client: httpx.AsyncClient, org: OrgKey, engine: AsyncEngine
) -> None:
    for body in ('{"number": "+1415555\\u00000100"}', '{"number": "\\ud800"}'):
        response = await post_raw(client, org, "POST", "/dnc", body)
        assert_error(response, 400, "number must not contain")
    assert await fetch(engine, "SELECT 1 FROM dnc_numbers") == []


@pytest.mark.parametrize("case", ["U+0000 in a string", "lone high surrogate", "NaN", "2^64"])
async def test_the_import_config_refuses_unstorable_json(
    client: httpx.AsyncClient, org: OrgKey, engine: AsyncEngine, case: str
) -> None:
    fragment, needle = UNSTORABLE[case]
    config = '{"name": "I", "assistantId": "a", "phoneNumberId": "p", "assistantOverrides": '
    before = await row_counts(engine)
    response = await post_import(
        client, org, b"number\n+14155550100\n", config=config + '{"v": ' + fragment + "}}"
    )
    assert response.status_code == 400, response.text
    assert needle in " ".join(response.json()["message"])
    assert await row_counts(engine) == before


async def test_a_csv_cell_holding_nul_is_a_row_error(
    client: httpx.AsyncClient, org: OrgKey, engine: AsyncEngine
) -> None:
    data = b"number,name\n+14155550100,Ann\x00e\n+14155550101,Bob\n"
    before = await row_counts(engine)
    response = await post_import(client, org, data)
    assert response.status_code == 400, response.text
    assert response.json()["rowErrors"][0]["row"] == 2
    assert "U+0000" in response.json()["rowErrors"][0]["message"]
    assert await row_counts(engine) == before
    skipped = await post_import(client, org, data, skipInvalidRows=True)
    assert skipped.status_code == 201, skipped.text
    assert len(skipped.json()["calls"]) == 1
    dnc = await client.post(
        "/dnc/import", files={"file": ("a.csv", b"number\n+1415555\x000100\n")}, headers=org.headers
    )
    assert dnc.status_code == 400, dnc.text


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


async def test_values_at_the_edge_are_stored_and_read_back_exactly(
    client: httpx.AsyncClient, org: OrgKey
) -> None:
    # The body is level 1, assistantOverrides level 2, variableValues level 3.
    overrides = {
        "variableValues": {
            "max": 2**63 - 1,
            "min": -(2**63),
            "big": 1.5e18,
            "tiny": 1e-300,
            "emoji": "\U0001f600",
            "deep": nested(MAX_DEPTH - 3),
        }
    }
    campaign = await create(client, org, campaign_body(1, assistantOverrides=overrides))
    assert campaign["assistantOverrides"] == overrides
    read = await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)
    assert read.json()["assistantOverrides"] == overrides
    listed = await client.get("/campaigns", headers=org.headers)
    assert listed.json()["results"][0]["assistantOverrides"] == overrides
    one_deeper = campaign_body(1, assistantOverrides={"v": {"deep": nested(MAX_DEPTH - 2)}})
    response = await client.post("/campaigns", json=one_deeper, headers=org.headers)
    assert_error(response, 400, f"nested more than {MAX_DEPTH} levels")


def test_every_route_reads_json_strictly(app: FastAPI) -> None:
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    assert routes
    assert [r.path for r in routes if not isinstance(r, StrictJsonRoute)] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/campaigns", {**campaign_body(1), "bogus": None}),
        ("POST", "/campaign", {**campaign_body(1), "bogus": None}),
        ("POST", "/v2/campaign", {**campaign_body(1), "bogus": None}),
        ("POST", "/dnc", {"number": "+14155550100", "bogus": None}),
    ],
)
async def test_unknown_properties_are_refused_even_when_null(
    client: httpx.AsyncClient,
    org: OrgKey,
    engine: AsyncEngine,
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    before = await row_counts(engine)
    response = await client.request(method, path, json=body, headers=org.headers)
    assert_error(response, 400, "property bogus should not exist")
    assert await row_counts(engine) == before


async def test_unknown_null_properties_are_refused_on_update_and_nested(
    client: httpx.AsyncClient, org: OrgKey
) -> None:
    campaign = await create(client, org)
    response = await client.patch(
        f"/campaigns/{campaign['id']}", json={"bogus": None}, headers=org.headers
    )
    assert_error(response, 400, "property bogus should not exist")
    body = campaign_body(1, schedulePlan={"earliestAt": "2030-01-01T00:00:00Z", "bogus": None})
    response = await client.post("/campaigns", json=body, headers=org.headers)
    assert_error(response, 400, "property schedulePlan.bogus should not exist")
    # A known property sent as null still means "not given", as Vapi's SDKs send it.
    response = await client.post(
        "/campaigns", json=campaign_body(1, workflowId=None), headers=org.headers
    )
    assert response.status_code == 201, response.text
