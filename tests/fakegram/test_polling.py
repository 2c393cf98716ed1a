from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from fakegram import FakeTelegram


def build_router(staff_chat: dict[str, int]) -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="Я родитель", callback_data="role:parent")],
                [InlineKeyboardButton(text="Я ученик", callback_data="role:student")],
            ]
        )
        await message.answer("Здравствуйте! Кто вы?", reply_markup=markup)

    @router.callback_query(F.data.startswith("role:"))
    async def role(query: CallbackQuery) -> None:
        assert query.data is not None and isinstance(query.message, Message)
        await query.message.edit_text(f"Роль: <b>{query.data.split(':')[1]}</b>")
        await query.answer("Сохранено")

    @router.callback_query()
    async def other(query: CallbackQuery) -> None:
        await query.answer("Кнопка устарела", show_alert=True)

    @router.message(Command("ticket"))
    async def ticket(message: Message, bot: Bot) -> None:
        assert message.from_user is not None
        topic = await bot.create_forum_topic(staff_chat["id"], f"Заявка: {message.from_user.full_name}")
        staff_chat["thread"] = topic.message_thread_id
        staff_chat["user"] = message.chat.id
        await bot.copy_message(staff_chat["id"], message.chat.id, message.message_id, message_thread_id=topic.message_thread_id)
        await message.answer("Заявка принята")

    @router.message(F.chat.id == F.chat.id, F.message_thread_id, F.chat.type == "supergroup")
    async def staff_reply(message: Message, bot: Bot) -> None:
        # everything in the topic goes back to the parent; record how Telegram shaped it
        staff_chat["reply_to"] = message.reply_to_message.message_id if message.reply_to_message else 0
        staff_chat["is_topic"] = int(bool(message.is_topic_message))
        await bot.copy_message(staff_chat["user"], message.chat.id, message.message_id)

    @router.message(F.text)
    async def echo(message: Message) -> None:
        assert message.text is not None
        await message.answer(f"Эхо: {message.text}")

    return router


@pytest.fixture
async def polling(server: FakeTelegram, bot: Bot) -> AsyncIterator[dict[str, int]]:
    staff_chat: dict[str, int] = {}
    dp = Dispatcher()
    dp.include_router(build_router(staff_chat))
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=2))
    try:
        yield staff_chat
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 10)


async def test_echo_via_real_polling(server: FakeTelegram, polling: dict[str, int]) -> None:
    parent = server.actor(server.add_user(first_name="Анна", last_name="Петрова"))
    await parent.send("привет")
    msg = await parent.expect("Эхо")
    assert msg.text == "Эхо: привет"
    await parent.send("второе")
    await parent.send("третье")
    assert (await parent.expect("третье")).text == "Эхо: третье"  # consumes "второе" as well
    await server.wait_idle()
    assert server.updates_pending() == 0
    await parent.expect_nothing(timeout=0.3)


async def test_escaping_bug_is_caught(server: FakeTelegram, polling: dict[str, int]) -> None:
    """The echo handler does not escape user text: with parse_mode=HTML Telegram rejects it."""
    parent = server.actor(server.add_user(first_name="Анна"))
    await parent.send("оценка <5")
    await server.wait_idle()
    assert server.rejected and "can't parse entities" in (server.rejected[-1].error or "")
    with pytest.raises(AssertionError, match="rejected calls"):
        await parent.expect("Эхо", timeout=0.3)


async def test_press_button_and_edit(server: FakeTelegram, polling: dict[str, int]) -> None:
    parent = server.actor(server.add_user(first_name="Анна"))
    await parent.send("/start")
    card = await parent.expect("Кто вы?")
    assert [t for t, _ in card.buttons] == ["Я родитель", "Я ученик"]
    answer = await parent.press("родитель")
    assert answer.text == "Сохранено" and not answer.show_alert
    await server.wait_idle()
    assert card.text == "Роль: parent" and card.edits == ["Здравствуйте! Кто вы?"] and card.reply_markup is None
    forged = await parent.press_data(card, "forged:data")
    assert forged.show_alert and forged.text == "Кнопка устарела"
    with pytest.raises(AssertionError, match="no inline button containing 'Учитель'"):
        await parent.press("Учитель", timeout=0.3)
    assert not server.rejected


async def test_forum_flow_and_reply_to_quirk(server: FakeTelegram, polling: dict[str, int]) -> None:
    staff_user = server.add_user(first_name="Мария", last_name="Иванова")
    group = server.add_group("ЭЖ: помощь", forum=True, members=[staff_user], admins=[staff_user])
    polling["id"] = group.id
    parent = server.actor(server.add_user(first_name="Анна", last_name="Петрова"))
    await parent.send("/ticket не открывается дневник")
    await parent.expect("Заявка принята")
    await server.wait_idle()
    thread = polling["thread"]
    topic = server.topics(group)[0]
    assert topic.thread_id == thread and topic.name == "Заявка: Анна Петрова"
    staff = server.actor(staff_user, chat=group).in_thread(thread)
    card = await staff.expect("/ticket")
    assert card.thread_id == thread
    # plain message in the topic: Telegram sets reply_to_message = the topic's service message
    await staff.send("Здравствуйте, смотрим")
    await parent.expect("Здравствуйте, смотрим")
    assert polling["reply_to"] == thread and polling["is_topic"] == 1
    # explicit reply in the topic carries the replied message
    await staff.reply_to(card, "Уточните логин")
    await parent.expect("Уточните логин")
    assert polling["reply_to"] == card.message_id
    await server.wait_idle()
    assert not server.rejected, server.rejected
