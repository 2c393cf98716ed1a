"""Personal data end to end (issue 15): the notice and consent before a first question, the minimum shown to
staff, /mydata, /forget with a byte search of the database, retention on an injected clock, management's
requests."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from fakegram import Actor, Msg
from tests.conftest import Harness
from tests.e2e.helpers import agree, answer, ask, db_bytes, press_on


def rows(h: Harness, sql: str, *params: object) -> list[tuple[object, ...]]:
    db = sqlite3.connect(h.tmp_path / "helpdesk.sqlite3", timeout=10)
    try:
        return list(db.execute(sql, params))
    finally:
        db.close()


def document_text(h: Harness, msg: Msg) -> str:
    doc = msg.raw["document"]
    return h.server.world.files[doc["file_id"]].data.decode("utf-8")


async def test_notice_comes_before_the_first_question_and_keeps_it_as_a_draft(forum_desk: Harness) -> None:
    h = forum_desk
    parent = h.user("Анна", consented=False)
    await parent.send("Не вижу оценки за контрольную QX-DRAFT-41")
    notice = await parent.expect("Персональные данные")
    assert "сохранён как черновик" in notice.content  # one message: the draft note and the notice
    assert "МКОУ" in notice.content or "Средняя общеобразовательная школа" in notice.content
    assert "/mydata" in notice.content and "/forget" in notice.content
    assert "ведома родителей" in notice.content
    await h.staff().expect_nothing()
    # Writing more before deciding: kept too, the buttons pointed at.
    await parent.send("И ещё: за четверть QX-MORE-42")
    await parent.expect("ответьте, пожалуйста, на уведомление")
    await parent.press("✅ Согласен(на)")
    await parent.expect("кто Вы")
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.press("Оценки")
    summary = await parent.expect("Проверьте")
    assert "QX-DRAFT-41" in summary.content and "QX-MORE-42" in summary.content
    await parent.press("Отправить")
    await parent.expect("принят")
    card = await h.staff().expect("Вопрос №")
    assert "QX-DRAFT-41" in card.content
    [(version, decision)] = rows(h, "SELECT version, decision FROM consents")
    assert decision == "agree" and str(version).startswith("n")
    assert rows(h, "SELECT consent_version FROM users WHERE first_name = 'Анна'") == [(version,)]


async def test_start_greets_at_once_and_the_notice_comes_before_the_question_goes(plain_desk: Harness) -> None:
    """/start sends nothing to staff: it answers at once with the role question (issue 14's one message);
    the notice comes when a question is written, before anything reaches staff."""
    h = plain_desk
    parent = h.user("Анна", consented=False)
    await parent.send("/start")
    greeting = await parent.expect("Здравствуйте")
    assert "кто Вы" in greeting.content and "Персональные данные" not in greeting.content
    await parent.press("Родитель")
    await parent.press("дневник")
    await parent.press("Оценки")
    await parent.send("Не вижу оценки QX-START-40")
    notice = await parent.expect("Персональные данные")
    assert "сохранён как черновик" in notice.content
    await h.staff().expect_nothing()
    await parent.press("✅ Согласен(на)")
    summary = await parent.expect("Проверьте")
    assert "QX-START-40" in summary.content
    await parent.press("Отправить")
    await parent.expect("принят")
    assert "QX-START-40" in (await h.staff().expect("Вопрос №")).content


async def test_declining_leaves_the_phone_and_email_and_keeps_nothing(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Анна", consented=False)
    await parent.send("Пароль не подходит QX-DECLINE-43")
    await parent.expect("Персональные данные")
    await parent.press("Не согласен(на)")
    declined = await parent.expect("не передан")
    assert "(86550) 93-464" in declined.content and "kazmschool@mail.ru" in declined.content
    await h.staff().expect_nothing()
    assert rows(h, "SELECT count(*) FROM tickets") == [(0,)]
    assert rows(h, "SELECT count(*) FROM fsm WHERE data LIKE '%QX-DECLINE-43%'") == [(0,)]
    assert rows(h, "SELECT decision FROM consents") == [("decline",)]


async def test_a_new_version_of_the_notice_is_shown_again(plain_desk: Harness) -> None:
    h = plain_desk
    parent = h.user("Анна")  # agreed to the notice as it is
    await parent.send("/start")
    await parent.expect("Здравствуйте")
    # The school adds its policy link: the notice's text changes, so does its version.
    profile = h.profile()
    profile.write_text(
        profile.read_text(encoding="utf-8").replace(
            '# policy_url = "https://school16.example.ru', 'policy_url = "https://school16.example.ru'
        ),
        encoding="utf-8",
    )
    await h.restart()
    await parent.send("Ещё вопрос про оценки")
    notice = await parent.expect("Персональные данные")
    assert "school16.example.ru" in notice.content
    await parent.press("✅ Согласен(на)")
    await parent.expect("уточните, пожалуйста, тему")
    versions = rows(h, "SELECT DISTINCT version FROM consents ORDER BY id")
    assert len(versions) == 2
    assert len(rows(h, "SELECT version FROM notice_versions")) == 2  # each version's text, once


async def test_the_card_shows_the_minimum(desk: Harness) -> None:
    h = desk
    parent = h.user("Анна", last_name="Петрова-Уникальная")
    number, card = await ask(h, parent)
    assert "Анна" in card.content
    assert "Петрова-Уникальная" not in card.content
    assert "tg://user" not in (card.html or "")
    assert f"Вопрос №{number}" in card.content and "Родитель" in card.content
    assert "Не вижу оценки" in card.content


async def test_mydata_returns_a_file_with_own_data_only(plain_desk: Harness) -> None:
    h = plain_desk
    anna = h.user("Анна")
    boris = h.user("Борис")
    _, card = await ask(h, anna, "Мой вопрос QX-ANNA-44")
    await answer(h, card, "Ответ специалиста QX-REPLY-45")
    await anna.expect("QX-REPLY-45")
    await ask(h, boris, "Чужой вопрос QX-BORIS-46")
    await anna.send("/mydata")
    file = await anna.expect()
    assert file.kind == "document"
    text = document_text(h, file)
    assert "QX-ANNA-44" in text and "QX-REPLY-45" in text
    assert "QX-BORIS-46" not in text and "Борис" not in text
    assert "Анна" in text and "согласие дано" in text


async def test_forget_erases_the_text_from_the_database_file_and_its_wal(desk: Harness) -> None:
    h = desk
    forum = h.forum
    anna = h.user("Анна")
    boris = h.user("Борис")
    number, card = await ask(h, anna, "Секретный вопрос QX-SECRET-47")
    await answer(h, card, "Ответ QX-ANSWER-48")
    await anna.expect("QX-ANSWER-48")
    await anna.send("Ещё деталь QX-FOLLOW-49")
    await ask(h, boris, "Вопрос Бориса QX-KEEP-50")
    assert b"QX-SECRET-47" in db_bytes(h)

    await anna.send("/forget")
    await anna.expect("Удалить Ваши данные")
    await anna.press("Да, удалить")
    done = await anna.expect("Ваши данные удалены")
    assert f"№{number}" in done.content and "отчётов" in done.content
    staff_note = await h.staff().expect("закрыт")
    assert f"№{number}" in staff_note.content
    if forum:
        assert card.thread_id is not None
        chat = h.server.world.chats[h.group.id]
        assert chat.topics[card.thread_id].deleted
    else:
        assert card.deleted  # posted just now: the bot may still delete it

    data = db_bytes(h)
    for secret in (b"QX-SECRET-47", b"QX-ANSWER-48", b"QX-FOLLOW-49"):
        assert secret not in data, secret
    assert b"QX-KEEP-50" in data  # somebody else's question stays
    # The ticket stays as an anonymous count.
    assert rows(h, "SELECT count(*) FROM tickets") == [(2,)]
    assert rows(h, "SELECT question, status FROM tickets WHERE id = ?", number) == [("", "closed")]
    assert rows(h, "SELECT count(*) FROM users WHERE first_name = 'Анна'") == [(0,)]
    assert rows(h, "SELECT action FROM audit WHERE action = 'forget'") == [("forget",)]

    # Writing again is a fresh start: the notice first.
    await anna.send("Снова здравствуйте")
    await anna.expect("Персональные данные")


async def test_retention_deletes_what_is_due_and_keeps_the_counts(
    forum_desk: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = forum_desk
    anna = h.user("Анна")
    boris = h.user("Борис")
    first, _ = await ask(h, anna, "Старый вопрос QX-OLD-51")
    await anna.press("Вопрос решён, закрыть")
    await anna.expect("закрыт")
    h.clock.advance(days=200)
    second, _ = await ask(h, boris, "Новый вопрос QX-NEW-52")
    await boris.press("Вопрос решён, закрыть")
    await boris.expect("закрыт")
    h.clock.advance(days=201)  # the first closed 401 days ago (due: 400), the second 201 days ago
    assert h.app is not None
    with caplog.at_level(logging.INFO):
        await h.app.runner.tick()
    assert rows(h, "SELECT id, question = '', erased_at IS NOT NULL FROM tickets ORDER BY id") == [
        (first, 1, 1),
        (second, 0, 0),
    ]
    assert rows(h, "SELECT count(*) FROM messages WHERE ticket_id = ?", first) == [(0,)]
    # Anna asked nothing for 401 days: her name and contact are erased too; Boris is kept.
    assert rows(h, "SELECT first_name FROM users WHERE first_name IN ('Анна', 'Борис')") == [("Борис",)]
    # The counts reports need: both tickets, with role, topic, category and times.
    assert rows(h, "SELECT count(*), count(DISTINCT role), min(closed_at IS NOT NULL) FROM tickets") == [(2, 1, 1)]
    data = db_bytes(h)
    assert b"QX-OLD-51" not in data and b"QX-NEW-52" in data
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "helpdesk.privacy")
    assert "retention: texts of 1 closed ticket(s)" in logged and "1 inactive user(s)" in logged
    assert "QX-" not in caplog.text
    # Once a day: the next tick does nothing more.
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await h.app.runner.tick()
    assert "retention:" not in caplog.text


async def _private(h: Harness, tg_user: object) -> Actor:
    actor = h.server.actor(tg_user)  # type: ignore[arg-type]
    await actor.send("/help")
    await actor.expect()
    return actor


async def test_mydata_of_and_forget_of_are_for_management_only(plain_desk: Harness) -> None:
    h = plain_desk
    anna = h.user("Анна")
    number, _ = await ask(h, anna, "Вопрос QX-MGMT-53")
    staff = h.staff()
    await staff.send(f"/mydata_of №{number}")
    await staff.expect("только руководству")
    await staff.send(f"/forget_of №{number}")
    await staff.expect("только руководству")
    specialist = await _private(h, h.specialist)
    await specialist.send(f"/mydata_of №{number}")
    await specialist.expect("только руководству")
    assert rows(h, "SELECT count(*) FROM audit WHERE action IN ('mydata_of', 'forget_of')") == [(0,)]

    # The deputy director (management in the profile): the file goes to her private chat, never the group.
    deputy_private = await _private(h, h.deputy)
    deputy = h.server.actor(h.deputy, chat=h.group)
    await deputy.send(f"/mydata_of №{number}")
    await deputy.expect("личные сообщения")
    file = await deputy_private.expect()
    assert file.kind == "document" and "QX-MGMT-53" in document_text(h, file)
    await deputy.send(f"/forget_of №{number}")
    ask_msg = await deputy.expect("Удалить данные пользователя")
    # A specialist pressing it is refused.
    refused = await press_on(staff, ask_msg, "Да, удалить")
    assert "руководству" in (refused.text or "")
    assert rows(h, "SELECT count(*) FROM users WHERE first_name = 'Анна'") == [(1,)]
    await press_on(deputy, ask_msg, "Да, удалить")
    await deputy.expect("записано в журнал")
    assert rows(h, "SELECT count(*) FROM users WHERE first_name = 'Анна'") == [(0,)]
    assert b"QX-MGMT-53" not in db_bytes(h)
    actions = rows(h, "SELECT action, actor_id FROM audit WHERE action IN ('mydata_of', 'forget_of') ORDER BY id")
    assert actions == [("mydata_of", h.deputy.id), ("forget_of", h.deputy.id)]


async def test_a_student_needs_a_parents_confirmation_when_the_school_asks(plain_desk: Harness) -> None:
    h = plain_desk
    profile = h.profile()
    profile.write_text(
        profile.read_text(encoding="utf-8").replace("students_need_parent = false", "students_need_parent = true"),
        encoding="utf-8",
    )
    await h.restart()
    student = h.user("Петя", consented=False)
    await student.send("Не открывается дневник QX-STUDENT-54")
    notice = await student.expect("Персональные данные")
    assert "подтверждения родителем" in notice.content
    await student.press("✅ Согласен(на)")
    await student.press("Обучающийся")
    await student.press("дневник")
    await student.press("Вход")
    await student.expect("Проверьте")
    await student.press("Отправить")
    needed = await student.expect("подтверждал родитель")
    link = next(part for part in needed.content.split() if part.startswith("https://t.me/"))
    payload = link.split("?start=")[1]
    await h.staff().expect_nothing()

    parent = h.user("Мама", consented=False)
    await parent.send(f"/start {payload}")
    await agree(parent)
    await parent.expect("Петя пользуется ботом с Вашего ведома")
    await student.expect("Родитель подтвердил")
    await student.press("Отправить")
    await student.expect("принят")
    card = await h.staff().expect("Вопрос №")
    assert "QX-STUDENT-54" in card.content
    # A link works once.
    other = h.user("Чужой")
    await h.consents_recorded()
    await other.send(f"/start {payload}")
    await other.expect("Ссылка не действует")


async def test_forget_in_a_plain_group_lists_what_the_bot_cannot_delete(plain_desk: Harness) -> None:
    h = plain_desk
    anna = h.user("Анна")
    number, card = await ask(h, anna, "Вопрос QX-OLD-CARD-55")
    # Telegram refuses to delete the card (older than 48 hours, as it would be after a weekend).
    h.server.fail_next(
        "deleteMessage", status=400, retry_after=None, description="Bad Request: message can't be deleted for everyone"
    )
    await anna.send("/forget")
    await anna.press("Да, удалить")
    await anna.expect("Ваши данные удалены")
    listed = await h.staff().expect("удалить не может")
    assert f"№{number}: https://t.me/c/" in listed.content and listed.content.endswith(f"/{card.message_id}")
    assert not card.deleted
    assert b"QX-OLD-CARD-55" not in db_bytes(h)


async def test_a_rating_comment_is_in_mydata_and_forget_keeps_only_the_anonymous_score(plain_desk: Harness) -> None:
    """Ratings (issue 16) are counted in reports without a user id; their comment is the user's words: shown
    in /mydata, erased by /forget (the score stays for the reports)."""
    h = plain_desk
    anna = h.user("Анна")
    number, card = await ask(h, anna, "Вопрос об оценках QX-RATED-61")
    await answer(h, card, "Оценки появятся вечером.")
    await anna.expect("Оценки появятся")
    await press_on(h.staff(), card, "Закрыть")
    prompt = await anna.expect("оцените помощь")
    await press_on(anna, prompt, "4")
    await anna.expect("напишите комментарий")
    await anna.send("Спасибо, всё понятно QX-COMMENT-62")
    await anna.expect("Спасибо за отзыв")

    await anna.send("/mydata")
    text = document_text(h, await anna.expect())
    assert "QX-COMMENT-62" in text and f"№{number}: 4 из 5" in text

    await anna.send("/forget")
    await anna.press("Да, удалить")
    await anna.expect("Ваши данные удалены")
    data = db_bytes(h)
    assert b"QX-COMMENT-62" not in data and b"QX-RATED-61" not in data
    assert rows(h, "SELECT ticket_id, score, comment FROM ratings") == [(None, 4, None)]
