"""Every create rule answers 400 in Vapi's shape, names the problem, and writes nothing."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import assert_validation_error, create, row_counts
from tests.conftest import campaign_body


def customers(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"number": f"+1415{i:07d}", **extra} for i in range(n)]


def dial_plan(*sizes: int) -> list[dict[str, Any]]:
    start = 0
    entries = []
    for i, size in enumerate(sizes):
        entries.append(
            {
                "phoneNumberId": f"pn_{i}",
                "customers": [{"number": f"+1415{j:07d}"} for j in range(start, start + size)],
            }
        )
        start += size
    return entries


def with_customer(**fields: Any) -> dict[str, Any]:
    return campaign_body(customers=[{"number": "+14155550100", **fields}])


E164 = "customers.0.number must be a valid E.164 phone number"
LONG = "x" * 41

INVALID: dict[str, tuple[Any, str]] = {
    "name missing": (campaign_body(name=...), "name is required"),
    "name empty": (campaign_body(name=""), "name must have at least 1 character"),
    "name not a string": (campaign_body(name=123), "name must be a valid string"),
    "assistant and workflow": (
        campaign_body(workflowId="wf_1"),
        "only one of assistantId, workflowId or squadId can be used (got assistantId, workflowId)",
    ),
    "workflow and squad": (
        campaign_body(assistantId=..., workflowId="wf_1", squadId="sq_1"),
        "only one of assistantId, workflowId or squadId",
    ),
    "all three targets": (
        campaign_body(workflowId="wf_1", squadId="sq_1"),
        "(got assistantId, workflowId, squadId)",
    ),
    "no target": (
        campaign_body(assistantId=...),
        "one of assistantId, workflowId or squadId is required",
    ),
    "phoneNumberId and dialPlan": (
        campaign_body(customers=..., dialPlan=dial_plan(1)),
        "phoneNumberId and dialPlan are mutually exclusive",
    ),
    "neither phoneNumberId nor dialPlan": (
        campaign_body(phoneNumberId=...),
        "phoneNumberId is required when dialPlan is not provided",
    ),
    "customers missing": (
        campaign_body(customers=...),
        "customers is required when dialPlan is not provided",
    ),
    "customers alongside dialPlan": (
        campaign_body(phoneNumberId=..., dialPlan=dial_plan(1)),
        "customers cannot be combined with dialPlan",
    ),
    "zero customers": (campaign_body(0), "a campaign needs at least 1 customer"),
    "zero customers in dial plan": (
        campaign_body(phoneNumberId=..., customers=..., dialPlan=dial_plan(0, 0)),
        "a campaign needs at least 1 customer",
    ),
    "empty dial plan": (
        campaign_body(phoneNumberId=..., customers=..., dialPlan=[]),
        "a campaign needs at least 1 customer",
    ),
    "10,001 customers": (
        campaign_body(customers=customers(10_001)),
        "a campaign can have at most 10000 customers (got 10001)",
    ),
    "10,001 customers across dial plan entries": (
        campaign_body(phoneNumberId=..., customers=..., dialPlan=dial_plan(5_000, 5_001)),
        "a campaign can have at most 10000 customers (got 10001)",
    ),
    "not E.164 (no plus)": (with_customer(number="14155550100"), E164),
    "not E.164 (leading zero)": (with_customer(number="+04155550100"), E164),
    "not E.164 (16 digits)": (with_customer(number="+1234567890123456"), E164),
    "not E.164 (letters)": (with_customer(number="+1415CALLNOW"), E164),
    "loose number with a dash": (
        with_customer(number="12-34", numberE164CheckEnabled=False),
        "customers.0.number may contain only letters and digits",
    ),
    "number shorter than 3": (
        with_customer(number="12", numberE164CheckEnabled=False),
        "customers.0.number must have at least 3 characters",
    ),
    "number longer than 40": (
        with_customer(number="1" * 41, numberE164CheckEnabled=False),
        "customers.0.number must have at most 40 characters",
    ),
    "customer without number or sipUri": (
        campaign_body(customers=[{"name": "Nobody"}]),
        "customers.0 needs a number or a sipUri",
    ),
    "customer name longer than 40": (
        with_customer(name=LONG),
        "customers.0.name must have at most 40 characters",
    ),
    "customer email longer than 40": (
        with_customer(email=LONG + "@x.io"),
        "customers.0.email must have at most 40 characters",
    ),
    "customer externalId longer than 40": (
        with_customer(externalId=LONG),
        "customers.0.externalId must have at most 40 characters",
    ),
    "customer extension longer than 10": (
        with_customer(extension="1" * 11),
        "customers.0.extension must have at most 10 characters",
    ),
    "bad number in a dial plan entry": (
        campaign_body(
            phoneNumberId=...,
            customers=...,
            dialPlan=[{"phoneNumberId": "pn", "customers": [{"number": "5550100"}]}],
        ),
        "dialPlan.0.customers.0.number must be a valid E.164 phone number",
    ),
    "dial plan entry without phoneNumberId": (
        campaign_body(phoneNumberId=..., customers=..., dialPlan=[{"customers": customers(1)}]),
        "dialPlan.0.phoneNumberId is required",
    ),
    "schedulePlan without earliestAt": (
        campaign_body(schedulePlan={"latestAt": "2030-01-01T00:00:00Z"}),
        "schedulePlan.earliestAt is required",
    ),
    "latestAt before earliestAt": (
        campaign_body(
            schedulePlan={"earliestAt": "2030-01-02T00:00:00Z", "latestAt": "2030-01-01T00:00:00Z"}
        ),
        "latestAt must be after earliestAt",
    ),
    "latestAt equal to earliestAt (other offset)": (
        campaign_body(
            schedulePlan={
                "earliestAt": "2030-01-01T12:00:00Z",
                "latestAt": "2030-01-01T14:00:00+02:00",
            }
        ),
        "latestAt must be after earliestAt",
    ),
    "earliestAt not a date": (
        campaign_body(schedulePlan={"earliestAt": "next tuesday"}),
        "schedulePlan.earliestAt must be an ISO 8601 date-time",
    ),
    "earliestAt as a Unix time": (
        campaign_body(schedulePlan={"earliestAt": 1767225600}),
        "schedulePlan.earliestAt must be an ISO 8601 date-time string",
    ),
    "latestAt before year 1 in UTC": (
        campaign_body(
            schedulePlan={
                "earliestAt": "0001-01-01T00:00:00Z",
                "latestAt": "0001-01-01T01:38:49+07:36",
            }
        ),
        "schedulePlan.latestAt is out of range",
    ),
    "maxConcurrency 0": (
        campaign_body(maxConcurrency=0),
        "maxConcurrency must be greater than or equal to 1",
    ),
    "maxConcurrency 501": (
        campaign_body(maxConcurrency=501),
        "maxConcurrency must be less than or equal to 500",
    ),
    "maxConcurrency 2.5": (
        campaign_body(maxConcurrency=2.5),
        "maxConcurrency must be an integer number, not 2.5",
    ),
    "maxConcurrency as a string": (
        campaign_body(maxConcurrency="5"),
        "maxConcurrency must be an integer number",
    ),
    "maxConcurrency as a boolean": (
        campaign_body(maxConcurrency=True),
        "maxConcurrency must be an integer number",
    ),
    "numberE164CheckEnabled as a string": (
        with_customer(number="abc123", numberE164CheckEnabled="false"),
        "customers.0.numberE164CheckEnabled must be a boolean (true or false)",
    ),
    "name of spaces": (campaign_body(name="   "), "name must not be blank"),
    "unknown top-level property": (
        campaign_body(customer={"number": "+14155550100"}),
        "property customer should not exist",
    ),
    "unknown property in a customer": (
        with_customer(phone="+14155550100"),
        "property customers.0.phone should not exist",
    ),
    "unknown property in schedulePlan": (
        campaign_body(schedulePlan={"earliestAt": "2030-01-01T00:00:00Z", "tz": "UTC"}),
        "property schedulePlan.tz should not exist",
    ),
    "predialPlan without server": (
        campaign_body(predialPlan={"enabled": True}),
        "predialPlan requires server",
    ),
    "unknown serverMessages value": (
        campaign_body(server={"url": "https://h.example"}, serverMessages=["campaign.exploded"]),
        "serverMessages.0 must be",
    ),
    "customers not a list": (
        campaign_body(customers={"number": "+14155550100"}),
        "customers must be a valid list",
    ),
}


async def test_invalid_creates_are_refused_and_write_nothing(client, org, engine, subtests):
    await create(client, org)  # so "writes nothing" is checked against non-empty tables
    for case, (body, needle) in INVALID.items():
        with subtests.test(case):
            before = await row_counts(engine)
            response = await client.post("/campaigns", json=body, headers=org.headers)
            assert_validation_error(response, needle)
            assert await row_counts(engine) == before


MALFORMED = {
    "invalid JSON": (b'{"name": "x",', "request body is not valid JSON"),
    "empty": (b"", "request body is required"),
    "array": (b"[1, 2]", "request body must be a JSON object"),
    "string": (b'"a campaign"', "request body must be a JSON object"),
    "number": (b"42", "request body must be a JSON object"),
}


async def test_malformed_bodies(client, org, engine, subtests):
    await create(client, org)
    for case, (content, needle) in MALFORMED.items():
        with subtests.test(case):
            before = await row_counts(engine)
            response = await client.post(
                "/campaigns",
                content=content,
                headers={**org.headers, "content-type": "application/json"},
            )
            assert_validation_error(response, needle)
            assert await row_counts(engine) == before


async def test_every_problem_is_reported_at_once(client, org):
    body = campaign_body(
        customers=[{"number": "bad"}, {"number": "+14155550100", "name": LONG}], maxConcurrency=0
    )
    response = await client.post("/campaigns", json=body, headers=org.headers)
    messages = assert_validation_error(response)
    assert any(m.startswith("customers.0.number") for m in messages), messages
    assert any(m.startswith("customers.1.name") for m in messages), messages
    assert any(m.startswith("maxConcurrency") for m in messages), messages


async def test_rule_violations_are_listed_one_per_message(client, org):
    body = campaign_body(assistantId=..., phoneNumberId=..., customers=...)
    messages = assert_validation_error(
        await client.post("/campaigns", json=body, headers=org.headers)
    )
    assert messages == [
        "one of assistantId, workflowId or squadId is required",
        "phoneNumberId is required when dialPlan is not provided",
        "customers is required when dialPlan is not provided",
    ]


async def test_exactly_10000_customers_are_accepted(client, org, engine):
    campaign = await create(client, org, campaign_body(customers=customers(10_000)))
    assert campaign["callsCounterScheduled"] == 10_000
    assert len(campaign["calls"]) == 10_000
    assert (await row_counts(engine))["calls"] == 10_000


ACCEPTED_CUSTOMERS = {
    "letters": {"number": "abc123", "numberE164CheckEnabled": False},
    "plus letters": {"number": "+abc123", "numberE164CheckEnabled": False},
    "3 chars": {"number": "123", "numberE164CheckEnabled": False},
    "40 chars": {"number": "1" * 40, "numberE164CheckEnabled": False},
    "15 digits": {"number": "+123456789012345"},
    "length limits": {
        "number": "+14155550100",
        "name": "x" * 40,
        "email": "e" * 40,
        "externalId": "i" * 40,
        "extension": "1" * 10,
    },
    "sipUri only": {"sipUri": "sip:ada@example.com"},
}


async def test_customer_edge_values_are_accepted(client, org, subtests):
    for case, fields in ACCEPTED_CUSTOMERS.items():
        with subtests.test(case):
            campaign = await create(client, org, customers=[fields])
            (call,) = campaign["calls"].values()
            for key, value in fields.items():
                assert call["customer"][key] == value


async def test_null_means_not_given(client, org):
    body = campaign_body(
        workflowId=None,
        squadId=None,
        dialPlan=None,
        schedulePlan=None,
        maxConcurrency=None,
        assistantOverrides=None,
        server=None,
        predialPlan=None,
    )
    body["customers"] = [{"number": "+14155550100", "name": None, "email": None}]
    campaign = await create(client, org, body)
    assert campaign["assistantId"] == "asst_1"
    assert "workflowId" not in campaign
    assert "squadId" not in campaign
    assert campaign["maxConcurrency"] == 10
    assert "schedulePlan" not in campaign
    assert "name" not in campaign["customers"][0]


async def test_null_customer_fields_are_their_defaults(client, org):
    """Every property of a customer may be null: the check of numbers stays on, a null number
    with a sipUri is no number, and a customer null everywhere still needs a target."""
    body = campaign_body()
    body["customers"] = [
        {"number": "+14155550100", "numberE164CheckEnabled": None, "timeZone": None},
        {"number": None, "sipUri": "sip:a@example.com", "assistantOverrides": None},
    ]
    campaign = await create(client, org, body)
    assert campaign["customers"] == [
        {"number": "+14155550100", "numberE164CheckEnabled": True},
        {"sipUri": "sip:a@example.com", "numberE164CheckEnabled": True},
    ]
    body["customers"] = [{"number": "415 555", "numberE164CheckEnabled": None}, {"number": None}]
    response = await client.post("/campaigns", json=body, headers=org.headers)
    assert response.status_code == 400
    assert response.json()["message"] == [
        "customers.0.number must be a valid E.164 phone number such as +14155551234 (set "
        "numberE164CheckEnabled to false to allow other formats)",
        "customers.1 needs a number or a sipUri",
    ]


async def test_null_phone_number_with_a_dial_plan(client, org):
    body = campaign_body(phoneNumberId=None, customers=None, dialPlan=dial_plan(1, 1))
    campaign = await create(client, org, body)
    assert len(campaign["dialPlan"]) == 2
