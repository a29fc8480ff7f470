"""The console's browser tests: the real app with its in-process dispatcher on the simulated
network (demo timings) behind uvicorn on a free port, and a headless Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import BrowserContext, Request, async_playwright

from campaign_service.api.app import create_app
from campaign_service.dispatcher.runner import dispatcher_running
from campaign_service.settings import Settings
from tests.ops.conftest import LiveServer, served
from tests.ops.test_docs_browser import CHROMIUM_ARGS, TIMEOUT_MS, find_chromium


@pytest.fixture
def running_server(database_url: str) -> Iterator[LiveServer]:
    """`serve` as a user starts it with CAMPAIGN_SERVICE_SIM_PRESET=demo: calls ring, talk and
    end within seconds, placed by the dispatcher inside the API process."""
    settings = Settings(sim_preset="demo", sim_seed=11)
    app = create_app(
        settings,
        database_url=database_url,
        background=lambda engine: dispatcher_running(engine, settings),
    )
    with served(app, stop_seconds=40) as server:  # the dispatcher stops with it
        yield server


class RequestLog:
    """Every request the browser makes, from every page of the context."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def record(self, request: Request) -> None:
        self.requests.append(request)

    def urls(self) -> list[str]:
        return [r.url for r in self.requests]

    def leaving(self, base_url: str) -> list[str]:
        """Requests to anywhere but this service (data: URLs never leave the browser)."""
        local = urlsplit(base_url).netloc
        return [u for u in self.urls() if not u.startswith("data:") and urlsplit(u).netloc != local]

    def api_calls(self, since: int = 0) -> list[str]:
        return [u for u in self.urls()[since:] if "/console" not in u]


# Records Content-Security-Policy violations of the console page, which must be none.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[tuple[BrowserContext, RequestLog]]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium binary found (apt-get install chromium, or set CHROMIUM_PATH)")
    log = RequestLog()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            locale="en-US",
            timezone_id="UTC",
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("request", log.record)
        await context.add_init_script(CSP_WATCH)
        yield context, log
        await context.close()
