"""Idempotency-Key on every write (extension): a retry replays the first answer.

The first request with a key inserts the key's row in its own transaction before it writes
anything, and stores its response in that same transaction, so the key and the write commit or
vanish together. A repeat with the same key and the same request waits on that row while the
first runs, then replays the stored status and body (marked `Idempotent-Replayed: true`); if
the first failed (nothing committed) the repeat runs as a first request. The same key with
another method, path, query or body is a 400. Keys belong to an org and are kept
`idempotency_key_hours`; a new key purges a batch of expired ones (any org's), at most once a
minute per process.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.api.deps import AppSettings, CurrentOrg, Now, Session
from campaign_service.api.strict_json import StrictJsonRoute
from campaign_service.errors import BadRequest
from campaign_service.idempotency import repository

HEADER = "Idempotency-Key"
# 1 to 255 printable ASCII characters, neither first nor last a space.
KEY_PATTERN = "^[!-~](?:[ -~]{0,253}[!-~])?$"
REPLAYED_HEADER = "Idempotent-Replayed"
PURGE_INTERVAL = timedelta(minutes=1)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PENDING = "campaign_service.idempotency"
# Printable ASCII without spaces at the ends; what a UUID, a ULID or Stripe's keys use.
_VALID_KEY = re.compile(KEY_PATTERN)

DESCRIPTION = (
    "Extension (Vapi's API has no such header): a unique value (1 to 255 printable ASCII "
    "characters, e.g. a UUID) that makes a retry safe. The first request with a key runs; a "
    "repeat with the same key, method, path, query and body gets the first answer again "
    f"(with `{REPLAYED_HEADER}: true`) and writes nothing; a concurrent repeat waits for the "
    "first. The same key with a different request is a 400. Keys are per organization and "
    "kept at least 24 hours. A request that failed stored nothing, so it may be retried with "
    "the same key."
)


class IdempotentReplay(Exception):
    """Raised by the dependency to answer with the stored response instead of running."""

    def __init__(self, stored: repository.StoredRequest) -> None:
        super().__init__("idempotent replay")
        self.stored = stored


async def request_fingerprint(request: Request) -> str:
    """SHA-256 of the query string and the body, as the app read it. A form is hashed field by
    field (names, file names and contents), so a retry that encodes the same upload with a new
    multipart boundary is the same request."""
    digest = hashlib.sha256(request.url.query.encode())
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        # FastAPI parsed the form before the dependencies ran; this is its cached copy.
        form = await request.form()
        for name, value in form.multi_items():
            digest.update(b"\0field\0" + name.encode() + b"\0")
            if isinstance(value, str):
                digest.update(value.encode())
                continue
            digest.update((value.filename or "").encode() + b"\0")
            await value.seek(0)
            while chunk := await value.read(1 << 16):
                digest.update(chunk)
            await value.seek(0)
    else:
        digest.update(b"\0body\0" + await request.body())
    return digest.hexdigest()


@dataclass(frozen=True)
class _Pending:
    """A key this request holds: its response is stored before the request commits."""

    session: AsyncSession
    org_id: Any
    key: str

    async def store(self, response: Response) -> None:
        await repository.store_response(
            self.session,
            org_id=self.org_id,
            key=self.key,
            status_code=response.status_code,
            media_type=response.headers.get("content-type"),
            body=bytes(response.body),
        )


def holds_idempotency_key(request: Request) -> bool:
    """Whether this request's response is to be stored under its Idempotency-Key (then the
    handler answers a whole body, not a stream)."""
    return isinstance(request.scope.get(_PENDING), _Pending)


def _purge_due(request: Request, now: datetime) -> bool:
    """At most one purge per PURGE_INTERVAL per process: a key expires after a day, so a
    minute more costs nothing, and most writes skip the extra statement."""
    last: datetime | None = getattr(request.app.state, "idempotency_purged_at", None)
    if last is not None and timedelta(0) <= now - last < PURGE_INTERVAL:
        return False
    request.app.state.idempotency_purged_at = now
    return True


async def idempotency_key(
    request: Request,
    org: CurrentOrg,
    session: Session,
    now: Now,
    settings: AppSettings,
    # The limits are in the description only: as schema keywords (length or pattern) on this
    # optional header they crash the schemathesis version the fuzz test uses.
    key: Annotated[str | None, Header(alias=HEADER, description=DESCRIPTION)] = None,
) -> None:
    """Take the request's key, or replay the answer a first request with it got."""
    if key is None:
        return
    if not _VALID_KEY.match(key):
        raise BadRequest(f"{HEADER} must be 1 to 255 printable ASCII characters")
    fingerprint = await request_fingerprint(request)
    method, path = request.method, request.url.path
    if _purge_due(request, now):
        await repository.purge_expired(
            session, before=now - timedelta(hours=settings.idempotency_key_hours)
        )
    if await repository.claim_key(
        session, org_id=org.id, key=key, method=method, path=path, fingerprint=fingerprint, now=now
    ):
        request.scope[_PENDING] = _Pending(session, org.id, key)
        return
    stored = await repository.stored_request(session, org_id=org.id, key=key)
    if (stored.method, stored.path, stored.fingerprint) != (method, path, fingerprint):
        raise BadRequest(
            f"{HEADER} {key!r} was already used for another request ({stored.method} "
            f"{stored.path} with its own query and body); send a new key for a new request"
        )
    raise IdempotentReplay(stored)


class IdempotentRoute(StrictJsonRoute):
    """A route whose writes honour Idempotency-Key (and read request JSON strictly, as every
    route does): the dependency runs before the handler, and the handler's response is stored
    before the request's transaction commits."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        if methods & WRITE_METHODS:
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or ()), Depends(idempotency_key)]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def storing_handler(request: Request) -> Response:
            # FastAPI ends the request's function-scoped dependencies (the session's commit)
            # only after this returns, so the stored answer commits with the write.
            response = await handler(request)
            pending = request.scope.get(_PENDING)
            if isinstance(pending, _Pending):
                await pending.store(response)
            return response

        return storing_handler


async def _replay(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    stored = exc.stored
    return Response(
        content=stored.body or b"",
        status_code=stored.status_code or 200,
        headers={"content-type": stored.media_type or "application/json", REPLAYED_HEADER: "true"},
    )


def install_idempotency(app: FastAPI) -> None:
    app.add_exception_handler(IdempotentReplay, _replay)
