"""Large campaigns are rendered and sent a chunk at a time (bounded server memory): the
bodies are exactly the ones a small campaign's single statement renders."""

from __future__ import annotations

import json

import pytest

from campaign_service.api.routes import campaigns as routes
from campaign_service.calls import repository as calls_repository
from campaign_service.readmodel import documents
from tests.api.helpers import create, start_campaign
from tests.conftest import campaign_body


def dial_plan_body(sizes: list[int]) -> dict[str, object]:
    plan = [
        {
            "phoneNumberId": f"pn_{i}",
            "customers": [
                {"number": f"+1415{i:03d}{j:04d}", "name": f"C {i}.{j}"} for j in range(n)
            ],
        }
        for i, n in enumerate(sizes)
    ]
    return campaign_body(phoneNumberId=..., customers=..., dialPlan=plan)


async def bodies(client, org, ids: list[str]) -> tuple[list[dict], dict]:
    got = []
    for campaign_id in ids:
        response = await client.get(f"/campaigns/{campaign_id}", headers=org.headers)
        assert response.status_code == 200, response.text
        got.append(response.json())
    listed = await client.get("/campaigns", params={"limit": 10}, headers=org.headers)
    assert listed.status_code == 200, listed.text
    return got, listed.json()


async def test_large_campaigns_render_in_chunks_exactly_as_small_ones(
    client, org, engine, monkeypatch: pytest.MonkeyPatch
):
    overrides = {"variableValues": {"blob": "x" * (documents.EXTRA_INLINE_BYTES + 1)}}
    created = [
        await create(client, org, campaign_body(7)),
        await create(client, org, dial_plan_body([3, 0, 5])),
        await create(client, org, campaign_body(1)),
        # Both its calls and an opaque object are read in chunks.
        await create(client, org, {**dial_plan_body([2, 3]), "assistantOverrides": overrides}),
    ]
    await start_campaign(engine, created[0]["id"], call_statuses={0: "ended", 2: "queued"})
    ids = [c["id"] for c in created]
    whole, whole_list = await bodies(client, org, ids)
    assert sorted(c["id"] for c in whole_list["results"]) == sorted(ids)

    # Every campaign is now "large": each is read alone, its audience and call map two
    # positions at a time, and the bodies are streamed.
    monkeypatch.setattr(documents, "BATCH_BYTES", 1)
    monkeypatch.setattr(documents, "CHUNK_CALLS", 2)
    monkeypatch.setattr(routes, "STREAM_ABOVE_BYTES", 0)
    chunked, chunked_list = await bodies(client, org, ids)
    assert chunked == whole
    assert chunked_list == whole_list


async def test_a_list_of_large_campaigns_is_streamed_in_batches(
    client, org, monkeypatch: pytest.MonkeyPatch
):
    ids = [(await create(client, org, campaign_body(4, name=f"c{i}")))["id"] for i in range(5)]
    listed = await client.get("/campaigns", headers=org.headers)
    # Batches of about two campaigns each (the estimate of one is a few kB).
    one = max(1, len(listed.content) // 5)
    monkeypatch.setattr(documents, "BATCH_BYTES", 2 * one)
    batched = await client.get("/campaigns", headers=org.headers)
    assert batched.status_code == 200
    assert batched.json() == listed.json()
    assert sorted(c["id"] for c in batched.json()["results"]) == sorted(ids)


async def test_large_opaque_objects_are_sent_in_chunks(
    client, org, monkeypatch: pytest.MonkeyPatch
):
    overrides = {
        "variableValues": {"blob": 'é"\\x' * 100_000, "none": None, "list": [1, 2.5, None]},
        "firstMessage": "hello",
    }
    assert len(str(overrides)) > documents.EXTRA_INLINE_BYTES
    big = await create(client, org, campaign_body(3, assistantOverrides=overrides))
    small = await create(client, org, campaign_body(2, assistantOverrides={"firstMessage": "hi"}))
    monkeypatch.setattr(documents, "EXTRA_CHUNK_CHARS", 70_001)  # several chunks
    chunks = []
    read = documents._large_value

    async def counted(*args):
        async for chunk in read(*args):
            chunks.append(len(chunk))
            yield chunk

    monkeypatch.setattr(documents, "_large_value", counted)
    got, listed = await bodies(client, org, [big["id"], small["id"]])
    assert len(chunks) > 2 * 5  # the GET and the list each read the large object in chunks
    assert got == [big, small]
    assert big["assistantOverrides"] == overrides
    assert sorted(listed["results"], key=lambda c: c["id"]) == sorted(
        [big, small], key=lambda c: c["id"]
    )


async def test_v2_list_sends_large_opaque_objects_in_chunks(client, org):
    overrides = {"variableValues": {"blob": 'é"\\x' * 100_000, "none": None}}
    ids = [
        (await create(client, org, campaign_body(2, assistantOverrides=overrides)))["id"],
        (await create(client, org, campaign_body(1)))["id"],
    ]
    for counters in ("false", "true"):
        params = {"includeCounters": counters}
        listed = await client.get("/v2/campaign", params=params, headers=org.headers)
        assert listed.status_code == 200, listed.text[:300]
        got = [
            (await client.get(f"/v2/campaign/{i}", params=params, headers=org.headers)).json()
            for i in ids
        ]
        assert sorted(listed.json()["results"], key=lambda c: c["id"]) == sorted(
            got, key=lambda c: c["id"]
        )
        assert got[0]["assistantOverrides"] == overrides


async def test_a_large_create_answers_from_its_insert_in_slices(
    client, org, monkeypatch: pytest.MonkeyPatch
):
    """The 201 of a large create is streamed in slices, its call map rendered in runs; it is
    the body a small create answers whole, and the one a GET reads back. With an
    Idempotency-Key the body is answered whole (it is stored) and replayed unchanged."""
    monkeypatch.setattr(calls_repository, "CALL_MAP_RUN", 2)
    monkeypatch.setattr(routes, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(routes, "SEND_CHUNK_BYTES", 7)
    for body, size in ((campaign_body(7), 7), (dial_plan_body([3, 0, 5]), 8)):
        response = await client.post("/campaigns", json=body, headers=org.headers)
        assert response.status_code == 201, response.text
        assert "content-length" not in response.headers  # streamed
        created = response.json()
        read = await client.get(f"/campaigns/{created['id']}", headers=org.headers)
        assert created == read.json()
        assert len(created["calls"]) == created["callsCounterScheduled"] == size
    keyed = {**org.headers, "Idempotency-Key": "large-create"}
    first = await client.post("/campaigns", json=campaign_body(5), headers=keyed)
    again = await client.post("/campaigns", json=campaign_body(5), headers=keyed)
    assert first.status_code == again.status_code == 201
    assert first.headers["content-length"] == str(len(first.content))
    assert again.content == first.content
    assert len(first.json()["calls"]) == 5


ODD_CUSTOMERS = [
    {
        "number": "+14155550100",
        "name": 'Zoë "q" \\ é',
        "externalId": "x\u0001y\n\t/😀",
        "assistantOverrides": {
            "variableValues": {"n": 1.5, "big": 12345678901234, "list": [None, {"z": None}]},
            "zz": None,
        },
    },
    {"sipUri": "sip:a@b.c", "numberE164CheckEnabled": False, "extension": "12"},
    {"number": "abc123", "numberE164CheckEnabled": False, "squadOverrides": {"b": 1, "aa": 2}},
]


def raw_audiences(text: str) -> list[str]:
    """The text of every `customers` array of a body, exactly as sent."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := text.find('"customers":', at)) >= 0:
        start = at + len('"customers":')
        _, end = decoder.raw_decode(text, start)
        found.append(text[start:end])
        at = end
    return found


@pytest.mark.parametrize("shape", ["customers", "dialPlan"])
async def test_a_create_answers_its_audiences_in_the_bytes_a_get_reads(client, org, shape):
    """The audiences of a create's 201 (rendered from the customers it inserted) are the very
    text a GET renders from the stored calls: same key order, spacing, numbers, escapes."""
    if shape == "customers":
        body = campaign_body(customers=ODD_CUSTOMERS * 2)
    else:
        body = dial_plan_body([0, 0, 0])
        plan = body["dialPlan"]
        assert isinstance(plan, list)
        plan[0]["customers"], plan[2]["customers"] = ODD_CUSTOMERS, ODD_CUSTOMERS[::-1]
    created = await client.post("/campaigns", json=body, headers=org.headers)
    assert created.status_code == 201, created.text
    read = await client.get(f"/campaigns/{created.json()['id']}", headers=org.headers)
    expected = raw_audiences(read.text)
    assert len(expected) == (1 if shape == "customers" else 3)
    assert raw_audiences(created.text) == expected
