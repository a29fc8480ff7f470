"""The dial-time check, straight against the database: which numbers of a batch are blocked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from campaign_service.audiences import dnc_repository as repo
from campaign_service.db.session import unit_of_work

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def test_blocked_numbers_answers_for_a_whole_batch_and_one_org(sessions, make_org):
    org = uuid.UUID((await make_org("Acme")).org_id)
    other = uuid.UUID((await make_org("Other")).org_id)
    async with unit_of_work(sessions) as session:
        await repo.add_numbers(
            session,
            org_id=org,
            entries=[("+14155550100", "asked", "csv"), ("+14155550102", None, "api")],
            now=NOW,
        )
        await repo.add_numbers(
            session, org_id=other, entries=[("+14155550101", None, "api")], now=NOW
        )

    batch = [f"+1415555010{i}" for i in range(5)]
    async with sessions() as session:
        assert await repo.blocked_numbers(session, org_id=org, numbers=batch) == {
            "+14155550100",
            "+14155550102",
        }
        assert await repo.blocked_numbers(session, org_id=other, numbers=batch) == {"+14155550101"}
        assert await repo.blocked_numbers(session, org_id=org, numbers=[]) == set()


async def test_a_number_added_while_a_campaign_runs_is_seen_by_the_next_check(sessions, make_org):
    """A lookup sees the list as of its own statement: a number committed by the API in
    between is blocked from the next lookup on (the engine reads the list in each claim
    statement, the same way)."""
    org = uuid.UUID((await make_org()).org_id)
    async with sessions() as claim:
        assert await repo.blocked_numbers(claim, org_id=org, numbers=["+14155550100"]) == set()
        await claim.rollback()
        async with unit_of_work(sessions) as api:
            await repo.add_number(
                api, org_id=org, number="+14155550100", reason=None, source="api", now=NOW
            )
        blocked = await repo.blocked_numbers(claim, org_id=org, numbers=["+14155550100"])
        assert blocked == {"+14155550100"}


async def test_the_lookup_uses_the_primary_key_index(sessions, make_org):
    org = uuid.UUID((await make_org()).org_id)
    async with unit_of_work(sessions) as session:
        await repo.add_numbers(
            session,
            org_id=org,
            entries=[(f"+1415{i:07d}", None, "csv") for i in range(20_000)],
            now=NOW,
        )
    async with sessions() as session:
        await session.execute(text("ANALYZE dnc_numbers"))
        plan = "\n".join(
            (
                await session.execute(
                    text(
                        "EXPLAIN SELECT number FROM dnc_numbers WHERE org_id = :org"
                        " AND number = ANY(CAST(:numbers AS text[]))"
                    ),
                    {"org": org, "numbers": ["+14150000001", "+14150000002"]},
                )
            ).scalars()
        )
    assert "pk_dnc_numbers" in plan, plan


async def test_adding_is_idempotent_and_removing_answers_the_entry(sessions, make_org):
    org = uuid.UUID((await make_org()).org_id)
    async with unit_of_work(sessions) as session:
        _first, added = await repo.add_number(
            session, org_id=org, number="+14155550100", reason="a", source="api", now=NOW
        )
        again, added_again = await repo.add_number(
            session, org_id=org, number="+14155550100", reason="b", source="cli", now=NOW
        )
        assert (added, added_again) == (True, False)
        assert (again.reason, again.source) == ("a", "api")
        assert (
            await repo.add_numbers(
                session, org_id=org, entries=[("+14155550100", None, "csv")], now=NOW
            )
            == 0
        )
        removed = await repo.remove_number(session, org_id=org, number="+14155550100")
        assert removed is not None
        assert removed.reason == "a"
        assert await repo.remove_number(session, org_id=org, number="+14155550100") is None
