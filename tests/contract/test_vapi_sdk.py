"""Vapi's own Python SDK (vapi-server-sdk 3.0.0) drives the service unchanged, in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from vapi import AsyncVapi, CreateCustomerDto, DialPlanEntry, SchedulePlan
from vapi.core.api_error import ApiError

from tests.conftest import new_id


@dataclass
class Recorder:
    requests: list[httpx.Request] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def sdk(app, org, recorder) -> AsyncIterator[AsyncVapi]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"request": [recorder]}
    ) as http:
        yield AsyncVapi(token=org.api_key, httpx_client=http, base_url="http://testserver")


def customers(n: int) -> list[CreateCustomerDto]:
    return [CreateCustomerDto(number=f"+1415555{i:04d}", name=f"Customer {i}") for i in range(n)]


async def test_campaign_lifecycle_through_the_sdk(sdk, clock, recorder):
    earliest = datetime(2030, 1, 15, 15, 0, tzinfo=UTC)
    created = await sdk.campaigns.campaign_controller_create(
        name="SDK campaign",
        assistant_id="asst_sdk",
        phone_number_id="pn_sdk",
        customers=customers(3),
        schedule_plan=SchedulePlan(earliest_at=earliest, latest_at=earliest + timedelta(hours=8)),
        max_concurrency=5.0,
    )
    assert b'"maxConcurrency": 5.0' in recorder.requests[-1].content or (
        b'"maxConcurrency":5.0' in recorder.requests[-1].content
    )
    assert created.status == "scheduled"
    assert created.name == "SDK campaign"
    assert created.max_concurrency == 5
    assert created.calls_counter_scheduled == 3
    assert created.calls_counter_queued == 0
    assert created.calls_counter_in_progress == 0
    assert created.calls_counter_ended == 0
    assert created.calls_counter_ended_voicemail == 0
    assert created.created_at == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert created.schedule_plan is not None
    assert created.schedule_plan.earliest_at == earliest
    assert [c.number for c in created.customers] == [c.number for c in customers(3)]
    assert len(created.calls) == 3

    found = await sdk.campaigns.campaign_controller_find_one(created.id)
    assert found.id == created.id
    assert found.org_id == created.org_id
    assert found.calls_counter_scheduled == 3

    clock.advance(seconds=30)
    await sdk.campaigns.campaign_controller_create(
        name="Second", squad_id="sq", phone_number_id="pn", customers=customers(1)
    )
    page = await sdk.campaigns.campaign_controller_find_all(
        limit=1.0, page=1.0, created_at_gt=datetime(2026, 6, 1, 12, 0, 10, tzinfo=UTC)
    )
    assert recorder.requests[-1].url.params["limit"] == "1.0"
    assert recorder.requests[-1].url.params["createdAtGt"] == "2026-06-01T12:00:10Z"
    assert [c.name for c in page.results] == ["Second"]
    assert page.metadata.total_items == 1
    assert page.metadata.items_per_page == 1
    assert page.metadata.current_page == 1

    everything = await sdk.campaigns.campaign_controller_find_all(sort_order="ASC", limit=10.0)
    assert [c.name for c in everything.results] == ["SDK campaign", "Second"]
    scheduled = await sdk.campaigns.campaign_controller_find_all(status="scheduled")
    assert scheduled.metadata.total_items == 2

    clock.advance(seconds=30)
    renamed = await sdk.campaigns.campaign_controller_update(created.id, name="Renamed")
    assert renamed.name == "Renamed"
    assert renamed.updated_at == datetime(2026, 6, 1, 12, 1, tzinfo=UTC)
    assert (await sdk.campaigns.campaign_controller_update(created.id)).name == "Renamed"

    ended = await sdk.campaigns.campaign_controller_update(created.id, status="ended")
    assert ended.status == "ended"
    assert ended.ended_reason == "campaign.scheduled.ended-by-user"
    assert ended.calls_counter_ended == 3
    assert ended.calls_counter_scheduled == 0

    removed = await sdk.campaigns.campaign_controller_remove(created.id)
    assert removed.id == created.id
    assert removed.status == "ended"
    remaining = await sdk.campaigns.campaign_controller_find_all()
    assert [c.name for c in remaining.results] == ["Second"]


async def test_sdk_nulls_are_treated_as_absent(sdk, recorder):
    created = await sdk.campaigns.campaign_controller_create(
        name="Nulls",
        assistant_id="asst",
        workflow_id=None,
        squad_id=None,
        phone_number_id="pn",
        dial_plan=None,
        customers=customers(1),
    )
    assert b'"workflowId": null' in recorder.requests[-1].content or (
        b'"workflowId":null' in recorder.requests[-1].content
    )
    assert created.assistant_id == "asst"
    assert created.workflow_id is None


async def test_sdk_dial_plan(sdk):
    created = await sdk.campaigns.campaign_controller_create(
        name="Dial plan",
        workflow_id="wf",
        dial_plan=[
            DialPlanEntry(phone_number_id="pn_a", customers=customers(2)),
            DialPlanEntry(phone_number_id="pn_b", customers=customers(1)),
        ],
    )
    assert created.phone_number_id is None
    assert [len(entry.customers) for entry in created.dial_plan] == [2, 1]
    assert created.calls_counter_scheduled == 3


async def test_sdk_validation_error_is_an_api_error_400(sdk, recorder):
    with pytest.raises(ApiError) as raised:
        await sdk.campaigns.campaign_controller_create(
            name="Bad", assistant_id="a", phone_number_id="p", customers=[], max_concurrency=0.0
        )
    assert raised.value.status_code == 400
    assert raised.value.body["statusCode"] == 400
    assert raised.value.body["error"] == "Bad Request"
    assert "maxConcurrency must be greater than or equal to 1" in raised.value.body["message"]
    assert len(recorder.requests) == 1


async def test_sdk_refused_state_change_is_400_without_retry(sdk, recorder):
    created = await sdk.campaigns.campaign_controller_create(
        name="c", assistant_id="a", phone_number_id="p", customers=customers(1)
    )
    await sdk.campaigns.campaign_controller_update(created.id, status="cancelled")
    before = len(recorder.requests)
    with pytest.raises(ApiError) as raised:
        await sdk.campaigns.campaign_controller_update(created.id, name="too late")
    assert raised.value.status_code == 400
    assert "ended" in raised.value.body["message"]
    assert len(recorder.requests) == before + 1


@pytest.mark.parametrize("campaign_id", [new_id(), "not-a-uuid"])
async def test_sdk_not_found_is_one_request(sdk, recorder, campaign_id):
    with pytest.raises(ApiError) as raised:
        await sdk.campaigns.campaign_controller_find_one(campaign_id)
    assert raised.value.status_code == 404
    assert raised.value.body["statusCode"] == 404
    assert raised.value.body["error"] == "Not Found"
    assert len(recorder.requests) == 1


async def test_sdk_bad_key_is_401(app, recorder):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"request": [recorder]}
    ) as http:
        sdk = AsyncVapi(token="csk_wrong", httpx_client=http, base_url="http://testserver")
        with pytest.raises(ApiError) as raised:
            await sdk.campaigns.campaign_controller_find_all()
    assert raised.value.status_code == 401
    assert raised.value.body["message"].startswith("Invalid Key")
    assert len(recorder.requests) == 1


async def test_sdk_v2_methods(sdk, recorder):
    created = await sdk.campaigns.campaign_controller_create_v_2(
        name="v2", assistant_id="asst_1", phone_number_id="pn_1", customers=customers(3)
    )
    summary = await sdk.campaigns.campaign_controller_find_one_v_2(
        created.id, include_counters=True
    )
    assert summary.id == created.id
    assert summary.contact_counters.pending == 3
    assert summary.call_metrics.dialed == 0
    listed = await sdk.campaigns.campaign_controller_find_all_v_2(include_counters=True, limit=5.0)
    assert [c.id for c in listed.results] == [created.id]
    contacts = await sdk.campaigns.campaign_controller_get_campaign_v_2_contacts(
        created.id, status=["contact.pending", "contact.failed"], limit=2.0
    )
    assert [c.status for c in contacts.results] == ["contact.pending", "contact.pending"]
    assert contacts.metadata.total_items == 3
    assert "status=contact.pending&status=contact.failed" in str(recorder.requests[-1].url)
    cancelled = await sdk.campaigns.campaign_controller_update_v_2(created.id, status="cancelled")
    assert cancelled.status == "ended"
    removed = await sdk.campaigns.campaign_controller_remove_v_2(created.id)
    assert removed.id == created.id


async def test_campaigns_using_the_control_extensions_read_fine_through_the_sdk(
    sdk, client, org, clock, make_dispatcher, simulated
):
    """A campaign created with calling hours and a retry plan, running, retried and paused:
    Vapi's SDK reads it (and its v2 summary and contacts) without noticing the extensions."""
    body = {
        "name": "Extended",
        "assistantId": "asst_1",
        "phoneNumberId": "pn_1",
        "customers": [
            {"number": f"+4420712345{i:02d}", "timeZone": "Europe/London"} for i in range(3)
        ],
        "callingWindow": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "20:00",
            "fallbackTimeZone": "Europe/London",
        },
        "retryPlan": {"retryOn": ["no-answer"], "maxAttempts": 2, "delay": {"seconds": 60}},
    }
    created = (await client.post("/campaigns", json=body, headers=org.headers)).json()
    provider = simulated(outcomes={"customer-did-not-answer": 1}, talk_seconds=(1.0, 1.0))
    dispatcher = await make_dispatcher(provider)
    for _ in range(8):
        await dispatcher.tick()
        await provider.deliver_due(dispatcher.events)
        clock.advance(seconds=5)
    await client.post(f"/campaigns/{created['id']}/pause", headers=org.headers)

    found = await sdk.campaigns.campaign_controller_find_one(created["id"])
    assert found.status == "in-progress"
    assert len(found.calls) == 6  # three contacts, two attempts each
    assert len(found.customers) == 3
    assert (
        found.calls_counter_scheduled
        + found.calls_counter_queued
        + found.calls_counter_in_progress
        + found.calls_counter_ended
    ) == 6
    summary = await sdk.campaigns.campaign_controller_find_one_v_2(
        created["id"], include_counters=True
    )
    assert summary.contact_counters is not None
    counters = summary.contact_counters
    assert counters.pending + counters.dispatched + counters.completed == 3
    contacts = await sdk.campaigns.campaign_controller_get_campaign_v_2_contacts(created["id"])
    assert len(contacts.results) == 3
    assert {c.id for c in contacts.results} <= set(found.calls)


async def test_sdk_duplicates_a_campaign(sdk):
    source = await sdk.campaigns.campaign_controller_create(
        name="Original", assistant_id="asst_1", phone_number_id="pn_1", customers=customers(2)
    )
    copy = await sdk.campaigns.campaign_controller_create(
        name="Copy", duplicate_from_campaign_id=source.id
    )
    assert copy.id != source.id
    assert copy.assistant_id == "asst_1"
    assert [c.number for c in copy.customers] == [c.number for c in source.customers]
    copy_v2 = await sdk.campaigns.campaign_controller_create_v_2(
        name="Copy v2", duplicate_from_campaign_id=source.id, max_concurrency=2.0
    )
    assert copy_v2.max_concurrency == 2
    with pytest.raises(ApiError) as raised:
        await sdk.campaigns.campaign_controller_create(
            name="Nope", duplicate_from_campaign_id=new_id()
        )
    assert raised.value.status_code == 404
