"""The OpenAPI document is complete enough to use the API from /docs alone."""

from __future__ import annotations

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
