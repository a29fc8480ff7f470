"""The pre-dial check against a real server on loopback: only a clear `eligible: true` dials."""

from __future__ import annotations

import asyncio
import signal

import pytest

from campaign_service.telephony.instant import InstantProvider
from tests.conftest import campaign_body
from tests.dispatcher.conftest import rows, scalar, stop_process
from tests.dispatcher.test_crash import _wait_for, _worker
from tests.receiver import Received, Receiver, Reply, closed_port_url

# The last digits of each customer's number say how the server answers for it.
ANSWERS = {
    "0000": Reply(body=b'{"eligible": true}'),
    "0001": Reply(body=b'{"eligible": false}'),
    "0002": Reply(body=b'{"eligible": true}', delay=3.0),  # past timeoutSeconds
    "0003": Reply(status=500, body=b'{"eligible": true}'),
    "0004": Reply(body=b"not json"),
    "0005": Reply(body=b'{"eligible": "yes"}'),
    "0006": Reply(body=b"{}"),
    "0007": Reply(body=b'{"eligible": true}'),
}


def _answer(request: Received) -> Reply:
    number = request.json()["message"]["customer"]["number"]
    return ANSWERS[number[-4:]]


@pytest.fixture
async def server():
    receiver = await Receiver(_answer).start()
    yield receiver
    await receiver.stop()


async def _create(client, org, n: int, url: str, **overrides):
    body = campaign_body(
        n,
        server={"url": url, "timeoutSeconds": 1, "headers": {"x-user-token": "t-1"}},
        predialPlan={},
        **overrides,
    )
    response = await client.post("/campaign", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _run(make_dispatcher) -> None:
    dispatcher = await make_dispatcher(InstantProvider())
    for _ in range(3):
        await dispatcher.tick()
        await dispatcher.settle()


async def _outcomes(sessions, campaign_id: str) -> dict[str, tuple[str | None, str | None]]:
    found = await rows(
        sessions,
        "SELECT customer->>'number' AS number, skip_reason, provider_call_id FROM calls"
        " WHERE campaign_id = :c",
        c=campaign_id,
    )
    return {r.number[-4:]: (r.skip_reason, r.provider_call_id is not None) for r in found}


async def test_only_eligible_contacts_are_dialed(client, org, sessions, server, make_dispatcher):
    campaign = await _create(client, org, 8, server.url)
    await _run(make_dispatcher)
    outcomes = await _outcomes(sessions, campaign["id"])
    assert outcomes == {
        "0000": (None, True),
        "0001": ("predial-ineligible", False),
        "0002": ("predial-failed", False),
        "0003": ("predial-failed", False),
        "0004": ("predial-failed", False),
        "0005": ("predial-failed", False),
        "0006": ("predial-failed", False),
        "0007": (None, True),
    }
    first = server.received[0]
    assert first.headers["x-user-token"] == "t-1"
    message = first.json()["message"]
    assert message["type"] == "campaign.predial"
    assert message["campaignId"] == campaign["id"]
    assert message["contact"]["number"] == message["customer"]["number"]

    v2 = (
        await client.get(f"/v2/campaign/{campaign['id']}?includeCounters=true", headers=org.headers)
    ).json()
    counters = v2["contactCounters"]
    assert counters["skipped"] == 1
    assert counters["predialFailed"] == 5
    assert counters["completed"] + counters["dispatched"] == 2
    assert sum(counters.values()) == 8
    v1 = (await client.get(f"/campaign/{campaign['id']}", headers=org.headers)).json()
    assert (
        v1["callsCounterScheduled"]
        + v1["callsCounterQueued"]
        + v1["callsCounterInProgress"]
        + v1["callsCounterEnded"]
        == 8
    )
    skipped = [c for c in v1["calls"].values() if c.get("skipReason")]
    assert sorted(c["skipReason"] for c in skipped) == ["predial-failed"] * 5 + [
        "predial-ineligible"
    ]
    assert all(c["status"] == "ended" for c in skipped)


async def test_an_unreachable_server_dials_no_one(client, org, sessions, make_dispatcher):
    campaign = await _create(client, org, 3, closed_port_url())
    await _run(make_dispatcher)
    outcomes = await _outcomes(sessions, campaign["id"])
    assert set(outcomes.values()) == {("predial-failed", False)}


async def test_a_disabled_plan_dials_without_asking(client, org, sessions, make_dispatcher):
    body = campaign_body(2, server={"url": closed_port_url()}, predialPlan={"enabled": False})
    campaign = (await client.post("/campaign", json=body, headers=org.headers)).json()
    await _run(make_dispatcher)
    outcomes = await _outcomes(sessions, campaign["id"])
    assert set(outcomes.values()) == {(None, True)}


async def test_a_slow_server_slows_only_its_own_campaign(
    client, org, sessions, server, make_dispatcher
):
    slow = await _create(client, org, 1, server.url, customers=[{"number": "+14155550002"}])
    fast = (await client.post("/campaign", json=campaign_body(2), headers=org.headers)).json()
    dispatcher = await make_dispatcher(InstantProvider())
    await dispatcher.tick()
    # The other campaign was placed in the pass; the slow check is still waiting.
    placed = await _outcomes(sessions, fast["id"])
    assert set(placed.values()) == {(None, True)}
    assert (await _outcomes(sessions, slow["id"])) == {"0002": (None, False)}
    await asyncio.wait_for(dispatcher.settle(), 10)
    assert (await _outcomes(sessions, slow["id"])) == {"0002": ("predial-failed", False)}


async def test_predial_plan_without_server_is_refused(client, org):
    body = campaign_body(1, predialPlan={"enabled": True})
    for path in ("/campaign", "/v2/campaign"):
        response = await client.post(path, json=body, headers=org.headers)
        assert response.status_code == 400, response.text
        assert "predialPlan requires server" in str(response.json()["message"])


async def test_calls_whose_check_cannot_start_in_time_are_given_back_not_failed(
    client, org, sessions, make_dispatcher
):
    async def slow(_: Received) -> Reply:
        return Reply(body=b'{"eligible": true}', delay=1.5)

    receiver = await Receiver(slow).start()
    try:
        body = campaign_body(3, server={"url": receiver.url, "timeoutSeconds": 5}, predialPlan={})
        campaign = (await client.post("/campaign", json=body, headers=org.headers)).json()
        # One request at a time, a 4 s lease: checks must start within 1 s, end within 2 s.
        dispatcher = await make_dispatcher(
            InstantProvider(), dispatcher_dial_concurrency=1, dispatcher_lease_seconds=4
        )
        await dispatcher.tick()
        await asyncio.wait_for(dispatcher.settle(), 10)
    finally:
        await receiver.stop()
    found = await rows(
        sessions,
        "SELECT skip_reason, provider_call_id, status, lease_owner FROM calls"
        " WHERE campaign_id = :c ORDER BY position",
        c=campaign["id"],
    )
    assert found[0].provider_call_id is not None
    for call in found[1:]:
        assert (call.skip_reason, call.provider_call_id, call.lease_owner) == (None, None, None)
        assert call.status == "scheduled"


async def test_a_worker_killed_mid_check_dials_no_one_twice_and_no_ineligible_contact(
    client, org, sessions, database_url, tmp_path
):
    holding = {"on": True}

    async def answer(request: Received) -> Reply:
        number = request.json()["message"]["customer"]["number"]
        eligible = b"false" if number.endswith("1") else b"true"
        return Reply(body=b'{"eligible": %s}' % eligible, delay=30.0 if holding["on"] else 0)

    receiver = await Receiver(answer).start()
    body = campaign_body(
        8, maxConcurrency=4, server={"url": receiver.url, "timeoutSeconds": 20}, predialPlan={}
    )
    campaign = (await client.post("/campaigns", json=body, headers=org.headers)).json()
    env = {"CAMPAIGN_SERVICE_DISPATCHER_LEASE_SECONDS": "60"}
    doomed = _worker(database_url, tmp_path, **env)
    survivor = None
    try:

        async def checking() -> bool:
            return len(receiver.received) >= 4

        await _wait_for(checking, seconds=60)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        holding["on"] = False
        survivor = _worker(database_url, tmp_path, **env)

        async def ended() -> bool:
            status = await scalar(
                sessions, "SELECT status FROM campaigns WHERE id = :id", id=campaign["id"]
            )
            return status == "ended"

        await _wait_for(ended, seconds=120)
    finally:
        for process in (doomed, survivor):
            if process is not None:
                stop_process(process)
        await receiver.stop()
    sim = await rows(
        sessions,
        "SELECT k.customer->>'number' AS number FROM sim_calls s JOIN calls k ON k.id = s.call_id",
    )
    numbers = [r.number for r in sim]
    assert len(numbers) == len(set(numbers))  # no one dialed twice
    assert not [n for n in numbers if n.endswith("1")]  # the ineligible contact never
    assert len(numbers) == 7
    skipped = await rows(sessions, "SELECT skip_reason FROM calls WHERE skip_reason IS NOT NULL")
    assert [r.skip_reason for r in skipped] == ["predial-ineligible"]
