"""A do-not-call CSV into entries: a `number` column (required), optional `reason` and `source`
columns; other columns are ignored, so a CRM's opt-out export can be sent as it is. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from campaign_service.audiences.csv_table import RowError, read_table
from campaign_service.audiences.phone import InvalidNumber, to_e164

MAX_DNC_ROWS = 100_000
MAX_REASON = 200
MAX_SOURCE = 40


@dataclass(frozen=True)
class DncRow:
    row: int
    number: str
    reason: str | None
    source: str | None


@dataclass
class DncFile:
    rows_read: int = 0
    entries: list[DncRow] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)


def parse_dnc_file(data: bytes, *, default_region: str | None) -> DncFile:
    """Every row checked; numbers in E.164. A number listed twice is one entry (the first)."""
    table = read_table(data, required=("number",), max_rows=MAX_DNC_ROWS)
    result = DncFile(
        rows_read=len(table.rows), file_errors=table.file_errors, row_errors=table.row_errors
    )
    if table.file_errors:
        return result
    unusable = table.bad_rows()
    seen: set[str] = set()
    for row in table.rows:
        entry = _entry(row.number, row.cells, default_region, result.row_errors)
        if entry is None or row.number in unusable or entry.number in seen:
            continue
        seen.add(entry.number)
        result.entries.append(entry)
    result.row_errors.sort(key=lambda e: e.row)
    return result


def _entry(
    row: int, cells: dict[str, str], region: str | None, errors: list[RowError]
) -> DncRow | None:
    found = len(errors)
    number = None
    try:
        number = to_e164(cells.get("number", ""), region).number
    except InvalidNumber as exc:
        message = "is empty" if not cells.get("number") else str(exc)
        errors.append(RowError(row, "number", message))
    reason, source = cells.get("reason") or None, cells.get("source") or None
    for column, value, limit in (("reason", reason, MAX_REASON), ("source", source, MAX_SOURCE)):
        if value is not None and len(value) > limit:
            errors.append(
                RowError(row, column, f"must have at most {limit} characters (has {len(value)})")
            )
    if number is None or len(errors) > found:
        return None
    return DncRow(row, number, reason, source)
