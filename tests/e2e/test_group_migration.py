"""End to end: the staff group becomes a supergroup (a new chat id) while the bot runs, and after a restart.

A basic group is upgraded by Telegram when topics are turned on, when it grows large, or when an admin
changes a supergroup-only setting. The old id then refuses every call ("group chat was upgraded to a
supergroup chat", ``migrate_to_chat_id``). The bot must follow the group: nothing a user wrote is lost,
open tickets get their cards again in the new group, and staff keep answering there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.doctor import run_doctor
from fakegram import FakeChat, FakeTelegram, Msg
from helpdesk.ports import Destination
from tests.conftest import Harness
from tests.e2e.helpers import answer, ask

MOVED = "стала супергруппой"


@pytest.fixture
async def basic_desk(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot with a basic staff group (no topics): the kind of group Telegram upgrades."""
    h = Harness(server=fake_telegram, tmp_path=tmp_path, forum=False)
    h.group = fake_telegram.add_group(
        title="ЭЖ: помощь", members=[h.specialist, h.deputy], admins=[h.deputy], basic=True
    )
    # The configured id stays the old one after the move (nobody has edited .env yet).
    h.extra_env["STAFF_CHAT_ID"] = str(h.group.id)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


def upgrade(h: Harness, *, forum: bool, notify: bool = True) -> tuple[FakeChat, FakeChat]:
    """Telegram upgrades the staff group; the harness's staff now write in the new one."""
    old = h.group
    new = h.server.migrate_group(old, forum=forum, notify=notify)
    h.group, h.forum = new, forum
    return old, new


def moved_notices(h: Harness) -> list[Msg]:
    return [m for m in h.server.chat_messages(h.group) if m.from_bot and MOVED in m.content]


def refused(h: Harness) -> list[str]:
    return [f"{c.method} {c.params.get('chat_id')}" for c in h.server.calls if "upgraded" in (c.error or "")]


async def new_card(h: Harness, number: int) -> Msg:
    card = await h.staff().expect(f"Вопрос №{number}")
    assert card.chat_id == h.group.id and card.buttons, card
    if h.forum:
        assert card.thread_id is not None and h.group.live_topic(card.thread_id) is not None
    return card


async def in_ticket(h: Harness, card: Msg, text: str) -> Msg:
    """A message the bot relayed into the ticket's thread: the card's topic, or a reply to the card."""
    msg = await h.staff().expect(text)
    assert msg.chat_id == h.group.id
    if h.forum:
        assert msg.thread_id == card.thread_id
    else:
        assert msg.reply_to_message_id == card.message_id
    return msg


@pytest.mark.parametrize("forum", [False, True], ids=["plain", "forum"])
async def test_group_upgraded_with_an_open_ticket(basic_desk: Harness, forum: bool) -> None:
    h = basic_desk
    parent = h.user("Тамара")
    number, card = await ask(h, parent, "Не открывается дневник на телефоне")
    assert card.chat_id == h.group.id and card.thread_id is None
    await answer(h, card, "Обновите приложение, пожалуйста")
    await parent.expect("Обновите приложение")
    await h.server.wait_idle()
    in_old_group = len(h.server.chat_messages(h.group))

    old, new = upgrade(h, forum=forum)

    # The service messages move the bot at once: the open ticket's card is posted again, staff are told.
    moved = await new_card(h, number)
    assert "Не открывается дневник" in moved.text
    [notice] = moved_notices(h)
    assert notice.thread_id is None
    # The user's next message reaches the new group, in the ticket's thread; the answer from there reaches
    # the user.
    await parent.send("Обновила, всё равно белый экран")
    await in_ticket(h, moved, "белый экран")
    await answer(h, moved, "Переустановите приложение")
    await parent.expect("Переустановите приложение")
    # A new question's card goes to the new group too.
    other = h.user("Олег")
    other_number, other_card = await ask(h, other, "Нет расписания на завтра", first_time=True)
    assert other_card.chat_id == new.id
    await answer(h, other_card, "Расписание появится вечером")
    await other.expect("Расписание появится вечером")
    # Nothing went to the old group after the upgrade (its one new message is Telegram's), no call named it.
    assert refused(h) == []
    assert len(h.server.chat_messages(old)) == in_old_group + 1
    # The service messages are no one's words: the user got nothing from them.
    await parent.expect_nothing()
    assert other_number == number + 1


async def test_first_word_of_the_upgrade_is_a_refused_call(basic_desk: Harness) -> None:
    """The bot sends before it has seen the service messages: the refused call moves it, and the message
    that was refused arrives in the new group after the ticket's card."""
    h = basic_desk
    parent = h.user("Вера")
    number, _card = await ask(h, parent, "Не приходят уведомления об оценках")
    await h.server.wait_idle()
    calls_before = len(h.server.calls)

    old, new = upgrade(h, forum=True, notify=False)
    await parent.send("Уведомления включены в настройках телефона")

    moved = await new_card(h, number)
    await in_ticket(h, moved, "Уведомления включены")
    assert refused(h) == [f"sendMessage {old.id}"], "one refused call, then the new id only"
    assert not [c for c in h.server.calls[calls_before:] if c.params.get("chat_id") == old.id and c.ok]
    await h.server.wait_idle()
    assert len(moved_notices(h)) == 1
    await answer(h, moved, "Проверьте, разрешены ли уведомления для приложения")
    await parent.expect("разрешены ли уведомления")

    # Telegram's service messages come late: they change nothing, are not answers, and tell staff nothing twice.
    for chat in (old, new):
        service = [m for m in h.server.chat_messages(chat) if m.kind == "service" and "migrate" in str(m.raw)]
        h.server.world.push_update("message", service[0].raw)
    await h.server.wait_idle()
    await parent.expect_nothing()
    await h.staff().expect_nothing()
    assert len(refused(h)) == 1 and len(moved_notices(h)) == 1


async def test_a_queued_notice_for_the_old_id_arrives_in_the_new_group(basic_desk: Harness) -> None:
    h = basic_desk
    await h.server.wait_idle()
    old, new = upgrade(h, forum=False, notify=False)
    assert h.app is not None
    # A notice queued before the bot knew (the outbox keeps the chat id it was written for).
    await h.app.staff.outbox.enqueue(Destination(old.id), "Напоминание: проверьте очередь вопросов")
    notice = await h.staff().expect("Напоминание: проверьте очередь")
    assert notice.chat_id == new.id
    await h.server.wait_idle()
    assert len(moved_notices(h)) == 1
    assert refused(h) == [f"sendMessage {old.id}"]


async def test_restart_after_the_upgrade_keeps_the_new_group(
    basic_desk: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    h = basic_desk
    parent = h.user("Нина")
    number, _card = await ask(h, parent, "Как прикрепить справку о болезни")
    await h.server.wait_idle()
    await h.stop()
    # Upgraded while the bot was down, and the user wrote meanwhile.
    old, new = upgrade(h, forum=True, notify=False)
    await parent.send("Справка в формате PDF")
    await h.start()
    moved = await new_card(h, number)
    await in_ticket(h, moved, "Справка в формате PDF")
    assert refused(h) == [f"getChat {old.id}"], "learnt at start-up, from the mode check"

    # The next start: STAFF_CHAT_ID still names the old group, the stored move wins; no call names it.
    await h.restart()
    assert h.app is not None and h.app.staff_chat.id == new.id and h.app.staff_chat.forum
    await parent.send("И ещё фото справки")
    await in_ticket(h, moved, "фото справки")
    await answer(h, moved, "Справку приняли")
    await parent.expect("Справку приняли")
    other = h.user("Пётр")
    _other_number, other_card = await ask(h, other, "Не вижу домашнее задание")
    assert other_card.chat_id == new.id
    assert len(refused(h)) == 1
    # One card per ticket in the new group, whatever the restarts.
    cards = [m for m in h.server.chat_messages(new) if m.from_bot and f"Вопрос №{number}" in m.content]
    assert len(cards) == 1

    # The doctor tells the admin where the group went and what to put into .env.
    await h.stop()
    capsys.readouterr()
    settings = load_settings(h.env)
    assert settings.staff_chat_id == old.id
    assert await run_doctor(settings) == 0
    out = capsys.readouterr().out
    assert f"became supergroup {new.id}" in out and "stored override" in out
    assert f"STAFF_CHAT_ID={new.id}" in out
    assert "the group is a forum" in out


async def test_another_group_upgraded_is_none_of_our_business(basic_desk: Harness) -> None:
    h = basic_desk
    parent = h.user("Лев")
    _number, card = await ask(h, parent, "Нет оценки за четверть")
    neighbours = h.server.add_group(title="Родительский чат 5А", members=[h.deputy], basic=True)
    h.server.migrate_group(neighbours, forum=False)
    await h.server.wait_idle()
    assert h.app is not None and h.app.staff_chat.id == h.group.id
    await answer(h, card, "Оценку выставят до пятницы")
    await parent.expect("выставят до пятницы")
    await h.staff().expect_nothing()


@pytest.mark.parametrize("forum", [False, True], ids=["plain", "forum"])
async def test_a_new_card_refused_by_the_old_group_goes_to_the_new_one(
    basic_desk: Harness, forum: bool
) -> None:
    h = basic_desk
    await h.server.wait_idle()
    old, new = upgrade(h, forum=forum, notify=False)
    parent = h.user("Зоя")
    number, card = await ask(h, parent, "Не загружается фото справки")
    assert card.chat_id == new.id and (card.thread_id is not None) == forum
    assert refused(h) == [f"sendMessage {old.id}"]
    # A photo follow-up is relayed (copied) into the ticket's thread there, and the answer comes back.
    await parent.send_photo(caption="Вот скриншот ошибки")
    photo = await in_ticket(h, card, "скриншот ошибки")
    assert photo.kind == "photo"
    await answer(h, card, "Уменьшите размер файла")
    await parent.expect("Уменьшите размер файла")
    cards = [m for m in h.server.chat_messages(new) if m.from_bot and f"Вопрос №{number}" in m.content]
    assert len(cards) == 1


async def test_answers_written_in_the_old_group_just_before_the_upgrade(basic_desk: Harness) -> None:
    """The bot was down: specialists answered in the old group, then it was upgraded. Handled after the
    move, the text answer still reaches the user; a photo can no longer be copied from the old group, and
    staff are told so in the new one."""
    h = basic_desk
    parent = h.user("Галина")
    number, card = await ask(h, parent, "Как поменять пароль в дневнике")
    await h.server.wait_idle()
    await h.stop()
    staff_in_old = h.staff()
    await staff_in_old.reply_to(card, "Пароль меняется в профиле, раздел «Безопасность»")
    await staff_in_old.reply_to(card, photo=True, caption="Вот где этот раздел")
    _old, new = upgrade(h, forum=True)
    await h.start()
    await parent.expect("раздел «Безопасность»")
    moved = await new_card(h, number)
    failed = await h.staff().expect("не доставлен")
    assert failed.chat_id == new.id and failed.thread_id == moved.thread_id
    await answer(h, moved, "Фото: профиль → Безопасность → Сменить пароль")
    await parent.expect("Сменить пароль")
    await parent.expect_nothing()
    assert len(moved_notices(h)) == 1
