"""Extension endpoints: the organization's do-not-call list. Thin: validate, call, answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, UploadFile

from campaign_service.api.audience_errors import FILE_ERROR_RESPONSES
from campaign_service.api.deps import CurrentOrg, Now, Session
from campaign_service.api.errors import ERROR_RESPONSES
from campaign_service.api.routes.campaigns import json_body
from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.audiences import dnc_service
from campaign_service.audiences.schemas import (
    AddDncNumberDTO,
    DncEntry,
    DncImportQuery,
    DncImportResult,
    DncListQuery,
    DncPaginatedResponse,
    RegionQuery,
)

TAG = "Do-not-call (extension)"
# No campaign behind these paths: 404 only where a listed number is expected.
ANSWERS = {k: v for k, v in ERROR_RESPONSES.items() if k != 404}
NOT_LISTED: dict[int | str, dict[str, Any]] = {
    404: {**ERROR_RESPONSES[404], "description": "The number is not on the list."}
}
router = APIRouter(route_class=StrictJsonRoute, prefix="/dnc", tags=[TAG], responses=ANSWERS)


@router.post(
    "",
    status_code=201,
    response_model=DncEntry,
    responses={200: {"model": DncEntry, "description": "Already listed; the entry is unchanged."}},
    summary="Add a number to the do-not-call list (extension)",
)
async def add_number(
    dto: AddDncNumberDTO,
    query: Annotated[RegionQuery, Query()],
    org: CurrentOrg,
    session: Session,
    now: Now,
) -> Any:
    """Extension. The number is stored in E.164; no campaign of the organization dials it
    from now on, including campaigns already running. Adding it again changes nothing (200)."""
    entry, added = await dnc_service.add_number(
        session, org_id=org.id, dto=dto, region=query.defaultRegion, channel="api", now=now
    )
    return json_body(entry, 201 if added else 200)


@router.get(
    "", response_model=DncPaginatedResponse, summary="List the do-not-call list (extension)"
)
async def list_numbers(
    query: Annotated[DncListQuery, Query()], org: CurrentOrg, session: Session
) -> Any:
    """Extension. Newest first; `number=` tells whether one number is listed."""
    return json_body(await dnc_service.list_numbers(session, org_id=org.id, query=query))


@router.delete(
    "/{number}",
    response_model=DncEntry,
    responses=NOT_LISTED,
    summary="Remove a number from the list (extension)",
)
async def remove_number(
    number: Annotated[
        str, Path(description="The number (E.164, URL-encoded: %2B for +, or national).")
    ],
    query: Annotated[RegionQuery, Query()],
    org: CurrentOrg,
    session: Session,
) -> Any:
    """Extension. Answers the removed entry; 404 when the number was not listed."""
    entry = await dnc_service.remove_number(
        session, org_id=org.id, number=number, region=query.defaultRegion
    )
    return json_body(entry)


@router.post(
    "/import",
    response_model=DncImportResult,
    responses=FILE_ERROR_RESPONSES,
    summary="Add the numbers of a CSV file to the list (extension)",
)
async def import_numbers(
    file: Annotated[
        UploadFile,
        File(description="UTF-8 CSV with a `number` column; optional `reason` and `source`."),
    ],
    query: Annotated[DncImportQuery, Query()],
    org: CurrentOrg,
    session: Session,
    now: Now,
) -> Any:
    """Extension. Any bad row means nothing is added (every problem is listed in rowErrors),
    unless skipInvalidRows=true. Numbers already listed are counted, not changed."""
    result = await dnc_service.import_numbers(
        session,
        org_id=org.id,
        data=await file.read(),
        region=query.defaultRegion,
        skip_invalid_rows=query.skipInvalidRows,
        channel="csv",
        now=now,
    )
    return json_body(result)
