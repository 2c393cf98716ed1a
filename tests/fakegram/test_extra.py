from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest

from fakegram import FakeTelegram


async def test_allowed_updates_and_offset(server: FakeTelegram, bot: Bot) -> None:
    u = server.add_user(first_name="Анна")
    parent = server.actor(u)
    await parent.send("раз")
    await bot.send_message(u.id, "меню", reply_markup=None)
    first = await bot.get_updates(allowed_updates=["message"], timeout=0)
    assert [x.message.text for x in first if x.message] == ["раз"]
    msg = await parent.send("два")
    # a callback query is dropped because only messages are allowed
    server.world.callbacks["x"] = None
    server.world.push_update("callback_query", {"id": "x", "from": u.to_dict(), "chat_instance": "1", "data": "d"})
    updates = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [x.message.message_id for x in updates if x.message] == [msg.message_id]
    assert server.updates_pending() == 1
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert server.updates_pending() == 0


async def test_long_poll_waits_for_update(server: FakeTelegram, bot: Bot) -> None:
    u = server.add_user(first_name="Анна")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await server.actor(u).send("/help@school_help_bot")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message is not None
    assert updates[0].message.entities is not None
    assert updates[0].message.entities[0].type == "bot_command" and updates[0].message.entities[0].length == 21
    assert updates[0].message.from_user is not None and updates[0].message.from_user.language_code == "ru"


async def test_forward_copy_messages_and_markdown(server: FakeTelegram, bot: Bot) -> None:
    u = server.add_user(first_name="Анна")
    parent = server.actor(u)
    a = await parent.send("первое")
    b = await parent.send("второе")
    fwd = await bot.forward_message(u.id, u.id, a.message_id)
    assert fwd.forward_origin is not None and fwd.text == "первое"
    ids = await bot.copy_messages(u.id, u.id, [a.message_id, b.message_id, 999])
    assert len(ids) == 2
    m = await bot.send_message(u.id, "*Жирный* и 1\\.5", parse_mode=ParseMode.MARKDOWN_V2)
    assert m.text == "Жирный и 1.5"
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(u.id, "Версия 1.5", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(TelegramBadRequest, match="message to forward not found"):
        await bot.forward_message(u.id, u.id, 999)
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        server.world.callbacks["q1"] = None
        await bot.answer_callback_query("q1", text="я" * 201)


async def test_plain_group_reply_threads(server: FakeTelegram, bot: Bot) -> None:
    staff_user = server.add_user(first_name="Мария")
    g = server.add_group("ЭЖ: помощь", forum=False, members=[staff_user])
    card = await bot.send_message(g.id, "Вопрос №1")
    staff = server.actor(staff_user, chat=g)
    card_msg = await staff.expect("Вопрос №1")
    assert card_msg.message_id == card.message_id
    reply = await staff.reply_to(card_msg, "Ответ")
    assert reply.reply_to_message_id == card.message_id and reply.thread_id == card.message_id
    assert "is_topic_message" not in reply.raw
    await staff.send_photo(caption="фото")
    await staff.reply_to(card_msg, document=("log.txt", b"x"))
    assert [m.kind for m in server.chat_messages(g.id)][-2:] == ["photo", "document"]


async def test_control_api(server: FakeTelegram, bot: Bot) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/_fake/users", json={"first_name": "Гость"}) as r:
            user = (await r.json())["result"]
        async with http.post(f"{server.base_url}/_fake/send", json={"user_id": user["id"], "text": "привет"}) as r:
            sent = (await r.json())["result"]
            assert sent["text"] == "привет" and not sent["from_bot"]
        await bot.send_message(user["id"], "<b>ответ</b>")
        async with http.get(f"{server.base_url}/_fake/messages", params={"chat_id": str(user["id"])}) as r:
            msgs = (await r.json())["result"]
            assert [m["text"] for m in msgs] == ["привет", "ответ"] and msgs[1]["html"] == "<b>ответ</b>"
        async with http.get(f"{server.base_url}/_fake/state") as r:
            state = (await r.json())["result"]
            assert state["bot"]["username"] == "school_help_bot" and state["pending_updates"] == 1


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    from fakegram.__main__ import main

    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--forum" in capsys.readouterr().out
