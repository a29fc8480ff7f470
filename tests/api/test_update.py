"""PATCH /campaigns/{id}: rename, configuration changes while scheduled, and ending."""

from __future__ import annotations

import pytest

from tests.api.helpers import (
    assert_counters_add_up,
    assert_error,
    assert_validation_error,
    call_rows,
    counters,
    create,
    execute,
    fetch,
    row_counts,
    start_campaign,
)
from tests.conftest import campaign_body, new_id

USER_CANCELLED = "scheduled-call-deleted"


async def patch(client, org, campaign_id: str, body: object):
    return await client.patch(f"/campaigns/{campaign_id}", json=body, headers=org.headers)


async def get(client, org, campaign_id: str) -> dict:
    response = await client.get(f"/campaigns/{campaign_id}", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def dial_plan() -> list[dict]:
    return [
        {"phoneNumberId": "pn_east", "customers": [{"number": "+12125550100"}]},
        {
            "phoneNumberId": "pn_west",
            "customers": [{"number": "+14155550101"}, {"number": "+14155550102"}],
        },
    ]


async def test_empty_patch_changes_nothing(client, org, clock):
    created = await create(client, org)
    clock.advance(minutes=5)
    response = await patch(client, org, created["id"], {})
    assert response.status_code == 200
    assert response.json() == created
    assert await get(client, org, created["id"]) == created


async def test_patch_of_nulls_changes_nothing(client, org, clock):
    created = await create(client, org)
    clock.advance(minutes=5)
    response = await patch(client, org, created["id"], {"name": None, "status": None})
    assert response.json() == created


async def test_rename(client, org, clock):
    created = await create(client, org)
    clock.advance(minutes=5)
    response = await patch(client, org, created["id"], {"name": "Summer outreach"})
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "Summer outreach"
    assert updated["updatedAt"] == "2026-06-01T12:05:00.000Z"
    assert updated["createdAt"] == created["createdAt"]
    assert {k: v for k, v in updated.items() if k not in ("name", "updatedAt")} == {
        k: v for k, v in created.items() if k not in ("name", "updatedAt")
    }
    assert await get(client, org, created["id"]) == updated


async def test_rename_while_in_progress_is_allowed(client, org, engine):
    created = await create(client, org)
    await start_campaign(engine, created["id"])
    response = await patch(client, org, created["id"], {"name": "still running"})
    assert response.status_code == 200
    assert response.json()["name"] == "still running"
    assert response.json()["status"] == "in-progress"


TARGET_SWITCHES = [
    ({"workflowId": "wf_2"}, {"workflowId": "wf_2"}),
    ({"squadId": "sq_2"}, {"squadId": "sq_2"}),
    ({"assistantId": "asst_2"}, {"assistantId": "asst_2"}),
    ({"assistantId": None, "squadId": "sq_3"}, {"squadId": "sq_3"}),
]


async def test_switching_the_target_clears_the_others(client, org, subtests):
    for change, expected in TARGET_SWITCHES:
        with subtests.test(str(change)):
            created = await create(client, org)
            response = await patch(client, org, created["id"], change)
            assert response.status_code == 200, response.text
            updated = response.json()
            targets = {
                k: updated[k] for k in ("assistantId", "workflowId", "squadId") if k in updated
            }
            assert targets == expected
            assert await get(client, org, created["id"]) == updated


async def test_two_targets_in_a_patch_are_refused(client, org):
    created = await create(client, org)
    response = await patch(client, org, created["id"], {"workflowId": "w", "squadId": "s"})
    assert_validation_error(response, "only one of assistantId, workflowId or squadId")
    assert await get(client, org, created["id"]) == created


async def test_change_schedule_plan(client, org):
    created = await create(client, org, schedulePlan={"earliestAt": "2030-01-01T00:00:00Z"})
    plan = {"earliestAt": "2030-02-01T09:00:00+01:00", "latestAt": "2030-02-01T17:00:00+01:00"}
    response = await patch(client, org, created["id"], {"schedulePlan": plan})
    assert response.json()["schedulePlan"] == {
        "earliestAt": "2030-02-01T08:00:00.000Z",
        "latestAt": "2030-02-01T16:00:00.000Z",
    }
    response = await patch(
        client, org, created["id"], {"schedulePlan": {"earliestAt": "2030-03-01T00:00:00Z"}}
    )
    assert response.json()["schedulePlan"] == {"earliestAt": "2030-03-01T00:00:00.000Z"}


async def test_invalid_schedule_plan_in_a_patch(client, org):
    created = await create(client, org)
    response = await patch(
        client,
        org,
        created["id"],
        {"schedulePlan": {"earliestAt": "2030-01-02T00:00:00Z", "latestAt": "2030-01-01T00:00Z"}},
    )
    assert_validation_error(response, "latestAt must be after earliestAt")


async def test_change_max_concurrency(client, make_org):
    org = await make_org(concurrency_limit=8)
    created = await create(client, org)
    response = await patch(client, org, created["id"], {"maxConcurrency": 3.0})
    assert response.status_code == 200
    assert response.json()["maxConcurrency"] == 3
    assert (await get(client, org, created["id"]))["maxConcurrency"] == 3


async def test_invalid_max_concurrency_in_a_patch(client, make_org, subtests):
    org = await make_org(concurrency_limit=8)
    created = await create(client, org)
    cases = {
        9: "maxConcurrency 9 exceeds your organization's concurrency limit of 8",
        0: "maxConcurrency must be greater than or equal to 1",
        501: "maxConcurrency must be less than or equal to 500",
        1.5: "maxConcurrency must be an integer number, not 1.5",
    }
    for value, needle in cases.items():
        with subtests.test(str(value)):
            response = await patch(client, org, created["id"], {"maxConcurrency": value})
            assert_error(response, 400, needle)
            assert await get(client, org, created["id"]) == created


async def test_phone_number_flattens_a_dial_plan(client, org, engine):
    created = await create(
        client, org, campaign_body(phoneNumberId=..., customers=..., dialPlan=dial_plan())
    )
    response = await patch(client, org, created["id"], {"phoneNumberId": "pn_main"})
    assert response.status_code == 200, response.text
    updated = response.json()

    assert updated["phoneNumberId"] == "pn_main"
    assert "dialPlan" not in updated
    assert [c["number"] for c in updated["customers"]] == [
        "+12125550100",
        "+14155550101",
        "+14155550102",
    ]
    assert set(updated["calls"]) == set(created["calls"])
    assert {call["phoneNumberId"] for call in updated["calls"].values()} == {"pn_main"}
    rows = await call_rows(engine, created["id"])
    assert [(r["position"], r["dial_plan_index"], r["phone_number_id"]) for r in rows] == [
        (0, None, "pn_main"),
        (1, None, "pn_main"),
        (2, None, "pn_main"),
    ]
    assert await get(client, org, created["id"]) == updated


async def test_phone_number_change_moves_every_call(client, org):
    created = await create(client, org, campaign_body(3))
    updated = (await patch(client, org, created["id"], {"phoneNumberId": "pn_2"})).json()
    assert updated["phoneNumberId"] == "pn_2"
    assert {call["phoneNumberId"] for call in updated["calls"].values()} == {"pn_2"}
    assert updated["customers"] == created["customers"]


async def test_dial_plan_replaces_the_customers_and_their_calls(client, org, engine):
    created = await create(client, org, campaign_body(3))
    response = await patch(client, org, created["id"], {"dialPlan": dial_plan()})
    assert response.status_code == 200, response.text
    updated = response.json()

    assert "customers" not in updated
    assert "phoneNumberId" not in updated
    assert [e["phoneNumberId"] for e in updated["dialPlan"]] == ["pn_east", "pn_west"]
    assert len(updated["calls"]) == 3
    assert not set(updated["calls"]) & set(created["calls"])
    calls = sorted(updated["calls"].values(), key=lambda call: call["position"])
    assert [(c["position"], c["phoneNumberId"], c["customer"]["number"]) for c in calls] == [
        (0, "pn_east", "+12125550100"),
        (1, "pn_west", "+14155550101"),
        (2, "pn_west", "+14155550102"),
    ]
    rows = await call_rows(engine, created["id"])
    assert {r["id"] for r in rows} == set(updated["calls"])
    assert (await row_counts(engine))["calls"] == 3
    assert updated["callsCounterScheduled"] == 3
    assert_counters_add_up(updated)
    assert await get(client, org, created["id"]) == updated


async def test_smaller_dial_plan_shrinks_the_campaign(client, org, engine):
    created = await create(client, org, campaign_body(5))
    plan = [{"phoneNumberId": "pn_x", "customers": [{"number": "+14155550199"}]}]
    updated = (await patch(client, org, created["id"], {"dialPlan": plan})).json()
    assert len(updated["calls"]) == 1
    assert updated["callsCounterScheduled"] == 1
    assert (await row_counts(engine))["calls"] == 1


INVALID_PATCHES = {
    "phone and dial plan": (
        {"phoneNumberId": "pn", "dialPlan": [{"phoneNumberId": "p", "customers": []}]},
        "phoneNumberId and dialPlan are mutually exclusive",
    ),
    "no customers": (
        {"dialPlan": [{"phoneNumberId": "p", "customers": []}]},
        "a campaign needs at least 1 customer",
    ),
    "too many customers": (
        {"dialPlan": [{"phoneNumberId": "p", "customers": [{"number": "+1415555"}] * 10_001}]},
        "a campaign can have at most 10000 customers (got 10001)",
    ),
    "bad number": (
        {"dialPlan": [{"phoneNumberId": "p", "customers": [{"number": "555"}]}]},
        "dialPlan.0.customers.0.number must be a valid E.164 phone number",
    ),
    "customers": (
        {"customers": [{"number": "+14155550100"}]},
        "property customers should not exist",
    ),
    "orgId": ({"orgId": new_id()}, "property orgId should not exist"),
    "empty name": ({"name": ""}, "name must have at least 1 character"),
}


async def test_invalid_patches(client, org, engine, subtests):
    created = await create(client, org)
    for case, (body, needle) in INVALID_PATCHES.items():
        with subtests.test(case):
            before, stored = await row_counts(engine), await get(client, org, created["id"])
            assert_validation_error(await patch(client, org, created["id"], body), needle)
            assert await get(client, org, created["id"]) == stored
            assert await row_counts(engine) == before


@pytest.mark.parametrize("status", ["ended", "cancelled"])
async def test_ending_a_scheduled_campaign(client, org, engine, clock, status):
    created = await create(client, org, campaign_body(4))
    clock.advance(minutes=1)
    response = await patch(client, org, created["id"], {"status": status})
    assert response.status_code == 200, response.text
    ended = response.json()

    assert ended["status"] == "ended"
    assert ended["endedReason"] == "campaign.scheduled.ended-by-user"
    assert ended["updatedAt"] == "2026-06-01T12:01:00.000Z"
    for call in ended["calls"].values():
        assert call["status"] == "ended"
        assert call["endedReason"] == USER_CANCELLED
        assert call["endedAt"] == "2026-06-01T12:01:00.000Z"
        assert "startedAt" not in call
    assert counters(ended) == {
        "scheduled": 0,
        "queued": 0,
        "inProgress": 0,
        "ended": 4,
        "endedVoicemail": 0,
    }
    assert_counters_add_up(ended)
    events = await fetch(
        engine,
        "SELECT call_id::text AS call_id, from_status, to_status, ended_reason, source"
        " FROM call_events WHERE campaign_id = :c",
        c=created["id"],
    )
    assert sorted(e["call_id"] for e in events) == sorted(created["calls"])
    assert {(e["from_status"], e["to_status"], e["ended_reason"]) for e in events} == {
        ("scheduled", "ended", USER_CANCELLED)
    }
    assert await get(client, org, created["id"]) == ended


async def test_ending_an_in_progress_campaign_lets_placed_calls_finish(client, org, engine):
    created = await create(client, org, campaign_body(5))
    await start_campaign(
        engine, created["id"], call_statuses={0: "in-progress", 1: "in-progress", 2: "queued"}
    )
    response = await patch(client, org, created["id"], {"status": "ended"})
    assert response.status_code == 200, response.text
    ended = response.json()

    assert ended["status"] == "ended"
    assert ended["endedReason"] == "campaign.in-progress.ended-by-user"
    by_position = {call["position"]: call for call in ended["calls"].values()}
    assert [by_position[p]["status"] for p in range(5)] == [
        "in-progress",
        "in-progress",
        "queued",
        "ended",
        "ended",
    ]
    assert all("endedReason" not in by_position[p] for p in (0, 1, 2))
    assert {by_position[p]["endedReason"] for p in (3, 4)} == {USER_CANCELLED}
    assert counters(ended) == {
        "scheduled": 0,
        "queued": 1,
        "inProgress": 2,
        "ended": 2,
        "endedVoicemail": 0,
    }
    assert_counters_add_up(ended)
    events = await fetch(
        engine,
        "SELECT call_id::text AS id FROM call_events WHERE campaign_id = :c",
        c=created["id"],
    )
    assert sorted(e["id"] for e in events) == sorted(by_position[p]["id"] for p in (3, 4))


async def test_counters_follow_call_statuses(client, org, engine):
    created = await create(client, org, campaign_body(6))
    await start_campaign(
        engine,
        created["id"],
        call_statuses={0: "queued", 1: "ringing", 2: "in-progress", 3: "forwarding", 4: "ended"},
    )
    await execute(
        engine,
        "UPDATE calls SET ended_reason = 'voicemail' WHERE campaign_id = :c AND position = 4",
        c=created["id"],
    )
    campaign = await get(client, org, created["id"])
    assert counters(campaign) == {
        "scheduled": 1,
        "queued": 1,
        "inProgress": 3,
        "ended": 1,
        "endedVoicemail": 1,
    }
    assert_counters_add_up(campaign)


FROZEN_WHILE_RUNNING = [
    {"assistantId": "asst_2"},
    {"workflowId": "wf_2"},
    {"phoneNumberId": "pn_2"},
    {"dialPlan": [{"phoneNumberId": "p", "customers": [{"number": "+14155550100"}]}]},
    {"schedulePlan": {"earliestAt": "2030-01-01T00:00:00Z"}},
    {"maxConcurrency": 2},
    {"maxConcurrency": 2, "status": "ended"},
    {"name": "ok", "phoneNumberId": "pn_2"},
]


async def test_configuration_is_frozen_once_in_progress(client, org, engine, subtests):
    created = await create(client, org)
    await start_campaign(engine, created["id"])
    before = await get(client, org, created["id"])
    for change in FROZEN_WHILE_RUNNING:
        with subtests.test(str(change)):
            response = await patch(client, org, created["id"], change)
            assert_error(
                response, 400, "campaign is in-progress", "only be updated while it is scheduled"
            )
            assert await get(client, org, created["id"]) == before


async def test_an_ended_campaign_cannot_be_changed(client, org, clock, subtests):
    created = await create(client, org)
    ended = (await patch(client, org, created["id"], {"status": "ended"})).json()
    clock.advance(minutes=1)
    changes = [
        {"name": "again"},
        {"status": "ended"},
        {"status": "cancelled"},
        {"assistantId": "asst_2"},
        {"maxConcurrency": 2},
        {"schedulePlan": {"earliestAt": "2030-01-01T00:00:00Z"}},
    ]
    for change in changes:
        with subtests.test(str(change)):
            response = await patch(client, org, created["id"], change)
            assert_error(response, 400, "ended")
            assert await get(client, org, created["id"]) == ended


async def test_empty_patch_on_an_ended_campaign_is_still_fine(client, org):
    created = await create(client, org)
    ended = (await patch(client, org, created["id"], {"status": "ended"})).json()
    response = await patch(client, org, created["id"], {})
    assert response.status_code == 200
    assert response.json() == ended


async def test_a_campaign_the_dispatcher_finished_cannot_be_ended_again(client, org, engine):
    created = await create(client, org)
    await execute(
        engine,
        "UPDATE campaigns SET status = 'ended', ended_reason = 'campaign.ended.success'"
        " WHERE id = :c",
        c=created["id"],
    )
    response = await patch(client, org, created["id"], {"status": "cancelled"})
    assert_error(response, 400, "ended")
    assert (await get(client, org, created["id"]))["endedReason"] == "campaign.ended.success"


async def test_invalid_status_value(client, org, subtests):
    created = await create(client, org)
    for status in ("paused", "scheduled", "in-progress", "archived", "ENDED", 1, True):
        with subtests.test(repr(status)):
            response = await patch(client, org, created["id"], {"status": status})
            assert_validation_error(response, "status must be 'ended' or 'cancelled'")
            assert await get(client, org, created["id"]) == created


async def test_patch_of_an_unknown_campaign_is_404(client, org):
    for campaign_id in (new_id(), "nope"):
        response = await patch(client, org, campaign_id, {"name": "x"})
        assert_error(response, 404, f"campaign {campaign_id} not found")
