"""The extensions are marked as such in the OpenAPI document, leave Vapi's operations as they
were, and answer with bodies that match what the document (and Vapi's seed schema) promise."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator

from tests.audiences.helpers import FIXTURES, post_import
from tests.contract.test_json_schema import assert_valid, load_seed, validator_for

EXTENSION_PATHS = {
    "/campaigns/import": {"post"},
    "/v2/campaign/import": {"post"},
    "/campaigns/{id}/export": {"get"},
    "/dnc": {"get", "post"},
    "/dnc/{number}": {"delete"},
    "/dnc/import": {"post"},
    "/webhooks/vapi/{token}": {"post"},
}
# Called by Vapi, authenticated by the org's token in the path (no API key).
TOKEN_PATHS = {"/webhooks/vapi/{token}"}


@pytest.fixture
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def component(document: dict[str, Any], name: str) -> Draft202012Validator:
    return validator_for({"$ref": f"#/components/schemas/{name}"}, document)


def test_every_extension_says_so(document: dict[str, Any]) -> None:
    tags = {t["name"]: t["description"] for t in document["tags"]}
    found = {
        path: {m for m, op in ops.items() if any(t.endswith("(extension)") for t in op["tags"])}
        for path, ops in document["paths"].items()
    }
    assert {path: methods for path, methods in found.items() if methods} == EXTENSION_PATHS
    for path, methods in EXTENSION_PATHS.items():
        for method in methods:
            operation = document["paths"][path][method]
            assert "(extension)" in operation["summary"], path
            assert operation["description"].startswith("Extension."), path
            if path not in TOKEN_PATHS:
                assert operation["security"] == [{"HTTPBearer": []}], path
            for tag in operation["tags"]:
                assert tags[tag].startswith("Extension"), tag


def test_vapi_operations_keep_their_shape(document: dict[str, Any]) -> None:
    """Vapi's create body is untouched; dedupe is an optional query parameter that says
    it is an extension."""
    create_body = document["components"]["schemas"]["CreateCampaignDTO"]
    assert "dedupe" not in create_body["properties"]
    for path in ("/campaign", "/campaigns", "/v2/campaign"):
        parameters = document["paths"][path]["post"]["parameters"]
        (parameter,) = [p for p in parameters if p["in"] == "query"]
        assert parameter["name"] == "dedupe"
        assert parameter["required"] is False
        assert parameter["description"].startswith("Extension")


def test_file_errors_document_row_errors(document: dict[str, Any]) -> None:
    for path in ("/campaigns/import", "/dnc/import"):
        media = document["paths"][path]["post"]["responses"]["400"]["content"]
        assert media["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ImportErrorBody"
        }
    export = document["paths"]["/campaigns/{id}/export"]["get"]["responses"]["200"]
    assert set(export["content"]) == {"text/csv", "application/x-ndjson"}


async def test_answers_match_the_document_and_the_seed(client, org, document):
    data = (FIXTURES / "blank_cells.csv").read_bytes()
    created = await post_import(client, org, data, skipInvalidRows=True)
    assert created.status_code == 201, created.text
    # Still one of Vapi's Campaigns (extra properties are allowed there), and our own type.
    assert_valid(validator_for(load_seed(), document), created.json())
    assert_valid(component(document, "ImportedCampaign"), created.json())

    dry = await post_import(client, org, data, dryRun=True)
    assert_valid(component(document, "ImportDryRun"), dry.json())
    refused = await post_import(client, org, data)
    assert refused.status_code == 400
    assert_valid(component(document, "ImportErrorBody"), refused.json())

    added = await client.post("/dnc", json={"number": "+14155550100"}, headers=org.headers)
    assert_valid(component(document, "DncEntry"), added.json())
    listed = await client.get("/dnc", headers=org.headers)
    assert_valid(component(document, "DncPaginatedResponse"), listed.json())
    bulk = await client.post(
        "/dnc/import", files={"file": ("a.csv", b"number\n+14155550101\n")}, headers=org.headers
    )
    assert_valid(component(document, "DncImportResult"), bulk.json())
