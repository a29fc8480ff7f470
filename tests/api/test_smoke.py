from tests.conftest import campaign_body


async def test_create_and_get(client, org):
    created = await client.post("/campaigns", json=campaign_body(3), headers=org.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    got = await client.get(f"/campaigns/{body['id']}", headers=org.headers)
    assert got.status_code == 200
    assert got.json() == body
    assert body["callsCounterScheduled"] == 3
