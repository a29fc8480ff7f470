"""Faults switched on at runtime, through the Python API and the /_fake/ endpoints."""

from __future__ import annotations

import httpx
import pytest

from tests.fakevapi.helpers import HEADERS, SLOW, call_body, wait_until


def post(url: str, number: str = "+14155550600", **kwargs: object) -> httpx.Response:
    return httpx.post(f"{url}/call", json=call_body(number), headers=HEADERS, **kwargs)  # type: ignore[arg-type]


def calls(url: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{url}/call", headers=HEADERS)
    assert answer.status_code == 200
    result: list[dict[str, object]] = answer.json()
    return result


def test_latency_delays_the_answer(start_fake):
    vapi = start_fake(timings=SLOW)
    vapi.fake.inject("latency", next=1, seconds=3)
    with pytest.raises(httpx.ReadTimeout):
        post(vapi.url, timeout=0.3)
    # The slow request is still handled: the call appears once its delay has passed.
    wait_until(lambda: vapi.fake.record().calls)
    assert post(vapi.url, "+14155550601", timeout=5).status_code == 201


def test_timeout_after_the_call_was_created(start_fake):
    vapi = start_fake(timings=SLOW)
    vapi.fake.inject("timeout", next=1, seconds=60)
    with pytest.raises(httpx.ReadTimeout):
        post(vapi.url, timeout=0.5)
    (created,) = calls(vapi.url)  # the call exists though the client never heard of it
    assert created["customer"] == {"number": "+14155550600", "name": "Ada"}
    assert vapi.fake.record().dials_by_number == {"+14155550600": 1}


def test_server_errors_with_and_without_the_call(start_fake):
    vapi = start_fake(timings=SLOW)
    vapi.fake.inject("server-error", next=1, status=503)
    refused = post(vapi.url)
    assert refused.status_code == 503
    assert refused.json() == {
        "message": "Service Unavailable",
        "error": "Service Unavailable",
        "statusCode": 503,
    }
    assert calls(vapi.url) == []

    vapi.fake.inject("server-error", next=1, create_call=True)
    assert post(vapi.url).status_code == 500
    assert len(calls(vapi.url)) == 1  # created despite the error answer
    assert post(vapi.url, "+14155550602").status_code == 201  # the fault was used up
    answers = [r["answer"] for r in vapi.fake.record().post_call_requests]
    assert answers == [503, 500, 201]


def test_rate_limit_with_retry_after(start_fake):
    vapi = start_fake(timings=SLOW)
    vapi.fake.inject("rate-limit", next=2, retry_after=2.5)
    for _ in range(2):
        limited = post(vapi.url)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "3"
        assert limited.json()["error"] == "Too Many Requests"
    assert post(vapi.url).status_code == 201


def test_forced_concurrency_answers(start_fake):
    vapi = start_fake(timings=SLOW)
    vapi.fake.inject("concurrency-limit", next=1)
    blocked = post(vapi.url).json()
    assert blocked["subscriptionLimits"]["concurrencyBlocked"] is True
    assert blocked["status"] == "ended"
    vapi.fake.inject("concurrency-limit", next=1, style="bad-request")
    assert post(vapi.url).json()["message"] == "Over Concurrency Limit."
    assert post(vapi.url).json()["status"] == "queued"


def test_unauthorized_and_read_scoped_faults(start_fake):
    vapi = start_fake(timings=SLOW)
    vapi.fake.inject("unauthorized", next=1, scope="read")
    assert httpx.get(f"{vapi.url}/call", headers=HEADERS).status_code == 401
    assert post(vapi.url).status_code == 201  # POST /call is out of the fault's scope
    vapi.fake.inject("server-error", next=1, scope="any", status=502)
    assert httpx.get(f"{vapi.url}/call", headers=HEADERS).status_code == 502
    vapi.fake.inject("rate-limit", next=1, scope="read")
    assert httpx.get(f"{vapi.url}/call", headers=HEADERS).status_code == 429
    assert len(calls(vapi.url)) == 1


def test_fractions_follow_the_seed(start_fake):
    def pattern() -> list[int]:
        vapi = start_fake(timings=SLOW, seed=11)
        vapi.fake.inject("server-error", fraction=0.5)
        return [post(vapi.url, f"+141555507{i:02d}").status_code for i in range(20)]

    first, second = pattern(), pattern()
    assert first == second
    assert set(first) == {201, 500}


def test_faults_over_http(start_fake):
    vapi = start_fake(timings=SLOW)
    faults = f"{vapi.url}/_fake/faults"
    added = httpx.post(faults, json={"kind": "server-error", "next": 1, "createCall": True})
    assert added.status_code == 201
    assert added.json()["createCall"] is True
    assert [f["kind"] for f in httpx.get(faults).json()] == ["server-error"]
    assert post(vapi.url).status_code == 500
    assert httpx.get(faults).json() == []  # used up

    httpx.post(faults, json={"kind": "rate-limit", "fraction": 1})
    assert httpx.delete(faults).status_code == 200
    assert post(vapi.url).status_code == 201
    for bad in (
        {"kind": "meteor"},
        {"kind": "latency"},
        {"kind": "timeout", "next": 1, "scope": "read"},
    ):
        refused = httpx.post(faults, json=bad)
        assert refused.status_code == 400, bad
        assert refused.json()["statusCode"] == 400

    record = httpx.get(f"{vapi.url}/_fake/record").json()
    assert [r["answer"] for r in record["postCallRequests"]] == [500, 201]
    assert record["dialsByNumber"] == {"+14155550600": 2}


def test_keys_over_http(start_fake):
    vapi = start_fake(timings=SLOW)
    added = httpx.post(f"{vapi.url}/_fake/keys", json={"apiKey": "k2", "concurrencyLimit": 1})
    assert added.status_code == 201
    other = {"Authorization": "Bearer k2"}
    assert httpx.get(f"{vapi.url}/call", headers=other).json() == []
    assert httpx.delete(f"{vapi.url}/_fake/keys/k2").status_code == 200
    assert httpx.get(f"{vapi.url}/call", headers=other).status_code == 401
    assert httpx.delete(f"{vapi.url}/_fake/keys/k2").status_code == 404
    assert httpx.get(f"{vapi.url}/nowhere").json()["message"] == "Cannot GET /nowhere"
