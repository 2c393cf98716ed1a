"""The sandbox page in headless Chromium: people use the help desk through the page only."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.sandbox.conftest import ARTIFACTS, PHONE, Browser, Site

# One Chromium for all of them (see conftest.py): they share the session's event loop, and under
# pytest-xdist they stay on one worker.
pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.xdist_group("browser")]

Page = Any
Locator = Any


def _expect() -> Any:
    from playwright.async_api import expect

    return expect


async def shoot(page: Page, name: str) -> None:
    """A screenshot of each pane (and the whole page) as a test artifact."""
    await page.screenshot(path=str(ARTIFACTS / f"{name}-page.png"))
    for pane in ("user", "staff", "deputy", "director"):
        locator = page.locator(f"#pane-{pane}")
        if await locator.is_visible():
            await locator.screenshot(path=str(ARTIFACTS / f"{name}-{pane}.png"))


async def write(pane: Locator, text: str) -> None:
    box = pane.locator("textarea")
    await box.fill(text)
    await box.press("Enter")
    await _expect()(box).to_have_value("")


async def press(pane: Locator, label: str) -> None:
    await pane.locator(".ikb-btn", has_text=label).last.click()


async def sees(pane: Locator, text: str) -> None:
    await _expect()(pane.locator(".msgs")).to_contain_text(text)


async def start(pane: Locator) -> None:
    """/start for a new user: the greeting asks who they are at once (the personal-data notice comes with
    their first question)."""
    await write(pane, "/start")
    await sees(pane, "кто Вы")


async def ask(page: Page, question: str, *, role: str = "Родитель") -> None:
    """The selected user goes through the dialog with the bot's buttons, as helpers.ask does in e2e tests."""
    user = page.locator("#pane-user")
    await start(user)
    await press(user, role)
    await sees(user, "С чем связан вопрос")
    await press(user, "дневник")
    await sees(user, "Выберите тему")
    await press(user, "Оценки")
    await sees(user, "Опишите")
    await write(user, question)
    await sees(user, "Персональные данные")  # before the first question goes to staff
    await press(user, "✅ Согласен(на)")
    await sees(user, "Проверьте")
    await press(user, "Отправить")
    await sees(user, "принят")


def tiny_png(width: int = 48, height: int = 32) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    blue, yellow = bytes((51, 144, 236)), bytes((255, 214, 90))
    rows = b"".join(
        b"\x00" + b"".join(blue if (x // 8 + y // 8) % 2 else yellow for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def test_parent_asks_and_a_specialist_answers_in_a_topic(forum_site: Site, chromium: Browser) -> None:
    page = await chromium.open(forum_site.url)
    await _expect()(page.locator("#sandbox-note")).to_contain_text("ничего не отправляется в Telegram")
    await ask(page, "Не вижу оценку за контрольную по <алгебре>")

    staff = page.locator("#pane-staff")
    topic = staff.locator("#topics .topic", has_text="№1")
    await _expect()(topic).to_be_visible()
    await topic.click()
    await sees(staff, "Вопрос №1")
    await sees(staff, "<алгебре>")  # user text escaped by the bot, shown as written
    await _expect()(staff.locator(".text b").first).to_be_visible()  # the card's HTML is rendered
    await press(staff, "Взять в работу")
    user = page.locator("#pane-user")
    await sees(user, "взял в работу")
    await write(staff, "Здравствуйте! Оценку выставят до пятницы.")
    await sees(user, "Оценку выставят до пятницы")
    await shoot(page, "forum")


async def test_plain_group_button_press_and_reply(plain_site: Site, chromium: Browser) -> None:
    page = await chromium.open(plain_site.url)
    await ask(page, "Не открывается дневник на телефоне")
    staff = page.locator("#pane-staff")
    await _expect()(staff.locator("#staff-mode")).to_have_text("без тем")
    card = staff.locator(".msg", has_text="Вопрос №1")
    await _expect()(card).to_be_visible()
    await card.locator(".ikb-btn", has_text="Взять в работу").click()
    await _expect()(page.locator(".toast")).to_contain_text("в работе")
    # The card was edited: the claim button is gone.
    await _expect()(card.locator(".ikb-btn", has_text="Взять в работу")).to_have_count(0)
    await card.locator(".reply-btn").click()
    await _expect()(staff.locator(".replying")).to_contain_text("Вопрос №1")
    await write(staff, "Обновите приложение и войдите заново.")
    reply = staff.locator(".msg.out", has_text="Обновите приложение")
    await _expect()(reply.locator(".quote")).to_contain_text("Вопрос №1")
    await sees(page.locator("#pane-user"), "Обновите приложение")
    await shoot(page, "plain")


async def test_a_photo_from_disk_reaches_the_staff(
    forum_site: Site, chromium: Browser, tmp_path: Path
) -> None:
    page = await chromium.open(forum_site.url)
    await ask(page, "Ошибка при входе, снимок ниже")
    picture = tmp_path / "ошибка.png"
    picture.write_bytes(tiny_png())
    user = page.locator("#pane-user")
    await user.locator("input[type=file]").set_input_files(str(picture))
    await _expect()(user.locator(".attached")).to_contain_text("ошибка.png")
    await write(user, "вот снимок экрана")
    await _expect()(user.locator(".msg.out img.photo")).to_be_visible()

    staff = page.locator("#pane-staff")
    # The topic list is drawn again when the photo arrives: a click during that would be lost, so the click
    # comes once the list shows it.
    topic = staff.locator("#topics .topic", has_text="№1")
    await _expect()(topic).to_contain_text("вот снимок экрана")
    await topic.click()
    photo = staff.locator(".msg", has_text="вот снимок экрана").locator("img.photo")
    await _expect()(photo).to_be_visible()
    await page.wait_for_function(
        "() => [...document.querySelectorAll('#pane-staff img.photo')].some(i => i.complete && i.naturalWidth === 48)"
    )
    await shoot(page, "photo")


async def test_the_page_survives_a_bot_restart(forum_site: Site, chromium: Browser) -> None:
    page = await chromium.open(forum_site.url)
    await page.evaluate("window.__sameDocument = true")
    user = page.locator("#pane-user")
    await start(user)
    first_app = forum_site.sandbox.app

    await page.locator("#restart").click()
    await _expect()(page.locator(".toast")).to_contain_text("перезапущен")
    await _expect()(page.locator("#status")).to_have_text("работает")
    assert forum_site.sandbox.app is not None and forum_site.sandbox.app is not first_app

    # The dialog goes on where it stopped (its state is in the database), on the same page.
    await press(user, "Родитель")
    await sees(user, "С чем связан вопрос")
    await press(user, "дневник")
    await press(user, "Оценки")
    await sees(user, "Опишите")
    await write(user, "Вопрос после перезапуска")
    await sees(user, "Персональные данные")
    await press(user, "✅ Согласен(на)")
    await press(user, "Отправить")
    await sees(user, "принят")
    staff = page.locator("#pane-staff")
    await staff.locator("#topics .topic", has_text="№1").click()
    await sees(staff, "Вопрос после перезапуска")
    assert await page.evaluate("window.__sameDocument") is True
    await shoot(page, "restart")


async def test_a_month_of_history_shows_the_deputy_a_real_report(forum_site: Site, chromium: Browser) -> None:
    page = await chromium.open(forum_site.url)
    await page.locator("#history").click()
    await _expect()(page.locator(".toast")).to_contain_text("история за месяц")
    deputy = page.locator("#pane-deputy")
    await _expect()(deputy).to_be_visible()
    await sees(deputy, "Отчёт службы помощи")
    await _expect()(deputy.locator("img.photo")).to_be_visible()
    await page.wait_for_function(
        "() => [...document.querySelectorAll('#pane-deputy img.photo')].some(i => i.complete && i.naturalWidth > 500)"
    )
    await shoot(page, "history-report")


async def test_the_bot_runs_at_a_chosen_moment(forum_site: Site, chromium: Browser) -> None:
    page = await chromium.open(forum_site.url)
    await page.locator("#clock-preset").select_option("saturday")
    await _expect()(page.locator("#clock")).to_contain_text("сб")
    await _expect()(page.locator("#clock-shifted")).to_be_visible()
    sandbox = forum_site.sandbox
    local = sandbox.clock().astimezone(ZoneInfo("Europe/Moscow"))
    assert (local.weekday(), local.hour) == (5, 20)
    assert sandbox.app is not None
    # The bot's handlers and its scheduled checks see the same moment.
    assert sandbox.app.clock is sandbox.clock and sandbox.app.runner.clock is sandbox.clock
    # Messages show the bot's time (in the school's time zone), not the machine's.
    user = page.locator("#pane-user")
    await write(user, "/start")
    await sees(user, "кто Вы")
    shown = await user.locator(".msg .time").last.text_content()
    assert shown is not None and shown.startswith("20:0"), shown

    await page.locator("#clock-preset").select_option("real")
    await _expect()(page.locator("#clock-shifted")).to_be_hidden()
    assert not sandbox.clock.shifted


async def test_phone_width_shows_one_chat_at_a_time(forum_site: Site, chromium: Browser) -> None:
    page = await chromium.open(forum_site.url, viewport=PHONE)
    tabs = page.locator("#tabs")
    await _expect()(tabs).to_be_visible()
    await _expect()(page.locator("#pane-user")).to_be_visible()
    await _expect()(page.locator("#pane-staff")).to_be_hidden()
    await ask(page, "Как посмотреть итоговые оценки?")
    await _expect()(tabs.locator("[data-pane=staff] .count")).not_to_have_text("")
    await shoot(page, "phone-user")
    await tabs.locator("[data-pane=staff]").click()
    await _expect()(page.locator("#pane-staff")).to_be_visible()
    await _expect()(page.locator("#pane-user")).to_be_hidden()
    await page.locator("#topics .topic", has_text="№1").click()
    await sees(page.locator("#pane-staff"), "Вопрос №1")
    await shoot(page, "phone-staff")
    for pane in ("deputy", "director"):
        await tabs.locator(f"[data-pane={pane}]").click()
        await _expect()(page.locator(f"#pane-{pane}")).to_be_visible()
        await shoot(page, f"phone-{pane}")
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


async def bot_api(site: Site, method: str, **params: Any) -> Any:
    """Call the fake Bot API as the bot does (its token, its HTTP interface)."""
    import aiohttp

    from sandbox.core import TOKEN

    server = site.sandbox.server
    assert server is not None
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/bot{TOKEN}/{method}", json=params) as response:
            body = await response.json()
    assert body["ok"], body
    return body["result"]


async def test_formatting_reply_keyboard_edits_and_deletes_show_live(
    forum_site: Site, chromium: Browser
) -> None:
    page = await chromium.open(forum_site.url)
    user = page.locator("#pane-user")
    await start(user)
    parent = forum_site.sandbox.people["parent"].user
    sent = await bot_api(
        forum_site,
        "sendMessage",
        chat_id=parent.id,
        parse_mode="HTML",
        text=(
            '<b>жирный</b> <i>курсив</i> <a href="https://example.org/">ссылка</a> <tg-spoiler>скрыто</tg-spoiler> '
            "<code>код</code>\n<blockquote>цитата</blockquote>"
        ),
        reply_markup={"keyboard": [[{"text": "Да"}, {"text": "Нет"}]], "one_time_keyboard": True},
    )
    bubble = user.locator(".msg", has_text="жирный")
    await _expect()(bubble.locator("b", has_text="жирный")).to_be_visible()
    await _expect()(bubble.locator("i", has_text="курсив")).to_be_visible()
    await _expect()(bubble.locator("a", has_text="ссылка")).to_have_attribute("href", "https://example.org/")
    await _expect()(bubble.locator("code", has_text="код")).to_be_visible()
    await _expect()(bubble.locator("blockquote", has_text="цитата")).to_be_visible()
    spoiler = bubble.locator(".spoiler")
    await spoiler.click()
    await _expect()(spoiler).to_have_class("spoiler revealed")

    # A reply-keyboard button sends its text, and a one-time keyboard goes away.
    await user.locator(".reply-kb .rkb-btn", has_text="Нет").click()
    await _expect()(user.locator(".msg.out", has_text="Нет")).to_be_visible()
    await _expect()(user.locator(".reply-kb")).to_be_hidden()
    await shoot(page, "formatting")

    await bot_api(
        forum_site,
        "editMessageText",
        chat_id=parent.id,
        message_id=sent["message_id"],
        text="исправленный текст",
    )
    edited = user.locator(".msg", has_text="исправленный текст")
    await _expect()(edited.locator(".edited")).to_be_visible()
    await bot_api(forum_site, "deleteMessage", chat_id=parent.id, message_id=sent["message_id"])
    await _expect()(user.locator(".msg.deleted")).to_have_text("Бот удалил сообщение")
    await _expect()(user.locator(".msg", has_text="исправленный текст")).to_have_count(0)


async def test_a_document_from_disk_reaches_the_staff(
    forum_site: Site, chromium: Browser, tmp_path: Path
) -> None:
    page = await chromium.open(forum_site.url)
    await ask(page, "Не загружается файл домашнего задания")
    document = tmp_path / "задание.txt"
    document.write_text("упражнение 5", encoding="utf-8")
    user = page.locator("#pane-user")
    await user.locator("input[type=file]").set_input_files(str(document))
    await user.locator("textarea").press("Enter")
    await _expect()(user.locator(".msg.out a.doc", has_text="задание.txt")).to_be_visible()
    staff = page.locator("#pane-staff")
    # The topic list is drawn again when the document arrives there: a click during that would be lost,
    # so the click waits until the list shows it (as for the photo above).
    topic = staff.locator("#topics .topic", has_text="№1")
    await _expect()(topic).to_contain_text("(вопрос №1)")
    await topic.click()
    link = staff.locator("a.doc", has_text="задание.txt")
    await _expect()(link).to_be_visible()
    href = await link.get_attribute("href")
    assert href is not None
    assert await page.evaluate("async (u) => (await fetch(u)).text()", href) == "упражнение 5"


async def test_start_over_in_plain_mode_and_add_a_user(forum_site: Site, chromium: Browser) -> None:
    page = await chromium.open(forum_site.url)
    await start(page.locator("#pane-user"))

    await page.locator("#reset").click()
    await page.locator("#dlg-reset input[value=plain]").check()
    await page.locator("#dlg-reset button[value=ok]").click()
    await _expect()(page.locator("#staff-mode")).to_have_text("без тем")
    await _expect()(page.locator("#pane-user .msg")).to_have_count(0)
    assert forum_site.sandbox.forum is False

    await page.locator("#add-user").click()
    await page.locator("#dlg-user input[name=first_name]").fill("Пётр")
    await page.locator("#dlg-user input[name=last_name]").fill("Гусев")
    await page.locator("#dlg-user button[value=ok]").click()
    await _expect()(page.locator("#user-select option:checked")).to_contain_text("Пётр Гусев")
    user = page.locator("#pane-user")
    await start(user)
    assert any(
        p.user.full_name == "Пётр Гусев" and p.user.started for p in forum_site.sandbox.people.values()
    )
