"""UTC clock helpers and the ISO 8601 format Vapi returns (milliseconds, trailing Z)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_z(value: datetime) -> str:
    """2026-07-02T18:01:12.000Z: the shape Vapi sends and its SDK parses."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # Four-digit years always (strftime's %Y drops the zeros of years before 1000); formatted
    # field by field, which is several times cheaper than strftime on every row of a list.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def as_utc(value: datetime) -> datetime:
    """Naive input is taken as UTC; aware input is converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
