"""Errors outside the campaign rules: unknown routes, methods, body size, crashes."""

from __future__ import annotations

import httpx

from tests.api.helpers import assert_error, create, row_counts
from tests.conftest import campaign_body

LIMIT = 1024 * 1024  # the `settings` fixture's max_body_bytes


async def test_unknown_route_is_404_in_vapi_shape(client, org):
    for path in ("/nope", "/campaigns/x/y/z", "/v3/campaign"):
        response = await client.get(path, headers=org.headers)
        body = assert_error(response, 404)
        assert body == {"message": "Not Found", "error": "Not Found", "statusCode": 404}


async def test_wrong_method_is_405_in_vapi_shape(client, org):
    campaign = await create(client, org)
    for method, path, allowed in (
        ("PUT", "/campaigns", "GET, POST"),
        ("POST", f"/campaigns/{campaign['id']}", "DELETE, GET, PATCH"),
        ("DELETE", "/campaign", "GET, POST"),
    ):
        response = await client.request(method, path, headers=org.headers)
        assert_error(response, 405, "Method Not Allowed")
        assert response.headers["Allow"] == allowed


def padded_body(size: int) -> bytes:
    """A syntactically valid create body of exactly `size` bytes."""
    import json

    base = json.dumps(campaign_body(1, assistantOverrides={"pad": ""}))
    pad = size - len(base)
    assert pad >= 0
    return base.replace('"pad": ""', '"pad": "' + "x" * pad + '"').encode()


async def test_body_over_the_limit_with_content_length_is_413(client, org, engine):
    content = padded_body(LIMIT + 1)
    response = await client.post(
        "/campaigns",
        content=content,
        headers={**org.headers, "content-type": "application/json"},
    )
    body = assert_error(response, 413, "larger than 1048576 bytes")
    assert body["error"] == "Request Entity Too Large"
    assert await row_counts(engine) == {"campaigns": 0, "calls": 0, "call_events": 0}


async def test_streamed_body_over_the_limit_is_413(client, org, engine):
    content = padded_body(LIMIT + 1)

    async def chunks():
        for start in range(0, len(content), 64 * 1024):
            yield content[start : start + 64 * 1024]

    request = client.build_request(
        "POST",
        "/campaigns",
        content=chunks(),
        headers={**org.headers, "content-type": "application/json"},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    response = await client.send(request)
    assert_error(response, 413, "larger than 1048576 bytes")
    assert await row_counts(engine) == {"campaigns": 0, "calls": 0, "call_events": 0}


async def test_body_at_the_limit_is_accepted(client, org):
    response = await client.post(
        "/campaigns",
        content=padded_body(LIMIT),
        headers={**org.headers, "content-type": "application/json"},
    )
    assert response.status_code == 201, response.text[:300]


async def test_413_comes_before_authentication(client):
    response = await client.post("/campaigns", content=b"x" * (LIMIT + 1))
    assert_error(response, 413)


async def test_unexpected_exception_is_500_without_internals(app, org):
    async def explode() -> None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    app.add_api_route("/explode", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/explode", headers=org.headers)

    body = assert_error(response, 500)
    assert body == {
        "message": "Internal server error",
        "error": "Internal Server Error",
        "statusCode": 500,
    }
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


async def test_failed_request_rolls_back(app, org, engine, monkeypatch):
    """A crash after the service wrote rows must not leave them behind."""
    from campaign_service.campaigns import lifecycle

    real = lifecycle.record_created

    async def crash(*args, **kwargs):
        await real(*args, **kwargs)
        raise RuntimeError("boom")

    monkeypatch.setattr(lifecycle, "record_created", crash)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/campaigns", json=campaign_body(3), headers=org.headers)
    assert_error(response, 500)
    assert await row_counts(engine) == {"campaigns": 0, "calls": 0, "call_events": 0}
