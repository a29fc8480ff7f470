"""Phone numbers as people type them, into E.164."""

from __future__ import annotations

import pytest

from campaign_service.audiences.phone import (
    InvalidNumber,
    Normalized,
    UnknownRegion,
    check_region,
    loose,
    to_e164,
)


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+14155550100", None, Normalized("+14155550100")),
        (" (415) 555-0100 ", "US", Normalized("+14155550100")),
        ("415.555.0100", "US", Normalized("+14155550100")),
        ("1-415-555-0100", "US", Normalized("+14155550100")),
        ("+44 (0) 20 7946 0958", None, Normalized("+442079460958")),
        ("020 7946 0958", "GB", Normalized("+442079460958")),
        ("0044 20 7946 0958", "GB", Normalized("+442079460958")),
        ("415-555-0100 ext. 12", "US", Normalized("+14155550100", "12")),
        ("tel:+14155550100", None, Normalized("+14155550100")),
    ],
)
def test_numbers_people_write_become_e164(text: str, region: str | None, expected: Normalized):
    assert to_e164(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region", "message"),
    [
        ("(415) 555-0100", None, "'(415) 555-0100' has no country code: write it as"),
        ("+999 1234567", None, "'+999 1234567' has an unknown country code"),
        ("555-0100", "US", "'555-0100' is a local number only; add its area code"),
        ("+1 415 555", None, "'+1 415 555' is too short to be a phone number"),
        ("+1 415 555 0100 0100 01", None, "is too long to be a phone number"),
        ("call me", "US", "'call me' is not a phone number"),
        ("", "US", "'' is not a phone number"),
    ],
)
def test_impossible_numbers_say_why(text: str, region: str | None, message: str):
    with pytest.raises(InvalidNumber) as raised:
        to_e164(text, region)
    assert message in str(raised.value)


def test_regions_are_two_letter_codes_in_any_case():
    assert check_region("us") == "US"
    assert check_region(None) is None
    assert check_region("") is None
    with pytest.raises(UnknownRegion, match=r"'UK' is not a known region.*United Kingdom is GB"):
        check_region("UK")
    with pytest.raises(UnknownRegion, match="'USA' is not a known region"):
        check_region("USA")


def test_numbers_without_the_e164_check_lose_only_vapis_strip_set():
    assert loose(" (415) 555-0100 ") == "4155550100"
    assert loose("'ABC-123'") == "ABC123"
