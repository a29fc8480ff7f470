"""`campaign-service fake-vapi` as a real process."""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from campaign_service.cli import build_parser
from campaign_service.fakevapi.cli import config_from_args
from tests.fakevapi.helpers import call_body, wait_until

COMMAND = Path(sys.executable).with_name("campaign-service")


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CAMPAIGN_SERVICE_LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [str(COMMAND), "fake-vapi", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def listening_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60)
    assert ready, "the fake did not report its address"
    line = process.stdout.readline().strip()
    assert line.startswith("fake Vapi listening on http://127.0.0.1:"), line
    return line.rsplit(" ", 1)[1]


def parse(*args: str) -> argparse.Namespace:
    return build_parser().parse_args(["fake-vapi", *args])


def test_the_command_serves_a_fake(inbox):
    process = start(
        "--port", "0", "--key", "cli-key:1", "--seed", "3", "--server-url", inbox.url,
        "--server-secret", "sec", "--queued-seconds", "0.01", "--ring-seconds", "0.01,0.02",
        "--talk-seconds", "0.01,0.02", "--outcomes", json.dumps({"voicemail": 1}),
        "--assistant-id", "asst_1", "--phone-number-id", "pn_1",
    )  # fmt: skip
    try:
        url = listening_url(process)
        headers = {"Authorization": "Bearer cli-key"}
        created = httpx.post(f"{url}/call", json=call_body(), headers=headers)
        assert created.status_code == 201, created.text
        unknown = httpx.post(f"{url}/call", json=call_body(assistantId="asst_9"), headers=headers)
        assert unknown.status_code == 400
        wait_until(lambda: len(inbox.messages()) == 5)
        assert inbox.messages()[-1]["endedReason"] == "voicemail"
        assert {h["x-vapi-secret"] for h, _ in inbox.received} == {"sec"}
        record = httpx.get(f"{url}/_fake/record").json()
        assert record["dialsByNumber"] == {"+14155550100": 1}
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_bad_options_fail_with_one_line():
    bad_outcome = start("--port", "0", "--outcomes", '{"nope": 1}')
    _, stderr = bad_outcome.communicate(timeout=60)
    assert bad_outcome.returncode == 1
    assert "error: unknown endedReason 'nope' in the outcome mix" in stderr
    assert "Traceback" not in stderr

    assert config_from_args(parse("--no-blocked-call-reports")).report_blocked_calls is False
    assert config_from_args(parse()).report_blocked_calls is True

    bad_range = start("--port", "0", "--ring-seconds", "3")
    _, stderr = bad_range.communicate(timeout=60)
    assert bad_range.returncode == 2
    assert "expected MIN,MAX seconds" in stderr
