"""End to end: nothing is lost or done twice — the durable inbox, resumed deliveries, webhook mode."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.updates import UpdateProcessor
from fakegram import FakeTelegram
from tests.conftest import Harness
from tests.e2e.helpers import answer, ask


@pytest.fixture
async def fast_ticks(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(server=fake_telegram, tmp_path=tmp_path, forum=False)
    h.extra_env["TICK_SECONDS"] = "0.2"
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


async def test_an_update_delivered_twice_is_handled_once(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Дубль")
    _number, _card = await ask(h, parent)
    sent = await parent.send("Уточнение к вопросу")
    await h.staff().expect("Уточнение к вопросу")
    # Telegram re-delivers the same update (for example after a crash before it was confirmed).
    processor = h.app.extras["processor"] if h.app else None
    assert isinstance(processor, UpdateProcessor)
    payload = {"update_id": 10**9, "message": sent.raw}
    await processor.accept([payload])
    await processor.accept([payload])
    await h.server.wait_idle()
    copies = [
        m
        for m in h.server.chat_messages(h.group.id)
        if m.from_bot and "Уточнение к вопросу" in (m.text or "")
    ]
    # The same message under a new update id is recognised too (by its message id): still one copy.
    assert len(copies) == 1
    assert processor.duplicates == 1


async def test_a_specialists_answer_delivered_twice_reaches_the_user_once(desk: Harness) -> None:
    """A specialist's answer handled again (in a topic: one query finds the ticket and sees it is stored)."""
    h = desk
    parent = h.user("Дубль ответа")
    _number, card = await ask(h, parent)
    sent = await answer(h, card, "Ответ, который пришёл дважды")
    await parent.expect("Ответ, который пришёл дважды")
    processor = h.app.extras["processor"] if h.app else None
    assert isinstance(processor, UpdateProcessor)
    await processor.accept([{"update_id": 10**9 + 1, "message": sent.raw}])
    await h.server.wait_idle()
    got = [m for m in h.server.chat_messages(parent.chat.id) if "пришёл дважды" in (m.text or "")]
    assert len(got) == 1
    await h.staff().expect_nothing(timeout=0.5)


async def test_card_that_could_not_be_posted_is_posted_later(fast_ticks: Harness) -> None:
    h = fast_ticks
    parent = h.user("Позже")
    # The staff group is unreachable for a while: every retry of the card fails.
    h.server.fail_next(method="sendMessage", chat_id=h.group.id, status=502, count=8)
    await parent.send("/start")
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.press("Посещаемость")
    await parent.send("Пропуск отмечен неверно")
    await parent.press("Отправить")
    await parent.expect("принят")
    card = await h.staff().expect("Вопрос №1", timeout=30)
    assert "Пропуск отмечен неверно" in card.text


async def test_answer_that_could_not_be_delivered_is_delivered_later(fast_ticks: Harness) -> None:
    h = fast_ticks
    parent = h.user("Терпение")
    _number, card = await ask(h, parent)
    h.server.fail_next(method="sendMessage", chat_id=parent.chat.id, status=500, count=8)
    await answer(h, card, "Ответ, переживший сбой")
    got = await parent.expect("Ответ, переживший сбой", timeout=40)
    assert got.text.count("Ответ, переживший сбой") == 1
    await parent.expect_nothing(timeout=0.5)


async def test_pending_work_survives_a_restart(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Рестарт")
    _number, _card = await ask(h, parent)
    assert h.app is not None
    # A follow-up stored while the staff group was unreachable and the bot then stopped.
    h.server.fail_next(method="sendMessage", chat_id=h.group.id, status=500, count=8)
    await parent.send("Написано во время сбоя")
    await h.server.wait_idle(timeout=30)
    await h.restart()
    await h.staff().expect("Написано во время сбоя", timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    port = _free_port()
    secret = "s3cret-token-for-the-test-0123456789"
    h = Harness(server=fake_telegram, tmp_path=tmp_path, forum=True)
    h.extra_env.update(
        {
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
            "WEBHOOK_SECRET": secret,
            "WEBHOOK_PORT": str(port),
        }
    )
    await h.start(wait_for="setWebhook")
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/telegram/webhook", json={"update_id": 1}) as resp:
                assert resp.status == 401
            async with session.post(
                f"{base}/telegram/webhook",
                json={"update_id": 1},
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-wrong-secret"},
            ) as resp:
                assert resp.status == 401
            async with session.get(f"{base}/health") as resp:
                assert resp.status == 200
                assert (await resp.json())["ok"] is True
        parent = h.user("Вебхук")
        _number, card = await ask(h, parent)
        await answer(h, card, "Ответ через вебхук")
        await parent.expect("Ответ через вебхук")
        assert not fake_telegram.calls_of("getUpdates")
    finally:
        await h.stop()
    await asyncio.sleep(0)


async def test_a_notice_refused_for_good_is_shown_to_staff_not_retried(plain_desk: Harness) -> None:
    """A 400 on a queued notice: recorded with the reason, staff told what did not reach whom, no retries."""
    from helpdesk.ports import Destination
    from storage.outbox import OutboxRepo

    h = plain_desk
    parent = h.user("Вера")
    await parent.send("/help")  # the user exists for Telegram
    await parent.expect("")
    assert h.app is not None
    h.server.fail_next(
        "sendMessage",
        chat_id=parent.chat.id,
        status=400,
        retry_after=None,
        description="Bad Request: can't parse entities",
    )
    await h.app.staff.outbox.enqueue(Destination(parent.chat.id), "Ваш вопрос №7 <b>закрыт</b>")
    notice = await h.staff().expect("не доставлено")
    assert "can't parse entities" in notice.text and "Ваш вопрос №7 закрыт" in notice.text
    await h.server.wait_idle()
    calls = [
        c for c in h.server.calls_of("sendMessage") if str(c.params.get("chat_id")) == str(parent.chat.id)
    ]
    assert len(calls) == 2, "the refused notice is not sent again (the other call is the /help answer)"
    items = await OutboxRepo(h.app.db.conn).pending()
    assert items == []
