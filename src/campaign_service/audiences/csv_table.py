"""A CSV file as a table of named cells: decoding, delimiter, quoting and header rules.

Pure: it reads the bytes it is given and nothing else. Rows are numbered as a spreadsheet
shows them (the header is row 1, the first data row is row 2), so every problem can be found
in the user's own file. Problems are collected, never raised: the caller reports them all.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

HEADER_ROW = 1
# One bad byte becomes one of these when decoding with surrogateescape.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_SAVE_AS_UTF8 = "save the file as UTF-8 (in Excel: CSV UTF-8)"
_QUOTING_HINT = 'put the whole cell in double quotes and write a quote inside it as ""'


@dataclass(frozen=True)
class RowError:
    """One problem, where the user can find it: row number, column name, what is wrong."""

    row: int
    column: str | None
    message: str

    def sentence(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, str]


@dataclass
class Table:
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    # Problems that make the whole file unusable (encoding of the header, quoting, header rules,
    # too many rows), and problems confined to one row (its other rows stay usable).
    file_errors: list[RowError] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)
    blank_rows: int = 0

    def bad_rows(self) -> set[int]:
        return {e.row for e in self.row_errors}


def read_table(data: bytes, *, required: Sequence[str], max_rows: int) -> Table:
    """Decode, split and check `data`; the returned table lists every problem found."""
    table = Table()
    text, bad_bytes, error = _decode(data)
    if error:
        table.file_errors.append(RowError(HEADER_ROW, None, error))
        return table
    table.delimiter = _sniff_delimiter(text)
    records, broken = _records(text, table.delimiter)
    if broken:
        table.file_errors.append(broken)
    if not records or not any(cell.strip() for cell in records[0]):
        table.file_errors.append(
            RowError(HEADER_ROW, None, "the first row must name the columns (number, name, ...)")
        )
        return table
    if bad_bytes:
        _mark_bad_bytes(table, records, bad_bytes)
        # Reported once, here; later checks see a replacement character instead.
        records = [[_ESCAPED_BYTE.sub("\ufffd", cell) for cell in r] for r in records]
    if "\x00" in text:
        _mark_nul(table, records)
        # Reported once, here; later checks see the cell without it.
        records = [[cell.replace("\x00", "") for cell in r] for r in records]
    columns = _check_header(table, records, required)
    if not table.file_errors:
        _fill_rows(table, records, columns, max_rows)
    return table


def _decode(data: bytes) -> tuple[str, list[int], str | None]:
    """Text, the file offsets of bytes that are not UTF-8, and a file-level error if any."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "", [], f"the file is UTF-16 text; {_SAVE_AS_UTF8}"
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8"), [], None
    except UnicodeDecodeError:
        text = data[start:].decode("utf-8", "surrogateescape")
    return text, _offsets_of_escaped_bytes(text, start), None


def _offsets_of_escaped_bytes(text: str, start: int) -> list[int]:
    """Byte offset in the file of each undecodable byte, in order (one pass over the text)."""
    offsets: list[int] = []
    position, done = start, 0
    for match in _ESCAPED_BYTE.finditer(text):
        position += len(text[done : match.start()].encode("utf-8", "surrogateescape"))
        offsets.append(position)
        position += 1
        done = match.end()
    return offsets


def _sniff_delimiter(text: str) -> str:
    """Comma or semicolon, whichever separates more cells of the header row (outside quotes)."""
    header = text.split("\n", 1)[0]
    unquoted = re.sub(r'"[^"]*"', "", header)
    return ";" if unquoted.count(";") > unquoted.count(",") else ","


def _records(text: str, delimiter: str) -> tuple[list[list[str]], RowError | None]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error as exc:
        # Strict quoting: a stray quote would otherwise swallow rows silently.
        where = HEADER_ROW + len(records)
        message = f"the file cannot be read from this row on ({exc}); {_QUOTING_HINT}"
        return records, RowError(where, None, message)
    return records, None


def _mark_bad_bytes(table: Table, records: list[list[str]], offsets: list[int]) -> None:
    """Report each cell holding non-UTF-8 bytes; the header's make the whole file unusable."""
    seen = 0
    header = [cell.strip() for cell in records[0]]
    for index, record in enumerate(records):
        row = HEADER_ROW + index
        for position, cell in enumerate(record):
            escaped = _ESCAPED_BYTE.findall(cell)
            if not escaped:
                continue
            byte = ord(escaped[0]) - 0xDC00
            message = (
                f"byte 0x{byte:02X} at byte offset {offsets[seen]} of the file is not UTF-8; "
                f"{_SAVE_AS_UTF8}"
            )
            seen += len(escaped)
            if index == 0:
                table.file_errors.append(RowError(row, f"#{position + 1}", message))
            else:
                name = header[position] if position < len(header) else f"#{position + 1}"
                table.row_errors.append(RowError(row, name or f"#{position + 1}", message))


def _mark_nul(table: Table, records: list[list[str]]) -> None:
    """Report each cell holding U+0000: no stored text can hold it, so its row is unusable."""
    header = [cell.strip() for cell in records[0]]
    message = "the cell holds the character U+0000 (NUL), which cannot be stored; remove it"
    for index, record in enumerate(records):
        for position, cell in enumerate(record):
            if "\x00" not in cell:
                continue
            if index == 0:
                table.file_errors.append(RowError(HEADER_ROW, f"#{position + 1}", message))
            else:
                name = header[position] if position < len(header) else ""
                table.row_errors.append(
                    RowError(HEADER_ROW + index, name or f"#{position + 1}", message)
                )


def _check_header(table: Table, records: list[list[str]], required: Sequence[str]) -> list[str]:
    """The column names ('' for a nameless, empty column that is ignored); rule breaks are
    file errors."""
    names = [cell.strip() for cell in records[0]]
    first_seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        problem = _header_problem(name, position, first_seen, records)
        if problem:
            table.file_errors.append(RowError(HEADER_ROW, name or f"#{position}", problem))
        first_seen.setdefault(name, position)
    for column in required:
        if column not in first_seen:
            table.file_errors.append(
                RowError(HEADER_ROW, None, _missing_column(column, list(first_seen)))
            )
    table.columns = [n for n in names if n]
    return names


def _header_problem(
    name: str, position: int, first_seen: dict[str, int], records: list[list[str]]
) -> str | None:
    if not name:
        # Spreadsheets often export trailing columns with no name and no data: ignore those.
        holding = next((i for i, r in enumerate(records[1:]) if _cell(r, position - 1)), None)
        if holding is None:
            return None
        return (
            f"column {position} has no name but holds data (row {holding + HEADER_ROW + 1}); "
            "name it in the first row"
        )
    if "\ufffd" in name:
        return None  # already reported as an encoding problem
    if name in first_seen:
        return f"column name {name!r} is used twice (columns {first_seen[name]} and {position})"
    if not name[0].isalpha():
        return f"column name {name!r} must start with a letter"
    if re.search(r"\s", name):
        suggestion = re.sub(r"\s+", "_", name)
        return f"column name {name!r} must not contain spaces (for example {suggestion!r})"
    return None


def _missing_column(column: str, present: list[str]) -> str:
    close = [n for n in present if n.lower() == column or column in n.lower().replace(" ", "")]
    if column == "number":
        close += [n for n in present if re.search(r"phone|mobile|cell|tel", n, re.IGNORECASE)]
    hint = f" (rename {close[0]!r} to {column})" if close else ""
    return f"the required column {column!r} is missing{hint}"


def _cell(record: list[str], position: int) -> str:
    return record[position].strip() if position < len(record) else ""


def _fill_rows(table: Table, records: list[list[str]], names: list[str], max_rows: int) -> None:
    width = len(names)
    for index, record in enumerate(records[1:], start=1):
        row = HEADER_ROW + index
        cells = [cell.strip() for cell in record]
        if not any(cells):
            table.blank_rows += 1
            continue
        if len(table.rows) == max_rows:
            message = f"is row {max_rows + 1} of contacts; a file can hold at most {max_rows}"
            table.file_errors.append(RowError(row, None, message))
            return
        if any(cells[width:]):
            table.row_errors.append(
                RowError(
                    row,
                    None,
                    f"has {len(cells)} cells but the first row names {width} columns; "
                    f"{_QUOTING_HINT} if a cell contains the delimiter",
                )
            )
        table.rows.append(
            Row(row, {name: value for name, value in zip(names, cells, strict=False) if name})
        )
