"""Extension endpoints: a campaign from a CSV file, and a campaign's results as a file.

Thin: read the request, call the audience services, send what they return.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.api.audience_errors import FILE_ERROR_RESPONSES
from campaign_service.api.deps import CurrentOrg, Now, Session
from campaign_service.api.errors import ERROR_RESPONSES, validation_messages
from campaign_service.api.idempotency import IdempotentRoute
from campaign_service.audiences import export_repository, importer
from campaign_service.audiences.export import MEDIA_TYPES, Format, export_chunks, filename
from campaign_service.audiences.schemas import (
    ExportQuery,
    ImportDryRun,
    ImportedCampaign,
    ImportQuery,
)
from campaign_service.errors import NotFound
from campaign_service.readmodel import documents

TAG = "Audiences (extension)"
# 404 only where a campaign ID is in the path (the export).
router = APIRouter(
    tags=[TAG],
    responses={k: v for k, v in ERROR_RESPONSES.items() if k != 404},
    route_class=IdempotentRoute,
)
IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **FILE_ERROR_RESPONSES,
    200: {"model": ImportDryRun, "description": "dryRun=true: what would be created."},
}

CONFIG_EXAMPLE = '{"name": "Q2 Sales Campaign", "assistantId": "asst_1", "phoneNumberId": "pn_1"}'


@router.post(
    "/campaigns/import",
    status_code=201,
    response_model=ImportedCampaign,
    responses=IMPORT_RESPONSES,
    summary="Create a campaign from a CSV file (extension)",
)
async def import_campaign(
    file: Annotated[
        UploadFile,
        File(description="The audience: UTF-8 CSV, comma or semicolon, a `number` column."),
    ],
    config: Annotated[
        str,
        Form(
            description="The campaign as JSON: the create body without customers and dialPlan.",
            examples=[CONFIG_EXAMPLE],
        ),
    ],
    query: Annotated[ImportQuery, Query()],
    org: CurrentOrg,
    session: Session,
    now: Now,
) -> Any:
    """Extension. Every row becomes a customer (number normalised to E.164; other columns
    become variableValues). Any bad row means nothing is created and every problem is listed
    in `rowErrors`, unless skipInvalidRows=true. dryRun=true answers 200 with a report."""
    request = importer.ImportRequest(
        data=await file.read(),
        config=config,
        default_region=query.defaultRegion,
        dry_run=query.dryRun,
        skip_invalid_rows=query.skipInvalidRows,
        dedupe=query.dedupe,
    )
    result = await importer.import_campaign(
        session, org=org, request=request, now=now, wording=validation_messages
    )
    # Nulls kept in reports: a row error's column is null, not absent.
    if isinstance(result, ImportDryRun):
        return Response(content=result.model_dump_json(), media_type="application/json")
    # The campaign's body is JSON text already; the report joins it as one more field.
    body = b"".join(
        documents.created_pieces(
            result.campaign, result.calls, blocked_reason=org.dispatch_blocked_reason
        )
    )
    report = result.report.model_dump_json().encode()
    content = body[:-1] + b',"importReport":' + report + b"}"
    return Response(content=content, status_code=201, media_type="application/json")


router.add_api_route(
    "/v2/campaign/import",
    import_campaign,
    methods=["POST"],
    status_code=201,
    response_model=ImportedCampaign,
    responses=IMPORT_RESPONSES,
    summary="Create a campaign from a CSV file, v2 path (extension)",
    name="import_campaign_v2",
)


def _campaign_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"campaign {value} not found") from None


async def _stream(
    sessions: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID, fmt: Format
) -> AsyncIterator[bytes]:
    # Its own session: the request's is committed and closed before the body is sent.
    async with sessions() as session, session.begin():
        async for chunk in export_chunks(session, campaign_id=campaign_id, fmt=fmt):
            yield chunk


EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/x-ndjson": {"schema": {"type": "string"}},
}


@router.get(
    "/campaigns/{id}/export",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The file, streamed.", "content": EXPORT_CONTENT},
        404: ERROR_RESPONSES[404],
    },
    summary="Export a campaign's contacts and outcomes (extension)",
)
async def export_campaign(
    id: str,
    query: Annotated[ExportQuery, Query()],
    org: CurrentOrg,
    session: Session,
    request: Request,
) -> StreamingResponse:
    """Extension. One row per contact in dial order: customer fields, variables, outcome (v2
    contact status), endedReason, skipReason, attempts, dispatchedAt, endedAt,
    durationSeconds, cost."""
    campaign = await export_repository.find_campaign(
        session, org_id=org.id, campaign_id=_campaign_uuid(id)
    )
    if campaign is None:
        raise NotFound(f"campaign {id} not found")
    name = filename(campaign.name, campaign.id, query.format)
    return StreamingResponse(
        _stream(request.app.state.sessions, campaign.id, query.format),
        media_type=MEDIA_TYPES[query.format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
