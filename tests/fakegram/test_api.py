from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    ReplyParameters,
)

from fakegram import FakeTelegram
from fakegram.state import FakeUser

from .conftest import TOKEN


def kb(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons])


async def started_user(server: FakeTelegram) -> FakeUser:
    u = server.add_user(first_name="Анна", last_name="Петрова")
    await server.actor(u).send("/start")
    return u


async def test_send_message_html_stored_like_a_client_shows_it(server: FakeTelegram, bot: Bot) -> None:
    u = await started_user(server)
    sent = await bot.send_message(u.id, "<b>Заявка №1</b>\nСтатус: <i>новая</i> &lt;ok&gt;", reply_markup=kb(("Взять", "take:1")))
    parent = server.actor(u)
    msg = await parent.expect("Заявка №1")
    assert msg.message_id == sent.message_id
    assert msg.text == "Заявка №1\nСтатус: новая <ok>"
    assert msg.html == "<b>Заявка №1</b>\nСтатус: <i>новая</i> &lt;ok&gt;"
    assert msg.entities[0] == {"type": "bold", "offset": 0, "length": 9}
    assert msg.buttons == [("Взять", "take:1")]
    assert msg.from_bot and msg.kind == "text"
    assert sent.entities is not None and sent.entities[1].type == "italic"
    assert not server.rejected


async def test_message_ids_increase_per_chat(server: FakeTelegram, bot: Bot) -> None:
    u = await started_user(server)  # message 1 is the user's /start
    ids = [(await bot.send_message(u.id, f"m{i}")).message_id for i in range(3)]
    assert ids == [2, 3, 4]


async def test_bad_html_rejected(server: FakeTelegram, bot: Bot) -> None:
    u = await started_user(server)
    with pytest.raises(TelegramBadRequest) as exc:
        await bot.send_message(u.id, "Оценка <5 и <b>жирный")
    assert exc.value.message == "Bad Request: can't parse entities: Unsupported start tag \"5\" at byte offset 13"
    assert len(server.rejected) == 1 and server.rejected[0].method == "sendMessage"
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start tag"):
        await bot.send_message(u.id, "<b>жирный")


async def test_text_limits(server: FakeTelegram, bot: Bot) -> None:
    u = await started_user(server)
    await bot.send_message(u.id, "я" * 4096)
    await bot.send_message(u.id, "<b>" + "я" * 4096 + "</b>")  # limit applies after parsing
    with pytest.raises(TelegramBadRequest, match=r"^Telegram server says - Bad Request: message is too long$"):
        await bot.send_message(u.id, "я" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(u.id, "😀" * 2049)  # UTF-16 code units
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(u.id, "<b></b>  ")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(u.id, "")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(u.id, BufferedInputFile(b"img", "a.jpg"), caption="x" * 1025)
    assert server.rejected[0].error == "Bad Request: message is too long"


async def test_callback_data_limits_and_buttons(server: FakeTelegram, bot: Bot) -> None:
    u = await started_user(server)
    await bot.send_message(u.id, "ok", reply_markup=kb(("a", "x" * 64)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(u.id, "x", reply_markup=kb(("a", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(u.id, "x", reply_markup=kb(("a", "я" * 33)))  # 66 bytes
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed in the inline keyboard"):
        await bot.send_message(
            u.id, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="a")]])
        )
    two = InlineKeyboardButton(text="a", callback_data="x", url="https://example.com")
    with pytest.raises(TelegramBadRequest, match="exactly one of the optional fields"):
        await bot.send_message(u.id, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[two]]))
    assert len(server.rejected) == 4


async def test_unknown_method_and_missing_field_raw_http(server: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/bot{TOKEN}/sendMessagee", data={"chat_id": "1"}) as r:
            assert r.status == 404
            assert await r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.post(f"{server.base_url}/bot{TOKEN}/sendMessage", data={"text": "hi"}) as r:
            assert r.status == 400
            assert (await r.json())["description"] == "Bad Request: chat_id is empty"
        async with http.post(f"{server.base_url}/bot{TOKEN}/sendMessage", json={"chat_id": 1}) as r:
            assert (await r.json())["description"] == "Bad Request: message text is empty"
        async with http.get(f"{server.base_url}/bot{TOKEN}/getMe") as r:
            assert (await r.json())["result"]["username"] == "school_help_bot"
        async with http.get(f"{server.base_url}/bot{TOKEN}/GETME") as r:  # case-insensitive
            assert r.status == 200
        async with http.get(f"{server.base_url}/bot{TOKEN}/sendMessage?chat_id=1&text=x&message_thread_id=abc") as r:
            assert (await r.json())["description"] == 'Bad Request: field "message_thread_id" must be of type Integer'
        async with http.get(f"{server.base_url}/bot1:WRONG/getMe") as r:
            assert r.status == 401
        async with http.post(f"{server.base_url}/bot{TOKEN}/sendInvoice", data={"chat_id": "1"}) as r:
            assert r.status == 400  # validated first: required fields missing
        async with http.post(
            f"{server.base_url}/bot{TOKEN}/sendDice", data={"chat_id": "1"}
        ) as r:
            assert r.status == 501
            assert (await r.json())["description"] == "fakegram: method sendDice is not emulated"
    assert [c.status for c in server.rejected] == [404, 400, 400, 400, 401, 400, 501]


async def test_forbidden_and_not_found(server: FakeTelegram, bot: Bot) -> None:
    stranger = server.add_user(first_name="Иван")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(stranger.id, "привет")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "привет")
    u = await started_user(server)
    u.block_bot()
    with pytest.raises(TelegramForbiddenError, match=r"^Telegram server says - Forbidden: bot was blocked by the user$"):
        await bot.send_message(u.id, "привет")
    u.unblock_bot()
    await bot.send_message(u.id, "снова")
    g = server.add_group("ЭЖ: помощь", members=[u])
    await bot.send_message(g.id, "в группу")
    server.remove_bot_from(g)
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await bot.send_message(g.id, "в группу")
    assert [c.status for c in server.rejected] == [403, 400, 403, 403]


async def test_edit_not_modified_and_missing(server: FakeTelegram, bot: Bot) -> None:
    u = await started_user(server)
    sent = await bot.send_message(u.id, "<b>Статус</b>: новая", reply_markup=kb(("Закрыть", "close")))
    with pytest.raises(TelegramBadRequest) as exc:
        await bot.edit_message_text(
            "<b>Статус</b>: новая", chat_id=u.id, message_id=sent.message_id, reply_markup=kb(("Закрыть", "close"))
        )
    assert exc.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the "
        "same as a current content and reply markup of the message"
    )
    edited = await bot.edit_message_text("<b>Статус</b>: закрыта", chat_id=u.id, message_id=sent.message_id)
    assert not isinstance(edited, bool) and edited.edit_date is not None
    msg = server.actor(u).inbox[-1]
    assert msg.text == "Статус: закрыта" and msg.edits == ["Статус: новая"] and msg.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=u.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=u.id, message_id=999)
    assert await bot.delete_message(u.id, sent.message_id)
    assert msg.deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(u.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(u.id, "ответ", reply_parameters=ReplyParameters(message_id=999))
    await bot.send_message(
        u.id, "ответ", reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True)
    )


async def test_callback_answer_limits(server: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired or query id is invalid"):
        await bot.answer_callback_query("12345", text="x")


async def test_files_copy_and_download(server: FakeTelegram, bot: Bot) -> None:
    parent_user = await started_user(server)
    staff = server.add_user(first_name="Мария")
    g = server.add_group("ЭЖ: помощь", forum=True, members=[staff], admins=[staff])
    topic = await bot.create_forum_topic(g.id, "Анна Петрова")
    parent = server.actor(parent_user)
    photo = await parent.send_photo(caption="скрин")
    doc = await parent.send_document(filename="справка.pdf", content=b"%PDF-1.4 test", caption="<b>не html</b>")
    copied = await bot.copy_message(g.id, parent_user.id, photo.message_id, message_thread_id=topic.message_thread_id)
    copied_doc = await bot.copy_message(
        g.id, parent_user.id, doc.message_id, message_thread_id=topic.message_thread_id, caption="<i>Документ</i>"
    )
    in_topic = server.chat_messages(g.id, thread_id=topic.message_thread_id)
    photo_copy = next(m for m in in_topic if m.message_id == copied.message_id)
    doc_copy = next(m for m in in_topic if m.message_id == copied_doc.message_id)
    assert photo_copy.kind == "photo" and photo_copy.caption == "скрин"
    assert photo_copy.raw["photo"] == photo.raw["photo"]
    assert doc_copy.kind == "document" and doc_copy.caption == "Документ" and doc_copy.file_name == "справка.pdf"
    assert doc_copy.raw["is_topic_message"] is True
    # the bot downloads the user's file
    file_id = doc.raw["document"]["file_id"]
    f = await bot.get_file(file_id)
    assert f.file_path is not None
    data = await bot.download_file(f.file_path)
    assert data is not None and data.read() == b"%PDF-1.4 test"
    # reuse the photo by file_id; upload a new document
    again = await bot.send_photo(parent_user.id, photo.raw["photo"][-1]["file_id"])
    assert again.photo is not None and again.photo[-1].file_id == photo.raw["photo"][-1]["file_id"]
    up = await bot.send_document(parent_user.id, BufferedInputFile(b"hello", "otvet.txt"), caption="Ответ")
    assert up.document is not None and up.document.file_name == "otvet.txt"
    assert server.file_bytes(up.document.file_id) == b"hello"
    # album
    album = await bot.send_media_group(
        parent_user.id,
        [
            InputMediaPhoto(media=BufferedInputFile(b"p1", "1.jpg"), caption="<b>1</b>"),
            InputMediaPhoto(media=photo.raw["photo"][0]["file_id"]),
        ],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "1"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_document(parent_user.id, "AAAA-not-issued")
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.get_file("nope")
    with pytest.raises(TelegramBadRequest, match="can't use file of type Document as Photo"):
        await bot.send_photo(parent_user.id, file_id)
    with pytest.raises(TelegramBadRequest, match="document can't be mixed"):
        await bot.send_media_group(
            parent_user.id,
            [InputMediaPhoto(media=photo.raw["photo"][0]["file_id"]), InputMediaDocument(media=file_id)],
        )
    with pytest.raises(TelegramBadRequest, match="message can't be copied"):
        await bot.copy_message(parent_user.id, g.id, topic.message_thread_id)
    assert len(server.rejected) == 5


async def test_failure_injection(server: FakeTelegram, bot: Bot) -> None:
    u = await started_user(server)
    server.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as exc:
        await bot.send_message(u.id, "x")
    assert exc.value.retry_after == 3
    server.fail_next("sendMessage", chat_id=u.id, status=500, count=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(u.id, "x")
    server.fail_next(None, status=502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.get_me()
    await bot.send_message(u.id, "x")
    assert server.rejected == []
    assert [c.ok for c in server.calls_of("sendMessage")] == [False, False, False, True]


async def test_chat_info_members_and_commands(server: FakeTelegram, bot: Bot) -> None:
    admin = server.add_user(first_name="Мария", username="maria")
    member = server.add_user(first_name="Олег")
    outsider = server.add_user(first_name="Пётр")
    g = server.add_group("ЭЖ: помощь", forum=True, members=[member], admins=[admin])
    info = await bot.get_chat(g.id)
    assert info.is_forum is True and info.title == "ЭЖ: помощь" and info.type == "supergroup"
    assert (await bot.get_chat_member(g.id, admin.id)).status == "administrator"
    assert (await bot.get_chat_member(g.id, member.id)).status == "member"
    assert (await bot.get_chat_member(g.id, outsider.id)).status == "left"
    me = await bot.get_chat_member(g.id, server.bot_user.id)
    assert me.status == "administrator" and getattr(me, "can_manage_topics", None) is True
    admins = await bot.get_chat_administrators(g.id)
    assert {a.user.id for a in admins} == {admin.id, server.bot_user.id}
    assert await bot.get_chat_member_count(g.id) == 3
    assert await bot.set_my_commands([BotCommand(command="start", description="Начать")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    assert await bot.send_chat_action(g.id, "typing")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert not server.rejected


async def test_forum_topic_rules(server: FakeTelegram, bot: Bot) -> None:
    staff = server.add_user(first_name="Мария")
    plain = server.add_group("Обычная", forum=False, members=[staff])
    weak = server.add_group("Без прав", forum=True, members=[staff], bot_can_manage_topics=False)
    forum = server.add_group("Форум", forum=True, members=[staff])
    with pytest.raises(TelegramBadRequest, match=r"^Telegram server says - Bad Request: the chat is not a forum$"):
        await bot.create_forum_topic(plain.id, "x")
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(weak.id, "x")
    with pytest.raises(TelegramBadRequest, match="topic name is too long"):
        await bot.create_forum_topic(forum.id, "я" * 129)
    t = await bot.create_forum_topic(forum.id, "Заявка 1")
    service = server.chat_messages(forum.id)[0]
    assert service.message_id == t.message_thread_id and service.kind == "service"
    assert service.raw["forum_topic_created"]["name"] == "Заявка 1"
    assert await bot.edit_forum_topic(forum.id, t.message_thread_id, name="Заявка 1 (закрыта)")
    assert await bot.close_forum_topic(forum.id, t.message_thread_id)
    assert await bot.reopen_forum_topic(forum.id, t.message_thread_id)
    m = await bot.send_message(forum.id, "в теме", message_thread_id=t.message_thread_id)
    assert m.message_thread_id == t.message_thread_id and m.is_topic_message
    assert m.reply_to_message is not None and m.reply_to_message.forum_topic_created is not None
    assert await bot.delete_forum_topic(forum.id, t.message_thread_id)
    assert server.topics(forum)[0].deleted
    with pytest.raises(TelegramBadRequest, match=r"^Telegram server says - Bad Request: message thread not found$"):
        await bot.send_message(forum.id, "в удалённой теме", message_thread_id=t.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(forum.id, "нет темы", message_thread_id=12345)
    assert len(server.rejected) == 5
