"""POST /campaigns: what a created campaign looks like and what is stored with it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from tests.api.helpers import assert_counters_add_up, assert_error, call_rows, create, row_counts
from tests.conftest import campaign_body

ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def customer(i: int, **extra: object) -> dict[str, object]:
    return {"number": f"+1212555{i:04d}", "name": f"Dial plan {i}", **extra}


async def test_create_with_phone_number_and_customers(client, org, engine):
    body = campaign_body(3)
    response = await client.post("/campaigns", json=body, headers=org.headers)

    assert response.status_code == 201, response.text
    campaign = response.json()
    assert uuid.UUID(campaign["id"])
    assert campaign["orgId"] == org.org_id
    assert campaign["status"] == "scheduled"
    assert "endedReason" not in campaign
    assert campaign["name"] == "Spring outreach"
    assert campaign["assistantId"] == "asst_1"
    assert campaign["phoneNumberId"] == "pn_1"
    assert "dialPlan" not in campaign
    assert "workflowId" not in campaign
    assert "squadId" not in campaign
    sent = body["customers"]
    assert [{k: c[k] for k in ("number", "name")} for c in campaign["customers"]] == sent
    assert all(c["numberE164CheckEnabled"] is True for c in campaign["customers"])

    calls = campaign["calls"]
    assert len(calls) == 3
    for call_id, call in calls.items():
        assert call["id"] == call_id
        assert call["campaignId"] == campaign["id"]
        assert call["status"] == "scheduled"
        assert call["phoneNumberId"] == "pn_1"
        assert "endedReason" not in call
        assert "startedAt" not in call
    by_position = sorted(calls.values(), key=lambda call: call["position"])
    assert [call["position"] for call in by_position] == [0, 1, 2]
    assert [call["customer"]["number"] for call in by_position] == [c["number"] for c in sent]

    rows = await call_rows(engine, campaign["id"])
    assert {row["id"] for row in rows} == set(calls)
    assert [row["customer"]["name"] for row in rows] == [c["name"] for c in sent]
    assert await row_counts(engine) == {"campaigns": 1, "calls": 3, "call_events": 0}


async def test_counters_of_a_new_campaign(client, org):
    campaign = await create(client, org, campaign_body(4))

    assert campaign["callsCounterScheduled"] == 4
    assert campaign["callsCounterQueued"] == 0
    assert campaign["callsCounterInProgress"] == 0
    assert campaign["callsCounterEnded"] == 0
    assert campaign["callsCounterEndedVoicemail"] == 0
    assert_counters_add_up(campaign)


async def test_create_with_dial_plan(client, org, engine):
    dial_plan = [
        {"phoneNumberId": "pn_east", "customers": [customer(0), customer(1)]},
        {"phoneNumberId": "pn_west", "customers": [customer(2)]},
        {"phoneNumberId": "pn_south", "customers": [customer(3), customer(4)]},
    ]
    body = campaign_body(phoneNumberId=..., customers=..., dialPlan=dial_plan)

    campaign = await create(client, org, body)

    assert "customers" not in campaign
    assert "phoneNumberId" not in campaign
    assert [entry["phoneNumberId"] for entry in campaign["dialPlan"]] == [
        "pn_east",
        "pn_west",
        "pn_south",
    ]
    for echoed, sent in zip(campaign["dialPlan"], dial_plan, strict=True):
        assert [c["number"] for c in echoed["customers"]] == [
            c["number"] for c in sent["customers"]
        ]
        assert [c["name"] for c in echoed["customers"]] == [c["name"] for c in sent["customers"]]
    calls = sorted(campaign["calls"].values(), key=lambda call: call["position"])
    assert [call["position"] for call in calls] == [0, 1, 2, 3, 4]
    assert [call["customer"]["number"] for call in calls] == [
        customer(i)["number"] for i in range(5)
    ]
    assert [call["phoneNumberId"] for call in calls] == [
        "pn_east",
        "pn_east",
        "pn_west",
        "pn_south",
        "pn_south",
    ]
    assert campaign["callsCounterScheduled"] == 5
    assert_counters_add_up(campaign)
    rows = await call_rows(engine, campaign["id"])
    assert [row["dial_plan_index"] for row in rows] == [0, 0, 1, 2, 2]


async def test_dial_plan_round_trips_through_get(client, org):
    dial_plan = [
        {"phoneNumberId": "pn_a", "customers": [customer(0)]},
        {"phoneNumberId": "pn_b", "customers": [customer(1), customer(2)]},
    ]
    created = await create(
        client, org, campaign_body(phoneNumberId=..., customers=..., dialPlan=dial_plan)
    )
    got = await client.get(f"/campaigns/{created['id']}", headers=org.headers)
    assert got.json() == created


async def test_targets_workflow_or_squad(client, org):
    workflow = await create(client, org, campaign_body(assistantId=..., workflowId="wf_1"))
    squad = await create(client, org, campaign_body(assistantId=..., squadId="sq_1"))

    assert workflow["workflowId"] == "wf_1"
    assert "assistantId" not in workflow
    assert squad["squadId"] == "sq_1"
    assert "assistantId" not in squad


async def test_max_concurrency_defaults_to_10(client, make_org):
    roomy = await make_org(concurrency_limit=50)
    campaign = await create(client, roomy)
    assert campaign["maxConcurrency"] == 10


async def test_max_concurrency_defaults_to_a_lower_org_limit(client, make_org):
    small = await make_org(concurrency_limit=3)
    campaign = await create(client, small)
    assert campaign["maxConcurrency"] == 3


async def test_explicit_max_concurrency_up_to_the_org_limit(client, make_org):
    small = await make_org(concurrency_limit=3)
    campaign = await create(client, small, maxConcurrency=3)
    assert campaign["maxConcurrency"] == 3


async def test_max_concurrency_above_the_org_limit_is_refused(client, make_org, engine):
    small = await make_org(concurrency_limit=3)
    response = await client.post(
        "/campaigns", json=campaign_body(maxConcurrency=4), headers=small.headers
    )
    assert_error(response, 400, "maxConcurrency 4", "concurrency limit of 3")
    assert await row_counts(engine) == {"campaigns": 0, "calls": 0, "call_events": 0}


async def test_integral_float_max_concurrency_is_accepted_as_an_integer(client, org):
    response = await client.post(
        "/campaigns",
        content=b'{"name":"n","assistantId":"a","phoneNumberId":"p",'
        b'"customers":[{"number":"+14155550100"}],"maxConcurrency":5.0}',
        headers={**org.headers, "content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert re.search(r'"maxConcurrency":5[,}]', response.text), response.text
    assert response.json()["maxConcurrency"] == 5


async def test_timestamps_are_iso_utc_with_milliseconds(client, org, clock):
    clock.now = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    campaign = await create(client, org)

    assert ISO_MS_Z.match(campaign["createdAt"])
    assert campaign["createdAt"] == "2026-06-01T12:00:00.123Z"
    assert campaign["updatedAt"] == campaign["createdAt"]
    for call in campaign["calls"].values():
        assert call["createdAt"] == "2026-06-01T12:00:00.123Z"
        assert ISO_MS_Z.match(call["updatedAt"])


async def test_schedule_plan_is_echoed_in_utc(client, org):
    plan = {"earliestAt": "2030-01-15T15:00:00Z", "latestAt": "2030-01-15T23:30:00.5+02:00"}
    campaign = await create(client, org, schedulePlan=plan)
    assert campaign["schedulePlan"] == {
        "earliestAt": "2030-01-15T15:00:00.000Z",
        "latestAt": "2030-01-15T21:30:00.500Z",
    }
    assert campaign["status"] == "scheduled"


async def test_schedule_plan_without_latest_at(client, org):
    campaign = await create(client, org, schedulePlan={"earliestAt": "2030-01-15T15:00:00"})
    assert campaign["schedulePlan"] == {"earliestAt": "2030-01-15T15:00:00.000Z"}


async def test_no_schedule_plan_is_not_echoed(client, org):
    campaign = await create(client, org)
    assert "schedulePlan" not in campaign


async def test_extra_configuration_is_echoed_as_given(client, org):
    extra = {
        "assistantOverrides": {"variableValues": {"plan": "gold", "note": None}, "x": [1, 2]},
        "squadOverrides": {"variableValues": {"tier": 2}},
        "server": {
            "url": "https://hooks.example.com/vapi",
            "timeoutSeconds": 5,
            "headers": {"X-Token": "t"},
        },
        "serverMessages": ["campaign.started", "contact.completed", "campaign.ended"],
        "predialPlan": {"enabled": True},
    }
    campaign = await create(client, org, **extra)
    for key, value in extra.items():
        assert campaign[key] == value, key


async def test_per_customer_fields_are_stored_on_the_call(client, org):
    person = {
        "number": "+14155550100",
        "name": "Ada",
        "email": "ada@example.com",
        "externalId": "crm-1",
        "extension": "123",
        "assistantOverrides": {"variableValues": {"first": "Ada"}},
    }
    campaign = await create(client, org, customers=[person])
    (call,) = campaign["calls"].values()
    assert {k: call["customer"][k] for k in person} == person
    assert {k: campaign["customers"][0][k] for k in person} == person


async def test_each_create_makes_a_new_campaign(client, org, engine):
    first = await create(client, org)
    second = await create(client, org)
    assert first["id"] != second["id"]
    assert not set(first["calls"]) & set(second["calls"])
    assert await row_counts(engine) == {"campaigns": 2, "calls": 4, "call_events": 0}
