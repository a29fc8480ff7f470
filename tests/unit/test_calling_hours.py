"""Calling hours as pure computation: window edges, DST gaps and overlaps, zones that must all
be open, and how a contact's zones are found."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaign_service.campaigns.calling_hours import (
    CallingHours,
    contact_zones,
    is_open,
    next_callable,
    zones_of_number,
)


def hours(start: str = "09:00", end: str = "20:00", days: tuple[str, ...] = ()) -> CallingHours:
    return CallingHours.from_config(
        {
            "days": list(days or ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
            "start": start,
            "end": end,
            "fallbackTimeZone": "UTC",
        }
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NY = ("America/New_York",)


def test_start_is_inside_and_end_is_outside():
    window = hours()
    assert is_open(window, NY, utc("2026-06-01T13:00:00"))  # 09:00 EDT
    assert not is_open(window, NY, utc("2026-06-01T12:59:59"))
    assert is_open(window, NY, utc("2026-06-01T23:59:59"))  # 19:59:59 EDT
    assert not is_open(window, NY, utc("2026-06-02T00:00:00"))  # 20:00 EDT
    assert next_callable(window, NY, utc("2026-06-02T00:00:00")) == (
        utc("2026-06-02T13:00:00"),
        utc("2026-06-03T00:00:00"),
    )


def test_weekdays_are_the_contacts_local_days():
    # Friday 2026-06-05 23:30 UTC is still Friday 19:30 in New York, but Saturday in Tokyo.
    weekdays = hours(days=("mon", "tue", "wed", "thu", "fri"))
    friday_evening = utc("2026-06-05T23:30:00")
    assert is_open(weekdays, NY, friday_evening)
    assert next_callable(weekdays, NY, utc("2026-06-06T00:00:00"))[0] == utc("2026-06-08T13:00:00")
    tokyo = ("Asia/Tokyo",)
    # Monday 09:00 in Tokyo is Sunday 00:00 UTC.
    assert next_callable(weekdays, tokyo, friday_evening)[0] == utc("2026-06-08T00:00:00")


def test_spring_forward_moves_the_opening_one_hour_earlier_in_utc():
    window = hours()
    friday = next_callable(window, NY, utc("2026-03-06T01:00:00"))  # Thursday 20:00 EST
    monday = next_callable(window, NY, utc("2026-03-09T00:00:00"))
    assert friday[0] == utc("2026-03-06T14:00:00")  # 09:00 EST
    assert monday[0] == utc("2026-03-09T13:00:00")  # 09:00 EDT


def test_a_start_in_the_dst_gap_opens_at_its_later_instant():
    # 2026-03-08 02:30 does not exist in New York (02:00 -> 03:00): the window opens at 03:30
    # EDT (07:30 UTC), never before a local clock shows 02:30.
    window = hours(start="02:30", end="05:00")
    assert next_callable(window, NY, utc("2026-03-08T05:00:00"))[0] == utc("2026-03-08T07:30:00")


def test_an_end_in_the_repeated_hour_closes_at_its_earlier_instant():
    # 2026-11-01 01:30 happens twice in New York (EDT, then EST); the window 00:00-01:30 closes
    # at the first one (05:30 UTC), and a start of 01:30 waits for the second (06:30 UTC).
    assert next_callable(hours(start="00:00", end="01:30"), NY, utc("2026-11-01T04:00:00"))[
        1
    ] == utc("2026-11-01T05:30:00")
    assert next_callable(hours(start="01:30", end="05:00"), NY, utc("2026-11-01T04:00:00"))[
        0
    ] == utc("2026-11-01T06:30:00")


def test_several_zones_must_all_be_open():
    both = ("America/Los_Angeles", "America/New_York")
    window = hours()
    # 09:00 in Los Angeles (16:00 UTC) to 20:00 in New York (00:00 UTC).
    assert next_callable(window, both, utc("2026-06-01T12:00:00")) == (
        utc("2026-06-01T16:00:00"),
        utc("2026-06-02T00:00:00"),
    )


def test_zones_too_far_apart_never_open_together():
    far = ("Asia/Tokyo", "America/New_York")  # 13 hours apart in June
    assert next_callable(hours(end="17:00"), far, utc("2026-06-01T00:00:00")) is None


@pytest.mark.parametrize(
    ("number", "zones"),
    [
        ("+14155550100", ("America/Los_Angeles",)),
        ("+12125550100", ("America/New_York",)),
        ("+442071234567", ("Europe/London",)),
        ("+15555550100", ()),  # not in the numbering plan
        ("not a number", ()),
    ],
)
def test_zones_of_a_number(number, zones):
    assert zones_of_number(number) == zones


def test_explicit_zone_wins_then_the_number_then_the_fallback():
    assert contact_zones({"number": "+14155550100", "timeZone": "Europe/Paris"}, "UTC") == (
        "Europe/Paris",
    )
    assert contact_zones({"number": "+14155550100"}, "UTC") == ("America/Los_Angeles",)
    assert contact_zones({"sipUri": "sip:a@example.com"}, "Asia/Tokyo") == ("Asia/Tokyo",)
    assert contact_zones({"number": "+15555550100"}, "Asia/Tokyo") == ("Asia/Tokyo",)
