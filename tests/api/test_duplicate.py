"""duplicateFromCampaignId: the source's configuration and audience, the request on top; v2
campaigns are immutable and a user-ended one reads cancelled there."""

from __future__ import annotations

import pytest

from tests.conftest import campaign_body, new_id

CONFIG = {
    "maxConcurrency": 3,
    "assistantOverrides": {"variableValues": {"team": "blue"}},
    "server": {"url": "https://hooks.example/vapi", "timeoutSeconds": 5},
    "serverMessages": ["campaign.ended", "contact.completed"],
    "predialPlan": {"enabled": False},
    "retryPlan": {"maxAttempts": 2, "retryOn": ["busy"], "delay": {"seconds": 60}},
}


async def _create(client, org, path="/campaign", **body):
    response = await client.post(path, json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("path", ["/campaign", "/campaigns", "/v2/campaign"])
async def test_duplicate_copies_configuration_and_audience(client, org, path):
    source = await _create(client, org, **campaign_body(3, **CONFIG))
    copy = await _create(client, org, path, name="Second try", duplicateFromCampaignId=source["id"])
    assert copy["id"] != source["id"]
    assert copy["name"] == "Second try"
    assert "duplicateFromCampaignId" not in copy
    for key in ("assistantId", "phoneNumberId", "maxConcurrency", "assistantOverrides",
                "server", "serverMessages", "predialPlan", "customers"):  # fmt: skip
        assert copy[key] == source[key], key
    assert copy["callsCounterScheduled"] == 3
    again = (await client.get(f"/campaign/{source['id']}", headers=org.headers)).json()
    assert again["name"] == source["name"]
    assert again["status"] == "scheduled"


async def test_request_fields_go_on_top(client, org):
    source = await _create(client, org, **campaign_body(3, **CONFIG))
    copy = await _create(
        client,
        org,
        name="Smaller",
        duplicateFromCampaignId=source["id"],
        workflowId="wf_9",
        customers=[{"number": "+14155559999"}],
        maxConcurrency=1,
    )
    assert copy.get("assistantId") is None
    assert copy["workflowId"] == "wf_9"
    assert [c["number"] for c in copy["customers"]] == ["+14155559999"]
    assert copy["maxConcurrency"] == 1
    assert copy["server"] == CONFIG["server"]


async def test_duplicate_of_a_dial_plan_keeps_its_entries(client, org):
    body = campaign_body(0, phoneNumberId=..., customers=...)
    body["dialPlan"] = [
        {"phoneNumberId": "pn_a", "customers": [{"number": "+14155550001"}]},
        {"phoneNumberId": "pn_b", "customers": [{"number": "+14155550002"}] * 1},
    ]
    source = await _create(client, org, **body)
    copy = await _create(client, org, name="Plan", duplicateFromCampaignId=source["id"])
    assert copy["dialPlan"] == source["dialPlan"]


async def test_another_orgs_campaign_is_not_found(client, org, make_org):
    other = await make_org("Other")
    theirs = await _create(client, other, **campaign_body(1))
    for missing in (theirs["id"], new_id(), "nonsense"):
        response = await client.post(
            "/campaign",
            json={"name": "Copy", "duplicateFromCampaignId": missing},
            headers=org.headers,
        )
        assert response.status_code == 404, response.text
        assert response.json()["statusCode"] == 404


async def test_a_merged_body_that_breaks_the_rules_is_a_400(client, org):
    source = await _create(client, org, **campaign_body(1))
    response = await client.post(
        "/campaign",
        json={"name": "Copy", "duplicateFromCampaignId": source["id"], "dialPlan": []},
        headers=org.headers,
    )
    assert response.status_code == 400, response.text


async def test_v2_patch_refuses_configuration_changes(client, org):
    created = await _create(client, org, "/v2/campaign", **campaign_body(2))
    response = await client.patch(
        f"/v2/campaign/{created['id']}", json={"maxConcurrency": 2}, headers=org.headers
    )
    assert response.status_code == 400
    message = response.json()["message"]
    assert "immutable" in message
    assert "duplicateFromCampaignId" in message
    # v1 PATCH keeps changing a scheduled campaign.
    v1 = await client.patch(
        f"/campaign/{created['id']}", json={"maxConcurrency": 2}, headers=org.headers
    )
    assert v1.status_code == 200
    assert v1.json()["maxConcurrency"] == 2


async def test_v2_reads_a_user_ended_campaign_as_cancelled(client, org):
    created = await _create(client, org, "/v2/campaign", **campaign_body(2))
    response = await client.patch(
        f"/v2/campaign/{created['id']}", json={"status": "cancelled"}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    v2 = (await client.get(f"/v2/campaign/{created['id']}", headers=org.headers)).json()
    assert v2["status"] == "cancelled"
    listed = (await client.get("/v2/campaign", headers=org.headers)).json()["results"]
    assert listed[0]["status"] == "cancelled"
    v1 = (await client.get(f"/campaign/{created['id']}", headers=org.headers)).json()
    assert v1["status"] == "ended"
    assert v1["endedReason"] == "campaign.scheduled.ended-by-user"
