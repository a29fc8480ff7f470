"""The OpenAPI document is complete enough to use the API from /docs alone."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator

from tests.conftest import OrgKey, campaign_body

CAMPAIGN_PREFIXES = ("/campaigns", "/campaign")
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def campaign_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [
        (path, method, operation)
        for path, operations in document["paths"].items()
        if path.split("/")[1] in {p.strip("/") for p in CAMPAIGN_PREFIXES}
        for method, operation in operations.items()
        if method in METHODS and not is_extension(operation)
    ]
    # 7 operations at /campaigns and again at /campaign, and the extensions once: history,
    # pause, resume, progress, deliveries.
    assert len(found) == 19
    return found


def is_extension(operation: dict[str, Any]) -> bool:
    """Operations beyond Vapi's API (tests/audiences/test_openapi_extensions.py covers them)."""
    return any(tag.endswith("(extension)") for tag in operation.get("tags", []))


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    root = {"components": document["components"], **schema}
    return Draft202012Validator(root)


def assert_valid(document: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    errors = [e.message for e in validator(document, schema).iter_errors(value)]
    assert not errors, errors


def test_bearer_scheme_guards_every_campaign_operation(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `campaign-service org create` or `key create`.",
        }
    }
    for path, method, operation in campaign_operations(document):
        assert operation.get("security") == [{"HTTPBearer": []}], (method, path)


def test_every_operation_has_tag_summary_and_description(document: dict[str, Any]) -> None:
    declared = {tag["name"] for tag in document["tags"]}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("tags"), where
            assert set(operation["tags"]) <= declared, where
            assert operation.get("summary"), where
            assert operation.get("description"), where
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), (where, parameter["name"])
    used = {t for ops in document["paths"].values() for op in ops.values() for t in op["tags"]}
    assert used == declared  # no empty section in /docs


def test_every_schema_field_is_described(document: dict[str, Any]) -> None:
    missing = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, spec in schema.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert missing == []


def test_no_422_is_documented(document: dict[str, Any]) -> None:
    # The API answers validation errors with 400 and the error body, never FastAPI's 422.
    for operations in document["paths"].values():
        for operation in operations.values():
            assert "422" not in operation.get("responses", {})
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_success_responses_have_examples_that_match_their_schema(
    document: dict[str, Any],
) -> None:
    for path, method, operation in campaign_operations(document):
        success = [s for s in operation["responses"] if s.startswith("2")]
        assert len(success) == 1, (method, path)
        media = operation["responses"][success[0]]["content"]["application/json"]
        assert media.get("examples"), (method, path)
        for example in media["examples"].values():
            assert example["summary"]
            assert_valid(document, media["schema"], example["value"])


def test_error_responses_use_the_error_body_with_examples(document: dict[str, Any]) -> None:
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, method, operation in campaign_operations(document):
        for status in ("400", "401", "404", "413"):
            media = operation["responses"][status]["content"]["application/json"]
            assert media["schema"] == error_ref, (method, path, status)
            for example in media["examples"].values():
                assert_valid(document, error_ref, example["value"])
                assert example["value"]["statusCode"] == int(status)


def test_request_examples_exist_for_create_and_update(document: dict[str, Any]) -> None:
    for path in CAMPAIGN_PREFIXES:
        create = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        update = document["paths"][f"{path}/{{id}}"]["patch"]["requestBody"]["content"][
            "application/json"
        ]
        assert len(create["examples"]) >= 2
        assert len(update["examples"]) >= 2


async def test_create_examples_are_accepted_and_answers_match_the_schema(
    client: httpx.AsyncClient, org: OrgKey, document: dict[str, Any]
) -> None:
    operation = document["paths"]["/campaigns"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    response_schema = operation["responses"]["201"]["content"]["application/json"]["schema"]
    for example in examples.values():
        response = await client.post("/campaigns", json=example["value"], headers=org.headers)
        assert response.status_code == 201, response.text
        assert_valid(document, response_schema, response.json())


async def test_real_answers_match_the_documented_schemas(
    client: httpx.AsyncClient, org: OrgKey, document: dict[str, Any]
) -> None:
    created = await client.post("/campaigns", json=campaign_body(2), headers=org.headers)
    campaign = created.json()
    call_id = next(iter(campaign["calls"]))
    bad = await client.post("/campaigns", json={"name": ""}, headers=org.headers)
    checks = [
        ("/campaigns", "get", "200", await client.get("/campaigns", headers=org.headers)),
        (
            "/campaigns/{id}/calls",
            "get",
            "200",
            await client.get(f"/campaigns/{campaign['id']}/calls", headers=org.headers),
        ),
        (
            "/campaigns/{id}/calls/{callId}",
            "get",
            "200",
            await client.get(f"/campaigns/{campaign['id']}/calls/{call_id}", headers=org.headers),
        ),
        ("/campaigns", "post", "400", bad),
        ("/campaigns", "get", "401", await client.get("/campaigns")),
    ]
    for path, method, status, response in checks:
        assert response.status_code == int(status), (path, response.text)
        media = document["paths"][path][method]["responses"][status]["content"]
        assert_valid(document, media["application/json"]["schema"], response.json())


# Optional fields beyond Vapi's API, by component: each must say so in its description.
EXTENSION_FIELDS = {
    "CreateCampaignDTO": ("callingWindow", "retryPlan"),
    "CreateCustomerDTO": ("timeZone",),
    "Campaign": (
        "callingWindow",
        "retryPlan",
        "pausedAt",
        "pausedBy",
        "pauseReason",
        "resumedAt",
        "feasibility",
    ),
    "CampaignSummary": ("callingWindow", "retryPlan", "pausedAt", "pausedBy", "pauseReason"),
    "CallDetails": ("skipReason", "attempt", "contactId", "nextAttemptAt"),
    "CampaignContactWithOutcome": ("attempts", "callableAt"),
}


def test_extension_fields_are_marked_as_extensions(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for component, fields in EXTENSION_FIELDS.items():
        properties = schemas[component]["properties"]
        required = set(schemas[component].get("required", ()))
        for name in fields:
            assert properties[name]["description"].startswith("Extension:"), (component, name)
            assert name not in required, (component, name)
    extension_paths = [
        (path, method)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if path.endswith(("/pause", "/resume", "/progress", "/events", "/deliveries"))
    ]
    assert len(extension_paths) == 5
    for path, method in extension_paths:
        operation = document["paths"][path][method]
        assert operation["tags"] == ["Extensions"], path
        assert operation["description"].startswith("Extension"), path
        assert not path.startswith("/campaign/"), "extensions are not served at Vapi's paths"


def _create(**overrides: Any) -> dict[str, Any]:
    return campaign_body(1, **overrides)


PLAN = [{"phoneNumberId": "pn_1", "customers": [{"number": "+14155550100"}]}]
WINDOW = {"days": ["mon"], "start": "09:00", "end": "17:00", "fallbackTimeZone": "Europe/Paris"}
# Bodies the service refuses that the document once allowed: each rule is now in the schema.
REFUSED_CREATES = {
    "customers null without dialPlan": _create(customers=None),
    "dialPlan empty": _create(phoneNumberId=..., customers=..., dialPlan=[]),
    "dialPlan without a customer": _create(
        phoneNumberId=..., customers=..., dialPlan=[{"phoneNumberId": "pn_1", "customers": []}]
    ),
    "customers empty": _create(customers=[]),
    "phoneNumberId and dialPlan": _create(customers=..., dialPlan=PLAN),
    "customers and dialPlan": _create(phoneNumberId=..., dialPlan=PLAN),
    "no target": _create(assistantId=None),
    "two targets": _create(squadId="squad_1"),
    "predialPlan without server": _create(predialPlan={"enabled": True}),
    "blank name": _create(name=" \t"),
    "maxConcurrency above 500": _create(maxConcurrency=501),
    "number not E.164": _create(customers=[{"number": "4155550100"}]),
    "loose number with a dash": _create(
        customers=[{"number": "415-555", "numberE164CheckEnabled": False}]
    ),
    "customer without number or sipUri": _create(customers=[{"name": "Ada"}]),
    "unknown time zone": _create(customers=[{"number": "+14155550100", "timeZone": "Mars/Base"}]),
    "clock time not HH:MM": _create(callingWindow={**WINDOW, "start": "9am"}),
    "repeated day": _create(callingWindow={**WINDOW, "days": ["mon", "mon"]}),
    "unknown property, even null": {**_create(), "bogus": None},
}
ACCEPTED_CREATES = {
    "optional fields sent as null": _create(
        workflowId=None,
        dialPlan=None,
        schedulePlan=None,
        retryPlan={"retryOn": ["busy"], "delay": None, "maxAttempts": None},
        customers=[{"number": "+14155550100", "numberE164CheckEnabled": None, "sipUri": None}],
    ),
    "dial plan alone": _create(phoneNumberId=..., customers=..., dialPlan=PLAN),
    "loose number": _create(customers=[{"number": "+abc123", "numberE164CheckEnabled": False}]),
    "calling window": _create(callingWindow=WINDOW),
}
REFUSED_UPDATES = {
    "dialPlan empty": {"dialPlan": []},
    "phoneNumberId and dialPlan": {"phoneNumberId": "pn_2", "dialPlan": PLAN},
    "two targets": {"assistantId": "a", "workflowId": "w"},
    "unknown property, even null": {"bogus": None},
}


async def test_the_document_refuses_what_the_service_refuses(
    client: httpx.AsyncClient, org: OrgKey, document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    create = validator(document, {"$ref": "#/components/schemas/CreateCampaignDTO"})
    update = validator(document, {"$ref": "#/components/schemas/UpdateCampaignDTO"})
    assert "TimeZoneName" in schemas
    for case, body in REFUSED_CREATES.items():
        assert not create.is_valid(body), case
        response = await client.post("/campaigns", json=body, headers=org.headers)
        assert response.status_code == 400, (case, response.text)
    for case, body in ACCEPTED_CREATES.items():
        assert_valid(document, {"$ref": "#/components/schemas/CreateCampaignDTO"}, body)
        response = await client.post("/campaigns", json=body, headers=org.headers)
        assert response.status_code == 201, (case, response.text)
    scheduled = _create(schedulePlan={"earliestAt": "2099-01-01T00:00:00Z"})
    campaign = (await client.post("/campaigns", json=scheduled, headers=org.headers)).json()
    for case, body in REFUSED_UPDATES.items():
        assert not update.is_valid(body), case
        response = await client.patch(
            f"/campaigns/{campaign['id']}", json=body, headers=org.headers
        )
        assert response.status_code == 400, (case, response.text)


def test_bounds_are_json_schema_keywords(document: dict[str, Any]) -> None:
    # Pydantic writes ge/le for fields with their own validator; JSON Schema says minimum.
    text = json.dumps(document)
    assert '"ge":' not in text
    assert '"le":' not in text
    update = document["components"]["schemas"]["UpdateCampaignDTO"]["properties"]
    assert {"type": "integer", "minimum": 1, "maximum": 500} in update["maxConcurrency"]["anyOf"]


async def test_a_literal_path_allows_only_its_own_methods(
    client: httpx.AsyncClient, org: OrgKey
) -> None:
    # /dnc/import is also matched by the template /dnc/{number}, which has DELETE.
    response = await client.request("OPTIONS", "/dnc/import", headers=org.headers)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
