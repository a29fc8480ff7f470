"""/docs and /redoc in real headless Chromium: rendered, offline, and usable with a key.

Needs a Chromium binary (Debian: `apt-get install chromium`; .ci/run installs it). Playwright
drives it over the DevTools protocol; Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, async_playwright

from tests.conftest import OrgKey
from tests.ops.conftest import LiveServer

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000


def find_chromium() -> str | None:
    candidates = [
        os.environ.get("CHROMIUM_PATH"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
        "/usr/bin/chromium",
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium binary found (apt-get install chromium, or set CHROMIUM_PATH)")
    async with async_playwright() as playwright:
        # A persistent context is how Playwright takes a fresh --user-data-dir of our choosing.
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1600},
        )
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        await context.close()


class OutsideRequests:
    """Requests the page made anywhere but this service (a CDN would show up here), less those
    the page's Content-Security-Policy blocked before they left the browser."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.attempted: list[str] = []
        self.blocked: list[str] = []
        local = (base_url, "data:", "blob:")
        page.on(
            "request", lambda r: None if r.url.startswith(local) else self.attempted.append(r.url)
        )
        page.on(
            "requestfailed", lambda r: self.blocked.append(r.url) if r.failure == "csp" else None
        )

    def sent(self) -> list[str]:
        return [url for url in self.attempted if url not in self.blocked]


async def screenshot(page: Page, path: Path) -> None:
    image = await page.screenshot(path=str(path), full_page=True)
    assert len(image) > 10_000
    print(f"screenshot: {path}")


async def test_swagger_ui_lists_operations_and_executes_with_a_key(
    browser: BrowserContext, live_server: LiveServer, org: OrgKey, tmp_path: Path
) -> None:
    page = browser.pages[0] if browser.pages else await browser.new_page()
    outside = OutsideRequests(page, live_server.base_url)
    await page.goto(f"{live_server.base_url}/docs")
    await page.wait_for_selector(".opblock-summary-path")

    rendered = {
        " ".join(text.split())
        for text in await page.locator(".opblock-summary-control").all_inner_texts()
    }
    for operation in (
        "POST /campaigns Create a campaign",
        "GET /campaigns List campaigns",
        "GET /campaigns/{id} Get a campaign",
        "PATCH /campaigns/{id} Update or end a campaign",
        "DELETE /campaigns/{id} Delete (archive) a campaign",
        "GET /campaigns/{id}/calls List a campaign's calls",
        "GET /campaigns/{id}/calls/{callId} Get one call",
        "GET /health Liveness",
    ):
        assert operation in rendered, sorted(rendered)

    await page.click(".auth-wrapper button.authorize")
    await page.fill("#auth-bearer-value", org.api_key)
    await page.click(".modal-ux button[type=submit]")
    await page.click(".modal-ux button.btn-done")
    assert await page.locator(".auth-wrapper button.authorize.locked").count() == 1

    create = page.locator('.opblock-post:has(.opblock-summary-path[data-path="/campaigns"])')
    await create.locator(".opblock-summary-control").click()
    await create.locator("button.try-out__btn").click()
    await create.locator("button.execute").click()
    status = create.locator(".live-responses-table tbody .response-col_status")
    await status.wait_for()
    assert (await status.inner_text()).strip() == "201"
    body = await create.locator(
        ".live-responses-table tbody .response-col_description"
    ).inner_text()
    assert '"status": "scheduled"' in body
    assert "Q2 Sales Campaign" in body
    curl = await create.locator(".curl-command").inner_text()
    assert f"Authorization: Bearer {org.api_key}" in curl

    await screenshot(page, tmp_path / "swagger-ui.png")
    assert outside.sent() == []
    # The request from the page really created the campaign for this key's org.
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        listed = await client.get("/campaigns", headers=org.headers)
    assert [c["name"] for c in listed.json()["results"]] == ["Q2 Sales Campaign"]


async def test_redoc_renders_offline(
    browser: BrowserContext, live_server: LiveServer, tmp_path: Path
) -> None:
    page = browser.pages[0] if browser.pages else await browser.new_page()
    outside = OutsideRequests(page, live_server.base_url)
    await page.goto(f"{live_server.base_url}/redoc")
    await page.get_by_role("heading", name="Create a campaign").first.wait_for()
    menu = await page.locator(".menu-content").inner_text()
    for tag in ("Campaigns", "Vapi-compatible paths", "Operations"):
        assert tag in menu
    headings = set(await page.locator("h2").all_inner_texts())
    for summary in ("Create a campaign", "List campaigns", "Get one call", "Readiness"):
        assert summary in headings, sorted(headings)
    await screenshot(page, tmp_path / "redoc.png")
    assert outside.sent() == []
