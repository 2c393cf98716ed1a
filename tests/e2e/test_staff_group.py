"""End to end: the staff side in detail (topics, attachments, recovery)."""

from __future__ import annotations

from tests.conftest import Harness
from tests.e2e.helpers import answer, ask, press_on


async def test_one_topic_per_user_reused_for_later_tickets(forum_desk: Harness) -> None:
    h = forum_desk
    parent = h.user("Анна")
    _first, card1 = await ask(h, parent)
    await press_on(h.staff(), card1, "Закрыть")
    await parent.expect("закрыл Ваш вопрос")
    second, card2 = await ask(h, parent, "Новый вопрос про расписание", first_time=False)
    assert card2.thread_id == card1.thread_id
    topics = h.server.topics(h.group)
    assert len(topics) == 1 and topics[0].name == f"Анна · №{second}"
    other = h.user("Борис")
    _, card3 = await ask(h, other)
    assert card3.thread_id != card1.thread_id
    assert len(h.server.topics(h.group)) == 2


async def test_question_with_photo_and_document_is_copied_under_the_card(desk: Harness) -> None:
    parent = desk.user("Фото")
    await parent.send("/start")
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.press("Домашнее задание")
    await parent.expect("Опишите")
    await parent.send_photo(caption="Вот что показывает дневник")
    await parent.expect("Проверьте")
    await parent.send_document(filename="задание.docx", content=b"PK..", caption=None)
    summary = await parent.expect("Вложений: 2")
    assert "Вот что показывает дневник" not in summary.text  # captions stay with their files
    await parent.press("Отправить")
    await parent.expect("принят")
    staff = desk.staff()
    card = await staff.expect("Вопрос №1")
    photo = await staff.expect("Вложение к вопросу №1")
    doc = await staff.expect("Вложение к вопросу №1")
    assert photo.kind == "photo" and "Вот что показывает дневник" in (photo.caption or "")
    assert doc.kind == "document" and doc.file_name == "задание.docx"
    if desk.forum:
        assert photo.thread_id == doc.thread_id == card.thread_id
    else:
        assert photo.reply_to_message_id == card.message_id == doc.reply_to_message_id
    # Replying to the copied photo reaches the user.
    await staff.reply_to(photo, "Видно, задание не прикреплено. Передам учителю.")
    await parent.expect("Передам учителю")


async def test_deleted_topic_is_recreated(forum_desk: Harness) -> None:
    h = forum_desk
    parent = h.user("Вика")
    _first, card = await ask(h, parent)
    await press_on(h.staff(), card, "Закрыть")
    await parent.expect("закрыл Ваш вопрос")
    await h.server.wait_idle()
    [topic] = h.server.topics(h.group)
    deleted = await h.app.bot.delete_forum_topic(h.group.id, topic.thread_id)  # type: ignore[union-attr]
    assert deleted
    _second, card2 = await ask(h, parent, "Снова вопрос", first_time=False)
    assert card2.thread_id not in (None, topic.thread_id)
    await answer(h, card2, "Ответ в новой теме")
    await parent.expect("Ответ в новой теме")
    # Telegram sends no update when a topic is deleted: the bot learns it from this refusal, as expected.
    refused = [c for c in h.server.rejected if c.method == "editForumTopic"]
    assert [c.error for c in refused] == ["Bad Request: message thread not found"]
    h.server.rejected.remove(refused[0])
