"""Phone numbers as people type them, turned into E.164 (`(415) 555-0100` + US -> +14155550100).

Pure functions over strings; the `phonenumbers` library carries the numbering plans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

# What the possibility check says, in the words a user can act on.
_NOT_POSSIBLE = {
    ValidationResult.INVALID_COUNTRY_CODE: "has an unknown country code",
    ValidationResult.TOO_SHORT: "is too short to be a phone number",
    ValidationResult.TOO_LONG: "is too long to be a phone number",
    ValidationResult.INVALID_LENGTH: "has a length no number of its country has",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is a local number only; add its area code",
}
# Characters the Vapi dashboard strips from numbers it does not check as E.164.
_LOOSE_STRIP = str.maketrans("", "", "()- '")
# Digits and the punctuation people write numbers with, nothing else (no letters, no "ext").
_PLAIN = re.compile(r"\+?[0-9 ()./-]+")
_PUNCTUATION = re.compile(r"[ ()./-]+")


class InvalidNumber(ValueError):
    """The text is not a callable phone number; the message says why."""


class UnknownRegion(ValueError):
    """A defaultRegion that is not a two-letter region of the numbering plans."""


@dataclass(frozen=True)
class Normalized:
    number: str
    extension: str | None = None


def check_region(region: str | None) -> str | None:
    """The region in upper case, or UnknownRegion (UK is GB in ISO 3166)."""
    if region is None or region == "":
        return None
    upper = region.strip().upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        hint = " (the United Kingdom is GB)" if upper == "UK" else ""
        raise UnknownRegion(
            f"{region!r} is not a known region: use a two-letter ISO 3166 code such as US, "
            f"GB or DE{hint}"
        )
    return upper


def to_e164(text: str, region: str | None) -> Normalized:
    """E.164 form of `text`; national formats need `region`. Raises InvalidNumber."""
    value = text.strip()
    # The library ignores this punctuation anyway; removing it first halves its work on the
    # numbers most files hold (parsing is most of the time of a 10,000-row import).
    digits = _PUNCTUATION.sub("", value) if _PLAIN.fullmatch(value) else value
    try:
        parsed = phonenumbers.parse(digits, region)
    except NumberParseException as exc:
        raise InvalidNumber(_parse_failure(value, region, exc)) from None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != ValidationResult.IS_POSSIBLE:
        raise InvalidNumber(f"{value!r} {_NOT_POSSIBLE.get(reason, 'is not a phone number')}")
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return Normalized(e164, parsed.extension or None)


def _parse_failure(value: str, region: str | None, exc: NumberParseException) -> str:
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if region is None and not value.startswith("+"):
            return (
                f"{value!r} has no country code: write it as +<country code><number> "
                "or pass defaultRegion (for example US)"
            )
        return f"{value!r} has an unknown country code"
    if exc.error_type == NumberParseException.TOO_SHORT_NSN:
        return f"{value!r} is too short to be a phone number"
    if exc.error_type == NumberParseException.TOO_LONG:
        return f"{value!r} is too long to be a phone number"
    return f"{value!r} is not a phone number"


def loose(text: str) -> str:
    """A number kept as given (numberE164CheckEnabled=false), minus the dashboard's strip set."""
    return text.strip().translate(_LOOSE_STRIP)
