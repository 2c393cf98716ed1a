"""The bot's session sends calls as JSON: the same fields aiogram's form would carry, files as multipart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from aiohttp import BodyPartReader, web

from bot.session import JsonSession

TOKEN = "123456:SESSION-TEST"
MESSAGE = {"message_id": 7, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "x"}


@dataclass
class Recorder:
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    answer: tuple[int, dict[str, Any]] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            body: dict[str, Any] = await request.json()
        elif request.content_type.startswith("multipart/"):
            body = {}
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, BodyPartReader)
                body[str(part.name)] = (part.filename, bytes(await part.read()))
        else:
            body = dict(await request.post())
        self.requests.append((method, request.content_type, body))
        result = MESSAGE if method.startswith(("send", "copy", "edit")) else True
        status, answer = self.answer or (200, {"ok": True, "result": result})
        return web.json_response(answer, status=status)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield rec, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def make_bot(base: str, *, json_session: bool = True) -> Bot:
    api = TelegramAPIServer.from_base(base)
    session = JsonSession(api=api) if json_session else AiohttpSession(api=api)
    return Bot(
        TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


MARKUP = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Пожаловаться директору", callback_data="c:1")]]
)


async def calls(bot: Bot) -> None:
    """The kinds of calls the desk makes: defaults, nested objects, ids, booleans, empty captions."""
    await bot.send_message(
        chat_id=5,
        text="<b>Ответ</b> специалиста: «проверьте пароль»",
        message_thread_id=12,
        reply_parameters=ReplyParameters(message_id=3, allow_sending_without_reply=True),
        reply_markup=MARKUP,
    )
    await bot.send_message(chat_id=-100123, text="без кнопок", disable_notification=False)
    await bot.copy_message(chat_id=5, from_chat_id=-100123, message_id=9, caption="")
    await bot.edit_message_reply_markup(chat_id=5, message_id=7, reply_markup=None)
    await bot.ban_chat_member(chat_id=-100123, user_id=5, until_date=datetime(2026, 9, 1, 9, 0, tzinfo=UTC))


async def test_calls_go_as_json_with_defaults_resolved(server: tuple[Recorder, str]) -> None:
    rec, base = server
    bot = make_bot(base)
    try:
        await calls(bot)
    finally:
        await bot.session.close()
    assert [(m, c) for m, c, _ in rec.requests] == [
        ("sendMessage", "application/json"),
        ("sendMessage", "application/json"),
        ("copyMessage", "application/json"),
        ("editMessageReplyMarkup", "application/json"),
        ("banChatMember", "application/json"),
    ]
    first = rec.requests[0][2]
    assert first == {
        "chat_id": 5,
        "text": "<b>Ответ</b> специалиста: «проверьте пароль»",
        "message_thread_id": 12,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
        "disable_web_page_preview": True,  # aiogram sends the old name of the default too
        "reply_parameters": {
            "message_id": 3,
            "allow_sending_without_reply": True,
            "quote_parse_mode": "HTML",
        },
        "reply_markup": {"inline_keyboard": [[{"text": "Пожаловаться директору", "callback_data": "c:1"}]]},
    }
    assert rec.requests[1][2]["disable_notification"] is False  # a False is sent, not dropped
    assert "caption" not in rec.requests[2][2]  # as in aiogram's form: an empty text is left out
    assert "reply_markup" not in rec.requests[3][2]
    until = int(datetime(2026, 9, 1, 9, 0, tzinfo=UTC).timestamp())
    assert rec.requests[4][2]["until_date"] == until  # Unix time, an integer


async def test_same_fields_as_aiogram_form(server: tuple[Recorder, str]) -> None:
    """Each JSON call carries exactly the fields of aiogram's own form, with the same values."""
    rec, base = server
    for json_session in (False, True):
        bot = make_bot(base, json_session=json_session)
        try:
            await calls(bot)
        finally:
            await bot.session.close()
    form, as_json = rec.requests[:5], rec.requests[5:]
    assert all(c == "application/x-www-form-urlencoded" for _, c, _ in form)
    for (fm, _, fb), (jm, _, jb) in zip(form, as_json, strict=True):
        assert fm == jm
        assert set(fb) == set(jb), fm
        for key, value in jb.items():
            assert (fb[key] if isinstance(value, str) else json.loads(fb[key])) == value, (fm, key)


async def test_file_upload_keeps_multipart(server: tuple[Recorder, str]) -> None:
    rec, base = server
    bot = make_bot(base)
    try:
        await bot.send_document(chat_id=5, document=BufferedInputFile(b"a;b\n1;2\n", "report.csv"))
    finally:
        await bot.session.close()
    method, ctype, body = rec.requests[0]
    assert (method, ctype) == ("sendDocument", "multipart/form-data")
    attached = [v for v in body.values() if isinstance(v, tuple) and v[0] == "report.csv"]
    assert attached and attached[0][1] == b"a;b\n1;2\n"


async def test_errors_read_as_aiogram_reads_them(server: tuple[Recorder, str]) -> None:
    rec, base = server
    bot = make_bot(base)
    try:
        rec.answer = (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        )
        with pytest.raises(TelegramRetryAfter) as flood:
            await bot.send_message(chat_id=5, text="x")
        assert flood.value.retry_after == 7
        rec.answer = (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(chat_id=5, text="x")
    finally:
        await bot.session.close()


async def test_a_changed_keyboard_is_sent_as_it_is_now(server: tuple[Recorder, str]) -> None:
    """Frozen objects are prepared once; a keyboard (mutable in aiogram) is read again at every call."""
    rec, base = server
    bot = make_bot(base)
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Раз", callback_data="1")]])
    reply = ReplyParameters(message_id=3)
    try:
        await bot.send_message(chat_id=5, text="a", reply_markup=markup, reply_parameters=reply)
        markup.inline_keyboard = [[InlineKeyboardButton(text="Два", callback_data="2")]]
        await bot.send_message(chat_id=5, text="b", reply_markup=markup, reply_parameters=reply)
    finally:
        await bot.session.close()
    first, second = (body for _, _, body in rec.requests)
    assert first["reply_markup"]["inline_keyboard"][0][0]["text"] == "Раз"
    assert second["reply_markup"]["inline_keyboard"][0][0]["text"] == "Два"
    assert (
        first["reply_parameters"]
        == second["reply_parameters"]
        == {
            "message_id": 3,
            "quote_parse_mode": "HTML",
        }
    )
