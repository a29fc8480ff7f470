"""SQL text generated from the status sets, for CHECK constraints, index predicates and queries.

Statuses are spelled out in `calls.status` and `campaigns.state` only; everything that needs
them in SQL takes them from here, so a constraint, an index predicate and the query that
relies on that index can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from campaign_service.calls.status import OPEN, ORDER, PLACED, CallStatus, in_order


def quoted(values: Iterable[StrEnum]) -> str:
    """`'a', 'b'` (the values are this project's own enums, never user input)."""
    return ", ".join(f"'{v.value}'" for v in values)


def status_in(column: str, values: Iterable[StrEnum]) -> str:
    return f"{column} IN ({quoted(values)})"


def status_is(column: str, value: StrEnum) -> str:
    return f"{column} = '{value.value}'"


def prefixed(alias: str, column: str) -> str:
    return f"{alias}.{column}" if alias else column


def in_flight(alias: str = "") -> str:
    """A call holding a concurrency slot: placed and not ended, or being dialed (leased)."""
    return (
        f"({status_in(prefixed(alias, 'status'), in_order(PLACED))}"
        f" OR {prefixed(alias, 'lease_expires_at')} IS NOT NULL)"
    )


def waiting(alias: str = "") -> str:
    """A call not placed yet and not being dialed (it may still wait for its retry time)."""
    return (
        f"({status_is(prefixed(alias, 'status'), CallStatus.SCHEDULED)}"
        f" AND {prefixed(alias, 'lease_expires_at')} IS NULL)"
    )


def callable_now(alias: str = "") -> str:
    """A waiting call that may be claimed at `:now`: its retry time has come and, with calling
    hours, it is inside its current stretch of them (a stretch that closed needs rolling)."""
    return (
        f"({waiting(alias)}"
        f" AND ({prefixed(alias, 'next_attempt_at')} IS NULL"
        f" OR {prefixed(alias, 'next_attempt_at')} <= :now)"
        f" AND ({prefixed(alias, 'window_closes_at')} IS NULL"
        f" OR {prefixed(alias, 'window_closes_at')} > :now))"
    )


def window_to_roll(alias: str = "") -> str:
    """A waiting call with calling hours whose current stretch has closed (or was never
    computed): it needs its next stretch before it can be claimed."""
    return (
        f"({waiting(alias)} AND {prefixed(alias, 'window_closes_at')} IS NOT NULL"
        f" AND {prefixed(alias, 'window_closes_at')} <= :now)"
    )


def is_open(alias: str = "") -> str:
    """A call that has not ended."""
    return status_in(prefixed(alias, "status"), in_order(OPEN))


def rank(expression: str) -> str:
    """The lifecycle position of a call status expression (1-based), for forward-only moves."""
    return f"array_position(ARRAY[{quoted(ORDER)}]::text[], ({expression})::text)"


CALL_STATUS_CHECK = status_in("status", ORDER)
