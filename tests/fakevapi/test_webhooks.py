"""Server messages: order, target, secret header, webhook faults; and seeded determinism."""

from __future__ import annotations

from typing import Any

import httpx

from campaign_service.fakevapi import FakeOrg
from tests.fakevapi.helpers import HEADERS, KEY, call_body, running_inbox, wait_until

ANSWERED = [
    ("status-update", "queued"),
    ("status-update", "ringing"),
    ("status-update", "in-progress"),
    ("status-update", "ended"),
    ("end-of-call-report", None),
]


def place(url: str, body: dict[str, Any] | None = None) -> str:
    created = httpx.post(f"{url}/call", json=body or call_body(), headers=HEADERS)
    assert created.status_code == 201, created.text
    call_id: str = created.json()["id"]
    return call_id


def sequence(messages: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(m["type"], m.get("status")) for m in messages]


def delivered(vapi: Any, count: int) -> list[dict[str, Any]]:
    """Wait until the fake has tried `count` deliveries; returns its webhook record."""
    return wait_until(lambda: (w := vapi.fake.record().webhooks)[count - 1 :] and w)


def test_messages_arrive_in_order_with_the_secret(start_fake, inbox):
    vapi = start_fake(server_url=inbox.url, server_secret="s3cret", outcomes={"voicemail": 1})
    call_id = place(vapi.url)
    wait_until(lambda: len(inbox.messages(call_id)) == 5)
    messages = inbox.messages(call_id)
    assert sequence(messages) == ANSWERED
    assert messages[3]["endedReason"] == "voicemail"
    assert messages[4]["endedReason"] == "voicemail"
    assert [m["call"]["status"] for m in messages[:4]] == [
        "queued",
        "ringing",
        "in-progress",
        "ended",
    ]
    assert messages[4]["call"]["assistantOverrides"]["metadata"]["callId"] == "call-+14155550100"
    stamps = [m["timestamp"] for m in messages]
    assert stamps == sorted(stamps)
    for headers, _ in inbox.received:
        assert headers["x-vapi-secret"] == "s3cret"
        assert headers["content-type"] == "application/json"


def test_unanswered_outcomes(start_fake, inbox):
    vapi = start_fake(server_url=inbox.url, outcomes={"customer-busy": 1})
    busy = place(vapi.url)
    wait_until(lambda: len(inbox.messages(busy)) == 3)
    assert sequence(inbox.messages(busy)) == [ANSWERED[0], ANSWERED[3], ANSWERED[4]]
    report = inbox.messages(busy)[2]
    assert "startedAt" not in report
    assert report["cost"] == 0
    assert "recordingUrl" not in report["artifact"]

    vapi = start_fake(server_url=inbox.url, outcomes={"customer-did-not-answer": 1})
    missed = place(vapi.url, call_body("+14155550199"))  # same seed: another number, another id
    wait_until(lambda: len(inbox.messages(missed)) == 4)
    assert sequence(inbox.messages(missed)) == [ANSWERED[i] for i in (0, 1, 3, 4)]


def test_the_calls_own_server_url_wins(start_fake, inbox):
    with running_inbox() as own:
        vapi = start_fake(
            orgs=(FakeOrg(KEY, server_url=inbox.url),), server_secret="s", outcomes={"voicemail": 1}
        )
        body = call_body()
        body["assistantOverrides"]["server"] = {"url": own.url, "headers": {"X-Token": "t1"}}
        call_id = place(vapi.url, body)
        wait_until(lambda: len(own.messages(call_id)) == 5)
        assert inbox.received == []
        for headers, _ in own.received:
            assert headers["x-token"] == "t1"
            assert headers["x-vapi-secret"] == "s"


def test_no_server_url_and_failing_servers_are_recorded(start_fake):
    vapi = start_fake(outcomes={"customer-busy": 1})
    place(vapi.url)
    assert {w["outcome"] for w in delivered(vapi, 3)} == {"no-server-url"}

    with running_inbox(status=500) as failing:
        vapi = start_fake(server_url=failing.url, outcomes={"customer-busy": 1})
        place(vapi.url)
        webhooks = delivered(vapi, 3)
        assert [(w["outcome"], w["httpStatus"]) for w in webhooks] == [("failed", 500)] * 3
        assert len(failing.received) == 3  # no retries, as Vapi without a backoffPlan


def test_webhook_loss(start_fake, inbox):
    vapi = start_fake(server_url=inbox.url, outcomes={"customer-busy": 1})
    vapi.fake.inject("webhook-loss", fraction=1.0)
    place(vapi.url)
    assert {w["outcome"] for w in delivered(vapi, 3)} == {"dropped"}
    assert inbox.received == []


def test_webhook_duplicates(start_fake, inbox):
    vapi = start_fake(server_url=inbox.url, outcomes={"customer-busy": 1})
    vapi.fake.inject("webhook-duplicate", next=1)
    call_id = place(vapi.url)
    wait_until(lambda: len(inbox.messages(call_id)) == 4)
    assert sequence(inbox.messages(call_id)) == [ANSWERED[i] for i in (0, 0, 3, 4)]
    assert [w["duplicate"] for w in delivered(vapi, 4)] == [False, True, False, False]


def test_webhook_reordering(start_fake, inbox):
    vapi = start_fake(server_url=inbox.url, outcomes={"customer-ended-call": 1})
    vapi.fake.inject("webhook-reorder", next=1)
    call_id = place(vapi.url)
    wait_until(lambda: len(inbox.messages(call_id)) == 5)
    assert sequence(inbox.messages(call_id)) == [ANSWERED[i] for i in (1, 0, 2, 3, 4)]
    assert [w["reordered"] for w in vapi.fake.record().webhooks][:2] == [False, True]


def test_a_seed_repeats_ids_and_outcomes(start_fake):
    def run(seed: int) -> list[tuple[str, str]]:
        vapi = start_fake(seed=seed)
        ids = [place(vapi.url, call_body(f"+141555508{i:02d}")) for i in range(8)]
        wait_until(lambda: not vapi.fake.record().active_by_org and vapi.fake.record().calls)
        ended = [httpx.get(f"{vapi.url}/call/{i}", headers=HEADERS).json() for i in ids]
        return [(c["id"], c["endedReason"]) for c in ended]

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert len({reason for _, reason in first}) > 1  # a mix, not one outcome
    assert {i for i, _ in first}.isdisjoint(i for i, _ in other)
