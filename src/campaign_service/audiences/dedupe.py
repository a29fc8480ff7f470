"""One call per person: the same number twice in an audience is a duplicate.

Numbers are compared in the form they are stored (E.164 after normalisation); a customer
without a number is compared by its SIP URI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from campaign_service.campaigns.schemas import CreateCampaignDTO, CreateCustomerDTO


@dataclass(frozen=True)
class Repeat:
    """Item `index` repeats the number of item `first` (indexes into the checked sequence)."""

    index: int
    first: int
    number: str


def contact_key(customer: CreateCustomerDTO) -> str | None:
    return customer.number if customer.number is not None else customer.sipUri


def find_repeats(keys: Iterable[str | None]) -> list[Repeat]:
    """Every item whose key an earlier item already had."""
    first_seen: dict[str, int] = {}
    repeats: list[Repeat] = []
    for index, key in enumerate(keys):
        if key is None:
            continue
        first = first_seen.setdefault(key, index)
        if first != index:
            repeats.append(Repeat(index, first, key))
    return repeats


def without_repeats(customers: Sequence[CreateCustomerDTO]) -> list[CreateCustomerDTO]:
    dropped = {r.index for r in find_repeats(contact_key(c) for c in customers)}
    return [c for i, c in enumerate(customers) if i not in dropped]


def dedupe_campaign(dto: CreateCampaignDTO) -> CreateCampaignDTO:
    """The same create body with each number's first customer only (across dial plan entries:
    one audience, one call per person)."""
    if dto.dialPlan is None:
        return dto.model_copy(update={"customers": without_repeats(dto.customers or [])})
    seen: set[str] = set()
    entries = []
    for entry in dto.dialPlan:
        kept = []
        for customer in without_repeats(entry.customers):
            key = contact_key(customer)
            if key is None or key not in seen:
                kept.append(customer)
            if key is not None:
                seen.add(key)
        entries.append(entry.model_copy(update={"customers": kept}))
    return dto.model_copy(update={"dialPlan": entries})
