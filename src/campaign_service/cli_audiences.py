"""`campaign-service import | export | dnc ...`: the audience features from a terminal.

Like `org create`, these commands work on the database itself (DATABASE_URL, or the embedded
server `serve` uses) for the org named by --org; no server or API key is needed. They print
JSON on stdout (export: the file) and problems on stderr, one per line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.api.errors import validation_messages
from campaign_service.audiences import dnc_service, export_repository, importer
from campaign_service.audiences.csv_import import Progress as ProgressCallback
from campaign_service.audiences.errors import RowsRejected
from campaign_service.audiences.export import export_chunks
from campaign_service.audiences.phone import UnknownRegion, check_region
from campaign_service.audiences.schemas import AddDncNumberDTO, DncListQuery
from campaign_service.db.migrate import upgrade_to_head
from campaign_service.db.models import Org
from campaign_service.db.session import create_engine, session_factory, unit_of_work
from campaign_service.errors import AppError, NotFound
from campaign_service.settings import Settings
from campaign_service.timeutil import utcnow

Work = Callable[[AsyncSession], Awaitable[Any]]
M = TypeVar("M", bound=BaseModel)


def _in_transaction(settings: Settings, work: Work) -> Any:
    """Run `work` in one committed transaction on the configured (or embedded) database."""
    from campaign_service.cli import database_url  # the main CLI module imports this one

    url = database_url(settings)
    upgrade_to_head(url)

    async def runner() -> Any:
        engine = create_engine(url, pool_size=1)
        try:
            async with unit_of_work(session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


async def _org(session: AsyncSession, org_id: str) -> Org:
    try:
        org = await session.get(Org, uuid.UUID(org_id))
    except ValueError:
        raise AppError(f"org id {org_id!r} is not a valid ID") from None
    if org is None:
        raise NotFound(f"org {org_id} not found")
    return org


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AppError(f"cannot read {path}: {exc.strerror}") from None


def _region(value: str | None) -> str | None:
    try:
        return check_region(value)
    except UnknownRegion as exc:
        raise AppError(f"--default-region {exc}") from None


def _model(model: type[M], **values: Any) -> M:
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        problems = (f"{'.'.join(map(str, e['loc']))} {e['msg']}" for e in exc.errors())
        raise AppError("; ".join(problems)) from None


def _print_json(value: Any, *, omit_nulls: bool = False) -> None:
    """Print as the API answers: import reports keep nulls, list entries leave them out."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=omit_nulls)
    print(json.dumps(value, ensure_ascii=False, default=_model_json))


def _model_json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _refuse(exc: RowsRejected) -> NoReturn:
    for sentence in exc.message if isinstance(exc.message, list) else [exc.message]:
        print(f"error: {sentence}", file=sys.stderr)
    sys.exit(1)


@contextmanager
def _progress_bar(label: str) -> Iterator[ProgressCallback]:
    """A progress bar on stderr while rows are checked (drawn only on a terminal)."""
    console = Console(stderr=True)
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def cmd_import(args: argparse.Namespace, settings: Settings) -> None:
    request = importer.ImportRequest(
        data=_read(args.file),
        config=_read(args.config).decode("utf-8", "replace"),
        default_region=_region(args.default_region),
        dry_run=args.dry_run,
        skip_invalid_rows=args.skip_invalid_rows,
        dedupe=args.dedupe,
    )
    with _progress_bar("Checking rows") as progress:

        async def work(session: AsyncSession) -> Any:
            org = await _org(session, args.org)
            return await importer.import_campaign(
                session,
                org=org,
                request=request,
                now=utcnow(),
                wording=validation_messages,
                progress=progress,
            )

        try:
            result = _in_transaction(settings, work)
        except RowsRejected as exc:
            _refuse(exc)
    if isinstance(result, BaseModel):
        _print_json(result)
        return
    campaign = result.campaign
    summary = {"id": str(campaign.id), "name": campaign.name, "status": campaign.status}
    _print_json({**summary, "calls": result.report.contacts, "importReport": result.report})


def cmd_export(args: argparse.Namespace, settings: Settings) -> None:
    async def work(session: AsyncSession) -> None:
        org = await _org(session, args.org)
        try:
            campaign_id = uuid.UUID(args.campaign_id)
        except ValueError:
            raise NotFound(f"campaign {args.campaign_id} not found") from None
        found = await export_repository.find_campaign(
            session, org_id=org.id, campaign_id=campaign_id
        )
        if found is None:
            raise NotFound(f"campaign {args.campaign_id} not found")
        with _output(args.output) as out:
            async for chunk in export_chunks(session, campaign_id=found.id, fmt=args.format):
                out.write(chunk)

    _in_transaction(settings, work)


@contextmanager
def _output(path: str | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        with open(path, "wb") as out:
            yield out
    except OSError as exc:
        raise AppError(f"cannot write {path}: {exc.strerror}") from None


def cmd_dnc_add(args: argparse.Namespace, settings: Settings) -> None:
    dto = _model(AddDncNumberDTO, number=args.number, reason=args.reason, source=args.source)
    region = _region(args.default_region)

    async def work(session: AsyncSession) -> Any:
        org = await _org(session, args.org)
        return await dnc_service.add_number(
            session, org_id=org.id, dto=dto, region=region, channel="cli", now=utcnow()
        )

    entry, added = _in_transaction(settings, work)
    _print_json({**entry.model_dump(mode="json", exclude_none=True), "added": added})


def cmd_dnc_remove(args: argparse.Namespace, settings: Settings) -> None:
    region = _region(args.default_region)

    async def work(session: AsyncSession) -> Any:
        org = await _org(session, args.org)
        return await dnc_service.remove_number(
            session, org_id=org.id, number=args.number, region=region
        )

    _print_json(_in_transaction(settings, work), omit_nulls=True)


def cmd_dnc_list(args: argparse.Namespace, settings: Settings) -> None:
    query = _model(
        DncListQuery,
        page=args.page,
        limit=args.limit,
        number=args.number,
        defaultRegion=_region(args.default_region),
    )

    async def work(session: AsyncSession) -> Any:
        org = await _org(session, args.org)
        return await dnc_service.list_numbers(session, org_id=org.id, query=query)

    _print_json(_in_transaction(settings, work), omit_nulls=True)


def cmd_dnc_import(args: argparse.Namespace, settings: Settings) -> None:
    data, region = _read(args.file), _region(args.default_region)

    async def work(session: AsyncSession) -> Any:
        org = await _org(session, args.org)
        return await dnc_service.import_numbers(
            session,
            org_id=org.id,
            data=data,
            region=region,
            skip_invalid_rows=args.skip_invalid_rows,
            channel="cli",
            now=utcnow(),
        )

    try:
        _print_json(_in_transaction(settings, work))
    except RowsRejected as exc:
        _refuse(exc)


def add_commands(sub: Any) -> None:
    """Register import, export and dnc on the main parser's subcommands."""
    imp = sub.add_parser("import", help="create a campaign from a CSV file (extension)")
    imp.add_argument("file", help="the audience CSV (a `number` column; UTF-8)")
    imp.add_argument("--config", required=True, help="JSON file: the create body, no customers")
    imp.add_argument("--org", required=True, help="org ID")
    _region_option(imp)
    imp.add_argument("--dry-run", action="store_true", help="report only; create nothing")
    imp.add_argument("--skip-invalid-rows", action="store_true", help="create from the valid rows")
    imp.add_argument("--dedupe", action="store_true", help="keep each number's first row")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="write a campaign's contacts and outcomes (extension)")
    exp.add_argument("campaign_id")
    exp.add_argument("--org", required=True, help="org ID")
    exp.add_argument("--format", choices=("csv", "ndjson"), default="csv")
    exp.add_argument("--output", help="file to write (default: standard output)")
    exp.set_defaults(func=cmd_export)
    _add_dnc_commands(sub)


def _region_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--default-region", help="region of national numbers, e.g. US (ISO 3166 two letters)"
    )


def _add_dnc_commands(sub: Any) -> None:
    dnc = sub.add_parser("dnc", help="the do-not-call list (extension)").add_subparsers(
        dest="dnc_command", required=True
    )
    add = dnc.add_parser("add", help="add a number")
    add.add_argument("number")
    add.add_argument("--reason")
    add.add_argument("--source", help="where the request came from (default: cli)")
    add.set_defaults(func=cmd_dnc_add)
    remove = dnc.add_parser("remove", help="remove a number")
    remove.add_argument("number")
    remove.set_defaults(func=cmd_dnc_remove)
    listing = dnc.add_parser("list", help="list numbers, newest first")
    listing.add_argument("--number", help="only this number (is it listed?)")
    listing.add_argument("--page", type=int, default=1)
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(func=cmd_dnc_list)
    bulk = dnc.add_parser("import", help="add the numbers of a CSV file (`number` column)")
    bulk.add_argument("file")
    bulk.add_argument("--skip-invalid-rows", action="store_true", help="add the valid rows")
    bulk.set_defaults(func=cmd_dnc_import)
    for command in (add, remove, listing, bulk):
        command.add_argument("--org", required=True, help="org ID")
        _region_option(command)
