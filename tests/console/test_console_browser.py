"""The web console in headless Chromium against the real app: sign in, create a campaign and
watch it run to its end without a reload, end and delete another, a wrong key, and the
narrow (390 px) layout. Every request the browser makes must stay on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from campaign_service.console.routes import CONSOLE_CSP
from campaign_service.db.session import unit_of_work
from campaign_service.orgs import service as orgs
from campaign_service.timeutil import utcnow
from tests.conftest import OrgKey, campaign_body
from tests.console.a11y import assert_accessible, assert_audit_catches_problems
from tests.console.conftest import RequestLog
from tests.ops.conftest import LiveServer
from tests.ops.test_docs_browser import screenshot

AUDIENCE = "number,name,company\n" + "\n".join(
    f"+1415555{i:04d},Customer {i},Firm {i}" for i in range(8)
)


async def open_console(context: BrowserContext, base_url: str) -> Page:
    page = context.pages[0] if context.pages else await context.new_page()
    response = await page.goto(f"{base_url}/console")
    assert response is not None
    assert response.status == 200
    assert response.headers["content-security-policy"] == CONSOLE_CSP
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    return page


async def sign_in(page: Page, key: str) -> None:
    # Keyboard only: the key field has the focus when the form appears.
    await expect(page.get_by_label("API key")).to_be_focused()
    await page.keyboard.type(key)
    await page.keyboard.press("Enter")


async def no_csp_violations(page: Page) -> None:
    assert await page.evaluate("window.__cspViolations") == []


def assert_stayed_local(log: RequestLog, base_url: str, key: str) -> None:
    assert log.requests, "no request recorded"
    assert log.leaving(base_url) == []
    assert not [url for url in log.urls() if key in url]


async def test_wrong_key_then_create_and_watch_a_campaign_to_its_end(
    browser: tuple[BrowserContext, RequestLog],
    running_server: LiveServer,
    org: OrgKey,
    tmp_path: Path,
) -> None:
    context, log = browser
    base = running_server.base_url
    page = await open_console(context, base)

    await sign_in(page, "csk_not_a_key")
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Invalid Key")
    await expect(alert).to_contain_text("campaign-service org create")
    assert await page.evaluate("sessionStorage.length") == 0
    await assert_accessible(page)
    await screenshot(page, tmp_path / "console-wrong-key.png")

    await page.get_by_label("API key").fill("")
    await sign_in(page, org.api_key)
    await expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    await expect(page.get_by_text("No campaigns yet.")).to_be_visible()
    assert await page.evaluate("Object.values(sessionStorage)") == [org.api_key]

    await page.get_by_role("link", name="New campaign").first.click()
    await create_campaign_with_a_fix(page)
    await watch_to_the_end(page, log, tmp_path)

    assert await context.cookies() == []
    assert_stayed_local(log, base, org.api_key)
    await no_csp_violations(page)


async def create_campaign_with_a_fix(page: Page) -> None:
    """Fill the form, meet a bad CSV row and a 400 from the API, fix both, create."""
    await page.get_by_label("Name", exact=True).fill("Spring calls")
    await page.get_by_label("Assistant, workflow or squad ID").fill("asst_demo")
    await page.get_by_label("Phone number ID").fill("pn_demo")
    await page.get_by_label("Max concurrency").fill("20")  # above the org's limit of 10
    await page.get_by_label("Contacts as CSV").fill(AUDIENCE + "\n(415) 555-0199,Bad Number,X")
    await page.get_by_role("button", name="Preview audience").click()
    # The service's dry run judged it (the campaign's limit is not an audience problem).
    await expect(page.locator("#audience-preview")).to_have_attribute("data-checked-by", "service")
    await expect(page.locator("#preview-summary")).to_have_text(
        "9 contacts, 1 with problems (shown first)."
    )
    bad_row = page.locator("#preview-table tr.row-error")
    await expect(bad_row).to_contain_text("has no country code")
    await expect(bad_row).to_contain_text("10")  # its row in the file, the header being 1
    await expect(page.get_by_role("button", name="Create campaign")).to_be_disabled()

    await page.get_by_label("Contacts as CSV").fill(AUDIENCE)
    await page.get_by_role("button", name="Preview audience").click()
    await expect(page.locator("#audience-preview")).to_have_attribute("data-checked-by", "service")
    await expect(page.locator("#preview-summary")).to_have_text("8 contacts, all valid.")
    rows = page.locator("#preview-table tbody tr")
    await expect(rows).to_have_count(8)
    await expect(rows.first).to_contain_text("company=Firm 0")

    await page.get_by_role("button", name="Create campaign").click()
    errors = page.locator("#create-errors")
    await expect(errors).to_be_focused()
    await expect(errors).to_contain_text("concurrency limit of 10")
    field = page.get_by_label("Max concurrency")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#maxConcurrency-error")).to_contain_text("concurrency limit")
    await assert_accessible(page)

    await field.fill("2")
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.get_by_role("heading", name="Spring calls")).to_be_visible()


async def watch_to_the_end(page: Page, log: RequestLog, tmp_path: Path) -> None:
    """The counters move to the end by themselves: no reload, at most one request a second."""
    await page.evaluate("window.__sameDocument = true")
    progress = page.locator("#campaign-progress progress")
    first_request, started = len(log.requests), time.monotonic()
    seen: list[int] = []
    deadline = started + 120
    while time.monotonic() < deadline:
        done = int(await progress.get_attribute("data-done") or 0)
        if not seen or seen[-1] != done:
            seen.append(done)
        status = await page.locator("#campaign-head .badge").inner_text()
        if done == 8 and status == "ended":
            break
        await asyncio.sleep(0.2)
    assert seen[-1] == 8, seen
    assert len(seen) >= 3, f"the progress jumped instead of moving: {seen}"
    assert await page.evaluate("window.__sameDocument") is True
    await expect(page.locator("#campaign-head")).to_contain_text("campaign.ended.success")
    await expect(page.locator("#calls-table tbody tr")).to_have_count(8)
    await expect(page.locator("#calls-table tbody .badge-ended")).to_have_count(8)
    outcomes = await page.locator('#calls-table td[data-label="Outcome"]').all_inner_texts()
    assert all(o != "—" for o in outcomes), outcomes
    await expect_history(
        page,
        [
            ("scheduled", "Created."),
            ("in-progress", "No schedulePlan: dialing started at once."),
            ("ended", "Every call has ended."),
        ],
    )
    # One request per tick of the poller (the first at once): never more than one a second.
    polled, elapsed = log.api_calls(first_request), time.monotonic() - started
    assert len(polled) <= elapsed + 2, (len(polled), elapsed)
    await assert_accessible(page)
    await screenshot(page, tmp_path / "console-campaign.png")


async def expect_history(page: Page, moves: list[tuple[str, str]]) -> None:
    """The history panel lists the campaign's moves, oldest first, each with its sentence."""
    entries = page.locator("#history-list li")
    await expect(entries).to_have_count(len(moves))
    for entry, (status, detail) in zip(await entries.all(), moves, strict=True):
        assert await entry.get_attribute("data-to-status") == status
        await expect(entry).to_contain_text(detail)


async def create_via_api(base_url: str, org: OrgKey, **overrides: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, headers=org.headers) as client:
        response = await client.post("/campaigns", json=campaign_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_end_then_delete_a_running_campaign_from_its_page(
    browser: tuple[BrowserContext, RequestLog],
    running_server: LiveServer,
    org: OrgKey,
    engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    context, log = browser
    base = running_server.base_url
    campaign = await create_via_api(base, org, n=40, maxConcurrency=1, name="Long list")
    page = await open_console(context, base)
    await sign_in(page, org.api_key)
    await page.get_by_role("link", name="Long list").click()
    await expect(page.locator("#campaign-head .badge")).to_have_text("in-progress")

    end = page.get_by_role("button", name="End campaign")
    await end.click()
    dialog = page.get_by_role("dialog", name="End this campaign?")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(end).to_be_focused()

    await end.click()
    await dialog.get_by_role("button", name="End campaign").click()
    # The console reads the v2 paths: a campaign the user ended reads cancelled there.
    await expect(page.locator("#campaign-head .badge")).to_have_text("cancelled")
    await expect(page.locator("#campaign-head")).to_contain_text(
        "campaign.in-progress.ended-by-user"
    )
    await expect(end).to_have_count(0)
    await expect_history(
        page,
        [
            ("scheduled", "Created."),
            ("in-progress", "dialing started at once"),
            ("ended", "Ended by the user; calls not yet placed were cancelled."),
        ],
    )
    await expect(page.locator("#history-list li").last).to_contain_text("by a user")
    await expect(page.locator("#history-list li").last).to_contain_text(
        "campaign.in-progress.ended-by-user"
    )
    await expect(page.locator('[data-counter="skipped"] .counter-value')).not_to_have_text("0")
    await screenshot(page, tmp_path / "console-ended.png")

    calls = page.locator("#calls-table tbody tr")
    await expect(calls).to_have_count(25)
    await (
        page.get_by_role("navigation", name="Call pages").get_by_role("button", name="Next").click()
    )
    await expect(calls).to_have_count(15)
    await expect(calls.first.locator('td[data-label="#"]')).to_have_text("26")
    await expect(page.get_by_text("Page 2 of 2 · 40 in all")).to_be_visible()

    await filter_and_page_the_list(page, base, org)
    await a_screened_call_says_why(page, engine)
    await page.get_by_role("link", name="Long list").click()
    await page.get_by_role("button", name="Delete campaign").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete campaign").click()
    await expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    await expect(page.locator("#campaign-list")).to_contain_text("Page 1 of 2 · 21 in all")
    await expect(page.get_by_role("link", name="Long list")).to_have_count(0)
    async with httpx.AsyncClient(base_url=base, headers=org.headers) as client:
        gone = await client.get(f"/campaigns/{campaign['id']}")
    assert gone.status_code == 404
    assert_stayed_local(log, base, org.api_key)
    await no_csp_violations(page)


async def filter_and_page_the_list(page: Page, base: str, org: OrgKey) -> None:
    """21 more campaigns, waiting for a start in 2099: newest first, 20 a page, by status."""
    for i in range(21):
        later = {"earliestAt": "2099-01-01T00:00:00Z"}
        await create_via_api(base, org, n=1, name=f"Later {i:02d}", schedulePlan=later)
    await page.get_by_role("link", name="Campaigns", exact=True).click()
    rows = page.locator("#campaign-list tbody tr")
    await expect(rows).to_have_count(20)
    await expect(rows.first).to_contain_text("Later 20")
    await expect(page.locator("#campaign-list")).to_contain_text("Page 1 of 2 · 22 in all")
    await (
        page.get_by_role("navigation", name="Campaign pages")
        .get_by_role("button", name="Next")
        .click()
    )
    await expect(rows).to_have_count(2)
    await expect(rows.last).to_contain_text("Long list")

    await page.get_by_label("Status").select_option("ended")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Long list")
    assert page.url.endswith("#/?status=ended")
    await page.get_by_label("Status").select_option("in-progress")
    await expect(page.get_by_text("No campaigns with this status.")).to_be_visible()
    await page.get_by_label("Status").select_option("")
    await expect(rows).to_have_count(20)
    await page.get_by_label("Status").select_option("ended")  # to open "Long list" again
    await expect(rows).to_have_count(1)


async def a_screened_call_says_why(page: Page, engine: AsyncEngine) -> None:
    """A call the engine screened out before its dial (here: its number is on the do-not-call
    list) shows the reason next to its endedReason."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE calls SET status = 'ended', ended_reason = 'scheduled-call-deleted',"
                " skip_reason = 'do-not-call', ended_at = now() FROM campaigns"
                " WHERE calls.campaign_id = campaigns.id AND campaigns.name = 'Later 00'"
            )
        )
    await page.get_by_label("Status").select_option("")
    await (
        page.get_by_role("navigation", name="Campaign pages")
        .get_by_role("button", name="Next")
        .click()
    )
    await page.get_by_role("link", name="Later 00").click()
    outcome = page.locator('#calls-table td[data-label="Outcome"]')
    await expect(outcome).to_have_text("scheduled-call-deleted (skipped: do-not-call)")
    await page.get_by_role("link", name="← Campaigns").click()
    await page.get_by_label("Status").select_option("ended")


async def test_narrow_screen_has_no_horizontal_scroll(
    browser: tuple[BrowserContext, RequestLog],
    running_server: LiveServer,
    org: OrgKey,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    context, log = browser
    base = running_server.base_url
    campaign = await create_via_api(
        base, org, n=12, maxConcurrency=3, name="A rather long name " * 3
    )
    page = await open_console(context, base)
    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_in(page, org.api_key)
    await expect(page.locator("#campaign-list tbody tr")).to_have_count(1)
    await assert_accessible(page)
    await no_horizontal_scroll(page, tmp_path / "console-390-list.png")

    await page.goto(f"{base}/console#/campaigns/{campaign['id']}")
    await expect(page.locator("#calls-table tbody tr")).to_have_count(12)
    await no_horizontal_scroll(page, tmp_path / "console-390-campaign.png")

    async with httpx.AsyncClient(base_url=base, headers=org.headers) as client:
        listed = await client.post("/dnc", json={"number": "+14155550003"})
        assert listed.status_code == 201, listed.text
    await page.goto(f"{base}/console#/new")
    await fill_a_scheduled_squad_campaign(page, tmp_path)
    await expect(page.locator("#audience-preview")).to_have_attribute("data-checked-by", "service")
    await expect(page.locator("#preview-table tbody tr")).to_have_count(8)
    await expect(page.locator("#preview-summary")).to_have_text("8 contacts, all valid.")
    await expect(page.locator("#preview-checked")).to_contain_text(
        "1 on the do-not-call list (rows 5): they will be skipped, not dialed."
    )
    await no_horizontal_scroll(page, tmp_path / "console-390-new.png")
    await assert_accessible(page)
    await assert_audit_catches_problems(page)
    await page.get_by_role("button", name="Create campaign").click()
    await expect(page.get_by_role("heading", name="Next year")).to_be_visible()
    head = page.locator("#campaign-head")
    await expect(head.locator(".badge")).to_have_text("scheduled")
    await expect(head).to_contain_text("Squadsquad_night")  # <dt>Squad</dt><dd>squad_night</dd>
    await expect(head).to_contain_text("Earliest startJan 1, 2099, 9:30:00 AM")
    await expect(head).to_contain_text("Latest startJan 1, 2099, 5:00:00 PM")
    # Created by the CSV import: national numbers read as the chosen country's, in E.164.
    async with httpx.AsyncClient(base_url=base, headers=org.headers) as client:
        listed = (await client.get("/campaigns")).json()["results"]
    [created] = [c for c in listed if c["name"] == "Next year"]
    numbers = [c["number"] for c in created["customers"]]
    assert numbers == [f"+1415555{i:04d}" for i in range(8)], numbers
    assert_stayed_local(log, base, org.api_key)
    await no_csp_violations(page)

    # A key revoked while the console is open: the next request signs the tab out.
    async with unit_of_work(sessions) as session:
        await orgs.revoke_key(session, key_id=uuid.UUID(org.key_id), now=utcnow())
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Signed out")).to_contain_text(
        "Invalid Key"
    )
    assert await page.evaluate("sessionStorage.length") == 0


async def fill_a_scheduled_squad_campaign(page: Page, tmp_path: Path) -> None:
    """The form with every field, the audience loaded from a file (times in the browser's
    zone, UTC here)."""
    audience = tmp_path / "audience.csv"
    # Two numbers as people write them at home: the country below makes them callable.
    audience.write_text(
        AUDIENCE.replace("+14155550006", "(415) 555-0006").replace("+14155550007", "415.555.0007")
    )
    await page.get_by_label("Name", exact=True).fill("Next year")
    await page.get_by_label("Who makes the calls").select_option("squadId")
    await page.get_by_label("Assistant, workflow or squad ID").fill("squad_night")
    await page.get_by_label("Phone number ID").fill("pn_night")
    await page.get_by_label("Earliest start").fill("2099-01-01T09:30")
    await page.get_by_label("Latest start").fill("2099-01-01T17:00")
    await page.get_by_label("Country of national numbers").fill("us")
    await page.get_by_label("Or load a CSV file").set_input_files(audience)


async def no_horizontal_scroll(page: Page, path: Path) -> None:
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 390, widths
    await screenshot(page, path)
