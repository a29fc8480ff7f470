"""The campaign reads called without FastAPI's parameter machinery (api/direct.py) answer
byte for byte what FastAPI's own handler answers, errors included."""

from __future__ import annotations

from typing import Any

import pytest

from campaign_service.api import direct
from campaign_service.api.deps import now
from tests.api.helpers import create
from tests.conftest import campaign_body, new_id

QUERIES = [
    "",
    "?limit=2",
    "?limit=2&page=2",
    "?limit=1&limit=3",  # repeated: the last one counts
    "?sortOrder=ASC&limit=2",
    "?status=scheduled",
    "?status=cancelled",
    "?status=archived",
    "?createdAtGt=2000-01-01T00:00:00Z&updatedAtLe=2100-01-01T00:00:00Z",
    "?includeCounters=true",
    "?includeCounters=false&limit=1",
    "?unknown=1",
    "?id=not-a-uuid",
    "?limit=abc",
    "?limit=5000",
    "?page=0",
    "?sortOrder=sideways",
    "?includeCounters=maybe",
    "?createdAtGt=yesterday",
    "?status=",
]


async def _answer(client: Any, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
    response = await client.get(path, headers=headers)
    return response.status_code, response.headers["content-type"], response.content


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each direct read was answered directly (True) or left to FastAPI (False)."""
    seen: list[bool] = []
    arguments = direct._Plan.arguments

    async def spy(self: direct._Plan, request: Any) -> dict[str, Any] | None:
        result = await arguments(self, request)
        seen.append(result is not None)
        return result

    monkeypatch.setattr(direct._Plan, "arguments", spy)
    return seen


async def test_direct_reads_answer_as_fastapi_does(app, client, org, taken):
    first = await create(client, org, campaign_body(3))
    await create(client, org, name="second")
    await client.patch(f"/campaigns/{first['id']}", json={"status": "ended"}, headers=org.headers)
    bases = ("/campaigns", "/campaign", "/v2/campaign")
    paths = [
        *(f"{base}{query}" for base in bases for query in QUERIES),
        f"/campaigns/{first['id']}",
        f"/campaign/{first['id']}",
        f"/campaigns/{new_id()}",
        f"/v2/campaign/{first['id']}",
        f"/v2/campaign/{first['id']}?includeCounters=true",
        f"/v2/campaign/{first['id']}?includeCounters=maybe",
        f"/v2/campaign/{new_id()}",
        f"/v2/campaign/{first['id']}?id={new_id()}",
    ]
    keys = [org.headers, {}, {"Authorization": "Basic abc"}]
    answers = {}
    for path in paths:
        for headers in keys:
            answers[path, str(headers)] = await _answer(client, path, headers)
    assert any(taken)  # both ways were used
    assert not all(taken)
    assert {status for status, _, _ in answers.values()} >= {200, 400, 401, 404}

    # Any dependency override sends every request to FastAPI's own handler.
    app.dependency_overrides[now] = now
    taken.clear()
    try:
        for path in paths:
            for headers in keys:
                assert await _answer(client, path, headers) == answers[path, str(headers)], path
    finally:
        app.dependency_overrides.clear()
    assert not any(taken)


async def test_an_invalid_key_is_refused_the_same_way(client, org, taken):
    await create(client, org)
    bad = {"Authorization": "Bearer csk_not-a-key"}
    for path in ("/campaigns", "/v2/campaign?includeCounters=true", f"/campaigns/{new_id()}"):
        response = await client.get(path, headers=bad)
        assert response.status_code == 401, response.text
        assert response.json()["message"].startswith("Invalid Key")
    assert taken == [True, True, True]


async def test_only_queries_the_model_accepts_are_answered_directly(client, org, taken):
    await create(client, org)
    assert (await client.get("/v2/campaign?limit=1", headers=org.headers)).status_code == 200
    assert (await client.get("/v2/campaign?limit=-1", headers=org.headers)).status_code == 400
    assert taken == [True, False]
