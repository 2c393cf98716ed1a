"""End to end: the real polling loop against the fake Bot API server."""

from __future__ import annotations

import asyncio

from tests.conftest import Harness
from tests.e2e.helpers import answer, ask, press_on


async def test_parent_question_and_answer(desk: Harness) -> None:
    parent = desk.user("Анна", last_name="Петрова")
    number, card = await ask(desk, parent, "Не вижу оценки сына за контрольную <по алгебре> & геометрии")
    assert number == 1
    assert "Родитель (законный представитель)" in card.text
    assert "ЭД · Оценки" in card.text
    assert "<по алгебре> & геометрии" in card.text  # user text is escaped, then shown as written
    assert "От: Анна" in card.text and "Петрова" not in card.text  # the minimum: the first name (issue 15)
    assert [b[0] for b in card.buttons][:4] == [
        "Взять в работу",
        "Закрыть",
        "Заместителю директора",
        "Передать разработчику",
    ]
    if desk.forum:
        assert card.thread_id is not None
        [topic] = desk.server.topics(desk.group)
        assert topic.name == "Анна · №1"

    await answer(desk, card, "Здравствуйте! Оценку выставят до конца недели.")
    got = await parent.expect("Оценку выставят")
    assert got.text.startswith("Ирина, специалист школы:")


async def test_teacher_question_and_answer(desk: Harness) -> None:
    teacher = desk.user("Пётр")
    _number, card = await ask(
        desk,
        teacher,
        "Как закрыть четверть в журнале, если у ученика нет оценок?",
        role="Учитель-предметник",
        topic="журнал",
        category="Отчёты",
    )
    assert "Учитель-предметник" in card.text and "ЭЖ · Отчёты" in card.text
    await answer(desk, card, "Поставьте «н/а» и сообщите классному руководителю.")
    await teacher.expect("н/а")


async def test_followups_both_ways_with_photo_and_document(desk: Harness) -> None:
    parent = desk.user("Мария")
    number, card = await ask(desk, parent, "Не открывается домашнее задание")
    staff = desk.staff()

    await parent.send("Вот ещё подробности: ошибка 404")
    followup = await staff.expect("ошибка 404")
    assert f"№{number}" in followup.text
    await parent.send_photo(caption="снимок экрана")
    photo = await staff.expect("снимок экрана")
    assert photo.kind == "photo"
    await parent.send_document(filename="ошибка.pdf", content=b"%PDF-1.4 test", caption=None)
    doc = await staff.expect(f"№{number}")
    assert doc.kind == "document" and doc.file_name == "ошибка.pdf"
    if desk.forum:
        assert followup.thread_id == card.thread_id == photo.thread_id == doc.thread_id

    # Staff answer with a photo and a document, replying to the user's copied message.
    await staff.reply_to(photo, photo=True)
    got_photo = await parent.expect("специалист школы")
    assert got_photo.kind == "photo"
    await staff.reply_to(doc, document=("инструкция.txt", b"step 1"))
    got_doc = await parent.expect("специалист школы")
    assert got_doc.kind == "document" and got_doc.file_name == "инструкция.txt"


async def test_claim_and_close(desk: Harness) -> None:
    parent = desk.user("Ольга")
    _number, card = await ask(desk, parent)
    staff = desk.staff()
    ans = await press_on(staff, card, "Взять в работу")
    assert "у Вас в работе" in (ans.text or "")
    await parent.expect("взял в работу специалист Ирина")
    assert "в работе — Ирина" in card.text
    assert "Взять в работу" not in [b[0] for b in card.buttons]
    assert "Закрыть" in [b[0] for b in card.buttons]

    ans = await press_on(staff, card, "Закрыть")
    await parent.expect("закрыл Ваш вопрос")
    assert "закрыт (Ирина)" in card.text
    assert card.buttons == []

    # The next message starts a new question with the dialog, not silently.
    await parent.send("А ещё вопрос про расписание")
    asked = await parent.expect("уточните, пожалуйста, тему")
    assert "С чем связан вопрос" in asked.text


async def test_user_closes_own_ticket(desk: Harness) -> None:
    parent = desk.user("Вера")
    _number, card = await ask(desk, parent)
    await parent.press("Вопрос решён")
    await parent.expect("закрыт. Спасибо")
    await desk.staff().expect("Пользователь закрыл вопрос")
    assert "закрыт (пользователем)" in card.text


async def test_late_reply_reopens_closed_ticket(desk: Harness) -> None:
    parent = desk.user("Нина")
    _number, card = await ask(desk, parent)
    staff = desk.staff()
    await press_on(staff, card, "Закрыть")
    await parent.expect("закрыл Ваш вопрос")
    await answer(desk, card, "Забыла добавить: проверьте, пожалуйста, ещё раз вечером.")
    await parent.expect("проверьте, пожалуйста, ещё раз")
    await staff.expect("снова открыт")
    assert "статус: новый" in card.text.lower() or "Статус: новый" in card.text
    # The reopened ticket takes the user's follow-ups again.
    await parent.send("Спасибо, проверю")
    await staff.expect("Спасибо, проверю")


async def test_internal_note_is_not_sent(desk: Harness) -> None:
    parent = desk.user("Зоя")
    _number, card = await ask(desk, parent)
    await answer(desk, card, "// позвонить родителю после 15:00")
    await parent.expect_nothing(timeout=0.7)
    await answer(desk, card, "Ответ по существу")
    await parent.expect("Ответ по существу")


async def test_staff_talk_outside_tickets_is_ignored(desk: Harness) -> None:
    parent = desk.user("Лидия")
    await ask(desk, parent)
    await desk.staff().send("Коллеги, кто сегодня дежурит?")
    await parent.expect_nothing(timeout=0.7)


async def test_stranger_cannot_use_staff_buttons(desk: Harness) -> None:
    parent = desk.user("Елена")
    number, card = await ask(desk, parent)
    stranger = desk.user("Чужой")
    await stranger.send("/help")
    await stranger.expect("Что я умею")
    help_msg = stranger.inbox[-1]
    ans = await stranger.press_data(help_msg, f"s:cl:{number}")
    assert ans.text == "Эта кнопка только для сотрудников школы."
    ans = await stranger.press_data(help_msg, f"s:x:{number}")
    assert ans.text == "Эта кнопка только для сотрудников школы."
    await asyncio.sleep(0.2)
    assert "Статус: новый" in card.text
    await parent.expect_nothing(timeout=0.3)


async def test_english_user_and_language_switch(desk: Harness) -> None:
    user = desk.user("John", language_code="en")
    await user.send("/start")
    hello = await user.expect("Hello, John")
    assert "who you are" in hello.text
    await user.send("/language")
    await user.expect("Choose your language")
    await user.press("Русский")
    await user.expect("русский")
    await user.send("/help")
    await user.expect("Что я умею")


async def test_help_and_contacts(desk: Harness) -> None:
    user = desk.user("Гость")
    await user.send("/help")
    await user.expect("/cancel")
    await user.send("/contacts")
    contacts = await user.expect("(86550) 93-464")
    assert "kazmschool@mail.ru" in contacts.text
