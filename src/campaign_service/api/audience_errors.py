"""Vapi's error body with the row problems of a rejected file (`rowErrors`, an extension)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from campaign_service.api.errors import ErrorBody
from campaign_service.audiences.errors import RowsRejected
from campaign_service.audiences.schemas import RowErrorItem


class ImportErrorBody(ErrorBody):
    """Vapi's error body plus every problem of the file as data."""

    rowErrors: list[RowErrorItem] = Field(
        default_factory=list,
        description="Extension: every problem with its row and column; `message` lists the "
        "same problems as sentences.",
    )


async def _rows_rejected(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RowsRejected)
    body = {
        "message": exc.message,
        "error": HTTPStatus(exc.status_code).phrase,
        "statusCode": exc.status_code,
        "rowErrors": [
            {"row": e.row, "column": e.column, "message": e.message} for e in exc.row_errors
        ],
    }
    return JSONResponse(body, status_code=exc.status_code)


def install_audience_errors(app: FastAPI) -> None:
    app.add_exception_handler(RowsRejected, _rows_rejected)


FILE_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ImportErrorBody,
        "description": "Invalid input; for a file, every problem with its row and column.",
    },
}
"""Responses of the operations that take a file (added to the routers' ERROR_RESPONSES)."""
