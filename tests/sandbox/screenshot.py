"""docs/sandbox.png, the README's picture of the sandbox, made the way a visitor would use it (``make screenshot``).

A parent asks at Tuesday 15:30 (the deputy director's consultation), opens an offered article (✅ «Помогло»),
types the question and is offered more (📚) with the summary, sends it; the deputy director (linked to the
profile: the private notice «для Вас») takes it and answers in the parent's topic. Debian's Chromium with Noto Color Emoji (``make browser``).

    python -m tests.sandbox.screenshot docs/sandbox.png
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.web import create_web_app
from tests.sandbox.conftest import CHROMIUM, CHROMIUM_ARGS, LAPTOP, UnpacedSandbox


async def shoot(out: Path) -> None:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=20_000)
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = UnpacedSandbox(database_path=Path(tmp) / "sandbox.sqlite3", forum=True)
        await sandbox.start()
        runner = web.AppRunner(create_web_app(sandbox), access_log=None, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                context = await browser.new_context(locale="ru-RU", timezone_id="Europe/Moscow")
                page = await context.new_page()
                await page.set_viewport_size(LAPTOP)
                await page.goto(f"http://127.0.0.1:{port}/")
                await page.wait_for_selector("body[data-bot=running]")
                await scenario(page, expect)
                await page.screenshot(path=str(out))
                await browser.close()
        finally:
            sandbox.closing = True
            sandbox.notify()
            await runner.cleanup()
            await sandbox.stop()


async def scenario(page: Any, expect: Any) -> None:
    user, staff = page.locator("#pane-user"), page.locator("#pane-staff")

    async def write(pane: Any, text: str) -> None:
        box = pane.locator("textarea")
        await box.fill(text)
        await box.press("Enter")
        await expect(box).to_have_value("")

    async def press(pane: Any, label: str) -> None:
        await pane.locator(".ikb-btn", has_text=label).last.click()

    async def sees(pane: Any, text: str) -> None:
        await expect(pane.locator(".msgs")).to_contain_text(text)

    await page.locator("#clock-preset").select_option("weekday")
    await expect(page.locator("#clock")).to_contain_text("вт")
    await write(user, "/start")
    await sees(user, "кто Вы")
    await press(user, "Родитель")
    await sees(user, "С чем связан вопрос")
    await press(user, "дневник")
    await sees(user, "Выберите тему")
    await press(user, "Оценки")
    await sees(user, "Опишите")
    await press(user, "Оценка не появилась")
    await sees(user, "Статья помогла?")
    await write(user, "Не вижу оценку сына за контрольную по алгебре")
    await sees(user, "Проверьте")
    await press(user, "Отправить")
    await sees(user, "принят")
    topic = staff.locator("#topics .topic", has_text="№1")
    await topic.click()
    await sees(staff, "Вопрос №1")
    await press(staff, "Взять в работу")
    await sees(user, "взял")
    await write(staff, "Здравствуйте! Учитель выставит оценку до пятницы, она появится в дневнике.")
    await sees(user, "до пятницы")
    # The parent's pane at the article (its ✅) and the summary that followed, with its 📚 offer.
    summary = user.locator(".msg", has_text="Проверьте").last
    await summary.evaluate("node => node.scrollIntoView({block: 'end'})")
    await page.wait_for_timeout(3500)  # the toast of the staff's press fades


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "docs/sandbox.png")
    asyncio.run(shoot(out))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
