"""Test harness: a fresh PostgreSQL database built by the migrations, a real app, real commits.

Set CAMPAIGN_SERVICE_TEST_DATABASE_URL to a server URL whose user may create databases (CI uses
the machine's PostgreSQL). Without it an embedded PostgreSQL is started in a temporary directory.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from campaign_service.api.app import create_app
from campaign_service.db import models  # noqa: F401  (registers every table)
from campaign_service.db.base import Base
from campaign_service.db.migrate import upgrade_to_head
from campaign_service.db.session import async_url, session_factory, unit_of_work
from campaign_service.orgs import service as orgs
from campaign_service.settings import Settings

# Every table, children before parents: DELETE in this order needs no CASCADE. (TRUNCATE
# costs far more per test on small tables: it rewrites each table's files.) Deleting calls
# appends to campaign_counts (its triggers), so that table goes last.
_TABLES = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "campaign_counts"]
CLEANUP = "; ".join(f"DELETE FROM {name}" for name in [*_TABLES, "campaign_counts"])


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@dataclass(frozen=True)
class OrgKey:
    org_id: str
    key_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def embedded_test_home() -> Path:
    """A new folder of this run's own for the embedded test server, outside pytest's shared
    temporary root: another pytest run on the machine may reset that root's permissions or
    delete it while this server writes there. Under the system temporary folder, passable by
    others (0711) so the server's unprivileged user can reach it when the suite runs as root;
    the data folder inside is 0700."""
    home = Path(tempfile.mkdtemp(prefix="campaign-service-test-pg-"))
    home.chmod(0o711)
    return home


@pytest.fixture
def passable_tmp() -> Iterator[Path]:
    """A temporary folder for a test that starts the embedded PostgreSQL (as `embedded_test_home`:
    pytest's own folders are 0700, which the server's user cannot pass when run as root)."""
    home = embedded_test_home()
    yield home
    shutil.rmtree(home, ignore_errors=True)


@contextmanager
def _server_url() -> Iterator[str]:
    url = os.environ.get("CAMPAIGN_SERVICE_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from campaign_service.embedded import start_embedded

    home = embedded_test_home()
    # The server stops at exit (its own exit handler); handlers run last-registered first,
    # so registering this one before the server starts removes the files after it stopped.
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    yield start_embedded(home)


def admin_sql(server_url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) on the test server.

    It runs in a helper thread, so it works from inside the tests' running event loop too."""

    async def run() -> None:
        engine = create_async_engine(async_url(server_url), isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    worker = threading.Thread(target=asyncio.run, args=(run(),))
    worker.start()
    worker.join()


@contextmanager
def new_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server at `server_url`, dropped on exit."""
    server = make_url(server_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_sql(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A new, empty database for this test run, brought to head by the migrations."""
    with _server_url() as server, new_database(server, "cs_test") as url:
        upgrade_to_head(url)
        yield url


@pytest.fixture
def empty_database(database_url: str) -> Iterator[Callable[[], str]]:
    """Factory: a new database with no tables on the test server; dropped after the test."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(new_database(database_url, "cs_empty"))


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture(autouse=True)
async def _clean_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert raw.driver_connection is not None
        # One round trip: the driver runs the statements as one simple query (one implicit
        # transaction). A process an earlier test started may still be writing its last row
        # (a worker stopping): that row can reference one just deleted, so try again.
        for attempt in range(20):
            try:
                await raw.driver_connection.execute(CLEANUP)
                return
            except (asyncpg.ForeignKeyViolationError, asyncpg.DeadlockDetectedError):
                if attempt == 19:
                    raise
                await asyncio.sleep(0.25)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return Settings(max_body_bytes=1024 * 1024)


@pytest.fixture
async def app(settings: Settings, database_url: str, clock: FakeClock) -> AsyncIterator[object]:
    app = create_app(settings, database_url=database_url, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def make_org(sessions: async_sessionmaker[AsyncSession]):  # type: ignore[no-untyped-def]
    """Factory: a new org with one API key."""

    async def factory(name: str = "Acme", concurrency_limit: int = 10) -> OrgKey:
        async with unit_of_work(sessions) as session:
            key = await orgs.create_org(session, name=name, concurrency_limit=concurrency_limit)
        return OrgKey(str(key.org_id), str(key.key_id), key.api_key)

    return factory


@pytest.fixture
async def org(make_org) -> OrgKey:  # type: ignore[no-untyped-def]
    result: OrgKey = await make_org()
    return result


def campaign_body(n: int = 2, **overrides: object) -> dict[str, object]:
    """A valid create body with n customers."""
    body: dict[str, object] = {
        "name": "Spring outreach",
        "assistantId": "asst_1",
        "phoneNumberId": "pn_1",
        "customers": [{"number": f"+1415555{i:04d}", "name": f"Customer {i}"} for i in range(n)],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def new_id() -> str:
    return str(uuid.uuid4())
