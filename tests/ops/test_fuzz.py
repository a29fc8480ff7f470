"""Property-based requests against the real server.

schemathesis generates requests from the OpenAPI document, with every check and every phase
(stateful included): the service must never answer 5xx, must refuse what the schema forbids,
must accept what it allows (tests/ops/schemathesis/config.toml lists the few operations whose
answer depends on stored state), and must answer with bodies, status codes and headers its
own document promises. bench/fuzz.py runs the same with more examples.

Hypothesis also builds bodies that are valid JSON and pass the schema's shape but hold what
cannot be stored (U+0000, lone surrogates, NaN/Infinity, numbers beyond 64 bits, deep nesting)
anywhere in them: each must be a 400 in Vapi's shape with nothing written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_service.json_values import MAX_DEPTH
from campaign_service.settings import Settings
from tests.conftest import OrgKey
from tests.ops.conftest import LiveServer, serving

REPO = Path(__file__).resolve().parents[2]
SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis") / "config.toml"
HOOKS = "tests.ops.schemathesis.hooks"


def schemathesis_run(
    base_url: str, api_key: str, cwd: Path, *, max_examples: int, seed: int, workers: int = 2
) -> subprocess.CompletedProcess[str]:
    """One schemathesis run with every check and phase; bench/fuzz.py uses it too."""
    schemathesis = Path(sys.executable).with_name("schemathesis")
    # The key goes in as the document's bearer scheme (config.toml), not as a fixed header, so
    # the check that leaves credentials out really sends none.
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS,
        "PYTHONPATH": str(REPO),
        "CAMPAIGN_SERVICE_FUZZ_KEY": api_key,
    }
    return subprocess.run(
        [
            str(schemathesis),
            "--config-file",
            str(SCHEMATHESIS_CONFIG),
            "run",
            f"{base_url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--workers",
            str(workers),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=cwd,
        env=env,
    )


@pytest.fixture
def fuzz_server(database_url: str) -> Iterator[LiveServer]:
    """The app with the failed-key throttle out of the way: schemathesis sends thousands of
    bad keys on purpose (the throttle has tests of its own)."""
    with serving(Settings(auth_failure_limit=10**9), database_url) as server:
        yield server


async def test_generated_requests_never_break_the_service(
    fuzz_server: LiveServer, make_org: Any, tmp_path: Path
) -> None:
    # maxConcurrency may go up to 500: the organization's own limit must not refuse it.
    org: OrgKey = await make_org(concurrency_limit=500)
    result = schemathesis_run(
        fuzz_server.base_url, org.api_key, tmp_path, max_examples=20, seed=20261130
    )
    assert result.returncode == 0, result.stdout[-8000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in result.stdout, result.stdout[-8000:]
    # The run was signed in: its key made campaigns (a run refused with 401 proves nothing).
    async with httpx.AsyncClient(base_url=fuzz_server.base_url, headers=org.headers) as client:
        listed = await client.get("/v2/campaign", params={"limit": 1})
    assert listed.status_code == 200, listed.text
    assert listed.json()["metadata"]["totalItems"] > 0, "schemathesis created no campaign"


# Values that cannot be stored as sent, as raw JSON text, and a word the 400 says.
LONE = st.sampled_from(["\\ud800", "\\udbff", "\\udc00", "\\udfff"])
UNSTORABLE = st.one_of(
    st.text(max_size=5).map(lambda t: json.dumps(t)[:-1] + '\\u0000"'),
    LONE.map(lambda s: f'"a{s}"'),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]),
    st.integers(min_value=2**63, max_value=2**70).map(str),
    st.integers(min_value=-(2**70), max_value=-(2**63) - 1).map(str),
    st.floats(min_value=2.0**63, max_value=1e300).map(repr),
    st.integers(min_value=MAX_DEPTH + 1, max_value=400).map(lambda n: "[" * n + "]" * n),
)
UNSTORABLE_KEY = st.one_of(
    st.just('"k\\u0000"'), LONE.map(lambda s: f'"{s}"'), st.just('"\\u0000"')
)


@st.composite
def holding(draw: st.DrawFn, bad: str) -> str:
    """Raw JSON text of an opaque value with `bad` somewhere inside it."""
    text = bad
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            key = draw(st.one_of(st.just(None), UNSTORABLE_KEY)) if text == bad else None
            name = key or json.dumps(draw(st.text(max_size=6)))
            text = "{" + name + ": " + text + "}"
        else:
            text = "[1, " + text + ', "x"]'
    return text


FIELDS = '"name": "n", "assistantId": "a", "phoneNumberId": "p"'
CUSTOMERS = '"customers": [{"number": "+14155550100"}]'


@st.composite
def bad_request(draw: st.DrawFn) -> tuple[str, str]:
    """(path, body text): a create or do-not-call body holding something unstorable."""
    where = draw(
        st.sampled_from(["assistantOverrides", "squadOverrides", "server", "customer", "name"])
    )
    path = draw(st.sampled_from(["/campaigns", "/campaign", "/v2/campaign", "/dnc"]))
    bad_text = draw(st.sampled_from(['"a\\u0000"', '"\\ud800"', '"b\\udfff"']))
    if path == "/dnc":
        return path, '{"number": ' + bad_text + "}"
    if where == "name":
        return path, "{" + FIELDS.replace('"n"', bad_text) + ", " + CUSTOMERS + "}"
    value = '{"v": ' + draw(holding(draw(UNSTORABLE))) + "}"
    if where == "customer":
        customer = '{"number": "+14155550100", "assistantOverrides": ' + value + "}"
        return path, "{" + FIELDS + ', "customers": [' + customer + "]}"
    return path, "{" + FIELDS + ", " + CUSTOMERS + ', "' + where + '": ' + value + "}"


def test_unstorable_values_anywhere_are_refused_and_nothing_is_written(
    live_server: LiveServer, org: OrgKey
) -> None:
    with httpx.Client(base_url=live_server.base_url, headers=org.headers, timeout=30) as client:

        def listed() -> tuple[int, int]:
            campaigns = client.get("/campaigns", params={"limit": 0}).json()
            dnc = client.get("/dnc", params={"limit": 0}).json()
            return campaigns["metadata"]["totalItems"], dnc["metadata"]["totalItems"]

        before = listed()

        @settings(
            max_examples=150,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(bad_request())
        def refused(request: tuple[str, str]) -> None:
            path, text = request
            response = client.post(
                path,
                content=text.encode("utf-8", "surrogatepass"),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 400, (text[:300], response.text)
            body = response.json()
            assert set(body) == {"message", "error", "statusCode"}, body
            assert (body["error"], body["statusCode"]) == ("Bad Request", 400)

        refused()
        assert listed() == before
