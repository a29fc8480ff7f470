"""Real responses validate against Vapi's Campaign JSON Schema (the seed we mirror), and our
OpenAPI Campaign component agrees with it property by property.

The seed's `#/components/schemas/X` references are resolved against this app's own OpenAPI
document, so the nested shapes (DialPlanEntry, SchedulePlan, CreateCustomerDTO) are ours.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.api.helpers import create
from tests.conftest import campaign_body

SEED_COPY = Path(__file__).with_name("campaign.schema.json")
SHARED_SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "campaign.schema.json"
OPENAPI_URI = "urn:campaign-service:openapi"
LOCAL_REF = "#/components/schemas/"


def load_seed() -> dict[str, Any]:
    seed: dict[str, Any] = json.loads(SEED_COPY.read_text())
    return seed


def _rebase(node: Any) -> Any:
    """Point the seed's local component references at the OpenAPI document."""
    if isinstance(node, dict):
        return {
            key: (
                OPENAPI_URI + value
                if key == "$ref" and value.startswith(LOCAL_REF)
                else _rebase(value)
            )
            for key, value in node.items()
            if key != "$id"  # "#/components/schemas/Campaign" is not a usable base URI
        }
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node


def validator_for(schema: dict[str, Any], openapi: dict[str, Any]) -> Draft202012Validator:
    registry: Registry = Registry().with_resource(OPENAPI_URI, DRAFT202012.create_resource(openapi))
    return Draft202012Validator(
        _rebase(schema), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def component(openapi: dict[str, Any], name: str) -> dict[str, Any]:
    return {"$ref": LOCAL_REF + name, "components": openapi["components"]}


_DOCUMENT: dict[str, Any] = {}


@pytest.fixture
async def openapi(client) -> dict[str, Any]:
    """The app's /openapi.json (fetched once: generating it is the slow part of these tests)."""
    if not _DOCUMENT:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        _DOCUMENT.update(response.json())
    return _DOCUMENT


@pytest.fixture
def seed_validator(openapi) -> Draft202012Validator:
    return validator_for(load_seed(), openapi)


@pytest.fixture
def campaign_validator(openapi) -> Draft202012Validator:
    """Our own Campaign component, to check responses against what we publish as well."""
    return validator_for({"$ref": LOCAL_REF + "Campaign"}, openapi)


def assert_valid(validator: Draft202012Validator, instance: Any) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_committed_seed_copy_matches_the_shared_seed():
    if not SHARED_SEED.exists():
        pytest.skip(f"{SHARED_SEED} is not present on this machine")
    assert json.loads(SEED_COPY.read_text()) == json.loads(SHARED_SEED.read_text())


async def test_responses_validate_against_the_seed(
    client, org, seed_validator, campaign_validator, openapi, clock
):
    h = org.headers
    with_number = await create(client, org, campaign_body(3, assistantOverrides={"x": 1}))
    dial_plan = [
        {"phoneNumberId": "pn_a", "customers": [{"number": "+12125550100", "name": "A"}]},
        {
            "phoneNumberId": "pn_b",
            "customers": [
                {"number": "abc", "numberE164CheckEnabled": False},
                {"sipUri": "sip:b@example.com"},
            ],
        },
    ]
    with_dial_plan = await create(
        client,
        org,
        campaign_body(
            phoneNumberId=...,
            customers=...,
            squadId="sq",
            assistantId=...,
            dialPlan=dial_plan,
            schedulePlan={"earliestAt": "2030-01-01T09:00:00Z", "latestAt": "2030-01-01T17:00Z"},
        ),
    )
    got = (await client.get(f"/campaigns/{with_dial_plan['id']}", headers=h)).json()
    listed = (await client.get("/campaigns", headers=h)).json()
    clock.advance(seconds=1)
    patched = (
        await client.patch(f"/campaigns/{with_number['id']}", json={"name": "n2"}, headers=h)
    ).json()
    ended = (
        await client.patch(f"/campaigns/{with_number['id']}", json={"status": "ended"}, headers=h)
    ).json()
    deleted = (await client.delete(f"/campaigns/{with_dial_plan['id']}", headers=h)).json()

    bodies = [with_number, with_dial_plan, got, *listed["results"], patched, ended, deleted]
    assert len(bodies) == 8
    assert "endedReason" in ended
    assert "schedulePlan" in with_dial_plan
    assert "dialPlan" in got
    for body in bodies:
        assert_valid(seed_validator, body)
        assert_valid(campaign_validator, body)
    page_validator = validator_for({"$ref": LOCAL_REF + "CampaignPaginatedResponse"}, openapi)
    assert_valid(page_validator, listed)


def test_the_seed_validator_is_not_a_rubber_stamp(seed_validator):
    valid = {
        "status": "scheduled",
        "name": "n",
        "id": "i",
        "orgId": "o",
        "createdAt": "2026-06-01T12:00:00.000Z",
        "updatedAt": "2026-06-01T12:00:00.000Z",
        "calls": {},
        "callsCounterScheduled": 0,
        "callsCounterQueued": 0,
        "callsCounterInProgress": 0,
        "callsCounterEndedVoicemail": 0,
        "callsCounterEnded": 0,
    }
    assert_valid(seed_validator, valid)
    broken = [
        {k: v for k, v in valid.items() if k != "calls"},
        {**valid, "status": "paused"},
        {**valid, "callsCounterEnded": "3"},
        {**valid, "customers": [{"number": "+14155550100", "phone": "x"}]},
        {**valid, "schedulePlan": {"latestAt": "2026-06-01T12:00:00.000Z"}},
        {**valid, "dialPlan": [{"customers": []}]},
    ]
    for instance in broken:
        with pytest.raises(ValidationError):
            seed_validator.validate(instance)


def _resolve(schema: dict[str, Any], openapi: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix(LOCAL_REF)
        schema = {
            **openapi["components"]["schemas"][name],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    return schema


def json_types(schema: dict[str, Any], openapi: dict[str, Any]) -> set[str]:
    """The non-null JSON types a schema allows (through $ref, anyOf, oneOf, allOf, enum)."""
    schema = _resolve(schema, openapi)
    types: set[str] = set()
    declared = schema.get("type")
    if declared:
        types |= set(declared) if isinstance(declared, list) else {declared}
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            types |= json_types(sub, openapi)
    if not declared and "enum" in schema:
        types |= {"string" if isinstance(v, str) else "number" for v in schema["enum"]}
    return types - {"null"}


def referenced_components(schema: Any) -> set[str]:
    text = json.dumps(schema)
    return {part.split('"')[0] for part in text.split(LOCAL_REF)[1:]}


def enum_values(schema: dict[str, Any], openapi: dict[str, Any]) -> list[Any] | None:
    schema = _resolve(schema, openapi)
    if "enum" in schema:
        return list(schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            values = enum_values(sub, openapi)
            if values is not None:
                return values
    return None


def test_campaign_component_matches_the_seed(openapi):
    seed = load_seed()
    ours = openapi["components"]["schemas"]["Campaign"]
    missing = set(seed["properties"]) - set(ours["properties"])
    assert not missing, f"seed properties missing from our Campaign: {missing}"

    for name, seed_property in seed["properties"].items():
        our_property = ours["properties"][name]
        # The seed's text is kept verbatim; where we add meaning it follows the seed's text.
        assert our_property["description"].startswith(seed_property["description"]), name

        seed_types, our_types = (
            json_types(seed_property, openapi),
            json_types(our_property, openapi),
        )
        assert our_types, name
        for t in our_types:
            assert t in seed_types or (t == "integer" and "number" in seed_types), (
                f"{name}: ours {our_types} vs seed {seed_types}"
            )
        assert referenced_components(seed_property) <= referenced_components(our_property), name

        if "enum" in seed_property:
            assert enum_values(our_property, openapi) == seed_property["enum"], name

    assert set(seed["required"]) <= set(ours["required"]), "seed requires more than we do"
    assert set(ours["required"]) <= set(seed["required"]), "we require more than the seed"


def test_the_type_comparison_can_tell_types_apart(openapi):
    """Guard the helper the component test relies on."""
    assert json_types({"type": "integer"}, openapi) == {"integer"}
    assert json_types({"anyOf": [{"type": "string"}, {"type": "null"}]}, openapi) == {"string"}
    assert json_types({"$ref": LOCAL_REF + "CampaignStatus"}, openapi) == {"string"}
    assert json_types({"$ref": LOCAL_REF + "SchedulePlan"}, openapi) == {"object"}
    mutated = copy.deepcopy(openapi["components"]["schemas"]["Campaign"]["properties"]["name"])
    mutated["type"] = "integer"
    assert "string" not in json_types(mutated, openapi)
