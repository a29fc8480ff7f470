"""`campaign-service import | export | dnc`, run as real subprocesses against the test database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

from tests.audiences.helpers import CONFIG, FIXTURES
from tests.test_cli import COMMAND, env, fails, ok_json, run, run_all

__all__ = ["env"]  # the fixture, shared with the main CLI tests


def write_config(tmp_path: Path, **overrides: object) -> str:
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps({**CONFIG, **overrides}))
    return str(path)


async def test_import_creates_the_campaign_and_prints_a_summary(client, env, org, tmp_path):
    config = write_config(tmp_path, name="From the terminal")
    national = str(FIXTURES / "national.csv")
    created, dry = run_all(
        (("import", national, "--config", config, "--org", org.org_id,
          "--default-region", "US", "--skip-invalid-rows"), env),
        (("import", str(FIXTURES / "bom.csv"), "--config", config, "--org", org.org_id,
          "--dry-run"), env),
    )  # fmt: skip
    summary = ok_json(created)
    assert (summary["name"], summary["status"], summary["calls"]) == (
        "From the terminal",
        "scheduled",
        4,
    )
    assert [e["row"] for e in summary["importReport"]["rowErrors"]] == [6, 7]
    campaign = (await client.get(f"/campaigns/{summary['id']}", headers=org.headers)).json()
    assert [c["number"] for c in campaign["customers"]][:2] == ["+14155550100", "+14155550101"]

    report = ok_json(dry)
    assert (report["dryRun"], report["valid"], report["contacts"]) == (True, True, 2)
    listed = (await client.get("/campaigns", headers=org.headers)).json()
    assert [c["id"] for c in listed["results"]] == [summary["id"]]  # the dry run wrote nothing


def test_import_refusals_list_every_problem_on_stderr(env, org, tmp_path):
    config = write_config(tmp_path)
    audience = tmp_path / "bad.csv"
    audience.write_text("number\n+14155550100\n\n12\nabc\n")
    refused, no_org, no_file = run_all(
        (("import", str(audience), "--config", config, "--org", org.org_id), env),
        (("import", str(audience), "--config", config, "--org", "nope"), env),
        (("import", str(tmp_path / "missing.csv"), "--config", config, "--org", org.org_id), env),
    )
    assert refused.returncode == 1
    assert refused.stdout == ""
    hint = "has no country code: write it as +<country code><number> or pass defaultRegion"
    assert refused.stderr.splitlines() == [
        "error: 2 of 3 rows have problems; nothing was created (fix them, or send "
        "skipInvalidRows=true to create the campaign from the others)",
        f"error: row 4, column number: '12' {hint} (for example US)",
        "error: row 5, column number: 'abc' is not a phone number",
    ]
    fails(no_org, "org id 'nope' is not a valid ID")
    fails(no_file, f"cannot read {tmp_path / 'missing.csv'}: No such file or directory")


async def test_export_writes_the_file_or_standard_output(client, env, org, tmp_path):
    data = (FIXTURES / "quoted_commas.csv").read_bytes()
    created = await client.post(
        "/campaigns/import",
        files={"file": ("a.csv", data)},
        data={"config": json.dumps(CONFIG)},
        headers=org.headers,
    )
    campaign_id = created.json()["id"]
    target = tmp_path / "out.csv"
    to_file, to_stdout, unknown = run_all(
        (("export", campaign_id, "--org", org.org_id, "--output", str(target)), env),
        (("export", campaign_id, "--org", org.org_id, "--format", "ndjson"), env),
        (("export", "0b6a4a51-6c6e-4d4b-b0f8-3f1e9d2c7a55", "--org", org.org_id), env),
    )
    assert to_file.returncode == 0, to_file.stderr
    over_http = await client.get(f"/campaigns/{campaign_id}/export", headers=org.headers)
    assert target.read_bytes() == over_http.content
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["note"] for r in rows] == ['said "call me later", twice', "line one\nline two"]
    lines = [json.loads(line) for line in to_stdout.stdout.splitlines()]
    assert [line["customer"]["name"] for line in lines] == ["Lovelace, Ada", "Turing, Alan"]
    fails(unknown, "campaign 0b6a4a51-6c6e-4d4b-b0f8-3f1e9d2c7a55 not found")


async def test_do_not_call_commands(client, env, org, tmp_path):
    optouts = tmp_path / "optouts.csv"
    optouts.write_text("number,reason\n+14155550101,asked\n+14155550102,\n")
    added = ok_json(
        run("dnc", "add", "(415) 555-0100", "--org", org.org_id, "--default-region", "US",
            "--reason", "asked by phone", env=env)
    )  # fmt: skip
    assert (added["number"], added["source"], added["added"]) == ("+14155550100", "cli", True)
    again, bulk = run_all(
        (("dnc", "add", "+14155550100", "--org", org.org_id), env),
        (("dnc", "import", str(optouts), "--org", org.org_id), env),
    )
    assert ok_json(again)["added"] is False
    assert ok_json(bulk) == {"rowsRead": 2, "added": 2, "alreadyListed": 0, "rowErrors": []}
    listed = ok_json(run("dnc", "list", "--org", org.org_id, env=env))
    assert sorted(e["number"] for e in listed["results"]) == [
        "+14155550100",
        "+14155550101",
        "+14155550102",
    ]
    over_http = (await client.get("/dnc", headers=org.headers)).json()
    assert listed == over_http

    removed, missing, bad, wrong_region = run_all(
        (("dnc", "remove", "+14155550101", "--org", org.org_id), env),
        (("dnc", "remove", "+14155550199", "--org", org.org_id), env),
        (("dnc", "add", "not-a-number", "--org", org.org_id), env),
        (("dnc", "list", "--org", org.org_id, "--default-region", "XX"), env),
    )
    assert ok_json(removed)["reason"] == "asked"
    fails(missing, "+14155550199 is not on the do-not-call list")
    fails(bad, "number 'not-a-number' is not a phone number")
    fails(wrong_region, "--default-region 'XX' is not a known region")


def test_import_shows_a_progress_bar_on_a_terminal(env, org, tmp_path):
    audience = tmp_path / "big.csv"
    audience.write_text("number\n" + "".join(f"+1415{i:07d}\n" for i in range(2_000)))
    config = write_config(tmp_path)
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [str(COMMAND), "import", str(audience), "--config", config, "--org", org.org_id],
        env={**env, "COLUMNS": "100", "TERM": "xterm"},
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        drawn += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(controller)
    assert process.returncode == 0, drawn.decode(errors="replace")
    assert json.loads(stdout)["calls"] == 2_000
    text = drawn.decode(errors="replace")
    assert "Checking rows" in text
    assert "2000/2000" in text
