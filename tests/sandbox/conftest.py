"""Browser fixtures: the sandbox served on 127.0.0.1 and Debian's Chromium driven by Playwright.

Screenshots go to ``test-artifacts/sandbox/``. Every page fails its test at teardown if the browser logged a console
error or an uncaught exception. Without Chromium the tests are skipped on a developer's machine (``make test``
installs it) and fail in CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from sandbox.core import Sandbox
from sandbox.web import create_web_app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "sandbox"
CHROMIUM = os.environ.get("SANDBOX_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--headless=new",
]
LAPTOP = {"width": 1440, "height": 860}
PHONE = {"width": 390, "height": 800}


def _need_browser() -> Any:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (make test installs it)")
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            raise AssertionError(f"{CHROMIUM} is missing: the test target installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    return async_playwright


@dataclass
class Site:
    sandbox: Sandbox
    url: str


@dataclass
class Browser:
    """Chromium with a fresh profile; each page opened through it is checked for console errors."""

    context: Any
    errors: list[str] = field(default_factory=list)

    async def open(self, url: str, viewport: dict[str, int] = LAPTOP) -> Any:
        page = await self.context.new_page()
        await page.set_viewport_size(viewport)
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        # Nothing is fetched from the internet: every request goes to the sandbox itself.
        page.on(
            "request",
            lambda r: (
                None if r.url.startswith((url, "data:")) else self.errors.append(f"outside request: {r.url}")
            ),
        )
        await page.goto(url)
        await page.wait_for_selector("body[data-bot=running]")
        return page


class UnpacedSandbox(Sandbox):
    """The sandbox without the bot's own flood pacing (about a message a second per chat): the page is
    under test here, not the pacing, and the fake server enforces no limits (as in the e2e harness)."""

    def env(self) -> dict[str, str]:
        return {**super().env(), "FLOOD_CONTROL": "off"}


async def _site(tmp_path: Path, forum: bool) -> AsyncIterator[Site]:
    sandbox = UnpacedSandbox(database_path=tmp_path / "sandbox.sqlite3", forum=forum)
    await sandbox.start()
    runner = web.AppRunner(create_web_app(sandbox), access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Site(sandbox, f"http://127.0.0.1:{port}/")
    finally:
        server = sandbox.server
        rejected = list(server.rejected) if server is not None else []
        sandbox.closing = True
        sandbox.notify()
        await runner.cleanup()
        await sandbox.stop()
    # As in the end-to-end tests: a call real Telegram would refuse is a failure of the bot.
    assert not rejected, rejected


# The browser tests run in the session's event loop, so that one Chromium serves them all: launching it
# costs seconds, a fresh context per test (its own storage, like a fresh profile) costs milliseconds.
@pytest_asyncio.fixture(loop_scope="session")
async def forum_site(tmp_path: Path) -> AsyncIterator[Site]:
    async for s in _site(tmp_path, forum=True):
        yield s


@pytest_asyncio.fixture(loop_scope="session")
async def plain_site(tmp_path: Path) -> AsyncIterator[Site]:
    async for s in _site(tmp_path, forum=False):
        yield s


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium_session() -> AsyncIterator[Any]:
    """Debian's Chromium, launched once per test session (per xdist worker that runs browser tests)."""
    async_playwright = _need_browser()
    from playwright.async_api import expect

    # A page waits as long for an expectation as for an action: a loaded machine is slow, not broken.
    expect.set_options(timeout=15_000)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def chromium(chromium_session: Any) -> AsyncIterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = await chromium_session.new_context(locale="ru-RU", timezone_id="Europe/Moscow")
    browser = Browser(context)
    try:
        yield browser
    finally:
        await context.close()
    assert not browser.errors, browser.errors
