"""Shared helpers of the audience tests: multipart requests and the error body with rowErrors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import OrgKey

FIXTURES = Path(__file__).with_name("fixtures")
CONFIG = {"name": "Imported", "assistantId": "asst_1", "phoneNumberId": "pn_1"}


def config_text(**overrides: Any) -> str:
    return json.dumps({**CONFIG, **overrides})


async def post_import(
    client: httpx.AsyncClient,
    org: OrgKey,
    data: bytes,
    *,
    config: str | None = None,
    path: str = "/campaigns/import",
    **params: Any,
) -> httpx.Response:
    return await client.post(
        path,
        files={"file": ("audience.csv", data, "text/csv")},
        data={"config": config if config is not None else config_text()},
        params={k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()},
        headers=org.headers,
    )


def rejected(response: httpx.Response) -> dict[str, Any]:
    """A 400 in Vapi's shape plus rowErrors; message lists sentences."""
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"message", "error", "statusCode", "rowErrors"}, body
    assert (body["error"], body["statusCode"]) == ("Bad Request", 400)
    assert isinstance(body["message"], list)
    return body


def row_errors(body: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    return [(e["row"], e["column"], e["message"]) for e in body["rowErrors"]]
