"""End to end: reference articles offered in the question dialog, "помогло" and "нет, задать вопрос"."""

from __future__ import annotations

from fakegram import Actor, Msg
from storage.kb_feedback import KbFeedbackRepo
from tests.conftest import Harness


def _offered_ids(offer: Msg) -> list[str]:
    """The article ids behind the offer's buttons (``kb:o:<id>:0``)."""
    return [data.split(":")[2] for _, data in offer.buttons if data]


async def _to_category(user: Actor, category: str, *, role: str = "Родитель", topic: str = "дневник") -> None:
    await user.send("/start")
    await user.expect("кто Вы")
    await user.press(role)
    await user.expect("С чем связан вопрос")
    await user.press(topic)
    await user.expect("Выберите тему")
    await user.press(category)


async def test_helped_ends_the_dialog_without_a_ticket(desk: Harness) -> None:
    assert desk.app is not None
    parent = desk.user("Алла")
    await _to_category(parent, "Вход и пароль")
    offer = await parent.expect("Возможно, ответ уже есть в справке")
    titles = [label for label, _ in offer.buttons]
    assert len(titles) <= 3
    assert any("Забыли пароль" in t for t in titles), titles
    assert "Опишите" in offer.text  # the offer carries the prompt: one message
    await parent.expect_nothing()

    await parent.press("Забыли пароль")
    article = await parent.expect("Статья помогла?")
    assert "Госуслуг" in article.text
    assert [label for label, _ in article.buttons] == ["✅ Помогло", "Нет, задать вопрос"]
    await parent.press("Помогло")
    await parent.expect("Рады, что статья помогла")
    assert article.buttons == []

    stats = await KbFeedbackRepo(desk.app.db.conn).stats()
    answered = [(s.article_id, s.offered, s.opened, s.helped, s.not_helped) for s in stats if s.helped or s.opened]
    assert answered == [("ed-password-reset", 1, 1, 1, 0)]
    # The other articles of the category were offered too, and nothing more.
    assert all(s.offered == 1 and not s.opened for s in stats if s.article_id != "ed-password-reset")
    assert {s.article_id for s in stats} == {label_id for label_id in _offered_ids(offer)}
    assert await desk.app.store.tickets.open_for_user(1) is None
    # The dialog is over: the next message starts a new question instead of becoming this one.
    await parent.send("А ещё вопрос")
    await parent.expect("уточните, пожалуйста, тему")
    assert not [m for m in desk.server.chat_messages(desk.group) if "Вопрос №" in m.text]


async def test_no_after_the_typed_question_notes_the_articles_on_the_card(desk: Harness) -> None:
    parent = desk.user("Белла")
    await _to_category(parent, "Другое")
    before = await parent.expect("Возможно, ответ уже есть в справке")
    before_titles = [label for label, _ in before.buttons]
    assert any("не видно ребёнка" in t for t in before_titles), before_titles
    assert "Опишите" in before.text

    # The typed question is matched on its words ("уведомления" is not among the first offers); the offer
    # and the summary are one message, the articles above the summary's buttons.
    await parent.send("Не приходят уведомления о новых оценках на телефон")
    after = await parent.expect("Похоже, ответ на Ваш вопрос есть в справке")
    assert "Проверьте" in after.text
    # Best first («оценки не приходят» is also a keyword of the missing-grade article: it may come second),
    # then the summary's own buttons.
    labels = [label for label, _ in after.buttons]
    assert labels[:1] == ["📖 Уведомления об оценках и сообщениях не приходят"], labels
    assert labels[-3:] == ["Отправить", "Изменить тему", "Отменить"], labels
    assert all(label.startswith("📖") for label in labels[:-3])
    await parent.expect_nothing()

    await parent.press("Уведомления об оценках")
    await parent.expect("Статья помогла?")
    await parent.press("Нет, задать вопрос")
    summary = await parent.expect("Проверьте")
    assert "уведомления о новых оценках" in summary.text
    await parent.press("Отправить")
    await parent.expect("принят")

    card = await desk.staff().expect("Вопрос №1")
    assert "Пользователю уже показаны статьи" in card.text
    assert "«Уведомления об оценках и сообщениях не приходят»" in card.text
    assert "«В дневнике родителя не видно ребёнка»" in card.text
    assert desk.app is not None
    stats = await KbFeedbackRepo(desk.app.db.conn).stats()
    answered = [(s.article_id, s.offered, s.opened, s.helped, s.not_helped) for s in stats if s.opened]
    assert answered == [("ed-notifications", 1, 1, 0, 1)]


async def test_no_before_typing_asks_for_the_question(plain_desk: Harness) -> None:
    teacher = plain_desk.user("Вадим")
    await _to_category(teacher, "Вход и пароль", role="Учитель-предметник", topic="журнал")
    offer = await teacher.expect("Возможно, ответ уже есть в справке")
    assert "Опишите" in offer.text
    # Staff get journal articles, not the diary's.
    assert offer.buttons and all("дневник" not in label for label, _ in offer.buttons), offer.buttons

    await teacher.press(offer.buttons[0][0])
    await teacher.expect("Статья помогла?")
    await teacher.press("Нет, задать вопрос")
    await teacher.expect("Опишите")
    await teacher.send("Журнал пишет «доступ запрещён» после смены пароля")
    await teacher.expect("Проверьте")
    await teacher.press("Отправить")
    await teacher.expect("принят")
    card = await plain_desk.staff().expect("Вопрос №1")
    assert "Пользователю уже показаны статьи" in card.text


async def test_no_offer_repeats_within_one_dialog(plain_desk: Harness) -> None:
    parent = plain_desk.user("Галина")
    await _to_category(parent, "Вход и пароль")
    await parent.expect("Возможно, ответ уже есть в справке")
    # The question matches the article already offered: it is not offered a second time.
    await parent.send("Забыла пароль от дневника, как восстановить?")
    summary = await parent.expect("Проверьте")
    assert not [m for m in parent.inbox if "Похоже, ответ" in m.text]
    assert summary.buttons
