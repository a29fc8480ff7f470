"""The Vapi client against the fake Vapi over real HTTP on loopback: every answer class."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from campaign_service.fakevapi import FakeOrg
from campaign_service.telephony.base import PlaceCallRequest
from campaign_service.telephony.vapi_body import build_call_body
from campaign_service.telephony.vapi_client import (
    Absent,
    AuthFailed,
    Created,
    Found,
    NoCapacity,
    Rejected,
    Unknown,
    VapiClient,
)
from campaign_service.timeutil import utcnow
from tests.fakevapi.helpers import KEY, SLOW


def request(number: str = "+14155550900", **overrides: Any) -> PlaceCallRequest:
    values: dict[str, Any] = {
        "idempotency_key": "k",
        "call_id": uuid.uuid4(),
        "campaign_id": uuid.uuid4(),
        "org_id": uuid.uuid4(),
        "phone_number_id": "pn_1",
        "customer": {"number": number, "name": "Grace"},
        "assistant_id": "asst_1",
        "assistant_overrides": {"variableValues": {"tier": "gold"}},
    }
    values.update(overrides)
    return PlaceCallRequest(**values)


@pytest.fixture
async def client():
    async with VapiClient(base_url="http://unused.invalid", read_timeout=5) as client:
        yield client


async def test_created(start_fake, client):
    vapi = start_fake(timings=SLOW)
    placed = request()
    result = await client.create_call(KEY, build_call_body(placed), base_url=vapi.url)
    assert isinstance(result, Created)
    assert result.call.status == "queued"
    assert result.call.call_tag == str(placed.call_id)
    assert result.call.campaign_tag == str(placed.campaign_id)
    assert result.call.customer_number == "+14155550900"
    assert vapi.fake.record().dials_by_number == {"+14155550900": 1}


async def test_no_capacity_in_each_of_vapis_forms(start_fake, client):
    vapi = start_fake(orgs=(FakeOrg(KEY, concurrency_limit=1),), timings=SLOW)
    first = await client.create_call(KEY, build_call_body(request()), base_url=vapi.url)
    assert isinstance(first, Created)
    blocked = await client.create_call(
        KEY, build_call_body(request("+14155550901")), base_url=vapi.url
    )
    assert blocked == NoCapacity(None)  # 201 with a call that never rang

    vapi.fake.inject("concurrency-limit", next=1, style="bad-request")
    older = await client.create_call(KEY, build_call_body(request()), base_url=vapi.url)
    assert older == NoCapacity(None)
    vapi.fake.inject("rate-limit", next=1, retry_after=3)
    limited = await client.create_call(KEY, build_call_body(request()), base_url=vapi.url)
    assert limited == NoCapacity(3.0)
    assert vapi.fake.record().dials_by_number == {"+14155550900": 1}


@pytest.mark.parametrize(
    ("change", "reason", "text"),
    [
        ({"assistant_id": "asst_x"}, "call.start.error-get-assistant", "asst_x"),
        ({"phone_number_id": "pn_x"}, "call.start.error-get-phone-number", "pn_x"),
        ({"customer": {"number": "555"}}, "call.start.error-get-customer", "E.164"),
    ],
)
async def test_rejected_with_the_closest_ended_reason(start_fake, client, change, reason, text):
    vapi = start_fake(assistant_ids=frozenset({"asst_1"}), phone_number_ids=frozenset({"pn_1"}))
    result = await client.create_call(KEY, build_call_body(request(**change)), base_url=vapi.url)
    assert isinstance(result, Rejected)
    assert result.ended_reason == reason
    assert text in result.message


async def test_auth_failed(start_fake, client):
    vapi = start_fake(timings=SLOW)
    body = build_call_body(request())
    result = await client.create_call("wrong", body, base_url=vapi.url)
    assert isinstance(result, AuthFailed)
    assert "Invalid Key" in result.message
    vapi.fake.inject("unauthorized", next=1, scope="any")
    assert isinstance(await client.get_call(KEY, "x", base_url=vapi.url), AuthFailed)
    assert vapi.fake.record().calls == []


async def test_unknown_when_vapi_fails_or_does_not_answer(start_fake):
    vapi = start_fake(timings=SLOW)
    body = build_call_body(request())
    async with VapiClient(base_url=vapi.url, read_timeout=0.5) as client:
        vapi.fake.inject("server-error", next=1, status=502)
        failed = await client.create_call(KEY, body)
        assert isinstance(failed, Unknown)
        assert failed.maybe_created
        assert "502" in failed.reason
        vapi.fake.inject("timeout", next=1, seconds=30)
        silent = await client.create_call(KEY, body)
        assert isinstance(silent, Unknown)
        assert "Timeout" in silent.reason
        assert silent.maybe_created
        assert len(vapi.fake.record().calls) == 1  # the silent attempt did create a call
        vapi.stop()
        down = await client.create_call(KEY, body)
        misconfigured = await client.create_call(KEY, body, base_url="ftp://vapi.example")
    assert isinstance(down, Unknown)
    assert not down.maybe_created  # the connection was refused: nothing was sent
    assert isinstance(misconfigured, Unknown)
    assert not misconfigured.maybe_created


async def test_get_call(start_fake, client):
    vapi = start_fake(timings=SLOW)
    created = await client.create_call(KEY, build_call_body(request()), base_url=vapi.url)
    assert isinstance(created, Created)
    found = await client.get_call(KEY, created.call.id, base_url=vapi.url)
    assert isinstance(found, Found)
    assert found.call.id == created.call.id
    assert await client.get_call(KEY, "no-such-call", base_url=vapi.url) == Absent()
    vapi.fake.inject("server-error", next=1, scope="read")
    assert isinstance(await client.get_call(KEY, created.call.id, base_url=vapi.url), Unknown)


async def test_find_call_after_an_unanswered_attempt(start_fake):
    """The case find_call exists for: the first attempt timed out but created the call."""
    vapi = start_fake(timings=SLOW)
    placed = request()
    started = utcnow()
    async with VapiClient(base_url=vapi.url, read_timeout=0.5) as client:
        vapi.fake.inject("timeout", next=1, seconds=30)
        assert isinstance(await client.create_call(KEY, build_call_body(placed)), Unknown)
        found = await client.find_call(
            KEY,
            phone_number_id="pn_1",
            customer_number="+14155550900",
            created_after=started,
            call_id_tag=str(placed.call_id),
        )
        assert isinstance(found, Found)
        assert found.call.call_tag == str(placed.call_id)
        other = await client.find_call(
            KEY,
            phone_number_id="pn_1",
            customer_number="+14155550900",
            created_after=started,
            call_id_tag=str(uuid.uuid4()),
        )
        assert other == Absent()
        wrong_number = await client.find_call(
            KEY,
            phone_number_id="pn_2",
            customer_number="+14155550900",
            created_after=started,
            call_id_tag=str(placed.call_id),
        )
        assert wrong_number == Absent()
        later = await client.find_call(
            KEY,
            phone_number_id="pn_1",
            customer_number="+14155550900",
            created_after=started + timedelta(hours=1),
            call_id_tag=str(placed.call_id),
        )
        assert later == Absent()


async def test_find_call_pages_and_ignores_blocked_calls(start_fake):
    vapi = start_fake(orgs=(FakeOrg(KEY, concurrency_limit=3),), timings=SLOW)
    placed = request()
    started = utcnow()
    async with VapiClient(base_url=vapi.url, page_size=2) as client:
        assert isinstance(await client.create_call(KEY, build_call_body(placed)), Created)
        for i in range(4):  # two more calls, then two refused for concurrency
            await client.create_call(KEY, build_call_body(request(f"+1415555091{i}")))
        assert sum(vapi.fake.record().blocked_by_number.values()) == 2

        async def find(tag: uuid.UUID) -> object:
            return await client.find_call(
                KEY,
                phone_number_id="pn_1",
                customer_number=None,
                created_after=started,
                call_id_tag=str(tag),
            )

        found = await find(placed.call_id)  # the oldest: on the third page of two
        assert isinstance(found, Found)
        assert len(vapi.fake.record().post_call_requests) == 5
        vapi.fake.inject("concurrency-limit", next=1)
        lonely = request("+14155550999")
        assert await client.create_call(KEY, build_call_body(lonely)) == NoCapacity(None)
        assert await find(lonely.call_id) == Absent()  # it exists, but it never rang

        vapi.fake.inject("server-error", next=1, scope="read")
        assert isinstance(await find(placed.call_id), Unknown)
        vapi.stop()
        down = await find(placed.call_id)
        assert isinstance(down, Unknown)


async def test_find_call_never_guesses_absence_when_pages_do_not_advance():
    """Full pages of calls created in one millisecond cannot be paged past by creation time:
    the answer is Unknown, never Absent (the fake cannot make such pages, so a stub does)."""
    stamp = "2026-06-01T12:00:00.000Z"
    page = [
        {"id": f"v{i}", "orgId": "o", "createdAt": stamp, "updatedAt": stamp, "status": "queued"}
        for i in range(3)
    ]
    requests: list[str] = []

    def vapi(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url.params))
        return httpx.Response(200, json=page)

    async with VapiClient(page_size=3, transport=httpx.MockTransport(vapi)) as client:
        result = await client.find_call(
            KEY,
            phone_number_id="pn_1",
            customer_number=None,
            created_after=utcnow(),
            call_id_tag="ours",
        )
    assert isinstance(result, Unknown)
    assert "did not advance" in result.reason
    assert len(requests) == 2
    assert "createdAtLe=2026-06-01T12%3A00%3A00.000Z" in requests[1]
