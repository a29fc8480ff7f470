"""Which dispatchers are alive, told by PostgreSQL itself.

Each running dispatcher takes a number from the `dispatcher_worker_ids` sequence and holds a
session-level advisory lock on it, on a connection of its own, for as long as it lives. A
process that dies (even by SIGKILL) loses its connection, and PostgreSQL releases the lock at
once. A lease owner is written `<number>@<host>:<pid>`, so the survivors can tell a lease held
by a dead dispatcher from the lock table, without waiting for the lease to expire.

(A connection pooler in transaction mode would break session locks; dispatchers must connect
to PostgreSQL directly, as they already must for LISTEN.)
"""

from __future__ import annotations

from typing import Any

# The advisory-lock namespace of dispatcher liveness (the first of the two int4 keys).
LOCK_CLASS = 0x43534450  # "CSDP"

_LIVE_IDS = f"""
    SELECT objid::bigint FROM pg_locks
    WHERE locktype = 'advisory' AND classid = {LOCK_CLASS} AND objsubid = 2 AND granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def owner_name(worker_id: int, host: str, pid: int) -> str:
    return f"{worker_id}@{host}:{pid}"


def held_by_a_dead_dispatcher(owner_column: str) -> str:
    """SQL: the lease owner is a registered dispatcher whose liveness lock is gone."""
    worker = f"split_part({owner_column}, '@', 1)"
    return f"({owner_column} ~ '^[0-9]+@' AND {worker}::bigint NOT IN ({_LIVE_IDS}))"


APPLICATION_NAME = "campaign-service dispatcher"


async def register(connection: Any, *, host: str, pid: int) -> str:
    """Take a dispatcher number, hold its liveness lock on this (asyncpg) connection, and name
    the connection after it (pg_stat_activity shows `campaign-service dispatcher <owner>`).
    Returns the lease owner name."""
    worker_id = int(await connection.fetchval("SELECT nextval('dispatcher_worker_ids')"))
    await connection.execute("SELECT pg_advisory_lock($1, $2)", LOCK_CLASS, worker_id)
    owner = owner_name(worker_id, host, pid)
    await connection.execute(
        "SELECT set_config('application_name', $1, false)", f"{APPLICATION_NAME} {owner}"
    )
    return owner


async def ping(connection: Any) -> None:
    await connection.fetchval("SELECT 1")
