"""`campaign-service fake-vapi`: a fake of Vapi's call API for local runs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from campaign_service.errors import AppError
from campaign_service.fakevapi.config import DEFAULT_OUTCOMES, FakeOrg, FakeVapiConfig, Timings


def _org(value: str) -> FakeOrg:
    key, _, limit = value.rpartition(":") if ":" in value else (value, "", "")
    try:
        return FakeOrg(api_key=key, concurrency_limit=int(limit) if limit else 10)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad --key {value!r}: {exc}") from None


def _range(value: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX seconds, got {value!r}") from None
    return low, high


def _outcomes(value: str) -> dict[str, float]:
    try:
        weights = json.loads(value)
    except ValueError:
        raise argparse.ArgumentTypeError("--outcomes must be a JSON object") from None
    if not isinstance(weights, dict):
        raise argparse.ArgumentTypeError("--outcomes must be a JSON object")
    return {str(k): float(v) for k, v in weights.items()}


def add_command(sub: Any) -> None:
    """Register `fake-vapi` on the CLI's subcommands."""
    cmd = sub.add_parser("fake-vapi", help="serve a fake of Vapi's call API (local runs, tests)")
    cmd.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    cmd.add_argument("--port", type=int, default=8111, help="listen port; 0 picks a free one")
    cmd.add_argument(
        "--key",
        dest="orgs",
        type=_org,
        action="append",
        metavar="KEY[:LIMIT]",
        help="an accepted API key (one org) and its concurrency limit (default 10); repeatable",
    )
    cmd.add_argument("--server-url", help="where server messages go when a call names none")
    cmd.add_argument("--server-secret", help="sent as X-Vapi-Secret with every server message")
    _add_call_options(cmd)
    cmd.set_defaults(func=run)


def _add_call_options(cmd: Any) -> None:
    """How the fake's calls unfold, and which resources exist."""
    cmd.add_argument("--seed", type=int, help="repeat outcomes, durations and call IDs")
    cmd.add_argument("--queued-seconds", type=float, default=0.5, help="queued -> ringing")
    cmd.add_argument(
        "--ring-seconds", type=_range, default=(1.0, 4.0), metavar="MIN,MAX", help="ringing time"
    )
    cmd.add_argument(
        "--talk-seconds", type=_range, default=(3.0, 20.0), metavar="MIN,MAX", help="talk time"
    )
    cmd.add_argument(
        "--outcomes",
        type=_outcomes,
        default=dict(DEFAULT_OUTCOMES),
        help='endedReason weights as JSON, e.g. \'{"voicemail": 1, "customer-busy": 1}\'',
    )
    for name in ("assistant", "squad", "workflow", "phone-number"):
        cmd.add_argument(
            f"--{name}-id",
            action="append",
            help=f"an existing {name.replace('-', ' ')} id (repeatable; default: any id exists)",
        )
    cmd.add_argument(
        "--concurrency-answer",
        choices=("blocked-call", "bad-request"),
        default="blocked-call",
        help="answer to a call beyond the org's limit (default: 201, call ended as blocked)",
    )
    cmd.add_argument(
        "--no-blocked-call-reports",
        dest="report_blocked_calls",
        action="store_false",
        help="send no server messages for calls refused for lack of concurrency",
    )


def config_from_args(args: argparse.Namespace) -> FakeVapiConfig:
    def ids(values: list[str] | None) -> frozenset[str] | None:
        return frozenset(values) if values else None

    try:
        return FakeVapiConfig(
            orgs=tuple(args.orgs or [FakeOrg("fake-vapi-key")]),
            server_url=args.server_url,
            server_secret=args.server_secret,
            seed=args.seed,
            timings=Timings(args.queued_seconds, args.ring_seconds, args.talk_seconds),
            outcomes=args.outcomes,
            assistant_ids=ids(args.assistant_id),
            squad_ids=ids(args.squad_id),
            workflow_ids=ids(args.workflow_id),
            phone_number_ids=ids(args.phone_number_id),
            concurrency_answer=args.concurrency_answer,
            report_blocked_calls=args.report_blocked_calls,
        )
    except ValueError as exc:
        raise AppError(str(exc)) from None


def run(args: argparse.Namespace, settings: object) -> None:
    from campaign_service.fakevapi.server import serve_fake_vapi

    serve_fake_vapi(config_from_args(args), host=args.host, port=args.port)
