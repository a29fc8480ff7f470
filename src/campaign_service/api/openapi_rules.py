"""The validation rules of the request bodies, written into the OpenAPI document.

The Pydantic models check more than their generated JSON Schema says: which fields go
together (one of assistantId, workflowId or squadId; phoneNumberId with customers, or a
dialPlan alone), that a campaign has a customer, the number formats, clock times and time
zone names. Each rule that JSON Schema can state is added here, so that a request valid
against the document is one the service accepts (documentation only: the models still decide).

What no schema can state is said in the descriptions: latestAt after earliestAt, a calling
window's end after its start, at most 10000 customers across a dial plan, maxConcurrency
within the organization's limit, changes to a campaign that has started, and the numbers
and files of the extensions (a number must be a real phone number for its region).

An explicit null means "not given" in these bodies, as Vapi's SDKs send it; `_given` and
`_not_given` say so in JSON Schema.
"""

from __future__ import annotations

from typing import Any

from campaign_service.campaigns.calling_hours import known_zones
from campaign_service.campaigns.schemas import E164, LOOSE_NUMBER, MAX_CUSTOMERS
from campaign_service.campaigns.schemas_control import CLOCK
from campaign_service.schema_types import RequestModel

TARGETS = ("assistantId", "workflowId", "squadId")
# Pydantic writes a Field's bounds as ge/le when the type has its own validator (WholeNumber).
BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _given(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def _not_given(name: str) -> dict[str, Any]:
    return {"properties": {name: {"type": "null"}}}


def _not_both(first: str, second: str) -> dict[str, Any]:
    return {"not": {"allOf": [_given(first), _given(second)]}}


def _on_string(spec: dict[str, Any], **rules: Any) -> None:
    """Add rules to a property's string schema (itself, or its string branch of anyOf)."""
    for branch in [spec, *spec.get("anyOf", ())]:
        if branch.get("type") == "string":
            branch.update(rules)


def _name_rules(schema: dict[str, Any]) -> None:
    # Not blank: at least one character that is not whitespace.
    _on_string(schema["properties"]["name"], pattern=r"\S")


def _dial_plan_rules(schema: dict[str, Any]) -> None:
    # At least one entry, and at least one customer in the plan (minItems and contains
    # apply to the array only; null stays "not given").
    schema["properties"]["dialPlan"].update(
        minItems=1, contains={"properties": {"customers": {"minItems": 1}}}
    )


def _create_rules(schema: dict[str, Any]) -> None:
    _name_rules(schema)
    schema["properties"]["customers"].update(minItems=1, maxItems=MAX_CUSTOMERS)
    _dial_plan_rules(schema)
    schema["allOf"] = [
        {"oneOf": [_given(name) for name in TARGETS]},
        {
            "oneOf": [
                {"allOf": [_given("phoneNumberId"), _given("customers"), _not_given("dialPlan")]},
                {
                    "allOf": [
                        _given("dialPlan"),
                        _not_given("phoneNumberId"),
                        _not_given("customers"),
                    ]
                },
            ]
        },
        {"anyOf": [_not_given("predialPlan"), _given("server")]},
    ]


def _update_rules(schema: dict[str, Any]) -> None:
    _name_rules(schema)
    _dial_plan_rules(schema)
    schema["allOf"] = [
        _not_both("assistantId", "workflowId"),
        _not_both("assistantId", "squadId"),
        _not_both("workflowId", "squadId"),
        _not_both("phoneNumberId", "dialPlan"),
    ]


def _customer_rules(schema: dict[str, Any]) -> None:
    schema["anyOf"] = [_given("number"), _given("sipUri")]
    schema["if"] = {
        "required": ["numberE164CheckEnabled"],
        "properties": {"numberE164CheckEnabled": {"const": False}},
    }
    schema["then"] = {"properties": {"number": {"pattern": LOOSE_NUMBER.pattern}}}
    schema["else"] = {"properties": {"number": {"pattern": E164.pattern}}}


def _zone_names(schema: dict[str, Any], field: str) -> None:
    spec = schema["properties"][field]
    zone = {"$ref": "#/components/schemas/TimeZoneName"}
    if "anyOf" in spec:
        spec["anyOf"] = [zone if s.get("type") == "string" else s for s in spec["anyOf"]]
    else:
        spec.pop("type", None)
        spec["allOf"] = [zone]


def _calling_window_rules(schema: dict[str, Any]) -> None:
    schema["properties"]["days"]["uniqueItems"] = True
    for field in ("start", "end"):
        schema["properties"][field]["pattern"] = CLOCK.pattern
    _zone_names(schema, "fallbackTimeZone")


def _schedule_rules(schema: dict[str, Any]) -> None:
    latest = schema["properties"]["latestAt"]
    latest["description"] = latest.get("description", "") + " Must be after earliestAt."


def _bounds(node: Any) -> None:
    if isinstance(node, dict):
        for short, keyword in BOUNDS.items():
            if short in node and node.get("type") in ("integer", "number"):
                node[keyword] = node.pop(short)
        for child in node.values():
            _bounds(child)
    elif isinstance(node, list):
        for child in node:
            _bounds(child)


METADATA = ("title", "description", "default", "examples")


def _null_is_not_given(schema: dict[str, Any]) -> None:
    """An optional property of a request body may be sent as null (see RequestModel)."""
    required = set(schema.get("required", ()))
    for name, spec in schema.get("properties", {}).items():
        if name in required or _allows_null(spec):
            continue
        value = {k: v for k, v in spec.items() if k not in METADATA}
        for key in value:
            del spec[key]
        spec["anyOf"] = [value, {"type": "null"}]


def _allows_null(spec: dict[str, Any]) -> bool:
    return spec.get("type") == "null" or any(s.get("type") == "null" for s in spec.get("anyOf", ()))


def _input_models() -> set[str]:
    found: set[str] = set()
    pending: list[type[RequestModel]] = [RequestModel]
    while pending:
        for model in pending.pop().__subclasses__():
            found.add(model.__name__)
            pending.append(model)
    return found


RULES = {
    "CreateCampaignDTO": _create_rules,
    "UpdateCampaignDTO": _update_rules,
    "CreateCustomerDTO": _customer_rules,
    "CallingWindow": _calling_window_rules,
    "SchedulePlan": _schedule_rules,
}


def add_request_rules(schemas: dict[str, Any]) -> None:
    """Write the rules above into the document's component schemas."""
    _bounds(schemas)
    for name in _input_models() & set(schemas):
        _null_is_not_given(schemas[name])
    for name, rule in RULES.items():
        if name in schemas:
            rule(schemas[name])
    if "CreateCustomerDTO" in schemas:
        _zone_names(schemas["CreateCustomerDTO"], "timeZone")
        schemas["TimeZoneName"] = {
            "type": "string",
            "enum": sorted(known_zones()),
            "title": "TimeZoneName",
            "description": "An IANA time zone name, such as America/New_York.",
        }
