"""Shared Pydantic building blocks: input base (strict about unknown keys, null = not given),
output timestamps and the small enums of Vapi's API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from campaign_service.timeutil import as_utc, iso_z


class RequestModel(BaseModel):
    """Request bodies: unknown properties are errors, and an explicit null means "not given"
    (the OpenAPI document allows null for each optional property). `InputModel` drops nulls
    before validating; a model validated by the thousand (a customer) takes null as each
    field's default in the fields themselves instead."""

    model_config = ConfigDict(extra="forbid")


class InputModel(RequestModel):
    """Request bodies: unknown properties are errors, and an explicit null means "not given"."""

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        # Vapi's SDK sends null for arguments passed as None; treat them as absent. Only
        # known properties: an unknown one stays, so `{"bogus": null}` is still refused.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k not in cls.model_fields}
        return data


class OutputModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


Timestamp = Annotated[
    datetime,
    PlainSerializer(iso_z, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A timestamp in responses: ISO 8601 UTC with milliseconds and Z."""

ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_text(value: Any) -> Any:
    # Pydantic would also read numbers ("0.5") as Unix times; the API speaks ISO 8601 only.
    if isinstance(value, str) and not ISO_DATE_TIME.match(value):
        raise PydanticCustomError(
            "datetime_format", "must be an ISO 8601 date-time such as 2026-07-02T18:01:12.000Z"
        )
    if not isinstance(value, str | datetime):
        raise PydanticCustomError("datetime_type", "must be an ISO 8601 date-time string")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except OverflowError:  # e.g. 0001-01-01T01:00:00+07:00 is before year 1 in UTC
        raise PydanticCustomError("datetime_range", "is out of range") from None


InputTimestamp = Annotated[
    datetime,
    BeforeValidator(_iso_text),
    AfterValidator(_in_utc),
    PlainSerializer(iso_z, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A timestamp in requests: with or without fraction, Z or +hh:mm; naive means UTC."""


# Far beyond any real page, and small enough that page x limit stays a valid SQL offset.
MAX_PAGE = 1_000_000_000


class PaginationMeta(OutputModel):
    """Vapi's pagination metadata."""

    itemsPerPage: int = Field(description="Page size used for this response.")
    totalItems: int = Field(description="Number of items matching the filters, on all pages.")
    currentPage: int = Field(description="This page's number, starting at 1.")
    totalPages: int = Field(description="Number of pages at this page size.")
    hasNextPage: bool = Field(description="Whether a page after this one has items.")
    sortOrder: Literal["ASC", "DESC"] = Field(description="Order of the results.")

    @classmethod
    def for_page(cls, *, total: int, page: int, limit: int, sort_order: str) -> PaginationMeta:
        pages = -(-total // limit) if limit else 0
        return cls(
            itemsPerPage=limit,
            totalItems=total,
            currentPage=page,
            totalPages=pages,
            hasNextPage=limit > 0 and page * limit < total,
            sortOrder="ASC" if sort_order == "ASC" else "DESC",
        )


def _whole_number(value: Any) -> Any:
    # JSON integers, and floats with nothing after the point (Vapi's SDK sends 5.0 for 5).
    # Strings and booleans are refused, as Vapi's own validation does.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "must be an integer number")
    if isinstance(value, float) and not value.is_integer():
        raise PydanticCustomError(
            "int_from_float", "must be an integer number, not {value}", {"value": value}
        )
    return int(value)


def _json_bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "must be a boolean (true or false)")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
"""An integer in a request body: 5 or 5.0, never "5", true or 5.5."""

JsonBool = Annotated[bool, BeforeValidator(_json_bool)]
"""A boolean in a request body: true or false, never "false" or 0."""
