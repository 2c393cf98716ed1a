"""End to end: the deputy director announces a seminar; users sign up, cancel, and get reminders.

Time is the harness's manual clock (1 September 2026, 14:00 in Moscow); reminders are due when the
job runner ticks, which the tests do by hand after moving the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fakegram import Actor
from tests.conftest import Harness

# 3 September 2026, 15:00 in Moscow.
START = datetime(2026, 9, 3, 12, 0, tzinfo=UTC)
ANNOUNCE = "/seminar 03.09 15:00; Итоговые оценки в ЭЖ; каб. 21; учителя, классные руководители"


async def _user_with_role(h: Harness, name: str, role: str) -> Actor:
    user = h.user(name)
    await user.send("/start")
    await user.expect("кто Вы")
    await user.press(role)
    await user.expect("С чем связан вопрос")
    return user


def _deputy(h: Harness) -> Actor:
    return h.server.actor(h.deputy, chat=h.group)


async def _announce(h: Harness, deputy: Actor, command: str = ANNOUNCE, audience: int = 2) -> None:
    await deputy.send(command)
    preview = await deputy.expect("Проверьте объявление")
    assert "Итоговые оценки в ЭЖ" in preview.text
    assert "3 сентября (чт), 15:00" in preview.text
    assert f"с этими ролями: {audience}" in preview.text
    await deputy.press("Объявить")


async def _tick(h: Harness) -> None:
    assert h.app is not None
    await h.app.runner.tick()


async def test_announce_sign_up_cancel_and_reminders(desk: Harness) -> None:
    teacher = await _user_with_role(desk, "Тамара", "Учитель-предметник")
    class_teacher = await _user_with_role(desk, "Клара", "Классный руководитель")
    parent = await _user_with_role(desk, "Полина", "Родитель")
    deputy = _deputy(desk)

    await _announce(desk, deputy)
    await deputy.expect("получили пользователи: 2")
    invite = await teacher.expect("Приглашаем Вас на обучающий семинар")
    assert "каб. 21" in invite.text and "Учитель-предметник, Классный руководитель" in invite.text
    await class_teacher.expect("Приглашаем Вас")
    await parent.expect_nothing(timeout=0.3)  # not for parents

    # Sign up from the announcement; the button turns into "cancel".
    answer = await teacher.press("Записаться")
    assert "Вы записаны" in (answer.text or "")
    await desk.server.wait_idle()  # the button is changed after the answer to the press
    assert [label for label, _ in invite.buttons] == ["Отменить запись"]
    await class_teacher.press("Записаться")
    answer = await class_teacher.press("Отменить запись")
    assert "Запись отменена" in (answer.text or "")

    # Anyone can see upcoming seminars and sign up, parents too.
    await parent.send("/seminars")
    await parent.expect("Ближайшие обучающие семинары")
    card = await parent.expect("Итоговые оценки в ЭЖ")
    assert [label for label, _ in card.buttons] == ["✍️ Записаться"]
    await parent.press("Записаться")

    # The deputy director's list.
    await deputy.send("/signups")
    listing = await deputy.expect("Записались: 2")
    assert "1. Тамара — Учитель-предметник" in listing.text
    assert "2. Полина — Родитель" in listing.text
    assert "Клара" not in listing.text

    # The day before: a reminder to those signed up, once.
    desk.clock.set(START - timedelta(hours=23))
    await _tick(desk)
    day = await teacher.expect("семинар уже завтра")
    assert "Итоговые оценки в ЭЖ" in day.text
    await parent.expect("семинар уже завтра")
    await _tick(desk)
    await teacher.expect_nothing(timeout=0.3)
    await class_teacher.expect_nothing(timeout=0.1)

    # An hour before.
    desk.clock.set(START - timedelta(minutes=50))
    await _tick(desk)
    await teacher.expect("Через час начинается семинар")
    await parent.expect("Через час начинается семинар")
    await class_teacher.expect_nothing(timeout=0.1)

    # Once it has begun it is no longer upcoming, and its buttons say so.
    desk.clock.set(START + timedelta(minutes=5))
    await _tick(desk)
    await teacher.expect_nothing(timeout=0.3)
    await teacher.send("/seminars")
    await teacher.expect("Ближайших семинаров пока нет")
    answer = await teacher.press("Отменить запись")
    assert answer.show_alert and "уже прошёл" in (answer.text or "")


async def test_blocked_user_and_late_joiner(plain_desk: Harness) -> None:
    h = plain_desk
    first = await _user_with_role(h, "Анна", "Учитель-предметник")
    blocked = await _user_with_role(h, "Борис", "Учитель-предметник")
    deputy = _deputy(h)

    h.server.fail_next(
        "sendMessage",
        chat_id=blocked.chat_id,
        status=403,
        description="Forbidden: bot was blocked by the user",
    )
    await _announce(h, deputy)
    await deputy.expect("получили пользователи: 1")
    await first.expect("Приглашаем Вас")

    # Someone who starts using the bot later, with a matching role, is told at the next tick, once.
    late = await _user_with_role(h, "Вера", "Классный руководитель")
    await _tick(h)
    await late.expect("Приглашаем Вас")
    await _tick(h)
    await late.expect_nothing(timeout=0.3)
    await first.expect_nothing(timeout=0.1)


async def test_bad_announcement_and_discard(plain_desk: Harness) -> None:
    h = plain_desk
    teacher = await _user_with_role(h, "Галя", "Учитель-предметник")
    deputy = _deputy(h)

    await deputy.send("/seminar")
    await deputy.expect("Как объявить семинар")
    await deputy.send("/seminar 03.09 15:00; Тема; каб. 21; бабушки")
    await deputy.expect("Не понимаю, для кого семинар: «бабушки»")
    await deputy.send("/seminar 01.09 10:00; Тема; каб. 21; учителя")
    await deputy.expect("уже прошло")

    await deputy.send("/seminar 03.09 15:00; Тема; каб. 21; учителя")
    preview = await deputy.expect("Проверьте объявление")
    await deputy.press("Не объявлять")
    await h.server.wait_idle()
    assert preview.text == "Объявление не отправлено." and preview.buttons == []
    await teacher.expect_nothing(timeout=0.3)
    await teacher.send("/seminars")
    await teacher.expect("Ближайших семинаров пока нет")

    # Users cannot announce.
    await teacher.send(ANNOUNCE)
    await teacher.expect("для заместителя директора")
