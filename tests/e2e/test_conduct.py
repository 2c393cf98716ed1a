"""End to end: the conduct policy (users' violations, the specialist's button, blocks, withheld answers,
complaints), with a manager chat for the deputy director and a chat for the director."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakegram import Actor, FakeTelegram, Msg
from storage.conduct import ConductRepo, EventKind
from storage.users import TELEGRAM
from tests.conftest import Harness
from tests.e2e.helpers import answer, ask, press_on

OBSCENE = "Да пошли вы нахуй со своим дневником"


@dataclass
class ConductHarness(Harness):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.director = self.server.add_user(first_name="Галина", last_name="Директор", language_code="ru")
        self.manager_chat = self.server.add_group(
            title="Руководство", members=[self.deputy], admins=[self.deputy]
        )
        self.director_chat = self.server.add_group(
            title="Директор", members=[self.director], admins=[self.director]
        )

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env["MANAGER_CHAT_ID"] = str(self.manager_chat.id)
        env["DIRECTOR_CHAT_ID"] = str(self.director_chat.id)
        return env

    def manager(self) -> Actor:
        return self.server.actor(self.deputy, chat=self.manager_chat)

    def boss(self) -> Actor:
        return self.server.actor(self.director, chat=self.director_chat)

    def staff_texts(self) -> str:
        return "\n".join(m.content for m in self.server.chat_messages(self.group))

    async def events(self, actor: Actor) -> list[EventKind]:
        assert self.app is not None
        user = await self.app.store.users.by_external(TELEGRAM, str(actor.user.id))
        assert user is not None
        return [e.kind for e in await ConductRepo(self.app.db.conn).for_user(user.id)]


async def _run(server: FakeTelegram, tmp_path: Path, forum: bool) -> AsyncIterator[ConductHarness]:
    h = ConductHarness(server=server, tmp_path=tmp_path, forum=forum)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture(params=["forum", "plain"])
async def both(
    request: pytest.FixtureRequest, fake_telegram: FakeTelegram, tmp_path: Path
) -> AsyncIterator[ConductHarness]:
    async for h in _run(fake_telegram, tmp_path, request.param == "forum"):
        yield h


@pytest.fixture
async def plain(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[ConductHarness]:
    async for h in _run(fake_telegram, tmp_path, False):
        yield h


async def start_question(user: Actor, *, first_time: bool = True) -> None:
    """The dialog up to the question text."""
    await user.send("/start")
    await user.expect("Здравствуйте")
    if first_time:
        await user.press("Родитель")
    await user.press("дневник")
    await user.press("Оценки")
    await user.expect("Опишите")


async def test_obscene_question_is_not_forwarded_and_the_manager_is_alerted(both: ConductHarness) -> None:
    h = both
    parent = h.user("Анна", last_name="Петрова")
    await start_question(parent)
    await parent.send(OBSCENE)
    notice = await parent.expect("не передано специалистам")
    assert "оскорбления и нецензурная лексика не допускаются" in notice.content
    assert "(86550) 93-464" in notice.content and "kazmschool@mail.ru" in notice.content
    assert "сегодня после 15:00" in notice.content  # 14:00 in Moscow + the 60-minute cooldown
    assert "Консультация завершена" in notice.content

    alert = await h.manager().expect("Нарушение регламента")
    assert alert.html is not None and f"<tg-spoiler>{OBSCENE}</tg-spoiler>" in alert.html
    assert "Анна" in alert.content and "Петрова" not in alert.content and "Родитель" in alert.content
    assert "ещё не отправлен" in alert.content and "нецензурная лексика" in alert.content
    assert "Специалист:" in alert.content
    # Nothing reached the staff group: no card, no text.
    await h.server.wait_idle()
    assert "нахуй" not in h.staff_texts() and "Вопрос №" not in h.staff_texts()
    # The dialog is over: the old summary buttons do nothing, no ticket was created.
    assert h.app is not None and await h.app.store.tickets.get(1) is None
    assert await h.events(parent) == [EventKind.VIOLATION, EventKind.SESSION_END]


async def test_disguised_insult_in_a_followup_ends_the_open_ticket(both: ConductHarness) -> None:
    h = both
    parent = h.user("Мария")
    number, card = await ask(h, parent, "Не вижу оценки за четверть")
    await parent.send("Вы там совсем идиoты? Третий день жду")  # a Latin «o» inside
    notice = await parent.expect("не передано специалистам")
    assert f"по вопросу №{number} завершена" in notice.content
    staff = h.staff()
    ended = await staff.expect("закрыт по регламенту")
    if h.forum:
        assert ended.thread_id == card.thread_id
    else:
        assert ended.reply_to_message_id == card.message_id
    assert "закрыт (регламент)" in card.content and card.buttons == []
    # The user's «Вопрос решён, закрыть» goes with the ticket.
    confirmation = next(m for m in parent.inbox if f"№{number} принят" in m.content)
    assert await h.server.world.wait_for(lambda: not confirmation.buttons, 5)
    assert "идиoты" not in h.staff_texts()
    alert = await h.manager().expect("Нарушение регламента")
    assert f"Вопрос: №{number}" in alert.content and "оскорбление" in alert.content
    assert (
        alert.html is not None
        and "<tg-spoiler>Вы там совсем идиoты? Третий день жду</tg-spoiler>" in alert.html
    )


async def test_the_pause_answers_the_first_message_then_once_per_ten_minutes(plain: ConductHarness) -> None:
    """At 14:00 in Moscow a violation ends the session with a 60-minute pause. The apology right after the
    notice is answered (not silence): until when, the school's phone and e-mail. Retorts are not answered
    one by one; ten minutes later the next message is. /help tells the truth during the pause."""
    h = plain
    parent = h.user("Ольга")
    await start_question(parent)
    await parent.send("Это п и з д е ц, а не журнал")
    await parent.expect("сегодня после 15:00")
    await parent.send("Извините, пожалуйста, сорвалась")
    reply = await parent.expect("не передано специалистам")
    assert "Написать специалистам снова Вы сможете сегодня после 15:00" in reply.content
    assert "(86550) 93-464" in reply.content and "kazmschool@mail.ru" in reply.content
    assert "Ваше сообщение не передано" not in reply.content  # the short reply, not the whole notice again
    await parent.send("Ну и ладно")
    await parent.expect_nothing(timeout=0.5)
    h.clock.advance(minutes=9)
    await parent.send("Когда можно?")
    await parent.expect_nothing(timeout=0.5)
    h.clock.advance(minutes=1)
    await parent.send("/start")
    again = await parent.expect("не передано специалистам")
    assert "сегодня после 15:00" in again.content
    # /help does not promise a specialist during the pause; it says until when and how to reach the school.
    await parent.send("/help")
    helped = await parent.expect("/start")
    assert "не передаются специалистам" in helped.content and "сегодня после 15:00" in helped.content
    assert "(86550) 93-464" in helped.content and "kazmschool@mail.ru" in helped.content
    assert "получает специалист" not in helped.content
    # Help and contacts stay open during the pause, and cost no reply of the pause.
    await parent.send("/contacts")
    await parent.expect("kazmschool@mail.ru")
    h.clock.advance(minutes=50)
    await parent.send("/help")
    helped = await parent.expect("/start")
    assert "получает специалист" in helped.content and "не передаются" not in helped.content
    number, _card = await ask(h, parent, "Теперь вежливо: не вижу оценки", first_time=False)
    assert number == 1


async def test_repeated_violations_block_until_the_deputy_lifts_it(plain: ConductHarness) -> None:
    h = plain
    parent = h.user("Борис")
    manager = h.manager()
    for attempt in range(3):
        await start_question(parent, first_time=attempt == 0)
        await parent.send(OBSCENE)
        notice = await parent.expect("не передано специалистам")
        alert = await manager.expect("Нарушение регламента")
        assert f"Нарушений за 30 дн.: {attempt + 1}" in alert.content
        h.clock.advance(minutes=61)
    assert "заместитель директора" in notice.content and "сможете" not in notice.content
    assert alert.html is not None and f"/unblock id{parent.user.id}" in alert.html
    assert "заблокирован" in alert.content

    # Long after any cooldown the user is still blocked, and told so once, politely.
    h.clock.advance(days=2)
    await parent.send("/start")
    await parent.expect("доступ восстановит заместитель директора")
    await parent.send("Почему?")
    await parent.expect_nothing(timeout=0.5)

    # A specialist (not an administrator of the staff group) cannot lift it.
    staff = h.staff()
    await staff.send(f"/unblock id{parent.user.id}")
    await staff.expect("может только руководство школы")
    await manager.send("/unblock")
    await manager.expect("/unblock 12")
    await manager.send(f"/unblock id{parent.user.id}")
    await manager.expect("Доступ восстановлен: Борис")
    await parent.expect("восстановил Ваш доступ")
    await manager.send(f"/unblock id{parent.user.id}")
    await manager.expect("нет ограничений")
    await ask(h, parent, "Спасибо, вопрос про оценки", first_time=False)

    kinds = await h.events(parent)
    assert kinds.count(EventKind.VIOLATION) == 3 and kinds.count(EventKind.SESSION_END) == 3
    assert kinds[-2:] == [EventKind.BLOCK, EventKind.UNBLOCK]


async def test_specialist_ends_the_session_by_the_button(both: ConductHarness) -> None:
    h = both
    parent = h.user("Вера")
    number, card = await ask(h, parent, "Вопрос про оценки")
    await parent.send("Если не исправите, пожалеете")  # a threat the filter does not know
    staff = h.staff()
    await staff.expect("пожалеете")
    await press_on(staff, card, "Завершить: нарушение регламента")
    confirm = await staff.expect(f"Завершить вопрос №{number}")
    await press_on(staff, confirm, "Отмена")
    assert "завершение отменено" in (confirm.text or "") and confirm.buttons == []
    await parent.expect_nothing(timeout=0.3)

    await press_on(staff, card, "Завершить: нарушение регламента")
    confirm = await staff.expect(f"Завершить вопрос №{number}")
    await press_on(staff, confirm, "Да, завершить")
    notice = await parent.expect("не передано специалистам")
    assert f"по вопросу №{number} завершена" in notice.content
    assert "цитируя" not in notice.content and "не повторяя" not in notice.content
    await staff.expect("закрыт специалистом Ирина")
    assert "закрыт (регламент)" in card.content
    alert = await h.manager().expect("Нарушение регламента")
    assert "отмечено специалистом Ирина" in alert.content
    assert alert.html is not None and "<tg-spoiler>Если не исправите, пожалеете</tg-spoiler>" in alert.html
    # The session is over: the next message starts a new question, and is not in the old ticket.
    h.clock.advance(minutes=61)
    await parent.send("Новый вопрос про расписание")
    await parent.expect("уточните, пожалуйста, тему")


async def test_obscene_staff_reply_is_withheld_and_the_director_alerted(both: ConductHarness) -> None:
    h = both
    parent = h.user("Нина")
    number, card = await ask(h, parent)
    staff = h.staff()
    await answer(h, card, "Да задолбали, сами разбирайтесь, бляди")
    refused = await staff.expect("не отправлено пользователю")
    assert "нецензурная лексика" in refused.content
    await parent.expect_nothing(timeout=0.5)
    alert = await h.boss().expect("Ответ специалиста задержан")
    assert f"Вопрос: №{number}" in alert.content and "Ирина" in alert.content and "Нина" in alert.content
    assert (
        alert.html is not None
        and "<tg-spoiler>Да задолбали, сами разбирайтесь, бляди</tg-spoiler>" in alert.html
    )
    # Not stored as an answer either; a polite answer goes through as usual.
    assert h.app is not None
    rows = await h.app.store.messages.for_ticket(number)
    assert all("бляди" not in r.text for r in rows)
    await answer(h, card, "Извините. Оценки появятся завтра.")
    got = await parent.expect("Оценки появятся завтра")
    assert [b[0] for b in got.buttons] == ["Пожаловаться директору"]
    # Internal notes and talk outside tickets are the staff's own business.
    await answer(h, card, "// грубый родитель, нахуй такие вопросы")
    await staff.send("Коллеги, это пиздец какой-то")
    await h.server.wait_idle()
    await staff.expect_nothing(timeout=0.3)
    await parent.expect_nothing(timeout=0.3)


async def test_complaint_reaches_the_director_with_the_transcript(plain: ConductHarness) -> None:
    h = plain
    parent = h.user("Лидия", last_name="Котова")
    number, card = await ask(h, parent, "Не вижу домашнее задание по алгебре")
    await answer(h, card, "Смотрите внимательнее, всё там есть.")
    got = await parent.expect("Смотрите внимательнее")
    await press_on(parent, got, "Пожаловаться директору")
    prompt = await parent.expect("Опишите, пожалуйста")
    assert f"вопрос №{number}" in prompt.content and "только директор" in prompt.content
    await parent.send_photo(caption="скрин")
    await parent.expect("опишите жалобу текстом")
    await parent.send("Специалист ответил грубо и не помог")
    ack = await parent.expect("передана директору")
    assert "жалоба №1" in ack.content

    boss = h.boss()
    complaint = await boss.expect("Жалоба №1")
    assert "Лидия" in complaint.content and "Котова" not in complaint.content and "Ирина" in complaint.content
    assert "Специалист ответил грубо и не помог" in complaint.content
    transcript = await boss.expect(f"Переписка по вопросу №{number}")
    assert "Лидия (пользователь): Не вижу домашнее задание по алгебре" in transcript.content
    assert "Ирина (специалист): Смотрите внимательнее, всё там есть." in transcript.content
    # Staff see nothing of it; the complaint is stored.
    await h.server.wait_idle()
    assert "Жалоба" not in h.staff_texts() and "грубо" not in h.staff_texts()
    assert h.app is not None
    [stored] = await ConductRepo(h.app.db.conn).complaints()
    assert (
        stored.ticket_id == number
        and stored.specialist_name == "Ирина"
        and stored.sent_to == h.director_chat.id
    )

    # /complaint works too, and /cancel leaves it.
    await parent.send("/complaint")
    await parent.expect(f"(вопрос №{number})")
    await parent.send("/cancel")
    await parent.expect("отменено")
    await parent.send("Спасибо за ответ")
    await h.staff().expect("Спасибо за ответ")


async def test_harmless_lookalikes_go_through_untouched(plain: ConductHarness) -> None:
    h = plain
    parent = h.user("Елена")
    question = "Ребёнка оскорбляли в чате класса, а теперь он не видит оценку за тему «Колебания»"
    number, card = await ask(h, parent, question)
    assert question in card.content
    for text in (
        "Оплатила 150 рублей за экскурсию, где это видно в дневнике?",
        "Сын читает книгу про корабли, можно заменить учебник?",
        "Команда поддержки Госуслуг не отвечает, страхуйте пароль",
    ):
        await parent.send(text)
        await h.staff().expect(text)
    await answer(h, card, "Употреблять простой пароль нельзя; мандарины в столовой — по понедельникам.")
    await parent.expect("Употреблять простой пароль нельзя")
    await h.server.wait_idle()
    alerts = h.server.chat_messages(h.manager_chat) + h.server.chat_messages(h.director_chat)
    assert not [m for m in alerts if "регламент" in m.content or "задержан" in m.content]
    assert await h.events(parent) == []
    assert number == 1


async def test_without_manager_and_director_chats(plain_desk: Harness) -> None:
    """Alerts fall back to the staff group; complaints never do (staff must not see who complained)."""
    h = plain_desk
    parent = h.user("Зоя")
    number, card = await ask(h, parent)
    await parent.send("Вы там совсем идиoты?")
    await parent.expect("не передано специалистам")
    staff = h.staff()
    alert = await staff.expect("Нарушение регламента")
    assert alert.html is not None and "<tg-spoiler>Вы там совсем идиoты?</tg-spoiler>" in alert.html
    await parent.send("/complaint")
    await parent.expect(f"(вопрос №{number})")
    await parent.send("Жалуюсь на специалиста")
    ack = await parent.expect("сохранена для директора")
    assert "(86550) 93-464" in ack.content
    await h.server.wait_idle()
    assert not [m for m in h.server.chat_messages(h.group) if "Жалу" in m.content or "Жалоба" in m.content]
    assert card.buttons == []


# ---- the deputy's alert: the card's link and the management's buttons ----------------------------------


def card_link(h: Harness, card: Msg) -> str:
    internal = str(h.group.id).removeprefix("-100")
    if h.forum:
        return f"https://t.me/c/{internal}/{card.thread_id}/{card.message_id}"
    return f"https://t.me/c/{internal}/{card.message_id}"


async def audit_actions(h: Harness) -> list[tuple[str, int | None, str]]:
    assert h.app is not None
    return [(e.action, e.ticket_id, e.actor_name) for e in reversed(await h.app.store.audit.recent(50))]


async def test_the_ended_question_stays_marked_and_the_deputy_returns_it_to_work(both: ConductHarness) -> None:
    h = both
    parent = h.user("Мария")
    number, card = await ask(h, parent, "Не вижу оценки за четверть")
    await parent.send("Вы там совсем идиoты?")
    await parent.expect("не передано специалистам")
    staff = h.staff()
    await staff.expect("закрыт по регламенту")
    # The question stays in the staff group, marked, without the words that ended it.
    assert f"Вопрос №{number}" in card.content and "Не вижу оценки за четверть" in card.content
    assert "⚠️ Сессия завершена за нарушение правил общения (01.09 14:00)" in card.content
    assert "идиoты" not in card.content and card.buttons == []

    manager = h.manager()
    alert = await manager.expect("Нарушение регламента")
    assert alert.html is not None and f'<a href="{card_link(h, card)}">карточка вопроса</a>' in alert.html
    assert [label for label, _ in alert.buttons] == [
        "Снять ограничение",
        "Заблокировать",
        "Вернуть вопрос в работу",
    ]

    h.clock.advance(minutes=5)
    pressed = await press_on(manager, alert, "Вернуть вопрос в работу")
    assert pressed.text == "Вопрос возвращён в работу." and not pressed.show_alert
    back = await parent.expect(f"вернуло Ваш вопрос №{number} в работу")
    assert "ответ специалиста придёт в этот чат" in back.content
    await staff.expect(f"Вопрос №{number} возвращён в работу: Ольга Петровна")
    await h.server.wait_idle()
    # The alert records who decided what, and when; the card is back in work with its buttons.
    assert "↩️ 01.09 14:05 Ольга Петровна: вопрос возвращён в работу, ограничение снято." in alert.content
    assert alert.html is not None and "<tg-spoiler>Вы там совсем идиoты?</tg-spoiler>" in alert.html
    assert "Сессия завершена" not in card.content and "закрыт" not in card.content
    assert "Взять в работу" in [label for label, _ in card.buttons]
    # The pause is lifted with it: the parent's follow-up reaches the question.
    await parent.send("Извините. Оценки так и не видны")
    await staff.expect("Оценки так и не видны")
    assert ("conduct_reopen", number, "Ольга Петровна") in await audit_actions(h)
    assert ("unblock", number, "Ольга Петровна") in await audit_actions(h)

    # A second press (a colleague's, or a double tap) finds it done: said, nothing changes.
    again = await press_on(manager, alert, "Вернуть вопрос в работу")
    assert again.show_alert and again.text is not None and "уже в работе" in again.text
    await parent.expect_nothing(timeout=0.3)


async def test_the_deputy_blocks_and_lifts_by_the_alert_buttons(plain: ConductHarness) -> None:
    h = plain
    parent = h.user("Борис")
    await start_question(parent)
    await parent.send(OBSCENE)
    await parent.expect("не передано специалистам")
    manager = h.manager()
    alert = await manager.expect("Нарушение регламента")
    # No question was sent yet: nothing to return to work, and no card to link.
    assert [label for label, _ in alert.buttons] == ["Снять ограничение", "Заблокировать"]
    assert alert.html is not None and "t.me/c/" not in alert.html

    pressed = await press_on(manager, alert, "Заблокировать")
    assert pressed.text == "Пользователь заблокирован и уведомлён."
    told = await parent.expect("Руководство школы ограничило Ваш доступ")
    assert "(86550) 93-464" in told.content
    await h.server.wait_idle()
    assert "⛔ 01.09 14:00 Ольга Петровна: пользователь заблокирован." in alert.content
    assert EventKind.BLOCK in await h.events(parent)
    # Long after the pause would have ended the user is still blocked, and their next message is answered.
    h.clock.advance(hours=3)
    await parent.send("Извините")
    await parent.expect("доступ восстановит заместитель директора")
    await parent.send("/help")
    helped = await parent.expect("/start")
    assert "не передаются специалистам" in helped.content and "восстановит заместитель директора" in helped.content
    assert "(86550) 93-464" in helped.content and "получает специалист" not in helped.content
    again = await press_on(manager, alert, "Заблокировать")
    assert again.show_alert and again.text == "Пользователь уже заблокирован."

    pressed = await press_on(manager, alert, "Снять ограничение")
    assert pressed.text == "Ограничение снято, пользователь уведомлён."
    await parent.expect("восстановил Ваш доступ")
    await h.server.wait_idle()
    assert "✅ 01.09 17:00 Ольга Петровна: ограничение снято." in alert.content
    assert "⛔ 01.09 14:00" in alert.content  # the earlier decision stays on record
    stale = await press_on(manager, alert, "Снять ограничение")
    assert stale.show_alert and stale.text == "У пользователя уже нет ограничений."
    actions = [a for a, _, _ in await audit_actions(h)]
    assert actions[-2:] == ["conduct_block", "unblock"]
    await ask(h, parent, "Спасибо, вопрос про оценки", first_time=False)


async def test_only_management_decides_and_forged_buttons_change_nothing(plain_desk: Harness) -> None:
    """Without a manager chat the alert is in the staff group: a specialist's press is refused politely."""
    h = plain_desk
    parent = h.user("Зоя")
    number, card = await ask(h, parent)
    await parent.send("Вы там совсем идиoты?")
    await parent.expect("не передано специалистам")
    staff = h.staff()
    alert = await staff.expect("Нарушение регламента")
    assert alert.html is not None and f'<a href="{card_link(h, card)}">карточка вопроса</a>' in alert.html
    for label in ("Снять ограничение", "Заблокировать", "Вернуть вопрос в работу"):
        refused = await press_on(staff, alert, label)
        assert refused.show_alert and refused.text is not None
        assert "Это решение принимает руководство школы" in refused.text
    await parent.expect_nothing(timeout=0.3)
    assert "закрыт (регламент)" in card.content and "Ирина" not in alert.content

    # Forged or stale ids, pressed by management: refused without a change.
    deputy = h.server.actor(h.deputy, chat=h.group)
    assert h.app is not None
    user = await h.app.store.users.by_external(TELEGRAM, str(parent.user.id))
    assert user is not None
    for data in (f"ca:reopen:{user.id + 100}:{number}", f"ca:reopen:{user.id}:{number + 7}", "ca:lift:999:0"):
        forged = await deputy.press_data(alert, data)
        assert forged.show_alert and forged.text == "Пользователь или вопрос не найден: кнопка устарела."
    assert "закрыт (регламент)" in card.content
    await parent.send("Ну и ладно")
    await parent.expect("не передано специалистам")  # still in the pause
    assert [a for a, _, _ in await audit_actions(h)].count("unblock") == 0
