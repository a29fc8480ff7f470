"""Request dependencies: the org behind the API key, and the one session that commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.api.auth_throttle import FailedAuthThrottle
from campaign_service.db.models import Org
from campaign_service.errors import TooManyRequests, Unauthorized
from campaign_service.orgs.service import hash_key, org_for_key
from campaign_service.settings import Settings

# This service has one kind of key (no public/private pair as Vapi has), so say what it is
# and how to get one instead of echoing Vapi's hint.
GET_A_KEY = (
    "Keys start with csk_ and are printed once by `campaign-service org create --name NAME` "
    "(a new org) or `campaign-service key create --org ORG_ID` (another key for an org)."
)
MISSING_KEY = f"Missing API key. Send it as: Authorization: Bearer <apiKey>. {GET_A_KEY}"
INVALID_KEY = f"Invalid Key: no active API key of this service matches it. {GET_A_KEY}"

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `campaign-service org create` or `key create`.",
)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the handler returns, rolled back on error."""
    async with request.app.state.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit finishes before the response is sent, so a failed commit
# turns into an error response instead of a 2xx for data that was never stored.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def current_org(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Org:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(MISSING_KEY)
    org = await org_for_key(session, credentials.credentials.strip())
    if org is not None:
        return org  # looked up before the throttle: a valid key is never slowed
    raise unauthorized(request)


CurrentOrg = Annotated[Org, Depends(current_org)]

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def key_hash(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The stored hash of the request's key, for reads that check it in their own statement
    (an inactive key then answers `unauthorized()`)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(MISSING_KEY)
    return hash_key(credentials.credentials.strip())


def unauthorized(request: Request) -> Unauthorized | TooManyRequests:
    """The answer to a key that was looked up and not found: counted against the client's
    address, which past its limit is told to wait (429) instead."""
    throttle: FailedAuthThrottle = request.app.state.auth_throttle
    address = request.client.host if request.client else ""
    retry_after = throttle.retry_after(address)
    if retry_after is not None:
        return TooManyRequests(
            f"Too many invalid API keys from this address; retry in {retry_after} s.",
            retry_after=retry_after,
        )
    throttle.record_failure(address)
    return Unauthorized(INVALID_KEY)


def now(request: Request) -> datetime:
    """The app's clock (injectable in tests)."""
    clock = request.app.state.clock
    result: datetime = clock()
    return result


Now = Annotated[datetime, Depends(now)]


def app_settings(request: Request) -> Settings:
    """The app's settings (built once at start)."""
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]
