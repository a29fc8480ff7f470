"""v2 counters of campaigns the engine has worked on: retried contacts (counted once, by their
latest attempt), a contact that talked on an earlier attempt, voicemail, a user-ended campaign
whose pending calls were skipped. The list (rendered by PostgreSQL), GET, the progress report
and the summaries built in Python give the numbers a person would count."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select, text

from campaign_service.calls import repository as calls
from campaign_service.db.models import Campaign
from campaign_service.db.session import unit_of_work
from campaign_service.readmodel.campaigns import summaries
from tests.conftest import campaign_body
from tests.counters_oracle import assert_counters_hold
from tests.dispatcher.scripted import ScriptedNetwork, answer, end_calls

RETRY = {
    "retryOn": ["no-answer", "busy"],
    "maxAttempts": 3,
    "delay": {"type": "fixed", "seconds": 3600},
}
LATER = {"earliestAt": "2100-01-01T00:00:00Z"}


async def _create(client, org, n, **overrides) -> dict[str, Any]:
    response = await client.post(
        "/campaigns", json=campaign_body(n, **overrides), headers=org.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def _dialed(network, campaign) -> list[uuid.UUID]:
    """The calls of the campaign the network was asked to place, in order."""
    return [d.call_id for d in network.dials if str(d.campaign_id) == campaign["id"]]


async def _counters(client, org, sessions, campaigns) -> dict[str, dict[str, Any]]:
    """Each campaign's counters, checked equal in every place that shows them."""
    params = {"includeCounters": "true", "limit": 100}
    listed = await client.get("/v2/campaign", params=params, headers=org.headers)
    assert listed.status_code == 200, listed.text
    by_id = {c["id"]: c for c in listed.json()["results"]}
    ids = [c["id"] for c in campaigns]
    async with sessions() as session:
        found = await session.scalars(
            select(Campaign).where(Campaign.id.in_([uuid.UUID(i) for i in ids]))
        )
        built = {s["id"]: s for s in await summaries(session, found.all(), counters=True)}
        await assert_counters_hold(session)
    out = {}
    for campaign_id in ids:
        got = await client.get(
            f"/v2/campaign/{campaign_id}", params={"includeCounters": "true"}, headers=org.headers
        )
        assert got.json() == by_id[campaign_id] == built[campaign_id]
        progress = await client.get(f"/campaigns/{campaign_id}/progress", headers=org.headers)
        assert progress.json()["contacts"] == got.json()["contactCounters"]
        out[campaign_id] = {**got.json()["contactCounters"], **got.json()["callMetrics"]}
    return out


def _expect(**values: int) -> dict[str, int]:
    keys = ("pending", "dispatched", "completed", "failed", "skipped", "predialFailed")
    return dict.fromkeys((*keys, "dialed", "connected"), 0) | values


async def test_counters_of_retried_talked_and_skipped_contacts(
    client, org, clock, sessions, make_dispatcher
):
    retried = await _create(client, org, 5, retryPlan=RETRY)
    ended = await _create(client, org, 2, retryPlan=RETRY)
    never = await _create(client, org, 3, schedulePlan=LATER)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()
    busy, talked_busy, talked, voicemail, _ringing = _dialed(network, retried)
    await end_calls(dispatcher, [busy], "customer-busy")
    await answer(dispatcher, [talked_busy, talked])
    await end_calls(dispatcher, [talked_busy], "customer-busy")  # talked, then retried
    await end_calls(dispatcher, [talked], "customer-ended-call")
    await end_calls(dispatcher, [voicemail], "voicemail")
    first, second = _dialed(network, ended)
    await end_calls(dispatcher, [first], "customer-did-not-answer")  # its retry is pending
    await answer(dispatcher, [second])
    await end_calls(dispatcher, [second], "customer-ended-call")
    for campaign in (ended, never):  # their waiting calls are skipped
        response = await client.patch(
            f"/campaigns/{campaign['id']}", json={"status": "ended"}, headers=org.headers
        )
        assert response.status_code == 200, response.text
    campaigns = [retried, ended, never]

    counted = await _counters(client, org, sessions, campaigns)
    assert counted[retried["id"]] == _expect(
        pending=2, dispatched=1, completed=2, dialed=5, connected=2
    )
    assert counted[ended["id"]] == _expect(skipped=1, completed=1, dialed=2, connected=1)
    assert counted[never["id"]] == _expect(skipped=3)

    clock.advance(hours=1)
    await dispatcher.tick()
    busy_again, talked_again = _dialed(network, retried)[5:]
    await end_calls(dispatcher, [busy_again], "customer-ended-call")  # placed, never answered
    counted = await _counters(client, org, sessions, campaigns)
    # The contact that talked on its first attempt is still connected while its retry rings.
    assert counted[retried["id"]] == _expect(dispatched=2, completed=3, dialed=5, connected=2)
    await end_calls(dispatcher, [talked_again], "customer-busy")  # a third attempt waits
    counted = await _counters(client, org, sessions, campaigns)
    assert counted[retried["id"]] == _expect(
        pending=1, dispatched=1, completed=3, dialed=5, connected=2
    )


async def _rows_per_campaign(sessions) -> dict[uuid.UUID, int]:
    async with sessions() as session:
        result = await session.execute(
            text("SELECT campaign_id, count(*) FROM campaign_counts GROUP BY campaign_id")
        )
        return {row[0]: row[1] for row in result}


async def _fold(sessions) -> int:
    async with unit_of_work(sessions) as session:
        return await calls.fold_campaign_counts(session)


async def test_counter_rows_fold_into_one_per_campaign_with_the_same_sums(
    client, org, clock, sessions, make_dispatcher
):
    first = await _create(client, org, 4)
    second = await _create(client, org, 3, retryPlan=RETRY)
    network = ScriptedNetwork(clock)
    dispatcher = await make_dispatcher(network)
    await dispatcher.tick()  # its maintenance folds what the creates appended
    ended = _dialed(network, first)[:2] + _dialed(network, second)[:2]
    await answer(dispatcher, ended[:1])
    for call in ended:  # one write each: one appended row each
        await end_calls(dispatcher, [call], "customer-busy")
    before = await _rows_per_campaign(sessions)
    assert before[uuid.UUID(first["id"])] >= 3
    assert before[uuid.UUID(second["id"])] >= 3
    # A campaign whose rows sum to zero keeps none.
    empty = uuid.uuid4()
    async with unit_of_work(sessions) as session:
        await session.execute(
            text(
                "INSERT INTO campaign_counts (campaign_id, pending, dispatched, completed,"
                " failed, skipped, predial_failed, dialed, connected)"
                " VALUES (:c, 2, 0, 0, 0, 0, 0, 1, 0), (:c, -2, 0, 0, 0, 0, 0, -1, 0)"
            ),
            {"c": empty},
        )
    counted = await _counters(client, org, sessions, [first, second])

    # Two workers folding at once count nothing twice.
    folded = await asyncio.gather(_fold(sessions), _fold(sessions))
    assert sum(folded) >= 3
    after = await _rows_per_campaign(sessions)
    assert after == {uuid.UUID(first["id"]): 1, uuid.UUID(second["id"]): 1}
    assert await _counters(client, org, sessions, [first, second]) == counted
    assert counted[first["id"]] == _expect(dispatched=2, completed=2, dialed=4, connected=1)
    assert await _fold(sessions) == 0  # nothing left to fold
