"""POST /campaigns/import (and /v2/campaign/import): a campaign from a CSV file over HTTP."""

from __future__ import annotations

from pathlib import Path

from tests.api.helpers import assert_error, call_rows, row_counts
from tests.audiences.helpers import (
    FIXTURES,
    config_text,
    post_import,
    rejected,
    row_errors,
)
from tests.conftest import campaign_body

BAD_ROWS = b"number,name\n+14155550100,Ada\n,Nobody\n+14155550101,Alan\n+1 415 555,Tiny\n"
EMPTY_NUMBER = "is empty; every contact needs a number (or a sipUri)"
TOO_SHORT = "'+1 415 555' is too short to be a phone number"
NOTHING = {"campaigns": 0, "calls": 0, "call_events": 0}


async def test_a_csv_becomes_a_campaign_created_by_the_service(client, org, engine):
    data = (FIXTURES / "semicolons.csv").read_bytes()
    response = await post_import(client, org, data, config=config_text(maxConcurrency=2))

    assert response.status_code == 201, response.text
    campaign = response.json()
    assert (campaign["name"], campaign["phoneNumberId"]) == ("Imported", "pn_1")
    assert campaign["maxConcurrency"] == 2
    assert [c["number"] for c in campaign["customers"]] == ["+49301234567", "+33123456789"]
    assert campaign["customers"][1]["name"] == "Dupont; Marie"
    assert campaign["customers"][1]["assistantOverrides"] == {"variableValues": {"city": "Paris"}}
    assert campaign["callsCounterScheduled"] == 2
    assert campaign["importReport"] == {
        "rowsRead": 2,
        "contacts": 2,
        "blankRowsIgnored": 0,
        "delimiter": ";",
        "variables": ["city"],
        "rowErrors": [],
        "duplicates": [],
        "duplicatesRemoved": False,
        "doNotCall": [],
    }
    rows = await call_rows(engine, campaign["id"])
    assert [r["customer"]["number"] for r in rows] == ["+49301234567", "+33123456789"]
    # The stored campaign reads back like any other (without the import report).
    got = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert {k: v for k, v in campaign.items() if k != "importReport"} == got


async def test_the_v2_path_imports_the_same_way(client, org):
    response = await post_import(
        client, org, (FIXTURES / "bom.csv").read_bytes(), path="/v2/campaign/import"
    )
    assert response.status_code == 201, response.text
    summary = await client.get(f"/v2/campaign/{response.json()['id']}", headers=org.headers)
    assert summary.json()["name"] == "Imported"


async def test_national_numbers_with_a_default_region(client, org):
    data = b"number,name\n(415) 555-0100,Ada\n415 555 0101,Alan\n"
    response = await post_import(client, org, data, defaultRegion="us")
    assert response.status_code == 201, response.text
    assert [c["number"] for c in response.json()["customers"]] == ["+14155550100", "+14155550101"]


async def test_any_bad_row_means_nothing_is_created_and_every_problem_is_listed(
    client, org, engine
):
    body = rejected(await post_import(client, org, BAD_ROWS))
    assert row_errors(body) == [(3, "number", EMPTY_NUMBER), (5, "number", TOO_SHORT)]
    assert body["message"] == [
        "2 of 4 rows have problems; nothing was created (fix them, or send "
        "skipInvalidRows=true to create the campaign from the others)",
        f"row 3, column number: {EMPTY_NUMBER}",
        f"row 5, column number: {TOO_SHORT}",
    ]
    assert await row_counts(engine) == NOTHING


async def test_skip_invalid_rows_creates_from_the_good_rows_and_reports_the_others(client, org):
    response = await post_import(client, org, BAD_ROWS, skipInvalidRows=True)
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert [c["name"] for c in campaign["customers"]] == ["Ada", "Alan"]
    report = campaign["importReport"]
    assert (report["rowsRead"], report["contacts"]) == (4, 2)
    assert report["rowErrors"] == [
        {"row": 3, "column": "number", "message": EMPTY_NUMBER},
        {"row": 5, "column": "number", "message": TOO_SHORT},
    ]


async def test_a_dry_run_reports_and_writes_nothing(client, org, engine):
    data = b"number,name,plan\n+14155550100,Ada,gold\n,Nobody,\n(415) 555-0100,Ada twice,\n"
    response = await post_import(client, org, data, dryRun=True, defaultRegion="US")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "dryRun": True,
        "valid": False,
        "rowsRead": 3,
        "contacts": 2,
        "blankRowsIgnored": 0,
        "delimiter": ",",
        "variables": ["plan"],
        "rowErrors": [{"row": 3, "column": "number", "message": EMPTY_NUMBER}],
        "duplicates": [{"row": 4, "number": "+14155550100", "firstRow": 2}],
        "duplicatesRemoved": False,
        "doNotCall": [],
        "preview": [
            {
                "numberE164CheckEnabled": True,
                "assistantOverrides": {"variableValues": {"plan": "gold"}},
                "number": "+14155550100",
                "name": "Ada",
            },
            {"numberE164CheckEnabled": True, "number": "+14155550100", "name": "Ada twice"},
        ],
    }
    both = await post_import(
        client, org, data, dryRun=True, defaultRegion="US", skipInvalidRows=True, dedupe=True
    )
    assert (both.json()["valid"], both.json()["contacts"]) == (True, 1)
    assert both.json()["duplicatesRemoved"] is True
    assert await row_counts(engine) == NOTHING


async def test_dedupe_keeps_the_first_row_of_each_number(client, org):
    data = b"number,name\n+14155550100,Ada\n+1 415 555 0100,Ada again\n+14155550101,Alan\n"
    kept = await post_import(client, org, data)
    assert len(kept.json()["customers"]) == 3
    assert kept.json()["importReport"]["duplicates"] == [
        {"row": 3, "number": "+14155550100", "firstRow": 2}
    ]
    deduped = await post_import(client, org, data, dedupe=True)
    assert [c["name"] for c in deduped.json()["customers"]] == ["Ada", "Alan"]
    assert len(deduped.json()["calls"]) == 2


async def test_numbers_on_the_do_not_call_list_are_reported_and_kept(client, org, engine):
    listed = await client.post("/dnc", json={"number": "+14155550101"}, headers=org.headers)
    assert listed.status_code == 201, listed.text
    data = b"number\n+14155550100\n+14155550101\n"
    dry = await post_import(client, org, data, dryRun=True)
    assert dry.json()["doNotCall"] == [{"row": 3, "number": "+14155550101"}]
    created = await post_import(client, org, data)
    assert created.json()["importReport"]["doNotCall"] == [{"row": 3, "number": "+14155550101"}]
    # Stored all the same: the dispatcher skips it when its turn comes (and the export shows it).
    rows = await call_rows(engine, created.json()["id"])
    assert [r["customer"]["number"] for r in rows] == ["+14155550100", "+14155550101"]


async def test_configuration_problems_come_with_the_row_problems(client, org, engine):
    config = config_text(customers=[], phoneNumberId=None, assistantId=None)
    body = rejected(await post_import(client, org, BAD_ROWS, config=config))
    assert body["message"][:3] == [
        "config: customers cannot be given with a file: the file's rows are the customers",
        "config: one of assistantId, workflowId or squadId is required",
        "config: phoneNumberId is required when dialPlan is not provided",
    ]
    assert body["message"][3:] == [
        f"row 3, column number: {EMPTY_NUMBER}",
        f"row 5, column number: {TOO_SHORT}",
    ]
    unknown = rejected(await post_import(client, org, BAD_ROWS, config=config_text(colour="b")))
    assert unknown["message"][0] == "config: property colour should not exist"
    over_limit = rejected(
        await post_import(
            client, org, b"number\n+14155550100\n", config=config_text(maxConcurrency=11)
        )
    )
    assert over_limit["message"] == [
        "config: maxConcurrency 11 exceeds your organization's concurrency limit of 10"
    ]
    assert await row_counts(engine) == NOTHING


async def test_a_configuration_that_is_not_a_json_object(client, org):
    for config, message in (
        ("{not json", "config is not valid JSON"),
        ("[1, 2]", "config must be a JSON object (the create body without customers)"),
        (config_text(dialPlan=[]), "config: dialPlan cannot be given with a file"),
    ):
        body = rejected(await post_import(client, org, b"number\n+14155550100\n", config=config))
        assert body["message"][0].startswith(message), body
        assert body["rowErrors"] == []


async def test_non_utf8_bytes_over_http(client, org):
    body = rejected(await post_import(client, org, (FIXTURES / "latin1.csv").read_bytes()))
    save = "save the file as UTF-8 (in Excel: CSV UTF-8)"
    assert row_errors(body) == [
        (2, "city", f"byte 0xFC at byte offset 35 of the file is not UTF-8; {save}"),
        (3, "name", f"byte 0xE9 at byte offset 57 of the file is not UTF-8; {save}"),
    ]


async def test_ten_thousand_and_one_rows_over_http(client, org, engine, tmp_path: Path):
    path = tmp_path / "big.csv"
    path.write_text("number\n" + "".join(f"+1415{i:07d}\n" for i in range(10_001)))
    body = rejected(await post_import(client, org, path.read_bytes()))
    assert body["rowErrors"] == [
        {
            "row": 10_002,
            "column": None,
            "message": "is row 10001 of contacts; a file can hold at most 10000",
        }
    ]
    assert await row_counts(engine) == NOTHING


async def test_header_problems_over_http(client, org):
    body = rejected(
        await post_import(client, org, (FIXTURES / "duplicate_headers.csv").read_bytes())
    )
    assert (
        next(e[2] for e in row_errors(body)) == "column name 'name' is used twice (columns 2 and 4)"
    )
    assert len(body["rowErrors"]) == 4


async def test_files_without_contacts(client, org):
    header_only = rejected(await post_import(client, org, b"number,name\n"))
    assert header_only["message"] == ["the file has no rows of contacts below its header row"]
    all_bad = rejected(await post_import(client, org, b"number\n12\n", skipInvalidRows=True))
    assert all_bad["message"][0] == "no row of the file is a usable contact; nothing was created"


async def test_request_problems(client, org):
    no_file = await client.post(
        "/campaigns/import", data={"config": config_text()}, headers=org.headers
    )
    assert_error(no_file, 400, "file is required")
    no_config = await client.post(
        "/campaigns/import", files={"file": ("a.csv", b"number\n")}, headers=org.headers
    )
    assert_error(no_config, 400, "config is required")
    region = await post_import(client, org, b"number\n+14155550100\n", defaultRegion="UK")
    assert_error(
        region, 400, "defaultRegion 'UK' is not a known region", "(the United Kingdom is GB)"
    )
    anonymous = await client.post(
        "/campaigns/import", files={"file": ("a.csv", b"number\n")}, data={"config": "{}"}
    )
    assert_error(anonymous, 401)


async def test_json_create_can_drop_repeated_numbers(client, org):
    body = campaign_body(2)
    body["customers"] = [
        *body["customers"],
        {"number": body["customers"][0]["number"], "name": "Again"},
    ]
    plain = await client.post("/campaigns", json=body, headers=org.headers)
    assert len(plain.json()["customers"]) == 3
    deduped = await client.post("/campaigns?dedupe=true", json=body, headers=org.headers)
    assert [c["name"] for c in deduped.json()["customers"]] == ["Customer 0", "Customer 1"]

    plan = campaign_body(phoneNumberId=..., customers=...)
    plan["dialPlan"] = [
        {
            "phoneNumberId": "pn_a",
            "customers": [{"number": "+14155550100"}, {"number": "+14155550101"}],
        },
        {
            "phoneNumberId": "pn_b",
            "customers": [{"number": "+14155550101"}, {"sipUri": "sip:a@b.c"}],
        },
    ]
    by_plan = await client.post("/v2/campaign?dedupe=true", json=plan, headers=org.headers)
    assert by_plan.status_code == 201, by_plan.text
    entries = by_plan.json()["dialPlan"]
    assert [[c.get("number") or c["sipUri"] for c in e["customers"]] for e in entries] == [
        ["+14155550100", "+14155550101"],
        ["sip:a@b.c"],
    ]
