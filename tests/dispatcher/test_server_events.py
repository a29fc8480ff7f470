"""Campaign events: written with the change, delivered after commit to a real receiver on
loopback, signed, retried, dead after the retry time, never lost when a worker is killed."""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from campaign_service.dispatcher.courier import Courier
from campaign_service.events import signing
from tests.conftest import campaign_body
from tests.dispatcher.conftest import drive, engine_settings, rows, scalar, stop_process
from tests.dispatcher.test_crash import _wait_for, _worker
from tests.receiver import Received, Receiver, Reply

EVERY_EVENT = [
    "campaign.started",
    "campaign.cancelled",
    "campaign.ended",
    "campaign.archived",
    "contact.dispatched",
    "contact.completed",
    "contact.failed",
    "contact.skipped",
    "contact.predial-failed",
]


def _predial_answer(request: Received) -> Reply:
    message = request.json()["message"]
    if message["type"] != "campaign.predial":
        return Reply()
    number = message["customer"]["number"]
    if number.endswith("1"):
        return Reply(body=b'{"eligible": false}')
    if number.endswith("2"):
        return Reply(body=b"oops")
    return Reply(body=b'{"eligible": true}')


@pytest.fixture
async def receiver():
    server = await Receiver(_predial_answer).start()
    yield server
    await server.stop()


def _events(receiver: Receiver) -> list[Received]:
    return [r for r in receiver.received if r.json()["message"]["type"] != "campaign.predial"]


async def _create(client, org, url: str, n: int = 3, **overrides):
    body = campaign_body(
        n,
        server={"url": url, "headers": {"x-team": "blue"}},
        serverMessages=EVERY_EVENT,
        **overrides,
    )
    response = await client.post("/campaign", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _deliver_all(courier: Courier, clock, *, passes: int = 50) -> None:
    for _ in range(passes):
        if not await courier.deliver_once():
            clock.advance(seconds=1)
            if not await courier.deliver_once():
                return


async def _secret(sessions, org) -> str:
    return await scalar(sessions, "SELECT webhook_secret FROM orgs WHERE id = :id", id=org.org_id)


async def _run_campaign(client, org, clock, make_dispatcher, simulated, campaign_id):
    provider = simulated()
    dispatcher = await make_dispatcher(provider)

    async def ended() -> bool:
        await dispatcher.settle()
        body = (await client.get(f"/campaign/{campaign_id}", headers=org.headers)).json()
        return body["status"] == "ended"

    await drive(dispatcher, clock, ended, provider=provider)


async def test_every_event_arrives_as_documented_and_signed(
    client, org, sessions, clock, receiver, make_dispatcher, simulated
):
    campaign = await _create(client, org, receiver.url, predialPlan={})
    await _run_campaign(client, org, clock, make_dispatcher, simulated, campaign["id"])
    courier = Courier(sessions=sessions, settings=engine_settings(), clock=clock)
    await _deliver_all(courier, clock)
    await courier.close()

    events = _events(receiver)
    types = Counter(e.json()["message"]["type"] for e in events)
    assert types == {
        "campaign.started": 1,
        "contact.dispatched": 1,
        "contact.completed": 1,
        "contact.skipped": 1,
        "contact.predial-failed": 1,
        "campaign.ended": 1,
    }
    secret = await _secret(sessions, org)
    assert secret.startswith("whsec_")
    for event in events:
        assert signing.verify(secret, event.headers, event.body)
        assert event.headers["x-team"] == "blue"
        message = event.json()["message"]
        assert message["campaignId"] == campaign["id"]
        assert isinstance(message["timestamp"], int)
    assert len({e.headers["webhook-id"] for e in events}) == len(events)

    by_type = {e.json()["message"]["type"]: e.json()["message"] for e in events}
    completed = by_type["contact.completed"]
    assert completed["contact"]["number"] == "+14155550000"
    assert completed["call"]["status"] == "ended"
    assert completed["call"]["endedReason"]
    assert by_type["contact.skipped"]["call"]["skipReason"] == "predial-ineligible"
    assert by_type["contact.predial-failed"]["call"]["skipReason"] == "predial-failed"
    ended = by_type["campaign.ended"]
    assert ended["status"] == "ended"
    assert ended["endedReason"] == "campaign.ended.success"
    assert ended["counters"]["calls"] == 3

    deliveries = await client.get(f"/campaigns/{campaign['id']}/deliveries", headers=org.headers)
    assert deliveries.status_code == 200, deliveries.text
    listed = deliveries.json()["results"]
    assert {d["state"] for d in listed} == {"delivered"}
    assert {d["id"] for d in listed} == {e.headers["webhook-id"] for e in events}


async def test_cancelling_reports_the_cancel_and_the_skipped_contacts(
    client, org, sessions, clock, receiver
):
    campaign = await _create(client, org, receiver.url, n=2)
    response = await client.patch(
        f"/campaign/{campaign['id']}", json={"status": "ended"}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    courier = Courier(sessions=sessions, settings=engine_settings(), clock=clock)
    await _deliver_all(courier, clock)
    await courier.close()
    types = Counter(e.json()["message"]["type"] for e in _events(receiver))
    assert types == {"campaign.cancelled": 1, "contact.skipped": 2}


async def test_unsubscribed_events_are_not_written(client, org, sessions, receiver):
    body = campaign_body(2, server={"url": receiver.url}, serverMessages=["campaign.ended"])
    campaign = (await client.post("/campaign", json=body, headers=org.headers)).json()
    await client.patch(f"/campaign/{campaign['id']}", json={"status": "ended"}, headers=org.headers)
    assert await scalar(sessions, "SELECT count(*) FROM event_outbox") == 0


async def test_a_receiver_down_then_up_gets_every_event_with_stable_ids(
    client, org, sessions, clock, receiver
):
    campaign = await _create(client, org, receiver.url, n=3)
    await client.patch(f"/campaign/{campaign['id']}", json={"status": "ended"}, headers=org.headers)
    written = {str(r.event_id) for r in await rows(sessions, "SELECT event_id FROM event_outbox")}
    assert len(written) == 4
    # Down (refused) for a few attempts, then failing with 503, then up.
    port = receiver.port
    await receiver.stop()
    courier = Courier(sessions=sessions, settings=engine_settings(), clock=clock)
    for _ in range(3):
        await courier.deliver_once()
        clock.advance(seconds=10)
    failing = await rows(sessions, "SELECT state, attempts, last_error FROM event_outbox")
    assert all(r.state == "pending" and r.attempts >= 2 and r.last_error for r in failing)
    receiver.port = port
    receiver.answer = lambda _: Reply(status=503)
    await receiver.start()
    await courier.deliver_once()
    clock.advance(seconds=60)
    receiver.answer = lambda _: Reply()
    await _deliver_all(courier, clock)
    await courier.close()
    delivered = [e for e in receiver.received if e.json()["message"]]
    ids = [e.headers["webhook-id"] for e in delivered]
    assert set(ids) == written  # none missing, none invented
    assert len(ids) == 8  # each once at 503, once delivered: the same ids both times
    assert (
        await scalar(sessions, "SELECT count(*) FROM event_outbox WHERE state <> 'delivered'") == 0
    )


async def test_a_receiver_down_past_the_retry_time_shows_failures(
    client, org, sessions, clock, make_dispatcher, simulated
):
    receiver = await Receiver(lambda _: Reply(status=500)).start()
    try:
        campaign = await _create(client, org, receiver.url, n=2)
        await _run_campaign(client, org, clock, make_dispatcher, simulated, campaign["id"])
        courier = Courier(
            sessions=sessions, settings=engine_settings(events_retry_seconds=30), clock=clock
        )
        for _ in range(20):
            await courier.deliver_once()
            clock.advance(seconds=5)
        await courier.close()
    finally:
        await receiver.stop()
    listed = (
        await client.get(f"/campaigns/{campaign['id']}/deliveries?state=dead", headers=org.headers)
    ).json()["results"]
    assert len(listed) == 6  # started, 2 dispatched, 2 completed, ended
    assert all(d["lastError"] == "HTTP 500" and d["lastStatusCode"] == 500 for d in listed)
    assert await scalar(sessions, "SELECT count(*) FROM event_outbox WHERE state = 'pending'") == 0
    # Dialing was never held up: the campaign ran to its end.
    body = (await client.get(f"/campaign/{campaign['id']}", headers=org.headers)).json()
    assert body["status"] == "ended"


async def test_backoff_plan_max_retries_bounds_the_attempts(client, org, sessions, clock):
    receiver = await Receiver(lambda _: Reply(status=502)).start()
    try:
        body = campaign_body(
            1,
            server={
                "url": receiver.url,
                "backoffPlan": {"type": "fixed", "maxRetries": 2, "baseDelaySeconds": 1},
            },
            serverMessages=["campaign.cancelled"],
        )
        campaign = (await client.post("/campaign", json=body, headers=org.headers)).json()
        await client.patch(
            f"/campaign/{campaign['id']}", json={"status": "ended"}, headers=org.headers
        )
        courier = Courier(sessions=sessions, settings=engine_settings(), clock=clock)
        for _ in range(6):
            await courier.deliver_once()
            clock.advance(seconds=2)
        await courier.close()
    finally:
        await receiver.stop()
    assert len(receiver.received) == 3  # the first attempt and 2 retries
    row = (await rows(sessions, "SELECT state, attempts FROM event_outbox"))[0]
    assert (row.state, row.attempts) == ("dead", 3)


async def test_a_worker_killed_while_delivering_loses_no_event(
    client, org, sessions, database_url, tmp_path
):
    # The receiver holds the first deliveries open: the worker is killed mid-POST.
    holding = {"on": True}

    async def answer(request: Received) -> Reply:
        return Reply(delay=30.0) if holding["on"] else Reply()

    receiver = await Receiver(answer).start()
    campaign = await _create(client, org, receiver.url, n=3)
    env = {
        "CAMPAIGN_SERVICE_EVENTS_LEASE_SECONDS": "4",
        "CAMPAIGN_SERVICE_EVENTS_POLL_SECONDS": "0.1",
    }
    doomed = _worker(database_url, tmp_path, **env)
    survivor = None
    try:

        async def posting() -> bool:
            return len(receiver.received) >= 1

        await _wait_for(posting, seconds=60)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        holding["on"] = False
        survivor = _worker(database_url, tmp_path, **env)

        async def all_delivered() -> bool:
            left = await scalar(
                sessions, "SELECT count(*) FROM event_outbox WHERE state <> 'delivered'"
            )
            ended = await scalar(
                sessions, "SELECT status FROM campaigns WHERE id = :id", id=campaign["id"]
            )
            return left == 0 and ended == "ended"

        await _wait_for(all_delivered, seconds=90)
    finally:
        if survivor is not None:
            stop_process(survivor)
        if doomed.poll() is None:
            doomed.kill()
        await receiver.stop()
    written = {str(r.event_id) for r in await rows(sessions, "SELECT event_id FROM event_outbox")}
    got = {e.headers["webhook-id"] for e in receiver.received}
    assert got == written
    # started, 3 dispatched, 3 completed, ended
    assert len(written) == 8


def test_signature_is_standard_webhooks():
    # The example of the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


async def test_deleting_a_running_campaign_reports_cancel_then_archive(
    client, org, sessions, clock, receiver
):
    campaign = await _create(client, org, receiver.url, n=1)
    response = await client.delete(f"/v2/campaign/{campaign['id']}", headers=org.headers)
    assert response.status_code == 200, response.text
    courier = Courier(sessions=sessions, settings=engine_settings(), clock=clock)
    await _deliver_all(courier, clock)
    await courier.close()
    types = [e.json()["message"]["type"] for e in _events(receiver)]
    assert sorted(types) == ["campaign.archived", "campaign.cancelled", "contact.skipped"]
    archived = next(e.json()["message"] for e in _events(receiver) if "archived" in e.body.decode())
    assert archived["endedReason"] == "campaign.scheduled.ended-by-user"
