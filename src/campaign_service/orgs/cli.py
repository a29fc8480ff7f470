"""CLI of the orgs' provider settings and of the master keys: `org update`, `org show`,
`org webhook-secret`, `secrets rotate`, `secrets new-key`. A Vapi key is read from a file or
stdin, never from the command line (where `ps` and shell history would keep it), and is never
printed. The webhook secret signs the org's campaign events; it is shown so the user's server
can verify them."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from campaign_service.errors import AppError, NotFound
from campaign_service.events import repository as events
from campaign_service.orgs import service
from campaign_service.orgs.secrets import KeyRing, new_master_key
from campaign_service.settings import Settings

# Runs `work(session)` in one transaction on the configured database (migrated first).
RunInDatabase = Callable[[Settings, Callable[[Any], Awaitable[Any]]], Any]


def _org_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise AppError(f"org id {value!r} is not a valid ID") from None


def read_api_key(args: argparse.Namespace) -> str | None:
    """The key from --vapi-api-key-file or --vapi-api-key-stdin (None if neither)."""
    if args.vapi_api_key_stdin:
        return sys.stdin.read()
    if args.vapi_api_key_file is None:
        return None
    try:
        return Path(args.vapi_api_key_file).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        message = f"cannot read the Vapi API key file {args.vapi_api_key_file}: {reason}"
        raise AppError(message) from None


def cmd_update(args: argparse.Namespace, settings: Settings) -> None:
    org_id, api_key = _org_id(args.org_id), read_api_key(args)
    result = args.run(
        settings,
        lambda session: service.update_provider_settings(
            session,
            org_id=org_id,
            default_base_url=settings.vapi_base_url,
            provider=args.provider,
            vapi_api_key=api_key,
            vapi_base_url=args.vapi_base_url,
            keys=lambda: KeyRing.from_setting(settings.secret_keys),
        ),
    )
    print(json.dumps(result.as_json()))


def cmd_show(args: argparse.Namespace, settings: Settings) -> None:
    org_id = _org_id(args.org_id)
    result = args.run(
        settings,
        lambda session: service.show_provider_settings(
            session, org_id=org_id, default_base_url=settings.vapi_base_url
        ),
    )
    print(json.dumps(result.as_json()))


def cmd_webhook_secret(args: argparse.Namespace, settings: Settings) -> None:
    org_id = _org_id(args.org_id)

    async def work(session: Any) -> str:
        secret = await events.webhook_secret(session, org_id=org_id, rotate=args.rotate)
        if secret is None:
            raise NotFound(f"org {org_id} not found")
        return secret

    secret = args.run(settings, work)
    print(json.dumps({"orgId": str(org_id), "webhookSecret": secret, "rotated": args.rotate}))


def cmd_rotate(args: argparse.Namespace, settings: Settings) -> None:
    keys = KeyRing.from_setting(settings.secret_keys)
    count = args.run(settings, lambda session: service.rotate_vapi_keys(session, keys=keys))
    print(json.dumps({"reencrypted": count}))


def cmd_new_key(args: argparse.Namespace, settings: Settings) -> None:
    print(new_master_key())


def add_commands(org: Any, sub: Any, *, run: RunInDatabase) -> None:
    """Register `org update`, `org show` and `secrets ...` on the CLI's parsers."""
    cmd = org.add_parser("update", help="set an org's telephony provider and Vapi settings")
    cmd.add_argument("org_id")
    cmd.add_argument("--provider", help="simulated or vapi")
    key = cmd.add_mutually_exclusive_group()
    key.add_argument("--vapi-api-key-file", metavar="FILE", help="file holding the Vapi key")
    key.add_argument("--vapi-api-key-stdin", action="store_true", help="read the key from stdin")
    cmd.add_argument("--vapi-base-url", metavar="URL", help="Vapi API URL ('' for the default)")
    cmd.set_defaults(func=cmd_update, run=run)
    cmd = org.add_parser("show", help="an org's provider settings (the key as a fingerprint)")
    cmd.add_argument("org_id")
    cmd.set_defaults(func=cmd_show, run=run)
    cmd = org.add_parser(
        "webhook-secret",
        help="the secret the org's campaign events are signed with (--rotate: a new one)",
    )
    cmd.add_argument("org_id")
    cmd.add_argument(
        "--rotate", action="store_true", help="replace it; events from now on use the new one"
    )
    cmd.set_defaults(func=cmd_webhook_secret, run=run)

    secrets = sub.add_parser("secrets", help="master keys of stored secrets").add_subparsers(
        dest="secrets_command", required=True
    )
    rotate = secrets.add_parser("rotate", help="re-encrypt stored keys with the first master key")
    rotate.set_defaults(func=cmd_rotate, run=run)
    secrets.add_parser("new-key", help="print a new master key").set_defaults(func=cmd_new_key)
