"""JSON values the service can store and answer faithfully, and the checks that say so.

PostgreSQL text and jsonb cannot hold U+0000; a lone UTF-16 surrogate is not UTF-8; JSON has
no NaN or Infinity; numbers beyond the signed 64-bit range (jsonb gives a large float back as
an integer) and very deep nesting cannot be written back by the service's JSON writer.
`problem` names the first such thing in a value. The API refuses request bodies with one
(api/strict_json.py); the CSV import uses the same checks for its `config` field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
"""Objects and arrays nested in a request body, counting the body itself. Far beyond any
real campaign, and far enough below the JSON writer's limit that every answer that embeds a
stored object (a list page, a contact export) can still be written."""

BODY = "request body"
MIN_INT = -(2**63)
MAX_INT = 2**63 - 1


def problem(value: Any, where: str = BODY) -> str | None:
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
                    return f"{_named(where, path)} has a property name containing {what}"
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
            continue
        name = _named(where, path)
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


def _named(where: str, path: str) -> str:
    """`customers.0.name` in a request body, `config.name` in the import's config field."""
    if not path:
        return where
    return path if where == BODY else f"{where}.{path}"


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


class _Unstorable(Exception):
    """Raised while parsing at the first unstorable number; the walk then finds where."""


def _refuse_constant(name: str) -> Any:
    raise _Unstorable(name)


def _checked_int(text: str) -> int:
    value = int(text)
    if not MIN_INT <= value <= MAX_INT:
        raise _Unstorable(text)
    return value


def _checked_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and MIN_INT <= value <= MAX_INT):
        raise _Unstorable(text)
    return value


# U+0000 and lone surrogates reach a parsed string only through \u escapes: JSON refuses raw
# control characters, and raw surrogates are not UTF-8. Text without such an escape skips the
# walk over every string.
_SURROGATE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def _may_hold_bad_text(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        return b"\\u0000" in text or _SURROGATE_BYTES.search(text) is not None
    return "\\u0000" in text or _SURROGATE_TEXT.search(text) is not None


def loads_storable(text: str | bytes, where: str = BODY) -> Any:
    """Parse JSON text; UnstorableValue if it cannot be stored as sent, JSONDecodeError if it
    is not JSON at all."""
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_checked_int,
            parse_float=_checked_float,
        )
    except RecursionError:
        raise UnstorableValue(f"{where} is nested more than {MAX_DEPTH} levels deep") from None
    except _Unstorable:
        # Parse again as Python reads JSON (NaN and all) to name where the number is.
        reason = problem(json.loads(text), where)
        raise UnstorableValue(reason or f"{where} holds a number that cannot be stored") from None
    reason = problem(value, where) if _may_hold_bad_text(text) else _too_deep(value, where)
    if reason:
        raise UnstorableValue(reason)
    return value


def _too_deep(value: Any, where: str) -> str | None:
    """The nesting check alone (the common case: nothing else can be wrong), level by level:
    a third of the parse's own time on a 10,000-customer body."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return f"{where} is nested more than {MAX_DEPTH} levels deep"
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            below.extend([c for c in children if type(c) is dict or type(c) is list])
        level = below
    return None
