"""End to end: the consultation schedule, routing, the out-of-hours queue, escalations, the vendor,
linking specialists. Time is the harness's ManualClock; the real APScheduler job ticks every 0.1 s."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fakegram import Actor, FakeTelegram
from tests.conftest import Harness
from tests.e2e.helpers import ask, press_on

MSK = ZoneInfo("Europe/Moscow")
FRIDAY_EVENING = datetime(2026, 9, 4, 18, 0, tzinfo=MSK)
MONDAY_SLOT = datetime(2026, 9, 7, 14, 0, 30, tzinfo=MSK)  # Пн 14:00–16:00 технический специалист
TUESDAY_DEPUTY = datetime(2026, 9, 8, 15, 5, tzinfo=MSK)  # Вт 15:00–17:00 заместитель по УВР


class Scheduled(Harness):
    async def tick(self) -> None:
        """Wait for two runs of the real scheduler job, so one ran entirely after the clock moved."""
        assert self.app is not None
        start = self.app.runner.ticks
        for _ in range(1000):
            if self.app.runner.ticks >= start + 2:
                await self.server.wait_idle(timeout=15)
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the scheduler job did not run")

    def manager(self) -> Actor:
        return self.server.actor(self.deputy)


async def _scheduled(
    server: FakeTelegram, tmp_path: Path, forum: bool, **env: str
) -> AsyncIterator[Scheduled]:
    h = Scheduled(server=server, tmp_path=tmp_path, forum=forum)
    h.extra_env.update({"TICK_SECONDS": "0.1", "MANAGER_CHAT_ID": str(h.deputy.id), **env})
    # The deputy director's private chat with the bot is the manager chat; they have started the bot.
    h.deputy.started = True
    h.clock.set(TUESDAY_DEPUTY)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture
async def sched(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Scheduled]:
    async for h in _scheduled(
        fake_telegram,
        tmp_path,
        False,
        ESCALATION_REMIND_MINUTES="30",
        ESCALATION_ALERT_MINUTES="60",
        ESCALATION_UNANSWERED_MINUTES="90",
    ):
        yield h


async def test_question_out_of_hours_gets_an_honest_promise_and_waits_for_the_slot(sched: Scheduled) -> None:
    h = sched
    h.clock.set(FRIDAY_EVENING)
    parent = h.user("Анна")
    number, card = await ask(
        h, parent, "Не могу войти в дневник, пишет неверный пароль", category="Вход и пароль"
    )
    accepted = parent.inbox[-1]
    assert "Сейчас консультаций нет" in accepted.text and "в понедельник после 14:00" in accepted.text
    assert "Вне графика: возьмут в работу в понедельник после 14:00 — Иванов И. И." in card.text

    h.clock.set(MONDAY_SLOT - timedelta(minutes=1))
    await h.tick()
    await h.staff().expect_nothing(timeout=0.2)

    h.clock.set(MONDAY_SLOT)
    await h.tick()
    released = await h.staff().expect("Началась консультация")
    assert "Иванов И. И. (технический специалист)" in released.text and f"№{number}" in released.text
    assert "Ответственный: Иванов И. И." in card.text
    await h.tick()
    await h.staff().expect_nothing(timeout=0.2)  # announced once


async def test_unclaimed_ticket_reminds_then_alerts_the_deputy_director(sched: Scheduled) -> None:
    h = sched
    teacher = h.user("Пётр")
    number, card = await ask(
        h, teacher, "Как исправить отметку?", role="Учитель-предметник", topic="журнал", category="Оценки"
    )
    assert "Ответственный: Петрова А. С." in card.text
    h.clock.set(TUESDAY_DEPUTY + timedelta(minutes=31))
    await h.tick()
    reminder = await h.staff().expect("ждёт уже 30 мин")
    assert f"№{number}" in reminder.text
    await h.manager().expect_nothing(timeout=0.2)
    h.clock.set(TUESDAY_DEPUTY + timedelta(minutes=61))
    await h.tick()
    alert = await h.manager().expect("не взят в работу за 60 мин")
    assert f"Вопрос №{number}" in alert.text and "t.me/c/" in (alert.html or "")
    await h.tick()
    await h.manager().expect_nothing(timeout=0.2)


async def test_minutes_count_only_during_consultations(sched: Scheduled) -> None:
    h = sched
    h.clock.set(datetime(2026, 9, 8, 16, 50, tzinfo=MSK))  # 10 minutes before the deputy's slot ends
    teacher = h.user("Инна")
    await ask(
        h, teacher, "Не формируется отчёт", role="Классный руководитель", topic="журнал", category="Отчёты"
    )
    # Wednesday 10:00: many hours later, but only 10 consultation minutes have passed: no reminder.
    h.clock.set(datetime(2026, 9, 9, 10, 0, tzinfo=MSK))
    await h.tick()
    await h.staff().expect_nothing(timeout=0.2)


async def test_deadline_passed_during_a_restart_fires_exactly_once(sched: Scheduled) -> None:
    h = sched
    teacher = h.user("Олег")
    number, _card = await ask(h, teacher, "Вопрос", role="Администрация", topic="журнал", category="Другое")
    await h.stop()
    h.clock.set(TUESDAY_DEPUTY + timedelta(minutes=70))
    await h.start()
    await h.tick()
    await h.manager().expect(f"Вопрос №{number}")
    await h.staff().expect("ждёт уже 30 мин")
    await h.restart()
    await h.tick()
    await h.manager().expect_nothing(timeout=0.3)
    await h.staff().expect_nothing(timeout=0.1)


async def test_claimed_but_unanswered_ticket_alerts(sched: Scheduled) -> None:
    h = sched
    parent = h.user("Рита")
    _number, card = await ask(h, parent, "Оценка не та", category="Оценки")
    await press_on(h.staff(), card, "Взять в работу")
    h.clock.set(TUESDAY_DEPUTY + timedelta(minutes=95))
    await h.tick()
    alert = await h.manager().expect("ответа нет уже 90 мин")
    assert "Ирина" in alert.text


async def test_specialist_escalates_with_a_comment(sched: Scheduled) -> None:
    h = sched
    parent = h.user("Лена")
    number, card = await ask(h, parent)
    await press_on(h.staff(), card, "Заместителю директора")
    await h.staff().expect("комментарий для заместителя директора")
    await h.staff().send("Родитель просит исправить оценку задним числом")
    await h.staff().expect(f"Вопрос №{number} передан заместителю")
    got = await h.manager().expect("передан Вам специалистом Ирина")
    assert "задним числом" in got.text
    await parent.expect_nothing(timeout=0.3)  # the comment never reaches the user


async def test_vendor_hand_off_and_reminder(sched: Scheduled) -> None:
    h = sched
    parent = h.user("Жанна")
    number, card = await ask(h, parent, "Дневник выдаёт ошибку 500", category="Другое")
    await press_on(h.staff(), card, "Передать разработчику")
    told = await parent.expect("нужна помощь разработчика")
    assert "Что подготовить" in told.text and "логин" in told.text
    await h.staff().expect("отмечен как переданный разработчику")
    await h.staff().send(f"/vendor {number} SG-2026-0042")
    await h.staff().expect("SG-2026-0042")
    assert "обращение №SG-2026-0042" in card.text
    h.clock.set(TUESDAY_DEPUTY + timedelta(days=3, minutes=1))
    await h.tick()
    reminder = await h.staff().expect("передан разработчику 3 дн. назад")
    assert "SG-2026-0042" in reminder.text
    await h.tick()
    await h.staff().expect_nothing(timeout=0.2)


async def test_invite_link_links_a_specialist_who_then_gets_notices(sched: Scheduled) -> None:
    h = sched
    staff = h.server.actor(h.deputy, chat=h.group)  # management: invites and unlinks
    await staff.send("/invite tech")
    reply = await staff.expect("Одноразовая ссылка для Иванов И. И.")
    link = next(part for part in reply.text.split() if "start=inv_" in part)
    payload = link.split("start=")[1]
    tech_user = h.server.add_user(first_name="Иван", last_name="Иванов")
    tech = h.server.actor(tech_user)
    await tech.send(f"/start {payload}")
    await tech.expect("Вы подключены как Иванов И. И.")
    # One time only.
    stranger = h.user("Чужой")
    await stranger.send(f"/start {payload}")
    await stranger.expect("недействительна")
    await staff.send("/specialists")
    listing = await staff.expect("Специалисты")
    assert "✅ Иванов И. И." in listing.text and "▫️ Петрова А. С." in listing.text

    h.clock.set(MONDAY_SLOT)
    parent = h.user("Соня")
    number, card = await ask(h, parent, "Приложение не входит", category="Мобильное приложение")
    assert f"tg://user?id={tech_user.id}" in (card.html or ""), card.html
    notice = await tech.expect(f"Новый вопрос №{number}")
    assert "t.me/c/" in (notice.html or "")
    # The linked specialist's answer is signed with their kind of helper.
    await h.server.actor(tech_user, chat=h.group).reply_to(card, "Переустановите приложение")
    signed = await parent.expect("Переустановите")
    assert signed.text.startswith("Иванов И. И., технический специалист:")

    await staff.send("/unlink tech")
    await staff.expect("отключён")


async def test_schedule_and_duty_commands(sched: Scheduled) -> None:
    h = sched
    parent = h.user("Гость")
    await parent.send("/schedule")
    schedule = await parent.expect("14:00–16:00")
    assert "Пн, Ср" in schedule.text
    await h.staff().send("/duty")
    duty = await h.staff().expect("Петрова")
    assert duty.text


async def test_strangers_cannot_use_staff_commands(sched: Scheduled) -> None:
    h = sched
    stranger = h.user("Чужой")
    for command in ("/invite tech", "/duty", "/specialists", "/unlink tech", "/vendor 1 X"):
        await stranger.send(command)
        await stranger.expect("только сотрудникам школы")


async def test_daily_summary_once_a_day(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async for h in _scheduled(fake_telegram, tmp_path, True, DAILY_SUMMARY_TIME="08:00"):
        summary = await h.manager().expect("Сводка за 08.09.2026")
        assert "ЭЖ: новых за сутки — 0" in summary.text
        parent = h.user("Алла")
        await ask(h, parent)
        await h.tick()
        await h.manager().expect_nothing(timeout=0.2)
        h.clock.set(datetime(2026, 9, 9, 8, 0, 5, tzinfo=MSK))
        await h.tick()
        nxt = await h.manager().expect("Сводка за 09.09.2026")
        assert "ЭД: новых за сутки — 1, открытых — 1" in nxt.text
