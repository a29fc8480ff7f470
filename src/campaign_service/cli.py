"""The `campaign-service` command: serve, worker, migrate, org and key management, and the
audience extensions (import, export, dnc)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn

from pydantic import ValidationError

import campaign_service
from campaign_service.db import diagnose
from campaign_service.db.migrate import upgrade_to_head
from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.errors import AppError
from campaign_service.fakevapi import cli as fake_vapi_cli
from campaign_service.logs import configure_logging
from campaign_service.orgs import cli as orgs_cli
from campaign_service.orgs import listing
from campaign_service.orgs import service as orgs
from campaign_service.settings import Settings
from campaign_service.timeutil import iso_z, utcnow


def database_url(settings: Settings) -> str:
    """The configured DATABASE_URL (checked by connecting once), or the embedded server's."""
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        diagnose.check_database(url, timeout=settings.db_connect_timeout)
        return url
    from campaign_service.embedded import start_embedded

    try:
        return start_embedded(settings.home)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        advice = (
            ""  # the reason already says what to do
            if "CAMPAIGN_SERVICE_HOME" in reason
            else "; set CAMPAIGN_SERVICE_HOME to a folder you can write, "
            "or DATABASE_URL to a PostgreSQL server"
        )
        raise AppError(
            f"cannot start the embedded PostgreSQL in {settings.home / 'pgdata'} ({reason}){advice}"
        ) from None


def _run_db(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async def runner() -> Any:
        engine = create_engine(url, pool_size=1)
        try:
            async with unit_of_work(session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def run_in_database(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Migrate the configured database, then run `work(session)` in one transaction."""
    url = database_url(settings)
    upgrade_to_head(url)
    return _run_db(url, work)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from campaign_service.api.app import create_app
    from campaign_service.dispatcher.runner import dispatcher_on_own_engine

    url = database_url(settings)
    upgrade_to_head(url)
    app = create_app(
        settings,
        database_url=url,
        background=None
        if args.no_dispatcher
        else lambda _api_engine: dispatcher_on_own_engine(url, settings),
    )
    freeze_startup_objects()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal. Make that a normal
    # exit, so exit handlers run (they stop the embedded PostgreSQL this process started).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port if args.port is not None else settings.port,
        log_config=None,
        access_log=False,
    )


def freeze_startup_objects() -> None:
    """Move the objects that exist once the app is built (modules, routes, models, schemas:
    some 150,000) out of the garbage collector's reach: they live as long as the process, yet
    every full collection walked them all again, and the thousands of objects a large body
    parses into set off such collections (each ~100 ms on a small machine, every other
    10,000-customer create). Collected first, so no garbage is frozen."""
    gc.collect()
    gc.freeze()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    from campaign_service.dispatcher.runner import run_worker

    url = database_url(settings)
    upgrade_to_head(url)
    run_fast(run_worker(url, settings))


def run_fast(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (uvicorn[standard] brings it; `serve` gets it from
    uvicorn), else on asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    upgrade_to_head(database_url(settings))
    print("migrations applied")


def cmd_org_create(args: argparse.Namespace, settings: Settings) -> None:
    url = database_url(settings)
    upgrade_to_head(url)
    limit = args.concurrency_limit
    if limit is None:  # not `or`: an explicit 0 must be refused, not replaced by the default
        limit = settings.default_org_concurrency_limit
    key = _run_db(url, lambda s: orgs.create_org(s, name=args.name, concurrency_limit=limit))
    print(json.dumps({"orgId": str(key.org_id), "keyId": str(key.key_id), "apiKey": key.api_key}))


def cmd_key_create(args: argparse.Namespace, settings: Settings) -> None:
    url = database_url(settings)
    org_id = _uuid(args.org, "org")
    key = _run_db(url, lambda s: orgs.create_key(s, org_id=org_id))
    print(json.dumps({"orgId": str(key.org_id), "keyId": str(key.key_id), "apiKey": key.api_key}))


def cmd_key_revoke(args: argparse.Namespace, settings: Settings) -> None:
    url = database_url(settings)
    key_id = _uuid(args.key_id, "key")
    _run_db(url, lambda s: orgs.revoke_key(s, key_id=key_id, now=utcnow()))
    print(json.dumps({"keyId": str(key_id), "revoked": True}))


def cmd_org_list(args: argparse.Namespace, settings: Settings) -> None:
    url = database_url(settings)
    upgrade_to_head(url)
    rows = _run_db(url, listing.list_orgs)
    print(json.dumps([_org_json(row) for row in rows]))


def cmd_key_list(args: argparse.Namespace, settings: Settings) -> None:
    url = database_url(settings)
    upgrade_to_head(url)
    org_id = _uuid(args.org_id, "org")
    rows = _run_db(url, lambda s: listing.list_keys(s, org_id=org_id))
    print(json.dumps([_key_json(row) for row in rows]))


def _org_json(row: listing.OrgRow) -> dict[str, Any]:
    return {
        "orgId": str(row.org_id),
        "name": row.name,
        "concurrencyLimit": row.concurrency_limit,
        "createdAt": iso_z(row.created_at),
        "activeKeys": row.active_keys,
    }


def _key_json(row: listing.KeyRow) -> dict[str, Any]:
    return {
        "keyId": str(row.key_id),
        "createdAt": iso_z(row.created_at),
        "revokedAt": iso_z(row.revoked_at) if row.revoked_at else None,
    }


def cmd_info(args: argparse.Namespace, settings: Settings) -> None:
    """Where this installation keeps its data; touches no database."""
    configured = settings.database_url is not None
    print(
        json.dumps(
            {
                "version": campaign_service.__version__,
                "database": "DATABASE_URL" if configured else "embedded",
                "home": str(settings.home),
                "pgdata": None if configured else str(settings.home / "pgdata"),
            }
        )
    )


def _pause_state(campaign: Any) -> dict[str, Any]:
    return {
        "id": str(campaign.id),
        "status": campaign.status,
        "pausedAt": iso_z(campaign.paused_at) if campaign.paused_at else None,
        "pausedBy": campaign.paused_by,
        "pauseReason": campaign.pause_reason,
    }


def cmd_campaign_pause(args: argparse.Namespace, settings: Settings) -> None:
    from campaign_service.campaigns import control

    url = database_url(settings)
    campaign_id = _uuid(args.campaign_id, "campaign")
    campaign = _run_db(
        url,
        lambda s: control.pause_campaign(
            s, org_id=None, campaign_id=campaign_id, reason=args.reason, now=utcnow()
        ),
    )
    print(json.dumps(_pause_state(campaign)))


def cmd_campaign_resume(args: argparse.Namespace, settings: Settings) -> None:
    from campaign_service.campaigns import control

    url = database_url(settings)
    campaign_id = _uuid(args.campaign_id, "campaign")
    campaign = _run_db(
        url,
        lambda s: control.resume_campaign(s, org_id=None, campaign_id=campaign_id, now=utcnow()),
    )
    print(json.dumps(_pause_state(campaign)))


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise AppError(f"{what} id {value!r} is not a valid ID") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campaign-service", description=__doc__)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {campaign_service.__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations, then serve the API")
    serve.add_argument("--host", help="listen address (default: settings host)")
    serve.add_argument("--port", type=int, help="listen port (default: settings port)")
    serve.add_argument(
        "--no-dispatcher",
        action="store_true",
        help="serve the API only; run dispatchers with `worker`",
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("worker", help="run a dispatcher (no API) until SIGTERM").set_defaults(
        func=cmd_worker
    )

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    org = sub.add_parser("org", help="manage organizations").add_subparsers(
        dest="org_command", required=True
    )
    create = org.add_parser("create", help="create an org and its first API key")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--concurrency-limit",
        type=int,
        default=None,
        help="calls in flight at once across all its campaigns (default 10)",
    )
    create.set_defaults(func=cmd_org_create)
    org.add_parser("list", help="list orgs as JSON").set_defaults(func=cmd_org_list)
    orgs_cli.add_commands(org, sub, run=run_in_database)

    key = sub.add_parser("key", help="manage API keys").add_subparsers(
        dest="key_command", required=True
    )
    key_create = key.add_parser("create", help="create another API key for an org")
    key_create.add_argument("--org", required=True, help="org ID")
    key_create.set_defaults(func=cmd_key_create)
    key_revoke = key.add_parser("revoke", help="revoke an API key")
    key_revoke.add_argument("key_id")
    key_revoke.set_defaults(func=cmd_key_revoke)
    key_list = key.add_parser("list", help="list an org's keys as JSON (never the keys)")
    key_list.add_argument("org_id")
    key_list.set_defaults(func=cmd_key_list)

    sub.add_parser("info", help="print the version and where the data lives, as JSON").set_defaults(
        func=cmd_info
    )
    fake_vapi_cli.add_command(sub)
    from campaign_service.cli_audiences import add_commands  # it uses database_url from here

    add_commands(sub)

    campaign = sub.add_parser(
        "campaign", help="control a campaign (extension): pause, resume"
    ).add_subparsers(dest="campaign_command", required=True)
    pause = campaign.add_parser("pause", help="stop placing new calls; calls in progress finish")
    pause.add_argument("campaign_id")
    pause.add_argument("--reason", default=None, help="why (shown in the campaign)")
    pause.set_defaults(func=cmd_campaign_pause)
    resume = campaign.add_parser("resume", help="go on dialing a paused campaign")
    resume.add_argument("campaign_id")
    resume.set_defaults(func=cmd_campaign_resume)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        _fail(_settings_problem(exc))
    configure_logging(settings)
    try:
        args.func(args, settings)
    except AppError as exc:
        _fail(str(exc))
    except Exception as exc:
        # The database can also fail after the first check (a restart, a dropped database).
        url = settings.database_url.get_secret_value() if settings.database_url else ""
        message = diagnose.explain(exc, url) if url else None
        if message is None:
            raise
        _fail(message)


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def _settings_problem(exc: ValidationError) -> str:
    """Name the environment variable behind the first invalid setting."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    name = "DATABASE_URL" if field == "DATABASE_URL" else f"CAMPAIGN_SERVICE_{field.upper()}"
    return f"{name}: {error['msg']}"


if __name__ == "__main__":
    main()
