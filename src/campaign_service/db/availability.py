"""Whether an error means the database cannot be reached (answer 503 and retry), and the
engine hook that throws away connections an error left broken."""

from __future__ import annotations

import socket
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

# Seconds a client is told to wait (Retry-After) while the database is unreachable.
RETRY_AFTER_SECONDS = 5

# asyncpg errors after which the connection cannot be used again: the server ended it (an
# administrator's pg_terminate_backend, a restart, a crash), it was never made, or its protocol
# was left mid-operation ("cannot switch to state ...", e.g. after a cancelled query).
_BROKEN_CONNECTION = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
    socket.gaierror,
    TimeoutError,
)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def database_unavailable(exc: BaseException) -> bool:
    """The error says the database could not be reached or dropped the connection, rather
    than refusing this request's statement."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection freed up in time
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.DBAPIError | ConnectionError | socket.gaierror | TimeoutError):
        return connection_broken(exc)
    return False


def connection_broken(exc: BaseException) -> bool:
    """The error leaves its connection unusable."""
    return any(isinstance(cause, _BROKEN_CONNECTION) for cause in _causes(exc))


def discard_broken_connections(engine: AsyncEngine) -> None:
    """Make the pool throw away a connection whose error leaves it unusable, instead of
    handing it to the next request."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _mark_disconnect(context: ExceptionContext) -> Any:
        if not context.is_disconnect and connection_broken(context.original_exception):
            context.is_disconnect = True
        return None
