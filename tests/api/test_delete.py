"""DELETE /campaigns/{id}: ends a running campaign, archives it, answers 200 with the body."""

from __future__ import annotations

from tests.api.helpers import (
    assert_counters_add_up,
    assert_error,
    create,
    execute,
    fetch,
    row_counts,
    start_campaign,
)
from tests.conftest import campaign_body, new_id


async def delete(client, org, campaign_id: str):
    return await client.delete(f"/campaigns/{campaign_id}", headers=org.headers)


async def test_delete_answers_200_with_the_campaign(client, org, clock):
    created = await create(client, org, campaign_body(3))
    clock.advance(minutes=2)
    response = await delete(client, org, created["id"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    deleted = response.json()
    assert deleted["id"] == created["id"]
    assert deleted["name"] == created["name"]
    assert deleted["customers"] == created["customers"]
    assert deleted["updatedAt"] == "2026-06-01T12:02:00.000Z"


async def test_deleting_a_scheduled_campaign_ends_it_first(client, org, engine):
    created = await create(client, org, campaign_body(3))
    deleted = (await delete(client, org, created["id"])).json()

    assert deleted["status"] == "ended"
    assert deleted["endedReason"] == "campaign.scheduled.ended-by-user"
    assert {c["status"] for c in deleted["calls"].values()} == {"ended"}
    assert {c["endedReason"] for c in deleted["calls"].values()} == {"scheduled-call-deleted"}
    assert deleted["callsCounterEnded"] == 3
    assert deleted["callsCounterScheduled"] == 0
    assert_counters_add_up(deleted)
    assert (await row_counts(engine))["call_events"] == 3


async def test_deleting_an_in_progress_campaign(client, org, engine):
    created = await create(client, org, campaign_body(3))
    await start_campaign(engine, created["id"], call_statuses={0: "in-progress"})
    deleted = (await delete(client, org, created["id"])).json()
    assert deleted["endedReason"] == "campaign.in-progress.ended-by-user"
    assert deleted["callsCounterInProgress"] == 1
    assert deleted["callsCounterEnded"] == 2


async def test_deleting_an_ended_campaign_keeps_its_ending(client, org, engine):
    created = await create(client, org)
    await execute(
        engine,
        "UPDATE campaigns SET status = 'ended', ended_reason = 'campaign.ended.success'"
        " WHERE id = :c",
        c=created["id"],
    )
    deleted = (await delete(client, org, created["id"])).json()
    assert deleted["status"] == "ended"
    assert deleted["endedReason"] == "campaign.ended.success"
    assert (await row_counts(engine))["call_events"] == 0


async def test_a_deleted_campaign_is_gone_from_get_and_list(client, org):
    kept = await create(client, org, name="kept")
    gone = await create(client, org, name="gone")
    assert (await delete(client, org, gone["id"])).status_code == 200

    assert_error(await client.get(f"/campaigns/{gone['id']}", headers=org.headers), 404)
    listed = (await client.get("/campaigns", headers=org.headers)).json()
    assert [c["id"] for c in listed["results"]] == [kept["id"]]
    assert listed["metadata"]["totalItems"] == 1
    by_id = await client.get("/campaigns", params={"id": gone["id"]}, headers=org.headers)
    assert by_id.json()["results"] == []
    for status in ("ended", "cancelled", "archived"):
        filtered = await client.get("/campaigns", params={"status": status}, headers=org.headers)
        assert filtered.json()["results"] == [], status


async def test_a_deleted_campaign_keeps_its_rows(client, org, engine, clock):
    created = await create(client, org, campaign_body(4))
    clock.advance(minutes=1)
    await delete(client, org, created["id"])

    rows = await fetch(
        engine, "SELECT status, archived_at FROM campaigns WHERE id = :c", c=created["id"]
    )
    assert len(rows) == 1
    assert rows[0]["status"] == "ended"
    assert rows[0]["archived_at"] is not None
    assert await row_counts(engine) == {"campaigns": 1, "calls": 4, "call_events": 4}


async def test_a_deleted_campaign_answers_404_everywhere(client, org, subtests):
    created = await create(client, org)
    await delete(client, org, created["id"])
    for method, suffix, body in (
        ("GET", "", None),
        ("DELETE", "", None),
        ("PATCH", "", {"name": "x"}),
        ("PATCH", "", {}),
        ("GET", "/calls", None),
    ):
        with subtests.test(f"{method} {suffix} {body}"):
            response = await client.request(
                method, f"/campaigns/{created['id']}{suffix}", json=body, headers=org.headers
            )
            assert_error(response, 404, "not found")


async def test_a_deleted_campaigns_calls_answer_404(client, org):
    created = await create(client, org)
    await delete(client, org, created["id"])
    call_id = next(iter(created["calls"]))
    response = await client.get(f"/campaigns/{created['id']}/calls/{call_id}", headers=org.headers)
    assert_error(response, 404)


async def test_delete_of_an_unknown_campaign_is_404(client, org):
    for campaign_id in (new_id(), "not-a-uuid"):
        assert_error(await delete(client, org, campaign_id), 404, "not found")
