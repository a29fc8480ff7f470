"""GET /metrics: Prometheus text with request, status and engine metrics."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from campaign_service.api.app import create_app
from campaign_service.calls.repository import apply_status_reports
from campaign_service.calls.status import CallStatus
from campaign_service.db.session import unit_of_work
from campaign_service.observability import metrics as engine
from campaign_service.settings import Settings
from campaign_service.telephony.base import StatusReport
from campaign_service.timeutil import utcnow
from tests.conftest import OrgKey, campaign_body

# Far in the future, so no dispatcher places these calls while the test looks at them.
LATER = {"earliestAt": "2099-01-01T00:00:00Z"}


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def create(client: httpx.AsyncClient, org: OrgKey, customers: int) -> str:
    body = campaign_body(customers, schedulePlan=LATER)
    response = await client.post("/campaigns", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    campaign_id: str = response.json()["id"]
    return campaign_id


async def test_requests_counted_by_route_template_and_status(
    client: httpx.AsyncClient, org: OrgKey
) -> None:
    campaign_id = await create(client, org, 1)
    for _ in range(3):
        assert (await client.get(f"/campaigns/{campaign_id}", headers=org.headers)).is_success
    assert (await client.get(f"/campaign/{campaign_id}", headers=org.headers)).is_success
    assert (await client.get("/campaigns/nope", headers=org.headers)).status_code == 404
    assert (await client.get("/campaigns")).status_code == 401
    assert (await client.get("/no/such/path")).status_code == 404

    samples = await scrape(client)
    total = "campaign_service_http_requests_total"
    assert value(samples, total, method="POST", route="/campaigns", status="201") == 1
    assert value(samples, total, method="GET", route="/campaigns/{id}", status="200") == 3
    assert value(samples, total, method="GET", route="/campaign/{id}", status="200") == 1
    assert value(samples, total, method="GET", route="/campaigns/{id}", status="404") == 1
    assert value(samples, total, method="GET", route="/campaigns", status="401") == 1
    assert value(samples, total, method="GET", route="<unmatched>", status="404") == 1
    # Never the raw path: no label carries a campaign id or an unknown path.
    labels = " ".join(str(key) for key in samples)
    assert campaign_id not in labels
    assert "/no/such/path" not in labels
    count = "campaign_service_http_request_duration_seconds_count"
    assert value(samples, count, method="GET", route="/campaigns/{id}") == 4


async def test_campaigns_and_calls_by_status_skip_archived(
    client: httpx.AsyncClient, org: OrgKey, sessions: async_sessionmaker[AsyncSession]
) -> None:
    live = await create(client, org, 2)
    ended = await create(client, org, 3)
    archived = await create(client, org, 4)
    patch = await client.patch(f"/campaigns/{ended}", json={"status": "ended"}, headers=org.headers)
    assert patch.status_code == 200
    assert (await client.delete(f"/campaigns/{archived}", headers=org.headers)).status_code == 200

    one_call = next(
        iter((await client.get(f"/campaigns/{live}", headers=org.headers)).json()["calls"])
    )
    async with unit_of_work(sessions) as session:
        report = StatusReport(uuid.UUID(one_call), CallStatus.ENDED, ended_reason="customer-busy")
        await apply_status_reports(session, [report], source="test", now=utcnow())

    samples = await scrape(client)
    assert value(samples, "campaign_service_metrics_database_up") == 1
    assert value(samples, "campaign_service_campaigns", status="scheduled") == 1
    assert value(samples, "campaign_service_campaigns", status="ended") == 1
    assert value(samples, "campaign_service_campaigns", status="in-progress") == 0
    # The live campaign: one call waiting, one ended. The ended campaign's 3 cancelled calls are
    # history, not live work, and the archived campaign counts for nothing.
    assert value(samples, "campaign_service_calls", status="scheduled") == 1
    assert value(samples, "campaign_service_calls", status="ended") == 1
    for status in ("queued", "ringing", "in-progress", "forwarding"):
        assert ("campaign_service_calls", (("status", status),)) in samples


async def test_engine_metrics_are_exposed(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    engine.CALLS_PLACED.inc(2)
    engine.CALLS_ENDED.inc()
    engine.DISPATCHER_TICKS.inc(5)
    engine.DISPATCH_LAG.observe(0.2)
    after = await scrape(client)

    def delta(name: str) -> float:
        return value(after, name) - value(before, name)

    assert delta("campaign_calls_placed_total") == 2
    assert delta("campaign_calls_ended_total") == 1
    assert delta("campaign_dispatcher_ticks_total") == 5
    assert delta("campaign_dispatch_lag_seconds_count") == 1


async def test_many_apps_in_one_process_keep_their_own_counters(database_url: str) -> None:
    apps = [create_app(Settings(), database_url=database_url) for _ in range(3)]
    for index, app in enumerate(apps):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for _ in range(index + 1):
                    assert (await client.get("/health")).status_code == 200
                samples = await scrape(client)
        total = "campaign_service_http_requests_total"
        assert value(samples, total, method="GET", route="/health", status="200") == index + 1


async def test_metrics_survive_a_database_outage() -> None:
    from tests.ops.conftest import free_port

    app: FastAPI = create_app(Settings(), database_url=f"postgresql://u@127.0.0.1:{free_port()}/x")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            samples = await scrape(client)
    assert value(samples, "campaign_service_metrics_database_up") == 0
    assert not any(name == "campaign_service_campaigns" for name, _ in samples)
    assert ("campaign_calls_placed_total", ()) in samples


async def test_an_operator_token_protects_metrics_when_configured(database_url: str) -> None:
    app = create_app(Settings(metrics_token="s3cret-operator"), database_url=database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "Basic s3cret-operator"},
                {"Authorization": "Bearer s3cret-operato"},
            ):
                refused = await client.get("/metrics", headers=headers)
                assert refused.status_code == 401
                assert refused.json()["statusCode"] == 401
                assert "operator token" in refused.json()["message"]
                assert "campaign_service" not in refused.text
            allowed = await client.get(
                "/metrics", headers={"Authorization": "Bearer s3cret-operator"}
            )
            assert allowed.status_code == 200
            assert "campaign_service_http_requests_total" in allowed.text
            # The probes stay open for the orchestrator.
            assert (await client.get("/health")).status_code == 200
