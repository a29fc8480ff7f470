"""GET /campaigns/{id}/export: one row per contact with its outcome, CSV or NDJSON, streamed."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

from campaign_service.audiences.export import export_chunks
from campaign_service.calls import repository as calls_repository
from campaign_service.calls.status import SkipReason
from campaign_service.db.session import unit_of_work
from tests.api.helpers import assert_error, create, execute, fetch
from tests.audiences.helpers import post_import
from tests.conftest import campaign_body

HEADER = (
    "number,name,email,externalId,extension,sipUri,numberE164CheckEnabled,"
    "city,plan,callId,outcome,endedReason,skipReason,attempts,dispatchedAt,endedAt,durationSeconds,cost"
)


async def imported(client, org) -> dict:
    data = (
        b"number,name,plan,city\n"
        b'+14155550100,"Lovelace, Ada",gold,London\n'
        b"+14155550101,Alan,,Wilmslow\n"
        b"+14155550102,Grace,silver,\n"
        b"+14155550103,Edsger,,\n"
    )
    response = await post_import(client, org, data)
    assert response.status_code == 201, response.text
    return response.json()


async def play_outcomes(engine, sessions, campaign_id: str) -> None:
    """What the dispatcher would have recorded: one call completed, one screened out as
    do-not-call (by the engine's own writer), one on the phone, one not reached yet."""
    await execute(
        engine,
        "UPDATE calls SET status = 'ended', attempts = 1, ended_reason = 'customer-ended-call',"
        " started_at = '2026-06-01T12:00:00Z', ended_at = '2026-06-01T12:01:05.5Z'"
        " WHERE campaign_id = :c AND position = 0",
        c=campaign_id,
    )
    await execute(
        engine,
        "UPDATE calls SET lease_owner = 'w1', lease_expires_at = '2026-06-01T12:01:00Z'"
        " WHERE campaign_id = :c AND position = 1",
        c=campaign_id,
    )
    (screened,) = await fetch(
        engine, "SELECT id FROM calls WHERE campaign_id = :c AND position = 1", c=campaign_id
    )
    async with unit_of_work(sessions) as session:
        await calls_repository.end_screened_calls(
            session,
            screened=[(screened["id"], SkipReason.DO_NOT_CALL)],
            owner="w1",
            now=datetime(2026, 6, 1, 12, 0, 1, tzinfo=UTC),
        )
    await execute(
        engine,
        "UPDATE calls SET status = 'in-progress', attempts = 1,"
        " started_at = '2026-06-01T12:02:00Z' WHERE campaign_id = :c AND position = 2",
        c=campaign_id,
    )


def call_ids(campaign: dict) -> list[str]:
    return [c["id"] for c in sorted(campaign["calls"].values(), key=lambda c: c["position"])]


async def test_csv_export_has_a_row_per_contact_with_its_outcome(client, org, engine, sessions):
    campaign = await imported(client, org)
    await play_outcomes(engine, sessions, campaign["id"])
    response = await client.get(f"/campaigns/{campaign['id']}/export", headers=org.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="imported-{campaign["id"][:8]}.csv"'
    )
    ids = call_ids(campaign)
    # Variables in the order contacts first use them; one contact's own are sorted by name.
    assert response.text.split("\r\n") == [
        HEADER,
        f'+14155550100,"Lovelace, Ada",,,,,true,London,gold,{ids[0]},contact.completed,'
        "customer-ended-call,,1,2026-06-01T12:00:00.000Z,2026-06-01T12:01:05.500Z,65.5,",
        f"+14155550101,Alan,,,,,true,Wilmslow,,{ids[1]},contact.skipped,scheduled-call-deleted,"
        "do-not-call,0,,2026-06-01T12:00:01.000Z,,",
        f"+14155550102,Grace,,,,,true,,silver,{ids[2]},contact.dispatched,,,1,"
        "2026-06-01T12:02:00.000Z,,,",
        f"+14155550103,Edsger,,,,,true,,,{ids[3]},contact.pending,,,0,,,,",
        "",
    ]


async def test_a_do_not_call_skip_is_a_skipped_contact_everywhere(client, org, engine, sessions):
    """The export and Vapi's v2 contacts and counters read the outcome the same way."""
    campaign = await imported(client, org)
    await play_outcomes(engine, sessions, campaign["id"])
    path = f"/v2/campaign/{campaign['id']}"
    contacts = (await client.get(f"{path}/contacts", headers=org.headers)).json()["results"]
    assert [(c["status"], c.get("endedReason")) for c in contacts] == [
        ("contact.completed", "customer-ended-call"),
        ("contact.skipped", "scheduled-call-deleted"),
        ("contact.dispatched", None),
        ("contact.pending", None),
    ]
    summary = (await client.get(f"{path}?includeCounters=true", headers=org.headers)).json()
    assert summary["contactCounters"]["skipped"] == 1
    assert summary["callMetrics"]["dialed"] == 2


async def test_ndjson_export_keeps_each_customer_whole(client, org, engine, sessions):
    campaign = await imported(client, org)
    await play_outcomes(engine, sessions, campaign["id"])
    response = await client.get(
        f"/campaigns/{campaign['id']}/export?format=ndjson", headers=org.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"].endswith('.ndjson"')
    lines = response.text.splitlines()
    assert len(lines) == 4
    first = json.loads(lines[0])
    assert first == {
        "position": 0,
        "customer": campaign["customers"][0],
        "callId": call_ids(campaign)[0],
        "outcome": "contact.completed",
        "endedReason": "customer-ended-call",
        "skipReason": None,
        "attempts": 1,
        "dispatchedAt": "2026-06-01T12:00:00.000Z",
        "endedAt": "2026-06-01T12:01:05.500Z",
        "durationSeconds": 65.5,
        "cost": None,
    }
    assert [json.loads(line)["outcome"] for line in lines[1:]] == [
        "contact.skipped",
        "contact.dispatched",
        "contact.pending",
    ]


async def test_variable_names_are_the_audience_union_and_never_hide_a_fixed_column(client, org):
    body = campaign_body(3)
    customers = body["customers"]
    customers[0]["assistantOverrides"] = {"variableValues": {"zeta": 1, "outcome": "won"}}
    customers[1]["assistantOverrides"] = {"variableValues": {"alpha": True, "zeta": {"a": [1]}}}
    customers[2]["assistantOverrides"] = {"variableValues": "not an object"}
    campaign = await create(client, org, body)
    response = await client.get(f"/campaigns/{campaign['id']}/export", headers=org.headers)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    header = response.text.split("\r\n")[0].split(",")
    assert header[7:10] == ["var_outcome", "zeta", "alpha"]  # first use, then name order
    assert [(r["zeta"], r["alpha"], r["var_outcome"]) for r in rows] == [
        ("1", "", "won"),
        ('{"a":[1]}', "true", ""),
        ("", "", ""),
    ]
    assert rows[0]["outcome"] == "contact.pending"


async def test_an_exported_csv_imports_again_without_errors(client, org, engine, sessions):
    campaign = await imported(client, org)
    await play_outcomes(engine, sessions, campaign["id"])
    exported = await client.get(f"/campaigns/{campaign['id']}/export", headers=org.headers)
    dry = await post_import(client, org, exported.content, dryRun=True)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["valid"], report["rowErrors"], report["contacts"]) == (True, [], 4)
    assert [c["number"] for c in report["preview"]] == [c["number"] for c in campaign["customers"]]
    assert report["preview"][0]["name"] == "Lovelace, Ada"
    assert report["preview"][0]["assistantOverrides"]["variableValues"]["plan"] == "gold"


async def test_only_the_owner_exports_a_live_campaign(client, org, make_org):
    campaign = await imported(client, org)
    other = await make_org("Other")
    path = f"/campaigns/{campaign['id']}/export"
    assert_error(await client.get(path, headers=other.headers), 404, "not found")
    assert_error(await client.get("/campaigns/nope/export", headers=org.headers), 404)
    assert_error(await client.get(f"/campaigns/{uuid.uuid4()}/export", headers=org.headers), 404)
    assert_error(await client.get(f"{path}?format=xlsx", headers=org.headers), 400, "format")
    assert_error(await client.get(path), 401)
    await client.delete(f"/campaigns/{campaign['id']}", headers=org.headers)
    assert_error(await client.get(path, headers=org.headers), 404)


async def test_the_export_is_produced_a_chunk_at_a_time(client, org, sessions):
    body = campaign_body(2_500)
    campaign = await create(client, org, body)
    async with sessions() as session:
        chunks = [
            chunk
            async for chunk in export_chunks(
                session, campaign_id=uuid.UUID(campaign["id"]), fmt="csv"
            )
        ]
    assert [chunk.count(b"\r\n") for chunk in chunks] == [1, 1000, 1000, 500]
