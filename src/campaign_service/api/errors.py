"""Every error leaves the API in Vapi's shape: {"message", "error", "statusCode"}."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from campaign_service.db.availability import RETRY_AFTER_SECONDS, database_unavailable
from campaign_service.error_body import error_response
from campaign_service.errors import AppError
from campaign_service.json_values import MAX_DEPTH

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Vapi's (NestJS-style) error body."""

    message: str | list[str] = Field(
        description="What went wrong; validation errors list one message per problem.",
        examples=[["customers.0.number must be a valid E.164 phone number"]],
    )
    error: str = Field(description="The HTTP reason phrase.", examples=["Bad Request"])
    statusCode: int = Field(description="The HTTP status code.", examples=[400])


def _path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts)


def validation_messages(errors: list[Any]) -> list[str]:
    """One readable sentence per Pydantic error, naming the field by its JSON path."""
    messages: list[str] = []
    for err in errors:
        kind, path = err.get("type"), _path(tuple(err.get("loc", ())))
        if kind == "campaign_rules":
            messages.extend(err["ctx"]["messages"])
        elif kind == "extra_forbidden":
            messages.append(f"property {path} should not exist")
        elif kind == "missing":
            messages.append(f"{path} is required" if path else "request body is required")
        elif kind == "json_invalid":
            messages.append("request body is not valid JSON")
        else:
            text = str(err.get("msg", "is invalid")).replace("Input should be", "must be")
            text = text.replace("Value should have", "must have")
            text = text.replace("String should have", "must have")
            text = text.replace("List should have", "must have")
            # A body that is not a JSON object: FastAPI validates it in from_attributes mode,
            # so Pydantic reports model_attributes_type rather than model_type.
            if kind in ("model_type", "model_attributes_type") and not path:
                text = "must be a JSON object (send Content-Type: application/json)"
            messages.append(f"{path or 'request body'} {text}")
    return messages


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return error_response(exc.status_code, exc.message, headers=headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, validation_messages(list(exc.errors())))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    response = error_response(exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; list them all.
        response.headers["Allow"] = ", ".join(sorted(_methods_for(request)))
    return response


def _methods_for(request: Request) -> set[str]:
    """The methods the OpenAPI document lists for this path: those of its literal path if the
    document has one (`/dnc/import`), else those of every template matching it."""
    paths: dict[str, Any] = request.app.openapi()["paths"]
    if request.url.path in paths:
        return {method.upper() for method in paths[request.url.path]}
    methods: set[str] = set()
    for template, operations in paths.items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    return methods


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "Internal server error")


DATABASE_UNAVAILABLE = "The database is unavailable; retry in a few seconds."


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After when the database cannot be reached (an outage, a restart, a
    dropped connection): nothing was committed, so the request may be sent again."""
    if not database_unavailable(exc):
        return await _unexpected(request, exc)
    log.warning("database unavailable: %s", type(exc).__name__, exc_info=True)
    return error_response(
        503, DATABASE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    for kind in (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(kind, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


INVALID_INPUT = (
    "Invalid input or a refused state change. Besides the schema's rules, a JSON body is "
    "refused when it cannot be stored as sent: a string or property name holding U+0000 or "
    "a lone surrogate (\\ud800-\\udfff without its pair), NaN or Infinity, a number outside "
    f"the signed 64-bit range, or nesting deeper than {MAX_DEPTH} levels."
)

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": INVALID_INPUT},
    401: {"model": ErrorBody, "description": "Missing, invalid or revoked API key."},
    404: {"model": ErrorBody, "description": "No such campaign in your organization."},
    413: {"model": ErrorBody, "description": "Request body too large."},
    429: {
        "model": ErrorBody,
        "description": "Too many invalid API keys from this address; retry after the "
        "Retry-After seconds (valid keys are never refused).",
    },
    503: {
        "model": ErrorBody,
        "description": "The database is unavailable; retry after the Retry-After seconds.",
    },
}
