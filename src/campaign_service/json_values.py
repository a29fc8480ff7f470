"""JSON values the service can store and answer faithfully, and the checks that say so.

PostgreSQL text and jsonb cannot hold U+0000; a lone UTF-16 surrogate is not UTF-8; JSON has
no NaN or Infinity; numbers beyond the signed 64-bit range (jsonb gives a large float back as
an integer) and very deep nesting cannot be
written back by the service's JSON writer. `problem` names the first such thing in a value.
The API refuses request bodies with one (api/strict_json.py); the CSV import uses the same
checks for its `config` field.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
"""Objects and arrays nested in a request body, counting the body itself. Far beyond any
real campaign, and far enough below the JSON writer's limit that every answer that embeds a
stored object (a list page, a contact export) can still be written."""

MIN_INT = -(2**63)
MAX_INT = 2**63 - 1


def problem(value: Any, where: str = "request body") -> str | None:
    """The first reason `value` (parsed JSON) cannot be stored faithfully, or None."""
    # Iterative: a deeply nested value must not exhaust the interpreter's stack here.
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth + 1 > MAX_DEPTH:
                return f"{where} is nested more than {MAX_DEPTH} levels deep"
            entries = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in entries:
                if isinstance(key, str) and (what := _unstorable_text(key)):
                    return f"{path or where} has a property name containing {what}"
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
            continue
        name = path or where
        if isinstance(item, str):
            if what := _unstorable_text(item):
                return f"{name} must not contain {what}"
        elif isinstance(item, bool):
            continue
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{name} must be a finite number"
        elif isinstance(item, int | float) and not MIN_INT <= item <= MAX_INT:
            # jsonb gives a large float back as an integer (1e20 as 100000000000000000000),
            # so every number, not only integers, must fit in 64 bits to be read back.
            return f"{name} must be a number between {MIN_INT} and {MAX_INT}"
    return None


def _unstorable_text(text: str) -> str | None:
    if "\x00" in text:
        return "the character U+0000"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (a \\ud800-\\udfff escape without its pair)"
    return None


class UnstorableValue(ValueError):
    """A JSON text that cannot be stored faithfully; the message says why, for people."""


def _refuse_constant(name: str) -> Any:
    raise UnstorableValue(f"must not contain {name} (JSON has no such number)")


def loads_storable(text: str | bytes, where: str = "request body") -> Any:
    """Parse JSON text; UnstorableValue if it cannot be stored as sent, JSONDecodeError if it
    is not JSON at all."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise UnstorableValue(f"{where} is nested more than {MAX_DEPTH} levels deep") from None
    except UnstorableValue as exc:
        raise UnstorableValue(f"{where} {exc}") from None
    if reason := problem(value, where):
        raise UnstorableValue(reason)
    return value
