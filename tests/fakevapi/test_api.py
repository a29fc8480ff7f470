"""The fake's call API: auth, input checks, the concurrency limit, GET /call filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from campaign_service.fakevapi import FakeOrg
from campaign_service.fakevapi.fake import CONCURRENCY_LIMIT_REACHED
from campaign_service.timeutil import iso_z
from tests.fakevapi.helpers import HEADERS, KEY, SLOW, call_body, wait_until


def post(url: str, body: object, headers: dict[str, str] = HEADERS) -> httpx.Response:
    return httpx.post(f"{url}/call", json=body, headers=headers)


def assert_error(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert body["error"] == httpx.codes.get_reason_phrase(status)
    message = body["message"] if isinstance(body["message"], str) else " | ".join(body["message"])
    assert text in message, message


def test_auth_by_bearer_key(start_fake):
    vapi = start_fake()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {KEY}"}):
        assert_error(post(vapi.url, call_body(), headers), 401, "Invalid Key")
        assert_error(httpx.get(f"{vapi.url}/call", headers=headers), 401, "Invalid Key")
    assert post(vapi.url, call_body()).status_code == 201
    refused = vapi.fake.record().post_call_requests
    assert [(r["orgId"], r["answer"]) for r in refused][:3] == [(None, 401)] * 3
    assert refused[-1]["answer"] == 201

    # Rotation: the new key works, the revoked one gets 401; nothing else changed.
    vapi.fake.add_org(FakeOrg("rotated", org_id=vapi.fake.record().calls[0]["orgId"]))
    assert vapi.fake.revoke_key(KEY)
    assert_error(post(vapi.url, call_body()), 401, "Invalid Key")
    rotated = {"Authorization": "Bearer rotated"}
    assert len(httpx.get(f"{vapi.url}/call", headers=rotated).json()) == 1


def test_orgs_see_only_their_own_calls(start_fake):
    vapi = start_fake(orgs=(FakeOrg(KEY), FakeOrg("other")))
    mine = post(vapi.url, call_body()).json()
    other = {"Authorization": "Bearer other"}
    assert httpx.get(f"{vapi.url}/call", headers=other).json() == []
    assert_error(httpx.get(f"{vapi.url}/call/{mine['id']}", headers=other), 404, "not found")
    assert httpx.get(f"{vapi.url}/call/{mine['id']}", headers=HEADERS).json()["id"] == mine["id"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"assistantId": None}, "one of assistantId, squadId or workflowId is required"),
        ({"squadId": "sq_1"}, "only one of assistantId, squadId and workflowId"),
        ({"phoneNumberId": None}, "phoneNumberId is required"),
        ({"customer": None}, "customer is required"),
        ({"customer": {"name": "Ada"}}, "customer.number or customer.sipUri is required"),
        ({"customer": {"number": "4155550100"}}, "customer.number must be a valid phone number"),
        ({"customer": {"number": "+1415", "extension": "12345678901"}}, "customer.extension"),
        ({"customer": {"number": "+14155550100", "age": 3}}, "property customer.age should"),
        ({"metadata": {"campaignId": "c"}}, "property metadata should not exist"),
        ({"schedulePlan": {"earliestAt": "2026-01-01T00:00:00Z"}}, "schedulePlan is not impl"),
        ({"name": "x" * 41}, "name must be a string of at most 40 characters"),
        ({"assistantOverrides": {"metadata": "tag"}}, "assistantOverrides.metadata must be"),
    ],
)
def test_bad_input_gets_400_and_creates_nothing(start_fake, change, message):
    vapi = start_fake()
    body = {k: v for k, v in {**call_body(), **change}.items() if v is not None}
    assert_error(post(vapi.url, body), 400, message)
    record = vapi.fake.record()
    assert record.calls == []
    assert [r["answer"] for r in record.post_call_requests] == [400]


def test_null_is_absent_and_non_e164_numbers_pass_when_the_check_is_off(start_fake):
    vapi = start_fake()
    body = call_body(name=None, squadId=None)
    body["customer"] = {"number": "1234", "numberE164CheckEnabled": False, "email": None}
    created = post(vapi.url, body)
    assert created.status_code == 201, created.text
    assert created.json()["customer"] == {"number": "1234", "numberE164CheckEnabled": False}


def test_unknown_resources_when_the_fake_knows_its_ids(start_fake):
    vapi = start_fake(assistant_ids=frozenset({"asst_1"}), phone_number_ids=frozenset({"pn_1"}))
    assert post(vapi.url, call_body()).status_code == 201
    assert_error(post(vapi.url, call_body(assistantId="asst_x")), 400, "Assistant asst_x not found")
    assert_error(
        post(vapi.url, call_body(phoneNumberId="pn_x")), 400, "Phone number pn_x not found"
    )
    assert_error(httpx.post(f"{vapi.url}/call", content=b"{", headers=HEADERS), 400, "valid JSON")
    assert vapi.fake.record().post_call_requests[-1]["body"] == "{"


def test_concurrency_limit_blocks_calls_like_vapi(start_fake):
    vapi = start_fake(orgs=(FakeOrg(KEY, concurrency_limit=2),), timings=SLOW)
    answers = [post(vapi.url, call_body(f"+1415555030{i}")).json() for i in range(3)]
    limits = [a["subscriptionLimits"] for a in answers]
    assert [x["remainingConcurrentCalls"] for x in limits] == [2, 1, 0]
    assert [x["concurrencyBlocked"] for x in limits] == [False, False, True]
    assert [a["status"] for a in answers] == ["queued", "queued", "ended"]
    assert answers[2]["endedReason"] == CONCURRENCY_LIMIT_REACHED
    record = vapi.fake.record()
    assert record.dials_by_number == {"+14155550300": 1, "+14155550301": 1}
    assert record.blocked_by_number == {"+14155550302": 1}
    assert record.max_active_by_org == {answers[0]["orgId"]: 2}
    assert record.max_active_by_campaign == {"camp-1": 2}


def test_the_older_concurrency_answer(start_fake):
    vapi = start_fake(
        orgs=(FakeOrg(KEY, concurrency_limit=1),), concurrency_answer="bad-request", timings=SLOW
    )
    assert post(vapi.url, call_body("+14155550400")).status_code == 201
    assert_error(post(vapi.url, call_body("+14155550401")), 400, "Over Concurrency Limit")
    assert vapi.fake.record().dials_by_number == {"+14155550400": 1}


def test_an_ended_call_frees_its_slot(start_fake):
    vapi = start_fake(orgs=(FakeOrg(KEY, concurrency_limit=1),), outcomes={"customer-busy": 1})
    assert post(vapi.url, call_body("+14155550410")).status_code == 201
    wait_until(
        lambda: vapi.fake.record().max_active_by_org and not vapi.fake.record().active_by_org
    )
    second = post(vapi.url, call_body("+14155550411")).json()
    assert second["status"] == "queued"
    assert second["subscriptionLimits"]["remainingConcurrentCalls"] == 1


def test_get_call_filters(start_fake):
    vapi = start_fake(timings=SLOW)
    first = post(vapi.url, call_body("+14155550500")).json()
    middle = post(vapi.url, call_body("+14155550501", assistantId="asst_2")).json()
    last = post(vapi.url, call_body("+14155550502", phoneNumberId="pn_2")).json()

    def ids(**params: object) -> list[str]:
        answer = httpx.get(f"{vapi.url}/call", params=params, headers=HEADERS)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()]

    assert ids() == [last["id"], middle["id"], first["id"]]  # newest first
    assert ids(limit=2) == [last["id"], middle["id"]]
    assert ids(limit="1.0") == [last["id"]]
    assert ids(id=middle["id"]) == [middle["id"]]
    assert ids(assistantId="asst_2") == [middle["id"]]
    assert ids(phoneNumberId="pn_2") == [last["id"]]
    assert ids(createdAtGe=middle["createdAt"]) == [last["id"], middle["id"]]
    assert ids(createdAtGt=middle["createdAt"]) == [last["id"]]
    assert ids(createdAtLe=middle["createdAt"]) == [middle["id"], first["id"]]
    assert ids(createdAtLt=middle["createdAt"]) == [first["id"]]
    future = iso_z(datetime.now(UTC) + timedelta(hours=1))
    assert ids(updatedAtGt=future) == []
    assert ids(updatedAtLt=future, phoneNumberId="pn_1") == [middle["id"], first["id"]]
    assert ids(updatedAtGe=first["updatedAt"], updatedAtLe=middle["updatedAt"]) == [
        middle["id"],
        first["id"],
    ]


def test_get_call_filters_refuse_bad_values(start_fake):
    vapi = start_fake()
    for params, message in (
        ({"limit": 1001}, "limit must be a number from 0 to 1000"),
        ({"limit": "many"}, "limit must be a number"),
        ({"createdAtGt": "yesterday"}, "createdAtGt must be a valid ISO 8601 date"),
        ({"campaignId": "c"}, "property campaignId should not exist"),
    ):
        assert_error(httpx.get(f"{vapi.url}/call", params=params, headers=HEADERS), 400, message)
