"""Real responses of every documented operation validate against the route's response_model.

The read model renders bodies without building the models (JSON assembled by PostgreSQL, or
models constructed without validation), so nothing else checks at run time that what is sent
is what the OpenAPI document promises. This test samples real bodies at several points of a
campaign's life and validates each with the route's own model (which forbids extra fields).
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import text
from starlette.types import Receive, Scope, Send

from campaign_service.observability.http import route_template
from tests.conftest import OrgKey, campaign_body


class Sampler:
    """Sends requests through the app and validates each body with the route that served it."""

    def __init__(self, app: FastAPI, org: OrgKey) -> None:
        self.app, self.org = app, org
        self.scope: Scope = {}
        self.checked: set[tuple[str, str]] = set()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._recording), base_url="http://testserver"
        )

    async def _recording(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope  # routing writes the matched route into this dict
        await self.app(scope, receive, send)

    async def check(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, headers=self.org.headers, **kwargs)
        assert response.status_code < 300, (method, path, response.text)
        route = self.scope["route"]
        assert isinstance(route, APIRoute), path
        model = route.response_model
        assert isinstance(model, type), path
        assert issubclass(model, BaseModel), path
        model.model_validate(response.json())
        self.checked.add((method.lower(), route_template(self.scope, path)))
        return response.json()


# Every control extension at once: calling hours, retries, explicit zones.
CONTROLLED = {
    "name": "Controlled",
    "assistantId": "asst_1",
    "phoneNumberId": "pn_1",
    "customers": [
        {"number": "+442071234567", "timeZone": "Europe/London"},
        {"number": "+14155550100"},
        {"sipUri": "sip:desk@example.com"},
    ],
    "callingWindow": {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "20:00",
        "fallbackTimeZone": "Europe/London",
    },
    "retryPlan": {
        "retryOn": ["no-answer", "busy", "voicemail", "failed-to-connect"],
        "maxAttempts": 3,
        "delay": {"type": "backoff", "seconds": 30},
    },
    "schedulePlan": {"earliestAt": "2026-06-01T11:00:00Z", "latestAt": "2026-06-03T12:00:00Z"},
}


async def test_every_operation_answers_what_its_response_model_says(
    app: FastAPI, org: OrgKey, clock, make_dispatcher, simulated
) -> None:
    s = Sampler(app, org)
    dial_plan = {
        "name": "Two lines",
        "assistantId": "asst_1",
        "dialPlan": [
            {"phoneNumberId": "pn_a", "customers": [{"number": "+14155550100", "name": "A"}]},
            {"phoneNumberId": "pn_b", "customers": [{"sipUri": "sip:b@example.com"}]},
        ],
        "schedulePlan": {"earliestAt": "2030-06-01T12:00:00Z", "latestAt": "2030-06-02T12:00:00Z"},
        "assistantOverrides": {"variableValues": {"x": 1}},
        "server": {"url": "https://example.com/hook"},
    }
    for prefix in ("/campaigns", "/campaign", "/v2/campaign"):
        await s.check("POST", prefix, json=campaign_body(3))
    planned = await s.check("POST", "/campaigns", json=dial_plan)
    running = await s.check(
        "POST",
        "/campaigns",
        json=campaign_body(
            4,
            server={"url": "https://example.com/hook"},
            serverMessages=["campaign.started", "contact.dispatched", "contact.completed"],
        ),
    )
    provider = simulated()
    dispatcher = await make_dispatcher(provider)
    for _ in range(6):  # mid-run: calls queued, ringing, talking and ended
        await dispatcher.tick()
        await provider.deliver_due(dispatcher.events)
        clock.advance(seconds=3)
    extended = await s.check("POST", "/campaigns", json=CONTROLLED)
    for _ in range(4):  # its retries come due, its window is open in London
        await dispatcher.tick()
        await provider.deliver_due(dispatcher.events)
        clock.advance(seconds=30)
    for campaign in (planned, running, extended):
        await s.check("GET", f"/campaigns/{campaign['id']}/progress")
    await s.check("POST", f"/campaigns/{extended['id']}/pause", json={"reason": "checking"})
    await s.check("GET", f"/campaigns/{extended['id']}/progress")
    await s.check("GET", f"/campaigns/{extended['id']}")
    await s.check("GET", f"/campaigns/{extended['id']}/calls")
    await s.check("GET", f"/campaigns/{extended['id']}/events")
    await s.check("GET", f"/v2/campaign/{extended['id']}", params={"includeCounters": "true"})
    await s.check("GET", f"/v2/campaign/{extended['id']}/contacts")
    await s.check("POST", f"/campaigns/{extended['id']}/resume")
    ids = [planned["id"], running["id"]]
    call_id = next(iter(running["calls"]))
    for campaign_id in ids:
        for prefix in ("/campaigns", "/campaign"):
            await s.check("GET", f"{prefix}/{campaign_id}")
            await s.check("GET", f"{prefix}/{campaign_id}/calls")
        if campaign_id == running["id"]:
            for prefix in ("/campaigns", "/campaign"):
                await s.check("GET", f"{prefix}/{campaign_id}/calls/{call_id}")
        await s.check("GET", f"/campaigns/{campaign_id}/events")
        await s.check("GET", f"/campaigns/{campaign_id}/deliveries")
        await s.check("GET", f"/v2/campaign/{campaign_id}", params={"includeCounters": "true"})
        await s.check("GET", f"/v2/campaign/{campaign_id}")
        await s.check("GET", f"/v2/campaign/{campaign_id}/contacts")
    for prefix in ("/campaigns", "/campaign"):
        await s.check("GET", prefix)
    await s.check("GET", "/v2/campaign", params={"includeCounters": "true"})
    await s.check("PATCH", f"/campaigns/{planned['id']}", json={"name": "Renamed"})
    await s.check("PATCH", f"/campaign/{planned['id']}", json={})
    await s.check("PATCH", f"/v2/campaign/{extended['id']}", json={"status": "cancelled"})
    extra = [await s.check("POST", "/campaigns", json=campaign_body(1)) for _ in range(3)]
    await s.check("DELETE", f"/campaigns/{extra[0]['id']}")
    await s.check("DELETE", f"/campaign/{extra[1]['id']}")
    await s.check("DELETE", f"/v2/campaign/{extra[2]['id']}")
    # The audience extensions: a CSV import on both paths and the do-not-call list.
    audience = {"file": ("a.csv", b"number,name,plan\n+14155550123,Ada,gold\n")}
    config = {"config": '{"name": "From a file", "assistantId": "a1", "phoneNumberId": "pn_1"}'}
    for path in ("/campaigns/import", "/v2/campaign/import"):
        await s.check("POST", path, files=audience, data=config)
    await s.check("POST", "/dnc", json={"number": "+14155550100", "reason": "asked"})
    await s.check("POST", "/dnc/import", files={"file": ("d.csv", b"number\n+14155550101\n")})
    await s.check("GET", "/dnc")
    await s.check("DELETE", "/dnc/%2B14155550100")
    await s.check("GET", "/health")
    await s.check("GET", "/ready")
    async with app.state.sessions() as session:
        token = (await session.execute(text("SELECT webhook_token FROM orgs LIMIT 1"))).scalar()
    await s.check("POST", f"/webhooks/vapi/{token}", json={"message": {"type": "hang"}})

    documented = {
        (method, path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if "application/json"
        in str(operation["responses"].get("200", operation["responses"].get("201")))
    }
    assert documented - s.checked == set()
    await s.client.aclose()
