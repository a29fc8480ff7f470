"""A campaign's history: every lifecycle move with its cause, who made it and when."""

from __future__ import annotations

from datetime import timedelta

from campaign_service.timeutil import iso_z
from tests.conftest import campaign_body
from tests.dispatcher.conftest import drive, scalar


async def _history(client, org, campaign_id):
    response = await client.get(f"/campaigns/{campaign_id}/events", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _moves(history):
    return [
        (e.get("fromStatus"), e["toStatus"], e["cause"], e["source"], e.get("endedReason"))
        for e in history["results"]
    ]


async def test_a_campaign_that_runs_to_its_end_shows_each_move(
    client, org, clock, sessions, make_dispatcher, simulated
):
    created_at = clock.now
    earliest = created_at + timedelta(minutes=5)
    body = campaign_body(n=3, schedulePlan={"earliestAt": iso_z(earliest)})
    campaign = (await client.post("/campaigns", json=body, headers=org.headers)).json()
    provider = simulated()
    dispatcher = await make_dispatcher(provider)
    clock.advance(minutes=5)

    async def ended() -> bool:
        status = await scalar(
            sessions, "SELECT status FROM campaigns WHERE id = :id", id=campaign["id"]
        )
        return status == "ended"

    await drive(dispatcher, clock, ended, provider=provider)
    history = await _history(client, org, campaign["id"])
    assert _moves(history) == [
        (None, "scheduled", "created", "user", None),
        ("scheduled", "in-progress", "earliest-at-reached", "engine", None),
        ("in-progress", "ended", "all-calls-ended", "engine", "campaign.ended.success"),
    ]
    results = history["results"]
    assert results[0]["createdAt"] == iso_z(created_at)
    assert results[1]["createdAt"] == iso_z(earliest)
    final = (await client.get(f"/campaigns/{campaign['id']}", headers=org.headers)).json()
    assert results[2]["createdAt"] == final["updatedAt"]
    assert results[2]["detail"] == "Every call has ended."
    assert history["metadata"]["totalItems"] == 3


async def test_a_campaign_ended_then_deleted_by_the_user(
    client, org, clock, make_dispatcher, simulated
):
    campaign = (
        await client.post("/campaigns", json=campaign_body(n=4), headers=org.headers)
    ).json()
    dispatcher = await make_dispatcher(simulated())
    await dispatcher.tick()  # starts at once (no schedulePlan) and places calls
    clock.advance(seconds=3)
    patch = await client.patch(
        f"/campaigns/{campaign['id']}", json={"status": "cancelled"}, headers=org.headers
    )
    assert patch.status_code == 200
    ended_at = clock.now
    history = await _history(client, org, campaign["id"])
    assert _moves(history) == [
        (None, "scheduled", "created", "user", None),
        ("scheduled", "in-progress", "started-at-once", "engine", None),
        ("in-progress", "ended", "ended-by-user", "user", "campaign.in-progress.ended-by-user"),
    ]
    assert history["results"][2]["createdAt"] == iso_z(ended_at)

    # A second end is refused and writes no history.
    again = await client.patch(
        f"/campaigns/{campaign['id']}", json={"status": "ended"}, headers=org.headers
    )
    assert again.status_code == 400
    assert len((await _history(client, org, campaign["id"]))["results"]) == 3

    # Deleted: gone from the API (its history too), but the move is recorded.
    assert (
        await client.delete(f"/campaigns/{campaign['id']}", headers=org.headers)
    ).status_code == 200
    gone = await client.get(f"/campaigns/{campaign['id']}/events", headers=org.headers)
    assert gone.status_code == 404


async def test_deleting_a_scheduled_campaign_records_the_end_and_the_archive(client, org, sessions):
    campaign = (
        await client.post("/campaigns", json=campaign_body(n=2), headers=org.headers)
    ).json()
    assert (
        await client.delete(f"/campaigns/{campaign['id']}", headers=org.headers)
    ).status_code == 200
    moves = await scalar(
        sessions,
        "SELECT string_agg(coalesce(from_stage, '-') || '>' || to_stage || ':' || cause, ' '"
        " ORDER BY id) FROM campaign_events WHERE campaign_id = :id",
        id=campaign["id"],
    )
    assert moves == (
        "->scheduled:created scheduled>ended:ended-by-user ended>archived:deleted-by-user"
    )


async def test_history_is_paginated_and_private(client, org, make_org):
    campaign = (
        await client.post("/campaigns", json=campaign_body(n=1), headers=org.headers)
    ).json()
    await client.patch(
        f"/campaigns/{campaign['id']}", json={"status": "ended"}, headers=org.headers
    )
    page = await client.get(
        f"/campaigns/{campaign['id']}/events?limit=1&page=2", headers=org.headers
    )
    body = page.json()
    assert [e["toStatus"] for e in body["results"]] == ["ended"]
    assert body["metadata"] == {
        "itemsPerPage": 1,
        "totalItems": 2,
        "currentPage": 2,
        "totalPages": 2,
        "hasNextPage": False,
        "sortOrder": "ASC",
    }
    other = await make_org(name="Other")
    foreign = await client.get(f"/campaigns/{campaign['id']}/events", headers=other.headers)
    assert foreign.status_code == 404
