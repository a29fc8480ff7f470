"""Finishing touches on the generated OpenAPI document; documentation only, no behaviour.

- Response examples for every campaign operation (api/response_examples.py).
- No 422 responses: validation errors are answered with 400 and ErrorBody (api/errors.py).
- The call-record operations under /campaigns listed under the "Calls" tag (the router tags
  them all "Campaigns", which left the declared "Calls" section empty in /docs).
- The rules of the request bodies that the models check beyond their JSON Schema
  (api/openapi_rules.py), so a request valid against the document is accepted.
- Descriptions for path parameters and for the `results`/`metadata` of paginated responses,
  where the models leave them out (a description given in the code always wins).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from campaign_service.api.openapi_rules import add_request_rules
from campaign_service.api.response_examples import ERROR_EXAMPLES, SUCCESS_EXAMPLES

CAMPAIGN_PREFIXES = ("/campaigns", "/campaign")
PARAMETER_DESCRIPTIONS = {
    "id": "The campaign's ID (as returned in `id` when it was created).",
    "callId": "The call record's ID (a key of the campaign's `calls` map).",
}
PAGE_FIELD_DESCRIPTIONS = {
    "results": "The items of this page.",
    "metadata": "Where this page sits among all matching items.",
}
UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _operation_key(path: str, method: str) -> tuple[str, str] | None:
    for prefix in CAMPAIGN_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return method, path[len(prefix) :]
    return None


def _document_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.get("responses", {})
    responses.pop("422", None)
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path" and parameter["name"] in PARAMETER_DESCRIPTIONS:
            parameter.setdefault("description", PARAMETER_DESCRIPTIONS[parameter["name"]])
    key = _operation_key(path, method)
    if key is None:
        return
    if path.startswith("/campaigns/{id}/calls") and operation.get("tags") == ["Campaigns"]:
        operation["tags"] = ["Calls"]
    for status, response in responses.items():
        examples = ERROR_EXAMPLES.get(status)
        if status.startswith("2"):
            examples = SUCCESS_EXAMPLES.get(key)
        media = response.get("content", {}).get("application/json")
        if examples and media is not None:
            media.setdefault("examples", examples)


def finish_document(document: dict[str, Any]) -> None:
    """Apply the additions above to a document FastAPI generated."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _document_operation(path, method, operation)
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for name in UNUSED_SCHEMAS:  # in order: the first one refers to the second
        if f'"#/components/schemas/{name}"' not in json.dumps(document):
            schemas.pop(name, None)
    add_request_rules(schemas)
    for name, schema in schemas.items():
        if name.endswith("PaginatedResponse"):
            for field, description in PAGE_FIELD_DESCRIPTIONS.items():
                if field in schema.get("properties", {}):
                    schema["properties"][field].setdefault("description", description)


def install_openapi(app: FastAPI) -> None:
    """Make app.openapi() return the finished document (built once, then cached by FastAPI)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            finish_document(generate())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
