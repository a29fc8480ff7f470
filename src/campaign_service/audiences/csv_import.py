"""An audience CSV, row by row, into the customers of a campaign (Vapi's dashboard rules).

`number` is required and normalised to E.164 (national formats need a default region);
`name`, `email`, `externalId`, `extension`, `sipUri` and `numberE164CheckEnabled` fill the
customer's fields of the same name; every other non-empty cell becomes one of the contact's
`assistantOverrides.variableValues`. Every problem is collected with its row and column.
Pure: no I/O beyond the bytes given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from campaign_service.audiences.csv_table import RowError, Table, read_table
from campaign_service.audiences.dedupe import contact_key, find_repeats
from campaign_service.audiences.phone import InvalidNumber, loose, to_e164
from campaign_service.campaigns.schemas import MAX_CUSTOMERS, CreateCustomerDTO

CUSTOMER_FIELDS = ("name", "email", "externalId", "extension", "sipUri")
CUSTOMER_COLUMNS = ("number", *CUSTOMER_FIELDS, "numberE164CheckEnabled")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
PROGRESS_EVERY = 500

Progress = Callable[[int, int], None]
"""Called with (rows checked, rows in the file) while rows are checked."""


@dataclass(frozen=True)
class Contact:
    row: int
    customer: CreateCustomerDTO


@dataclass(frozen=True)
class Duplicate:
    row: int
    number: str
    first_row: int


@dataclass
class Audience:
    """What a file holds: the usable contacts and everything wrong with the rest."""

    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    rows_read: int = 0
    blank_rows: int = 0
    contacts: list[Contact] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    deduped: bool = False


def parse_audience(
    data: bytes,
    *,
    default_region: str | None,
    dedupe: bool,
    max_rows: int = MAX_CUSTOMERS,
    progress: Progress | None = None,
) -> Audience:
    """Check every row of `data`; with `dedupe`, later rows repeating a number are dropped."""
    table = read_table(data, required=("number",), max_rows=max_rows)
    audience = Audience(
        delimiter=table.delimiter,
        columns=table.columns,
        variables=[c for c in table.columns if c not in CUSTOMER_COLUMNS],
        rows_read=len(table.rows),
        blank_rows=table.blank_rows,
        file_errors=table.file_errors,
        row_errors=list(table.row_errors),
        deduped=dedupe,
    )
    if not table.file_errors:
        _check_rows(audience, table, default_region, progress)
        _find_duplicates(audience, drop=dedupe)
    audience.row_errors.sort(key=lambda e: e.row)
    return audience


def _check_rows(
    audience: Audience, table: Table, region: str | None, progress: Progress | None
) -> None:
    unusable = table.bad_rows()  # rows with bytes that are not UTF-8 or too many cells
    total = len(table.rows)
    for done, row in enumerate(table.rows, start=1):
        customer, errors = _customer(row.cells, region, audience.variables)
        audience.row_errors.extend(RowError(row.number, col, msg) for col, msg in errors)
        if customer is not None and row.number not in unusable:
            audience.contacts.append(Contact(row.number, customer))
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)


def _customer(
    cells: dict[str, str], region: str | None, variables: list[str]
) -> tuple[CreateCustomerDTO | None, list[tuple[str | None, str]]]:
    """The row's customer, or the problems of each of its cells."""
    errors: list[tuple[str | None, str]] = []
    fields: dict[str, Any] = {name: cells[name] for name in CUSTOMER_FIELDS if cells.get(name)}
    e164_check = _flag(cells.get("numberE164CheckEnabled", ""), errors)
    if e164_check is not None:
        fields["numberE164CheckEnabled"] = e164_check
    number = cells.get("number", "")
    if number and e164_check is False:
        fields["number"] = loose(number)
    elif number:
        try:
            normalized = to_e164(number, region)
        except InvalidNumber as exc:
            errors.append(("number", str(exc)))
        else:
            fields["number"] = normalized.number
            if normalized.extension and "extension" not in fields:
                fields["extension"] = normalized.extension
    elif "sipUri" not in fields:
        errors.append(("number", "is empty; every contact needs a number (or a sipUri)"))
    values = {name: cells[name] for name in variables if cells.get(name)}
    if values:
        fields["assistantOverrides"] = {"variableValues": values}
    customer, field_errors = _validated(fields, number_failed="number" not in fields)
    return (customer if not errors else None), errors + field_errors


def _flag(text: str, errors: list[tuple[str | None, str]]) -> bool | None:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    if text:
        errors.append(("numberE164CheckEnabled", f"is {text!r}; write true or false"))
    return None


def _validated(
    fields: dict[str, Any], *, number_failed: bool
) -> tuple[CreateCustomerDTO | None, list[tuple[str | None, str]]]:
    """Vapi's customer rules (lengths, number format) on the row's fields."""
    try:
        return CreateCustomerDTO.model_validate(fields), []
    except ValidationError as exc:
        errors: list[tuple[str | None, str]] = []
        for error in exc.errors():
            column = str(error["loc"][0]) if error["loc"] else None
            if column is None and number_failed:
                continue  # "needs a number": the number's own problem is already reported
            errors.append((column or "number", _readable(error)))
        return None, errors


def _readable(error: Any) -> str:
    context = error.get("ctx") or {}
    given = error.get("input")
    if error["type"] == "string_too_long":
        return f"must have at most {context['max_length']} characters (has {len(given)})"
    if error["type"] == "string_too_short":
        return f"must have at least {context['min_length']} characters (has {len(given)})"
    return str(error["msg"]).replace("Input should be", "must be")


def _find_duplicates(audience: Audience, *, drop: bool) -> None:
    contacts = audience.contacts
    repeats = find_repeats(contact_key(c.customer) for c in contacts)
    audience.duplicates = [
        Duplicate(contacts[r.index].row, r.number, contacts[r.first].row) for r in repeats
    ]
    if drop and repeats:
        dropped = {r.index for r in repeats}
        audience.contacts = [c for i, c in enumerate(contacts) if i not in dropped]
