"""schemathesis hooks: generated bodies obey the rules the document states in words only.

JSON Schema cannot compare two fields or bound what an opaque object holds, so the OpenAPI
document says these rules in its descriptions (api/openapi_rules.py, the 400 answers) and
the generator is kept to them here, with the service's own checks where it has them:

- what can be stored (no U+0000, no lone surrogate, numbers within 64 bits, nesting depth);
- schedulePlan.latestAt after earliestAt, both within years 1 to 9999 in UTC;
- a calling window's end after its start;
- an Idempotency-Key is never reused for another request (each generated one is fresh).

Loaded with SCHEMATHESIS_HOOKS=tests.ops.schemathesis.hooks (tests/ops/test_fuzz.py,
bench/fuzz.py).
"""

from __future__ import annotations

import ast
import uuid
from datetime import UTC, datetime
from typing import Any

import schemathesis

from campaign_service.json_values import problem

_parse = ast.parse


def _parse_or_syntax_error(*args: Any, **kwargs: Any) -> Any:
    """The generator names its strategies by parsing their lambdas' source with `ast.parse`,
    deep in its own recursion. There, CPython 3.11 before 3.11.8 can turn the parser's
    RecursionError into `SystemError: AST constructor recursion depth mismatch` (CPython issue
    106905), which aborts the run although nothing about the service is wrong. A SyntaxError
    is what the generator already handles: it then names the strategy without its source."""
    try:
        return _parse(*args, **kwargs)
    except SystemError as error:
        raise SyntaxError(str(error)) from error


ast.parse = _parse_or_syntax_error


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _schedule_ok(plan: Any) -> bool:
    if not isinstance(plan, dict) or "earliestAt" not in plan:
        return True
    earliest = _instant(plan["earliestAt"])
    if earliest is None:
        return False
    if plan.get("latestAt") is None:
        return True
    latest = _instant(plan["latestAt"])
    return latest is not None and latest > earliest


def _window_ok(window: Any) -> bool:
    if not isinstance(window, dict):
        return True
    start, end = window.get("start"), window.get("end")
    return not (isinstance(start, str) and isinstance(end, str)) or start < end


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    if problem(body) is not None:
        return False
    if not isinstance(body, dict):
        return True
    return _schedule_ok(body.get("schedulePlan")) and _window_ok(body.get("callingWindow"))


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Every request with an Idempotency-Key is sent with a fresh one, in every phase: a key
    reused for another request is a client error no schema can state (the service answers
    400, by design; tests/api/test_idempotency.py covers it). Where a check sends headers of
    its own (a required header left out), those are changed, never the case's."""
    headers = kwargs.get("headers")
    if headers is None:
        headers = case.headers
    # A request left without its Authorization header (the missing-header check) is refused
    # before its key is read: it is sent as generated.
    if headers is not None and "Idempotency-Key" in headers and "Authorization" in headers:
        headers["Idempotency-Key"] = str(uuid.uuid4())
