"""Input checks of the fake, answering bad input as Vapi does (400, NestJS error body).

POST /call takes the subset of CreateCallDto the project uses. Properties Vapi does not have are
refused ("property X should not exist", Vapi's whitelist rule); properties Vapi has but the fake
does not implement are refused by name, so a test never silently relies on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from campaign_service.fakevapi.calls import CallQuery
from campaign_service.fakevapi.config import FakeVapiConfig

SUPPORTED = frozenset(
    {
        "name",
        "assistantId",
        "assistantOverrides",
        "squadId",
        "squadOverrides",
        "workflowId",
        "phoneNumberId",
        "customer",
    }
)
NOT_IMPLEMENTED = frozenset(
    {
        "assistantVersion",
        "squadVersion",
        "transport",
        "customers",
        "schedulePlan",
        "assistant",
        "squad",
        "workflow",
        "workflowOverrides",
        "phoneNumber",
        "customerId",
    }
)
CUSTOMER_FIELDS = frozenset(
    {
        "number",
        "name",
        "extension",
        "sipUri",
        "email",
        "externalId",
        "numberE164CheckEnabled",
        "assistantOverrides",
        "squadOverrides",
    }
)
_CUSTOMER_MAX = {"name": 40, "email": 40, "externalId": 40, "extension": 10}
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_ALPHANUMERIC = re.compile(r"^\+?[a-zA-Z0-9]+$")
_BOUNDS = ("Gt", "Lt", "Ge", "Le")
_QUERY_KEYS = frozenset(
    {"id", "assistantId", "phoneNumberId", "limit"}
    | {f"{field}{b}" for field in ("createdAt", "updatedAt") for b in _BOUNDS}
)


class FakeHttpError(Exception):
    """An answer other than success, in Vapi's error shape."""

    def __init__(self, status: int, message: str | list[str]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers: dict[str, str] = {}


def _present(body: Mapping[str, Any]) -> dict[str, Any]:
    """Vapi treats null like an absent property."""
    return {k: v for k, v in body.items() if v is not None}


def validate_create(raw: Any) -> dict[str, Any]:
    """The create body without nulls; raises FakeHttpError(400) listing every problem."""
    if not isinstance(raw, dict):
        raise FakeHttpError(400, ["request body must be a JSON object"])
    body = _present(raw)
    problems = [
        f"property {k} should not exist" for k in body if k not in SUPPORTED | NOT_IMPLEMENTED
    ]
    problems += [f"{k} is not implemented by the fake Vapi" for k in body if k in NOT_IMPLEMENTED]
    problems += _target_problems(body) + _customer_problems(body.get("customer"))
    for key in ("assistantOverrides", "squadOverrides"):
        problems += _overrides_problems(key, body.get(key))
    if "name" in body and (not isinstance(body["name"], str) or len(body["name"]) > 40):
        problems.append("name must be a string of at most 40 characters")
    if problems:
        raise FakeHttpError(400, problems)
    if isinstance(body.get("customer"), dict):
        body["customer"] = _present(body["customer"])
    return body


def _target_problems(body: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    targets = [k for k in ("assistantId", "squadId", "workflowId") if k in body]
    if not targets:
        problems.append("one of assistantId, squadId or workflowId is required")
    elif len(targets) > 1:
        problems.append("only one of assistantId, squadId and workflowId may be given")
    if "phoneNumberId" not in body:
        problems.append("phoneNumberId is required for an outbound phone call")
    for key in [*targets, "phoneNumberId"]:
        if key in body and (not isinstance(body[key], str) or not body[key]):
            problems.append(f"{key} must be a non-empty string")
    return problems


def _customer_problems(customer: Any) -> list[str]:
    if customer is None:
        return ["customer is required for an outbound phone call"]
    if not isinstance(customer, dict):
        return ["customer must be an object"]
    customer = _present(customer)
    problems = [
        f"property customer.{k} should not exist" for k in customer if k not in CUSTOMER_FIELDS
    ]
    for key, longest in _CUSTOMER_MAX.items():
        value = customer.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > longest):
            problems.append(f"customer.{key} must be a string of at most {longest} characters")
    if "number" not in customer and "sipUri" not in customer:
        problems.append("customer.number or customer.sipUri is required")
    if "number" in customer:
        problems += _number_problems(customer["number"], customer.get("numberE164CheckEnabled"))
    return problems


def _number_problems(number: Any, e164_check: Any) -> list[str]:
    if not isinstance(number, str) or not 3 <= len(number) <= 40:
        return ["customer.number must be a string of 3 to 40 characters"]
    if e164_check is False:
        if not _ALPHANUMERIC.match(number):
            return ["customer.number must contain only letters and digits (and a leading +)"]
    elif not _E164.match(number):
        return ["customer.number must be a valid phone number in E.164 format, e.g. +14155551234"]
    return []


def _overrides_problems(key: str, overrides: Any) -> list[str]:
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return [f"{key} must be an object"]
    problems = []
    if not isinstance(overrides.get("metadata", {}), dict):
        problems.append(f"{key}.metadata must be an object")
    server = overrides.get("server")
    if server is not None and not (isinstance(server, dict) and isinstance(server.get("url"), str)):
        problems.append(f"{key}.server must be an object with a url")
    return problems


def check_resources(body: Mapping[str, Any], config: FakeVapiConfig) -> None:
    """Unknown assistants, squads, workflows and phone numbers (when the fake knows a list)."""
    lookups = (
        ("assistantId", config.assistant_ids, "Assistant"),
        ("squadId", config.squad_ids, "Squad"),
        ("workflowId", config.workflow_ids, "Workflow"),
        ("phoneNumberId", config.phone_number_ids, "Phone number"),
    )
    for key, known, what in lookups:
        if key in body and known is not None and body[key] not in known:
            raise FakeHttpError(400, f"{what} {body[key]} not found. Check {key}.")


def parse_call_query(params: Mapping[str, str]) -> CallQuery:
    """GET /call's query; raises FakeHttpError(400) for unknown keys or bad values."""
    problems = [f"property {k} should not exist" for k in params if k not in _QUERY_KEYS]
    limit = _limit(params.get("limit", "100"), problems)
    created = _bounds(params, "createdAt", problems)
    updated = _bounds(params, "updatedAt", problems)
    if problems:
        raise FakeHttpError(400, problems)
    return CallQuery(
        id=params.get("id"),
        assistant_id=params.get("assistantId"),
        phone_number_id=params.get("phoneNumberId"),
        limit=limit,
        created=created,
        updated=updated,
    )


def _limit(text: str, problems: list[str]) -> int:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value.is_integer() and 0 <= value <= 1000:
        return int(value)
    problems.append("limit must be a number from 0 to 1000")
    return 0


def _bounds(
    params: Mapping[str, str], field: str, problems: list[str]
) -> tuple[tuple[str, datetime], ...]:
    """The (operator, instant) pairs given for `field` (createdAt or updatedAt)."""
    found: list[tuple[str, datetime]] = []
    for suffix in _BOUNDS:
        text = params.get(f"{field}{suffix}")
        if text is None:
            continue
        moment = _parse_instant(text)
        if moment is None:
            problems.append(f"{field}{suffix} must be a valid ISO 8601 date string")
        else:
            found.append((suffix.lower(), moment))
    return tuple(found)


def _parse_instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
