"""One log line per request, and the X-Request-ID that ties it to the client's view."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest
from fastapi import FastAPI

from campaign_service.logs import JsonFormatter, TextFormatter, configure_logging
from campaign_service.observability.context import request_id_var
from campaign_service.settings import Settings
from tests.conftest import OrgKey, campaign_body

FIELDS = {"method", "path", "route", "status", "duration_ms", "request_id"}


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "campaign_service.request"]


async def test_one_record_per_request_with_route_and_id(
    client: httpx.AsyncClient, org: OrgKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="campaign_service.request")
    created = await client.post("/campaigns", json=campaign_body(1), headers=org.headers)
    campaign_id = created.json()["id"]
    got = await client.get(f"/campaigns/{campaign_id}?limit=5", headers=org.headers)

    records = request_records(caplog)
    assert len(records) == 2
    fields = [r.fields for r in records]  # type: ignore[attr-defined]
    assert all(set(f) == FIELDS for f in fields)
    assert fields[0]["method"] == "POST"
    assert fields[0]["route"] == "/campaigns"
    assert fields[0]["status"] == 201
    assert fields[1]["path"] == f"/campaigns/{campaign_id}"  # no query string in logs
    assert fields[1]["route"] == "/campaigns/{id}"
    assert fields[1]["status"] == 200
    assert fields[1]["duration_ms"] >= 0
    assert fields[0]["request_id"] == created.headers["x-request-id"]
    assert fields[1]["request_id"] == got.headers["x-request-id"]
    assert fields[0]["request_id"] != fields[1]["request_id"]


async def test_generated_request_id_is_a_uuid_hex(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_sane_incoming_request_id_is_kept(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="campaign_service.request")
    response = await client.get("/health", headers={"X-Request-ID": "lb-7f3a.42:x_1"})
    assert response.headers["x-request-id"] == "lb-7f3a.42:x_1"
    assert request_records(caplog)[-1].fields["request_id"] == "lb-7f3a.42:x_1"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "incoming",
    [b"x" * 65, b"has space", b'quote"d', b"semi;colon", "\u00e9-accent".encode(), b"a/b"],
)
async def test_unsafe_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: bytes
) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]


async def test_errors_are_logged_and_carry_the_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="campaign_service.request")
    response = await client.post("/campaigns", json={}, headers={"X-Request-ID": "req-1"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "req-1"
    record = request_records(caplog)[-1]
    assert record.fields["status"] == 401  # type: ignore[attr-defined]


def _record() -> logging.LogRecord:
    record = logging.LogRecord(
        "campaign_service.request", logging.INFO, __file__, 1, "GET /x 200 1.0ms", None, None
    )
    record.fields = {  # type: ignore[attr-defined]
        "method": "GET",
        "path": "/x",
        "route": "/x",
        "status": 200,
        "duration_ms": 1.0,
        "request_id": "abc",
    }
    record.text_fields = {"request_id": "abc"}  # type: ignore[attr-defined]
    return record


def test_json_line_has_every_field() -> None:
    line = JsonFormatter().format(_record())
    assert "\n" not in line
    entry = json.loads(line)
    assert set(entry) >= FIELDS
    assert entry["level"] == "info"
    assert entry["message"] == "GET /x 200 1.0ms"


def test_text_line_is_short_and_readable() -> None:
    line = TextFormatter().format(_record())
    assert line.endswith("campaign_service.request: GET /x 200 1.0ms request_id=abc")


@pytest.mark.parametrize(
    ("setting", "expected"), [("json", JsonFormatter), ("text", TextFormatter)]
)
def test_log_format_setting_picks_the_formatter(setting: str, expected: type) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(Settings(log_format=setting))
        assert isinstance(root.handlers[0].formatter, expected)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


async def test_unhandled_error_is_logged_as_500_with_the_id(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    caplog.set_level(logging.INFO)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/boom", headers={"X-Request-ID": "err-1"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "err-1"
    assert response.json() == {
        "message": "Internal server error",
        "error": "Internal Server Error",
        "statusCode": 500,
    }
    (request,) = request_records(caplog)
    assert request.fields["status"] == 500  # type: ignore[attr-defined]
    assert request.fields["route"] == "/boom"  # type: ignore[attr-defined]
    (error,) = [r for r in caplog.records if r.getMessage().startswith("unhandled error")]
    assert error.exc_info is not None
    assert json.loads(JsonFormatter().format(error))["request_id"] == "err-1"
    request_id_var.set(None)
