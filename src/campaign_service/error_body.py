"""Vapi's error body, `{"message", "error", "statusCode"}`, as an HTTP response. Every layer
that answers a request (the API's handlers, the request middleware) builds errors with it."""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse


def error_response(
    status: int, message: str | list[str], headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"message": message, "error": HTTPStatus(status).phrase, "statusCode": status}
    return JSONResponse(body, status_code=status, headers=headers)
