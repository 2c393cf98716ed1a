"""End to end: an album (photos sent together: one message and one update each, the same media_group_id)
gives one summary and one ticket with every photo."""

from __future__ import annotations

import asyncio

from fakegram import Actor
from storage.db import fetch_one
from tests.conftest import Harness


async def _to_question(user: Actor) -> None:
    await user.send("/start")
    await user.press("Родитель")
    await user.press("дневник")
    await user.expect("Выберите тему")
    await user.press("Оценки")
    await user.expect("Опишите")


def _summaries(user: Actor) -> list[str]:
    return [m.text for m in user.inbox if "Проверьте" in m.text]


async def test_an_album_gives_one_summary_and_one_ticket_with_all_photos(desk: Harness) -> None:
    parent = desk.user("Зоя")
    await _to_question(parent)
    parts = await parent.send_album(3, caption="Не видно оценки, снимки экрана")
    assert len({m.raw["media_group_id"] for m in parts}) == 1
    summary = await parent.expect("Проверьте", timeout=10)
    assert "Вложений: 3" in summary.text
    await parent.expect_nothing(timeout=1.5)
    assert len(_summaries(parent)) == 1

    await parent.press("Отправить")
    await parent.expect("№1 принят")
    staff = desk.staff_in(None)
    card = await staff.expect("Вопрос №1")
    staff_here = desk.staff_in(card.thread_id if desk.forum else None)
    await desk.server.world.wait_for(
        lambda: len([m for m in staff_here.inbox if m.raw.get("photo")]) == 3, 10
    )
    photos = [m for m in staff_here.inbox if m.raw.get("photo")]
    assert len(photos) == 3, [m.content for m in staff_here.inbox]
    assert all("№1" in (m.caption or "") for m in photos)
    assert "снимки экрана" in (photos[0].caption or "")
    assert desk.app is not None
    assert await desk.app.store.tickets.open_for_user(2) is None  # one ticket, no other
    assert len([m for m in desk.server.chat_messages(desk.group) if "Вопрос №" in m.content]) == 1


async def test_an_album_as_the_first_message_asks_once(desk: Harness) -> None:
    parent = desk.user("Инна")
    await parent.send_album(2, caption="Вот ошибка")
    asked = await parent.expect("уточните, пожалуйста, тему", timeout=10)
    assert "кто Вы" in asked.text
    await parent.expect_nothing(timeout=1.5)
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.expect("Выберите тему")
    await parent.press("Оценки")
    summary = await parent.expect("Проверьте")
    assert "Вложений: 2" in summary.text


async def test_an_album_handled_again_after_a_restart_is_kept_once(desk: Harness) -> None:
    """The updates of an album are marked handled only after its summary: the parts replayed after a crash
    are recognised in the draft by their message ids."""
    parent = desk.user("Кира")
    await _to_question(parent)
    await parent.send_album(2, caption="Снимки")
    summary = await parent.expect("Проверьте", timeout=10)
    assert "Вложений: 2" in summary.text
    assert desk.app is not None
    db = desk.app.db

    async def unhandled() -> int:
        row = await fetch_one(db.conn, "SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL")
        return int(row[0]) if row else 0

    for _ in range(100):  # the handled marks are written in batches, a moment after the summary
        if not await unhandled():
            break
        await asyncio.sleep(0.05)
    # Forget that the album's updates were handled, as if the bot had crashed before the summary.
    async with db.autocommit() as conn:
        await conn.execute("UPDATE inbox SET processed_at = NULL WHERE payload LIKE '%media_group_id%'")
    assert await unhandled() == 2
    await desk.restart()
    again = await parent.expect("Проверьте", timeout=10)
    assert "Вложений: 2" in again.text
    await parent.expect_nothing(timeout=1.5)
