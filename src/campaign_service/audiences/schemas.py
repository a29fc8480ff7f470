"""Request and response models of the audience extensions: CSV import, do-not-call, export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, field_serializer
from pydantic_core import PydanticCustomError

from campaign_service.audiences.dnc_csv import MAX_REASON, MAX_SOURCE
from campaign_service.audiences.phone import UnknownRegion, check_region
from campaign_service.campaigns.schemas import Campaign, CreateCustomerDTO
from campaign_service.schema_types import (
    MAX_PAGE,
    InputModel,
    OutputModel,
    PaginationMeta,
    Timestamp,
)


def _region(value: str | None) -> str | None:
    try:
        return check_region(value)
    except UnknownRegion as exc:
        raise PydanticCustomError("region", str(exc)) from None


Region = Annotated[str | None, AfterValidator(_region)]
REGION_FIELD = Field(
    default=None,
    description="Two-letter region (ISO 3166, e.g. US) for numbers written without a country "
    "code, such as (415) 555-0100. Without it such numbers are errors.",
    examples=["US"],
)


class RowErrorItem(OutputModel):
    row: int = Field(description="Row of the file, counted as a spreadsheet does (header = 1).")
    column: str | None = Field(
        default=None, description="The column's name (or #N for a nameless one); null for the row."
    )
    message: str = Field(description="What is wrong and, where possible, how to fix it.")


class DuplicateItem(OutputModel):
    row: int = Field(description="The row that repeats a number.")
    number: str = Field(description="The repeated number (E.164) or SIP URI.")
    firstRow: int = Field(description="The row where the number first appears.")


class DoNotCallItem(OutputModel):
    row: int = Field(description="The row of a contact whose number is on the do-not-call list.")
    number: str = Field(description="Its number (E.164).")


class ImportReport(OutputModel):
    """What the file held and what became of each row."""

    rowsRead: int = Field(description="Data rows in the file (blank rows not counted).")
    contacts: int = Field(description="Contacts created (or, in a dry run, that would be).")
    blankRowsIgnored: int = Field(description="Rows with every cell empty, ignored.")
    delimiter: str = Field(description="The delimiter found in the header row: , or ;")
    variables: list[str] = Field(
        description="Columns that became assistantOverrides.variableValues, in file order."
    )
    rowErrors: list[RowErrorItem] = Field(
        description="Rows left out (skipInvalidRows=true), or in a dry run every row problem."
    )
    duplicates: list[DuplicateItem] = Field(
        description="Rows repeating an earlier row's number (dropped when dedupe=true)."
    )
    duplicatesRemoved: bool = Field(description="Whether duplicates were dropped (dedupe).")
    doNotCall: list[DoNotCallItem] = Field(
        description="Contacts on the do-not-call list: stored, and skipped at dial time "
        "(their call ends without a dial)."
    )


class ImportDryRun(ImportReport):
    """The answer of a dry run: nothing was written."""

    dryRun: Literal[True] = Field(description="Always true: nothing was written.")
    valid: bool = Field(description="Whether the same request without dryRun would create it.")
    preview: list[CreateCustomerDTO] = Field(
        description="The first contacts as they would be stored (at most 20)."
    )

    @field_serializer("preview")
    def _as_stored(self, preview: list[CreateCustomerDTO]) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json", exclude_none=True) for c in preview]


class ImportedCampaign(Campaign):
    """The created campaign (Vapi's Campaign) with the import report as an extra field."""

    importReport: ImportReport = Field(
        description="Extension: how the file's rows became the campaign's customers."
    )


class ImportQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    defaultRegion: Region = REGION_FIELD
    dryRun: bool = Field(default=False, description="Check and report; write nothing.")
    skipInvalidRows: bool = Field(
        default=False,
        description="Create the campaign from the valid rows and report the others "
        "(default: any bad row means nothing is created).",
    )
    dedupe: bool = Field(
        default=False, description="Keep only the first row of each number (duplicates dropped)."
    )


class DedupeQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    dedupe: bool = Field(
        default=False,
        description="Extension: keep only the first customer of each number (across dial plan "
        "entries too).",
    )


class ExportQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    format: Literal["csv", "ndjson"] = Field(
        default="csv", description="csv (one column per variable) or ndjson (one JSON per line)."
    )


class DncEntry(OutputModel):
    number: str = Field(description="The number, in E.164.")
    reason: str | None = Field(default=None, description="Why it must not be called.")
    source: str = Field(description="Where the entry came from (given, or api / csv / cli).")
    createdAt: Timestamp = Field(description="When it was added.")


class DncPaginatedResponse(OutputModel):
    results: list[DncEntry] = Field(description="This page's entries, newest first.")
    metadata: PaginationMeta = Field(description="Where this page stands in the whole list.")


class AddDncNumberDTO(InputModel):
    number: str = Field(
        min_length=1,
        max_length=40,
        description="The number, in E.164 or (with defaultRegion) national format.",
        examples=["+14155550100"],
    )
    reason: str | None = Field(
        default=None, max_length=MAX_REASON, description="Why it must not be called."
    )
    source: str | None = Field(
        default=None,
        max_length=MAX_SOURCE,
        description="Where the request came from (default: api).",
    )


class RegionQuery(InputModel):
    model_config = ConfigDict(extra="ignore")

    defaultRegion: Region = REGION_FIELD


class DncImportQuery(RegionQuery):
    skipInvalidRows: bool = Field(
        default=False, description="Add the valid rows and report the others."
    )


class DncListQuery(RegionQuery):
    number: str | None = Field(default=None, description="Only this number (is it listed?).")
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, starting at 1.")
    limit: int = Field(default=100, ge=0, le=1000, description="Items per page (0 to 1000).")


class DncImportResult(OutputModel):
    rowsRead: int = Field(description="Data rows in the file (blank rows not counted).")
    added: int = Field(description="Numbers added to the list.")
    alreadyListed: int = Field(description="Valid numbers that were on the list already.")
    rowErrors: list[RowErrorItem] = Field(description="Rows left out (skipInvalidRows=true).")
