"""The one error of the file-based endpoints: problems listed as sentences and as data."""

from __future__ import annotations

from collections.abc import Sequence

from campaign_service.audiences.csv_table import RowError
from campaign_service.errors import BadRequest

# `message` is for people; past this many sentences it says how many more `rowErrors` holds.
MAX_SENTENCES = 100


class RowsRejected(BadRequest):
    """400: nothing was written. Carries every problem with its row and column."""

    def __init__(self, summary: Sequence[str], row_errors: Sequence[RowError]) -> None:
        sentences = [*summary, *(e.sentence() for e in row_errors)]
        if len(sentences) > MAX_SENTENCES:
            more = len(sentences) - MAX_SENTENCES
            sentences = [*sentences[:MAX_SENTENCES], f"... and {more} more (see rowErrors)"]
        super().__init__(sentences)
        self.row_errors = list(row_errors)
