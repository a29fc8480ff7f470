"""Timestamps leave the API as ISO 8601 UTC with milliseconds and Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from campaign_service.timeutil import as_utc, iso_z


def test_iso_z_has_milliseconds_and_z():
    assert iso_z(datetime(2026, 7, 2, 18, 1, 12, tzinfo=UTC)) == "2026-07-02T18:01:12.000Z"


def test_iso_z_truncates_microseconds():
    assert iso_z(datetime(2026, 7, 2, 18, 1, 12, 999999, tzinfo=UTC)) == "2026-07-02T18:01:12.999Z"


def test_iso_z_converts_offsets_to_utc():
    plus_two = timezone(timedelta(hours=2))
    assert iso_z(datetime(2026, 1, 1, 1, 30, tzinfo=plus_two)) == "2025-12-31T23:30:00.000Z"


def test_iso_z_takes_naive_as_utc():
    assert iso_z(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000Z"  # noqa: DTZ001


def test_as_utc():
    naive = datetime(2026, 1, 1, 12)  # noqa: DTZ001
    assert as_utc(naive) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert as_utc(naive).tzinfo is UTC
    minus_five = datetime(2026, 1, 1, 7, tzinfo=timezone(timedelta(hours=-5)))
    assert as_utc(minus_five) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert as_utc(minus_five).utcoffset() == timedelta(0)


def test_years_before_1000_keep_four_digits():
    # A date-time schema (RFC 3339) wants four digits; strftime's %Y drops the leading zeros.
    assert iso_z(datetime(278, 6, 16, 8, 43, 13, 229000, tzinfo=UTC)) == "0278-06-16T08:43:13.229Z"
