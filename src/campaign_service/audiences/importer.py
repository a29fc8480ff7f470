"""Create a campaign from a CSV file and a JSON configuration (or only say what it would be).

The file becomes the campaign's `customers`; the configuration is the JSON create body without
`customers` and `dialPlan`. The campaign is created by the campaign service like any other.
Services never commit (the caller's transaction does) and return domain results: the caller
renders them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.audiences import dnc_repository
from campaign_service.audiences.csv_import import Audience, Progress, parse_audience
from campaign_service.audiences.errors import RowsRejected
from campaign_service.audiences.schemas import (
    DoNotCallItem,
    DuplicateItem,
    ImportDryRun,
    ImportReport,
    RowErrorItem,
)
from campaign_service.calls.repository import RenderedCalls
from campaign_service.campaigns import service as campaigns
from campaign_service.campaigns.schemas import CreateCampaignDTO, CreateCustomerDTO
from campaign_service.db.models import Campaign, Org
from campaign_service.json_values import UnstorableValue, loads_storable

PREVIEW_CONTACTS = 20
FROM_THE_FILE = ("customers", "dialPlan")
# Lets the configuration be checked on its own: the create rules want at least one customer.
_STAND_IN = CreateCustomerDTO(number="+10000000000")

ErrorWording = Callable[[list[Any]], list[str]]
"""Turns Pydantic's errors into sentences; the caller passes the API's own wording."""


@dataclass(frozen=True)
class ImportRequest:
    data: bytes
    config: str
    default_region: str | None = None
    dry_run: bool = False
    skip_invalid_rows: bool = False
    dedupe: bool = False


@dataclass(frozen=True)
class Imported:
    campaign: Campaign
    report: ImportReport
    calls: RenderedCalls  # as rendered right after their insert, for the campaign's body


async def import_campaign(
    session: AsyncSession,
    *,
    org: Org,
    request: ImportRequest,
    now: datetime,
    wording: ErrorWording,
    progress: Progress | None = None,
) -> Imported | ImportDryRun:
    """The created campaign and its import report, or the dry run's report."""
    audience = parse_audience(
        request.data,
        default_region=request.default_region,
        dedupe=request.dedupe,
        progress=progress,
    )
    template, config_problems = campaign_template(request.config, org, wording)
    _reject_unusable(audience, config_problems, request)
    numbers = [c.customer.number for c in audience.contacts if c.customer.number]
    blocked = await dnc_repository.blocked_numbers(session, org_id=org.id, numbers=numbers)
    report = _report(audience, blocked)
    if request.dry_run or template is None:
        return _dry_run(audience, report, valid=_would_create(audience, request))
    dto = template.model_copy(update={"customers": [c.customer for c in audience.contacts]})
    created = await campaigns.create_rendered_campaign(session, org=org, dto=dto, now=now)
    return Imported(created.campaign, report, created.calls)


def campaign_template(
    config: str, org: Org, wording: ErrorWording
) -> tuple[CreateCampaignDTO | None, list[str]]:
    """The configuration as a create body (its customers still to come), or its problems."""
    try:
        given: Any = loads_storable(config, "config")
    except UnstorableValue as exc:
        return None, [str(exc)]
    except json.JSONDecodeError as exc:
        return None, [f"config is not valid JSON ({exc})"]
    if not isinstance(given, dict):
        return None, ["config must be a JSON object (the create body without customers)"]
    problems = [
        f"config: {key} cannot be given with a file: the file's rows are the customers"
        for key in FROM_THE_FILE
        if key in given
    ]
    rest = {k: v for k, v in given.items() if k not in FROM_THE_FILE}
    try:
        dto = CreateCampaignDTO.model_validate({**rest, "customers": [_STAND_IN]})
    except ValidationError as exc:
        return None, problems + [f"config: {m}" for m in wording(list(exc.errors()))]
    if "maxConcurrency" in dto.model_fields_set and dto.maxConcurrency > org.concurrency_limit:
        problems.append(
            f"config: maxConcurrency {dto.maxConcurrency} exceeds your organization's "
            f"concurrency limit of {org.concurrency_limit}"
        )
    return (None if problems else dto), problems


def _reject_unusable(
    audience: Audience, config_problems: list[str], request: ImportRequest
) -> None:
    """Raise RowsRejected, with every problem found, when nothing can (or may) be created."""
    everything = sorted([*audience.file_errors, *audience.row_errors], key=lambda e: e.row)
    if audience.file_errors or config_problems:
        raise RowsRejected(config_problems, everything)
    if request.dry_run:
        return
    if audience.row_errors and not request.skip_invalid_rows:
        rows = len({e.row for e in audience.row_errors})
        summary = (
            f"{rows} of {audience.rows_read} rows have problems; nothing was created "
            "(fix them, or send skipInvalidRows=true to create the campaign from the others)"
        )
        raise RowsRejected([summary], everything)
    if not audience.contacts:
        raise RowsRejected([_no_contacts(audience)], everything)


def _no_contacts(audience: Audience) -> str:
    if audience.rows_read == 0:
        return "the file has no rows of contacts below its header row"
    return "no row of the file is a usable contact; nothing was created"


def _would_create(audience: Audience, request: ImportRequest) -> bool:
    rows_ok = not audience.row_errors or request.skip_invalid_rows
    return rows_ok and bool(audience.contacts)


def _report(audience: Audience, blocked: set[str]) -> ImportReport:
    return ImportReport(
        rowsRead=audience.rows_read,
        contacts=len(audience.contacts),
        blankRowsIgnored=audience.blank_rows,
        delimiter=audience.delimiter,
        variables=audience.variables,
        rowErrors=[
            RowErrorItem(row=e.row, column=e.column, message=e.message) for e in audience.row_errors
        ],
        duplicates=[
            DuplicateItem(row=d.row, number=d.number, firstRow=d.first_row)
            for d in audience.duplicates
        ],
        duplicatesRemoved=audience.deduped,
        doNotCall=[
            DoNotCallItem(row=c.row, number=number)
            for c in audience.contacts
            if (number := c.customer.number) is not None and number in blocked
        ],
    )


def _dry_run(audience: Audience, report: ImportReport, *, valid: bool) -> ImportDryRun:
    return ImportDryRun(
        **report.model_dump(),
        dryRun=True,
        valid=valid,
        preview=[c.customer for c in audience.contacts[:PREVIEW_CONTACTS]],
    )
