"""The smaller defects of issue 13, end to end against the fake server: a long caption reaches staff once,
a card whose edit failed on Telegram's side is edited again, the webhook refuses what is not an update."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp

from fakegram import FakeTelegram
from storage.db import fetch_one
from tests.conftest import Harness
from tests.e2e.helpers import ask, press_on


async def test_a_long_caption_reaches_staff_once(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Подпись")
    await ask(h, parent)
    # 1009 characters: a caption the user may send, too long with the header the bot puts before it.
    long_caption = "Скриншот ошибки: " + "страница журнала не открывается " * 31
    await parent.send_photo(caption=long_caption)
    await h.staff().expect("страница журнала не открывается", timeout=10)
    await h.server.wait_idle()
    staff_side = h.server.chat_messages(h.group.id)
    photo = [m for m in staff_side if m.kind == "photo"]
    assert len(photo) == 1
    assert not photo[0].caption, "the media goes bare: its caption follows as a text"
    shown = [m for m in staff_side if "страница журнала" in (m.text or "") + (m.caption or "")]
    assert len(shown) == 1, [(m.kind, (m.text or m.caption or "")[:40]) for m in shown]


async def test_a_card_edit_that_failed_is_made_on_the_next_tick(plain_desk: Harness) -> None:
    h = plain_desk
    assert h.app is not None
    _number, card = await ask(h, h.user("Карточка"))
    assert "новый" in card.text
    h.app.delivery.max_attempts = 1  # the gateway's own retries would hide the failure
    h.server.fail_next("editMessageText", chat_id=h.group.id, status=502, count=1)
    await press_on(h.staff(), card, "Взять в работу")
    await h.server.wait_idle()
    shown = h.server.get_message(h.group, card.message_id)
    assert shown is not None and "новый" in shown.text, "the edit failed: the card still says new"
    await h.app.runner.tick()
    await h.server.wait_idle()
    shown = h.server.get_message(h.group, card.message_id)
    assert shown is not None and "в работе" in shown.text, shown.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_webhook_refuses_what_is_not_an_update(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    port = _free_port()
    secret = "s3cret-token-for-the-test-0123456789"
    h = Harness(server=fake_telegram, tmp_path=tmp_path, forum=False)
    h.extra_env.update(
        {
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
            "WEBHOOK_SECRET": secret,
            "WEBHOOK_PORT": str(port),
        }
    )
    app = await h.start(wait_for="setWebhook")
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
    deep = '{"update_id": 5, "message": ' + "[" * 100_000 + "]" * 100_000 + "}"
    bad_ids = ['{"update_id": "7"}', '{"update_id": 1.5}', '{"update_id": true}', f'{{"update_id": {2**70}}}']
    try:
        async with aiohttp.ClientSession() as session:
            for body in [deep, *bad_ids]:
                async with session.post(url, data=body, headers=headers) as resp:
                    assert resp.status == 400, (body[:40], resp.status)
            async with session.get(f"http://127.0.0.1:{port}/health") as resp:
                assert resp.status == 200
        row = await fetch_one(app.db.conn, "SELECT COUNT(*) FROM inbox")
        assert row is not None and row[0] == 0, "nothing of it was stored"
        parent = h.user("Вебхук")
        await parent.send("/help")
        await parent.expect("", timeout=10)
    finally:
        await h.stop()
    await asyncio.sleep(0)
