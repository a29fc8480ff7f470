"""One-line explanations of why the database cannot be used, for the command line.

A bad DATABASE_URL used to surface as a long traceback from deep inside Alembic or asyncpg.
The CLI checks the URL and connects once before doing any work, and turns what went wrong
(bad URL, unknown host, nothing listening, login refused, no such database, no answer) into a
sentence that names the problem and the fix, never the password.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterator

from asyncpg import exceptions as pg  # type: ignore[import-untyped]
from sqlalchemy import pool
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import create_async_engine

from campaign_service.db.session import async_url
from campaign_service.errors import AppError

URL_SHAPE = "postgresql://USER:PASSWORD@HOST:5432/DATABASE"
FIX_URL = "check DATABASE_URL, or unset it to use the embedded PostgreSQL"


class DatabaseProblem(AppError):
    """The database cannot be used; the message says why and what to change."""


def parse_database_url(url: str) -> URL:
    """The asyncpg URL for `url`, or DatabaseProblem naming what is wrong with it."""
    try:
        return async_url(url)
    except ArgumentError:
        raise DatabaseProblem(f"DATABASE_URL is not a database URL; expected {URL_SHAPE}") from None
    except ValueError:
        scheme = url.split("://", 1)[0] if "://" in url else url
        raise DatabaseProblem(
            f"DATABASE_URL has the unsupported scheme {scheme!r}: this service needs "
            f"PostgreSQL, {URL_SHAPE}"
        ) from None


def check_database(url: str, *, timeout: float) -> None:
    """Connect once (waiting at most `timeout` seconds); DatabaseProblem if that fails."""
    parsed = parse_database_url(url)

    async def connect() -> None:
        engine = create_async_engine(
            parsed, poolclass=pool.NullPool, connect_args={"timeout": timeout}
        )
        try:
            async with engine.connect():
                pass
        finally:
            await engine.dispose()

    try:
        asyncio.run(connect())
    except Exception as exc:
        message = explain(exc, url, timeout=timeout)
        if message is None:
            raise
        raise DatabaseProblem(message) from None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (SQLAlchemy keeps the driver's error in .orig)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None]
        todo += [current.__cause__, current.__context__]


def _where(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the configured database"
    host = parsed.host or "localhost"
    return f"{host}:{parsed.port or 5432}"


def explain(exc: BaseException, url: str, *, timeout: float | None = None) -> str | None:
    """A one-line explanation if `exc` (or what it wraps) is a known database problem."""
    for cause in _causes(exc):
        message = _explain_one(cause, url, timeout)
        if message is not None:
            return message
    return None


def _explain_one(exc: BaseException, url: str, timeout: float | None) -> str | None:
    if isinstance(exc, DatabaseProblem):
        return str(exc)
    if isinstance(exc, pg.PostgresError):
        return _refused(exc, make_url(url))
    where = _where(url)
    if isinstance(exc, socket.gaierror):
        return f"cannot find the database host {where.rsplit(':', 1)[0]!r}; {FIX_URL}"
    if isinstance(exc, TimeoutError):
        waited = f" within {timeout:g} s" if timeout else ""
        return f"no answer from the database at {where}{waited}; {FIX_URL}"
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"cannot connect to the database at {where} (connection refused): "
            f"is PostgreSQL running there? {FIX_URL}"
        )
    if isinstance(exc, ConnectionError) or (
        type(exc) is OSError and exc.errno in (None, errno.EHOSTUNREACH, errno.ENETUNREACH)
    ):
        return f"cannot connect to the database at {where} ({exc.strerror or exc}); {FIX_URL}"
    return None


def _refused(exc: pg.PostgresError, url: URL) -> str | None:
    """The server answered but would not let us in."""
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    if isinstance(exc, pg.InvalidPasswordError):
        return f"the database at {where} refused the password for user {url.username!r}; {FIX_URL}"
    if isinstance(exc, pg.InvalidAuthorizationSpecificationError):
        return f"the database at {where} refused the login ({exc}); {FIX_URL}"
    if isinstance(exc, pg.InvalidCatalogNameError):
        return (
            f"the database {url.database!r} does not exist on {where}; create it "
            f"(createdb {url.database}) or fix its name in DATABASE_URL"
        )
    return None
