"""Local calling hours: when a contact may be called, in the contact's own time zone.

A campaign's calling window names weekdays and a daily start and end (local wall-clock
times). A contact's zones are its explicit `timeZone`, else the zones of its number
(`phonenumbers`' time-zone data), else the campaign's fallback zone. A number whose area
spans several zones is callable only while the window is open in every one of them (the
intersection of their windows).

Wall-clock times that a DST change skips or repeats are read restrictively: a start is taken
at its later instant, an end at its earlier one, so no call falls outside the hours a local
clock shows. Everything here is pure (zoneinfo, no I/O), in UTC at the edges.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import phonenumbers
from phonenumbers import timezone as number_zones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Every weekday pattern repeats within a week; a day more covers a window that started
# yesterday in a zone behind UTC.
HORIZON_DAYS = 8

Interval = tuple[datetime, datetime]


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA zone names this machine can compute with."""
    return frozenset(zoneinfo.available_timezones())


def is_known_zone(name: str) -> bool:
    return name in known_zones()


@dataclass(frozen=True)
class CallingHours:
    """A campaign's calling window, ready to compute with."""

    days: frozenset[int]  # date.weekday() numbers, Monday = 0
    start: time
    end: time
    fallback_zone: str

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CallingHours:
        """From the stored `callingWindow` (the API's validated JSON)."""
        return cls(
            days=frozenset(DAYS.index(day) for day in config["days"]),
            start=time.fromisoformat(config["start"]),
            end=time.fromisoformat(config["end"]),
            fallback_zone=config["fallbackTimeZone"],
        )


def _instants(day: date, at: time, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """The earliest and latest UTC instants a local wall-clock time can mean on `day`."""
    candidates = [
        datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC) for fold in (0, 1)
    ]
    return min(candidates), max(candidates)


def zone_intervals(hours: CallingHours, zone_name: str, at: datetime) -> list[Interval]:
    """The window's openings in one zone from the day before `at` for HORIZON_DAYS, in UTC."""
    zone = zoneinfo.ZoneInfo(zone_name)
    first = at.astimezone(zone).date() - timedelta(days=1)
    intervals: list[Interval] = []
    for offset in range(HORIZON_DAYS + 1):
        day = first + timedelta(days=offset)
        if day.weekday() not in hours.days:
            continue
        _, opens = _instants(day, hours.start, zone)
        closes, _ = _instants(day, hours.end, zone)
        if opens < closes:
            intervals.append((opens, closes))
    return intervals


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The overlap of two sorted lists of disjoint intervals."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return result


def callable_intervals(hours: CallingHours, zones: Iterable[str], at: datetime) -> list[Interval]:
    """When the window is open in every one of `zones`, from around `at` for about a week."""
    result: list[Interval] | None = None
    for zone in sorted(set(zones)):
        own = zone_intervals(hours, zone, at)
        result = own if result is None else intersect(result, own)
    return result or []


def next_callable(hours: CallingHours, zones: Iterable[str], at: datetime) -> Interval | None:
    """The first moment at or after `at` when the contact may be called, and when that
    stretch ends; None if its zones' windows never overlap."""
    for start, end in callable_intervals(hours, zones, at):
        if end > at:
            return max(start, at), end
    return None


def is_open(hours: CallingHours, zones: Iterable[str], at: datetime) -> bool:
    found = next_callable(hours, zones, at)
    return found is not None and found[0] == at


# ---- a contact's zones ----


def zones_of_number(number: str) -> tuple[str, ...]:
    """The known zones `phonenumbers` gives for an E.164 number; () when it cannot say."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = number_zones.time_zones_for_number(parsed)
    return tuple(sorted(z for z in zones if is_known_zone(z)))


def contact_zones(customer: dict[str, Any], fallback_zone: str) -> tuple[str, ...]:
    """The customer's explicit timeZone, else its number's zones, else the fallback."""
    explicit = customer.get("timeZone")
    if explicit:
        return (explicit,)
    number = customer.get("number")
    zones = zones_of_number(number) if isinstance(number, str) else ()
    return zones or (fallback_zone,)
