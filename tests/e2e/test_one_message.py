"""End to end: one bot message per step where one will do (Telegram paces a chat at about a message a second,
so a second message is a visible pause, and a wave of /start shares the bot's 30 messages a second)."""

from __future__ import annotations

from fakegram import Actor
from tests.conftest import Harness


async def _one_message(user: Actor, substring: str) -> str:
    before = len(user.inbox)
    message = await user.expect(substring)
    await user.expect_nothing(timeout=0.5)
    assert len(user.inbox) == before + 1, [m.text for m in user.inbox[before:]]
    return message.text


async def test_start_sends_one_message_with_the_role_question(desk: Harness) -> None:
    parent = desk.user("Дарья")
    await parent.send("/start")
    text = await _one_message(parent, "Здравствуйте, Дарья")
    assert "кто Вы" in text
    assert [label for label, _ in parent.inbox[-1].buttons][:2] == ["Администрация", "Учитель-предметник"]
    await parent.press("Родитель")
    await parent.expect("С чем связан вопрос")

    # Once the role is known, the greeting carries the topic question instead.
    await parent.send("/start")
    text = await _one_message(parent, "Здравствуйте, Дарья")
    assert "Роль: Родитель" in text and "С чем связан вопрос" in text
    assert any("дневник" in label for label, _ in parent.inbox[-1].buttons)


async def test_a_first_message_asks_the_role_in_the_same_message(desk: Harness) -> None:
    parent = desk.user("Ева")
    await parent.send("Не вижу оценки")
    text = await _one_message(parent, "уточните, пожалуйста, тему")
    assert "кто Вы" in text


async def test_question_step_offer_carries_the_prompt_and_then_the_summary(desk: Harness) -> None:
    parent = desk.user("Жанна")
    await parent.send("/start")
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.expect("Выберите тему")
    await parent.press("Другое")
    text = await _one_message(parent, "Возможно, ответ уже есть в справке")
    assert "Опишите, пожалуйста, Ваш вопрос" in text

    await parent.send("Не приходят уведомления о новых оценках на телефон")
    text = await _one_message(parent, "Похоже, ответ на Ваш вопрос есть в справке")
    assert "Проверьте, пожалуйста, Ваш вопрос" in text and "уведомления о новых оценках" in text
    summary = parent.inbox[-1]
    labels = [label for label, _ in summary.buttons]
    assert labels[0].startswith("📖") and labels[-3:] == ["Отправить", "Изменить тему", "Отменить"]

    # An addition shows a new summary; the old one keeps its articles but loses «Отправить».
    await parent.send("Телефон Android")
    await _one_message(parent, "Проверьте")
    assert [label for label, _ in summary.buttons] == labels[:-3]
    await parent.press("Отправить")
    await parent.expect("принят")
    card = await desk.staff().expect("Вопрос №1")
    assert "Пользователю уже показаны статьи" in card.text
