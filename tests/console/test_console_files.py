"""The console's page and files as the server sends them: security headers, no inline script
or style (the CSP forbids them), every file the page loads present and typed."""

from __future__ import annotations

import re
from pathlib import Path

from campaign_service.console.routes import CONSOLE_CSP, static_dir


async def test_the_page_and_its_headers(client):
    for path in ("/console", "/console/"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == CONSOLE_CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "set-cookie" not in response.headers
    csp = dict(part.split(" ", 1) for part in CONSOLE_CSP.split("; "))
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert "unsafe" not in CONSOLE_CSP


async def test_no_inline_script_or_style(client):
    page = (await client.get("/console")).text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\son[a-z]+\s*=", page)
    assert not re.search(r"\sstyle\s*=|<style", page)
    for path in static_dir().rglob("*.js"):
        source = path.read_text()
        # Text from the API goes in as text: no HTML parsing of data, no eval.
        for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function"):
            assert risky not in source, (path.name, risky)


async def test_every_file_the_page_loads_is_served(client):
    page = (await client.get("/console")).text
    linked = re.findall(r'(?:src|href)="(/console/static/[^"]+)"', page)
    assert len(linked) == 3
    modules = [Path(p).relative_to(static_dir()) for p in static_dir().rglob("*.js")]
    assert len(modules) >= 8
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for url in [*linked, *(f"/console/static/{m.as_posix()}" for m in modules)]:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(types[Path(url).suffix]), url
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_imports_between_modules_resolve():
    for path in static_dir().rglob("*.js"):
        for target in re.findall(r'from "(\.[^"]+)"', path.read_text()):
            assert (path.parent / target).resolve().is_file(), (path.name, target)


async def test_the_api_document_names_the_console_as_an_extension(app):
    description = app.openapi()["info"]["description"]
    assert "Extension: a web console at [/console](/console)" in description
    assert not [path for path in app.openapi()["paths"] if path.startswith("/console")]
