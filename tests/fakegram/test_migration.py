"""A basic group upgraded to a supergroup: a new chat id, the old one answers like Telegram does."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramMigrateToChat

from fakegram import FakeTelegram

from .conftest import TOKEN

UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"


async def test_basic_group_has_no_threads(server: FakeTelegram, bot: Bot) -> None:
    member = server.add_user(first_name="Ирина")
    group = server.add_group("Учителя", members=[member], basic=True)
    assert group.type == "group" and -(10**12) < group.id < 0
    card = await bot.send_message(group.id, "карточка")
    assert card.chat.type == "group"
    reply = await server.actor(member, chat=group).reply_to(
        server.get_message(group, card.message_id), "ответ"
    )
    assert reply.thread_id is None and reply.reply_to_message_id == card.message_id
    with pytest.raises(ValueError, match="basic group"):
        server.add_group("Форум", forum=True, basic=True)


async def test_migrated_group_answers_with_migrate_to_chat_id(server: FakeTelegram, bot: Bot) -> None:
    owner = server.add_user(first_name="Ольга")
    member = server.add_user(first_name="Ирина")
    parent = server.add_user(first_name="Анна")
    await server.actor(parent).send("привет")
    group = server.add_group("Учителя", members=[member], admins=[owner], owner=owner, basic=True)
    card = await bot.send_message(group.id, "карточка")
    await bot.get_updates(timeout=0)
    old_calls = len(server.calls)

    new = server.migrate_group(group, forum=True)

    assert new.type == "supergroup" and new.is_forum and new.id != group.id and new.id < -(10**12)
    assert new.title == "Учителя" and new.owner_id == owner.id
    assert set(new.members) == set(group.members) and set(new.admins) == {owner.id}
    assert new.bot_status == "administrator" and new.bot_rights == group.bot_rights
    assert group.migrated_to == new.id
    # Every method naming the old id fails the same way, whichever parameter names it.
    attempts = [
        bot.send_message(group.id, "ещё"),
        bot.get_chat(group.id),
        bot.edit_message_text("правка", chat_id=group.id, message_id=card.message_id),
        bot.copy_message(parent.id, group.id, card.message_id),
        bot.get_chat_member(group.id, member.id),
    ]
    for attempt in attempts:
        with pytest.raises(TelegramMigrateToChat) as caught:
            await attempt
        assert caught.value.migrate_to_chat_id == new.id
        assert UPGRADED in caught.value.message
    # The raw answer, exactly: 400, the description, parameters.migrate_to_chat_id.
    async with aiohttp.ClientSession() as http:
        url = f"{server.base_url}/bot{TOKEN}/sendMessage"
        async with http.post(url, json={"chat_id": group.id, "text": "x"}) as response:
            assert response.status == 400
            assert await response.json() == {
                "ok": False,
                "error_code": 400,
                "description": UPGRADED,
                "parameters": {"migrate_to_chat_id": new.id},
            }
    # Telegram's doing, not the bot's fault: not counted as a refused call.
    assert not server.rejected
    assert all(c.status == 400 for c in server.calls[old_calls:])
    # The service messages: one in the old group, one in the new.
    updates = await bot.get_updates(offset=-2, timeout=0)
    messages = [u.message for u in updates if u.message is not None]
    assert [(m.chat.id, m.migrate_to_chat_id, m.migrate_from_chat_id) for m in messages] == [
        (group.id, new.id, None),
        (new.id, None, group.id),
    ]
    assert all(m.from_user is not None and m.from_user.id == owner.id for m in messages)
    # The new supergroup works, topics included; people write there, not in the old group.
    topic = await bot.create_forum_topic(new.id, "Анна · №1")
    sent = await bot.send_message(new.id, "карточка", message_thread_id=topic.message_thread_id)
    assert sent.chat.id == new.id and sent.chat.is_forum
    assert (await bot.get_chat(new.id)).type == "supergroup"
    with pytest.raises(AssertionError, match="became supergroup"):
        await server.actor(member, chat=group).send("в старую группу")
    await server.actor(member, chat=new).in_thread(topic.message_thread_id).send("в новую")


async def test_only_a_basic_group_is_upgraded(server: FakeTelegram) -> None:
    supergroup = server.add_group("Супергруппа")
    with pytest.raises(ValueError, match="only a basic group"):
        server.migrate_group(supergroup)
    basic = server.add_group("Группа", basic=True)
    plain = server.migrate_group(basic)
    assert not plain.is_forum
    with pytest.raises(ValueError, match="upgraded already"):
        server.migrate_group(basic)
