"""End to end: routing that tells the truth. The promise to the user, the staff card and the specialist's
private notice name the same person and time; the card and the buttons follow the ticket's state.

The example profile: Пн, Ср 14–16 технический специалист (Иванов); Вт, Чт 15–17 заместитель по УВР
(Петрова); Ср 13–14:30 заместитель по ВР; Пт 13–15 Кузнецова (учитель); Вт 14–15 Смирнова (учитель, дневник).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakegram import Actor, FakeTelegram, Msg
from tests.e2e.helpers import answer, ask, press_on
from tests.e2e.test_schedule import Scheduled, _scheduled

MSK = ZoneInfo("Europe/Moscow")
SATURDAY_EVENING = datetime(2026, 9, 5, 20, 0, tzinfo=MSK)
TUESDAY_SMIRNOVA = datetime(2026, 9, 8, 14, 0, 30, tzinfo=MSK)
TUESDAY_DEPUTY = datetime(2026, 9, 8, 15, 30, tzinfo=MSK)
FRIDAY_KUZNETSOVA = datetime(2026, 9, 4, 13, 30, tzinfo=MSK)


@pytest.fixture
async def sched(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Scheduled]:
    async for h in _scheduled(fake_telegram, tmp_path, False):
        yield h


async def link(h: Scheduled, key: str, first_name: str, last_name: str) -> Actor:
    """The deputy director invites the specialist ``key``; they open the link in a private chat."""
    management = h.server.actor(h.deputy, chat=h.group)
    await management.send(f"/invite {key}")
    reply = await management.expect("Одноразовая ссылка")
    payload = next(part for part in reply.text.split() if "start=inv_" in part).split("start=")[1]
    person = h.server.actor(h.server.add_user(first_name=first_name, last_name=last_name))
    await person.send(f"/start {payload}")
    await person.expect("Вы подключены")
    return person


def promise_of(parent: Actor) -> Msg:
    return next(m for m in reversed(parent.inbox) if "принят" in m.text)


async def test_saturday_evening_promise_card_and_notice_name_smirnova_on_tuesday(sched: Scheduled) -> None:
    h = sched
    smirnova = await link(h, "teacher2", "Ольга", "Смирнова")
    h.clock.set(SATURDAY_EVENING)
    parent = h.user("Анна")
    number, card = await ask(h, parent, "Не вижу оценки за контрольную", category="Оценки")
    promised = promise_of(parent).text
    assert (
        "Сейчас консультаций нет. Ваш вопрос возьмёт в работу Смирнова О. П. (учитель, консультант по ЭЖ) "
        "во вторник после 14:00." in promised
    ), promised
    assert "Вне графика: возьмут в работу во вторник после 14:00 — Смирнова О. П." in card.text, card.text
    notice = await smirnova.expect(f"Вопрос №{number}")
    assert "во вторник после 14:00" in notice.text and "для Вас" in notice.text
    for text in (promised, card.text, notice.text):
        assert "Кузнецова" not in text  # the first candidate, who consults on Fridays only

    # Tuesday 14:00: the queue is released to the one who was promised.
    h.clock.set(TUESDAY_SMIRNOVA)
    await h.tick()
    released = await h.staff().expect("Началась консультация")
    assert "Смирнова О. П." in released.text and f"№{number}" in released.text
    await smirnova.expect("ждал начала Вашей консультации")
    assert "Ответственный: Смирнова О. П." in card.text and "Вне графика" not in card.text


async def test_tuesday_deputy_consulting_login_goes_to_the_technical_specialist(sched: Scheduled) -> None:
    h = sched
    tech = await link(h, "tech", "Иван", "Иванов")
    h.clock.set(TUESDAY_DEPUTY)
    parent = h.user("Борис")
    number, card = await ask(h, parent, "Забыл пароль от дневника", category="Вход и пароль")
    promised = promise_of(parent).text
    assert "Сейчас консультаций нет" not in promised
    assert (
        "Сейчас консультирует Петрова А. С. (заместитель директора), но вопросами входа и пароля занимается "
        "технический специалист: Ваш вопрос возьмёт в работу Иванов И. И. завтра после 14:00." in promised
    ), promised
    assert "Ждёт своего специалиста: возьмут в работу завтра после 14:00 — Иванов И. И." in card.text, card.text
    notice = await tech.expect(f"Вопрос №{number}")
    assert "завтра после 14:00" in notice.text


async def test_friday_consultation_takes_it_now_and_a_login_waits_for_monday(sched: Scheduled) -> None:
    h = sched
    kuznetsova = await link(h, "teacher1", "Елена", "Кузнецова")
    tech = await link(h, "tech", "Иван", "Иванов")
    h.clock.set(FRIDAY_KUZNETSOVA)
    parent = h.user("Вера")
    number, card = await ask(h, parent, "Не вижу домашнее задание", category="Домашнее задание")
    promised = promise_of(parent).text
    assert "вопрос уже у специалиста: Кузнецова Е. Н." in promised, promised
    assert "Ответственный: Кузнецова Е. Н." in card.text
    notice = await kuznetsova.expect(f"Новый вопрос №{number}")
    assert "для Вас" in notice.text
    await tech.expect_nothing(timeout=0.2)

    student = h.user("Петя")
    number2, card2 = await ask(h, student, "Приложение не открывается", role="Обучающийся", category="Мобильное")
    promised2 = promise_of(student).text
    assert "Сейчас консультирует Кузнецова Е. Н." in promised2, promised2
    assert "вопросами мобильного приложения занимается технический специалист: Ваш вопрос возьмёт" in promised2
    assert "Иванов И. И. в понедельник после 14:00." in promised2
    assert "в понедельник после 14:00 — Иванов И. И." in card2.text
    notice2 = await tech.expect(f"Вопрос №{number2}")
    assert "в понедельник после 14:00" in notice2.text
    await kuznetsova.expect_nothing(timeout=0.2)


async def test_card_follows_the_state_queued_taken_closed_and_the_close_button_goes(sched: Scheduled) -> None:
    h = sched
    h.clock.set(SATURDAY_EVENING)
    parent = h.user("Галина")
    number, card = await ask(h, parent)
    confirmation = promise_of(parent)
    assert [label for label, _ in confirmation.buttons] == ["Вопрос решён, закрыть"]
    assert "Вне графика: возьмут в работу" in card.text and "Статус: новый" in card.text

    h.clock.set(SATURDAY_EVENING + timedelta(hours=1, minutes=5))
    await press_on(h.staff(), card, "Взять в работу")
    await parent.expect("взял в работу")
    assert "Вне графика" not in card.text
    assert "в работе — Ирина" in card.text and "Взят в работу 05.09 21:05" in card.text, card.text

    h.clock.set(SATURDAY_EVENING + timedelta(hours=2))
    await press_on(h.staff(), card, "Закрыть")
    await parent.expect("закрыл Ваш вопрос")
    assert "закрыт (Ирина)" in card.text and "Закрыт 05.09 22:00" in card.text, card.text
    assert "Вне графика" not in card.text and "Взят в работу" not in card.text
    assert card.buttons == []
    # The user's «Вопрос решён, закрыть» has gone from the confirmation.
    assert await h.server.world.wait_for(lambda: not confirmation.buttons, 5)
    assert f"№{number}" in confirmation.text


async def test_closing_over_an_unanswered_follow_up_asks_to_confirm(sched: Scheduled) -> None:
    h = sched
    parent = h.user("Дарья")
    number, card = await ask(h, parent)
    staff = h.staff()
    await answer(h, card, "Проверьте, пожалуйста, вкладку «Оценки»")
    await parent.expect("вкладку")
    await parent.send("Там пусто, оценок нет")
    await staff.expect("Там пусто")

    # «Закрыть»: not closed, a question with two buttons instead.
    await press_on(staff, card, "Закрыть")
    ask_msg = await staff.expect("осталось без ответа")
    assert f"№{number}" in ask_msg.text and "Статус: новый" in card.text
    assert [label for label, _ in ask_msg.buttons] == ["Да, закрыть", "Не закрывать"]
    await press_on(staff, ask_msg, "Не закрывать")
    assert await h.server.world.wait_for(lambda: "остаётся открытым" in ask_msg.text, 5)
    assert ask_msg.buttons == []
    assert "Статус: новый" in card.text

    # Asked again; meanwhile the user writes once more: «Да» is stale, nothing is closed.
    await press_on(staff, card, "Закрыть")
    second = await staff.expect("осталось без ответа")
    await parent.send("И по русскому тоже")
    await staff.expect("И по русскому")
    stale = await press_on(staff, second, "Да, закрыть")
    assert stale.show_alert and "написал ещё" in (stale.text or "")
    assert await h.server.world.wait_for(lambda: not second.buttons, 5)
    assert "Статус: новый" in card.text and "написал ещё" in second.text

    # A stranger's and a forged press change nothing.
    stranger = h.user("Чужой")
    await stranger.send("/help")
    await stranger.expect("Что я умею")
    refused = await stranger.press_data(stranger.inbox[-1], f"xc:y:{number}:999999")
    assert refused.text == "Эта кнопка только для сотрудников школы."
    forged = await staff.press_data(second, "xc:y:99999:1")
    assert forged.text == "Вопрос не найден."
    assert "Статус: новый" in card.text

    # Confirmed over the latest message: closed.
    await press_on(staff, card, "Закрыть")
    third = await staff.expect("осталось без ответа")
    done = await press_on(staff, third, "Да, закрыть")
    assert done.text == f"Вопрос №{number} закрыт."
    await parent.expect("закрыл Ваш вопрос")
    assert await h.server.world.wait_for(lambda: not third.buttons, 5)
    assert "закрыт (Ирина)" in card.text and "закрыт" in third.text
    # A late press on the first question's «Да» is answered politely.
    late = await staff.press_data(second, f"xc:y:{number}:1")
    assert late.text == "Этот вопрос уже закрыт."


async def test_closing_after_the_answer_needs_no_confirmation(sched: Scheduled) -> None:
    h = sched
    parent = h.user("Ефим")
    number, card = await ask(h, parent)
    await answer(h, card, "Оценки появятся завтра")
    await parent.expect("появятся")
    closed = await press_on(h.staff(), card, "Закрыть")
    assert closed.text == f"Вопрос №{number} закрыт."
    await h.staff().expect_nothing(timeout=0.2)


async def test_schedule_names_kinds_of_help_not_job_titles(sched: Scheduled) -> None:
    h = sched
    parent = h.user("Жанна")
    await parent.send("/schedule")
    got = await parent.expect("График консультаций")
    text = got.text
    assert "Пн, Ср 14:00–16:00 — вход и пароли, мобильное приложение: технический специалист (Иванов И. И.)" in text
    assert (
        "Вт 14:00–15:00 — оценки, домашние задания, расписание и другие вопросы по дневнику: "
        "учитель-консультант (Смирнова О. П.)" in text
    )
    assert "заместитель директора (Петрова А. С.)" in text
    for title in ("по УВР", "по ВР", "администратор ЭЖ", "опытный пользователь", "учитель математики"):
        assert title not in text, title
    # Staff still see the school's own job titles.
    await h.staff().send("/schedule")
    staff_view = await h.staff().expect("График консультаций")
    assert "заместитель директора по УВР" in staff_view.text


async def test_duty_shows_the_waiting_queue(sched: Scheduled) -> None:
    h = sched
    staff = h.staff()
    await staff.send("/duty")
    empty = await staff.expect("Сейчас на дежурстве")
    assert "Вопросов, которые ждут, пока их возьмут в работу, нет." in empty.text

    h.clock.set(SATURDAY_EVENING)
    first, _ = await ask(h, h.user("Зоя"), "Первый вопрос")
    h.clock.set(SATURDAY_EVENING + timedelta(minutes=10))
    second, _ = await ask(h, h.user("Ира"), "Второй вопрос")
    third, card3 = await ask(h, h.user("Кира"), "Третий вопрос")
    await press_on(staff, card3, "Взять в работу")  # taken: no longer waiting
    await staff.send("/duty")
    board = await staff.expect("Ждут, пока их возьмут в работу: 2")
    assert "(из них до начала своей консультации: 2)" in board.text
    assert "Самый давний, с 05.09 20:00:" in board.text and f"№{first} " in board.text
    assert f"№{second} " not in board.text and f"№{third} " not in board.text
    assert "Первый вопрос" in board.text


async def test_a_late_answer_reopens_and_the_close_button_comes_back(sched: Scheduled) -> None:
    h = sched
    parent = h.user("Лиза")
    number, card = await ask(h, parent)
    confirmation = promise_of(parent)
    await press_on(h.staff(), card, "Закрыть")
    await parent.expect("закрыл Ваш вопрос")
    assert await h.server.world.wait_for(lambda: not confirmation.buttons, 5)
    await answer(h, card, "Забыла добавить: проверьте вечером")
    await parent.expect("проверьте вечером")
    await h.staff().expect("снова открыт")
    assert await h.server.world.wait_for(lambda: bool(confirmation.buttons), 5)
    await parent.press("Вопрос решён")
    await parent.expect(f"№{number}")
    assert await h.server.world.wait_for(lambda: "закрыт (пользователем)" in card.text, 5)
