"""The bot's session sends calls as JSON: the same fields aiogram's form would carry, files as multipart."""

from __future__ import annotations

import json
import traceback
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
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter, TelegramServerError
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from aiohttp import BodyPartReader, web

from bot.session import JsonSession, RedirectLoop

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
    # An explicit empty caption is sent (aiogram's form leaves it out): it is how copyMessage drops the
    # original caption; without it a long caption reached the other side twice (issue 13).
    assert rec.requests[2][2]["caption"] == ""
    assert "reply_markup" not in rec.requests[3][2]
    until = int(datetime(2026, 9, 1, 9, 0, tzinfo=UTC).timestamp())
    assert rec.requests[4][2]["until_date"] == until  # Unix time, an integer


async def test_same_fields_as_aiogram_form(server: tuple[Recorder, str]) -> None:
    """Each JSON call carries exactly the fields of aiogram's own form, with the same values; and the
    explicit empty caption that the form drops."""
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
        assert set(fb) | ({"caption"} if fm == "copyMessage" else set()) == set(jb), fm
        for key, value in jb.items():
            if key in fb:
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


async def test_failures_say_what_happened_without_the_token() -> None:
    """A redirect loop (aiohttp quotes the URL, and the URL carries the token) and a proxy's HTML 502
    page: the errors are specific and neither they nor their tracebacks carry the token (issue 13)."""

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(location=str(request.url))

    async def html(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html><h1>502 Bad Gateway</h1></html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/loop/bot{token}/{method}", loop)
    app.router.add_post("/html/bot{token}/{method}", html)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        for kind, expected in (("loop", RedirectLoop), ("html", TelegramServerError)):
            bot = make_bot(f"http://127.0.0.1:{port}/{kind}")
            try:
                with pytest.raises(expected) as caught:
                    await bot.send_message(chat_id=5, text="x")
                # Multipart calls go through aiogram's own request.
                with pytest.raises(Exception) as multipart:
                    await bot.send_document(chat_id=5, document=BufferedInputFile(b"x", "a.txt"))
            finally:
                await bot.session.close()
            for error in (caught.value, multipart.value):
                shown = "".join(traceback.format_exception(error))
                assert TOKEN not in shown and TOKEN.split(":")[1] not in shown, shown
        assert "HTTP 502" in caught.value.message
    finally:
        await runner.cleanup()


async def test_a_shared_keyboard_is_prepared_once_and_sent_the_same(server: tuple[Recorder, str]) -> None:
    """The dialog's keyboards are frozen and shared (bot/keyboards.py): their JSON is made once and put in
    every later body as it is; the bodies parse to the same fields as a keyboard built afresh."""
    from bot import keyboards
    from helpdesk.texts import Texts

    rec, base = server
    tr = Texts()("ru")
    shared = keyboards.roles(tr)
    assert keyboards.roles(tr) is shared and shared.model_config.get("frozen")
    fresh = InlineKeyboardMarkup.model_validate(shared.model_dump())
    bot = make_bot(base)
    try:
        for markup in (shared, shared, fresh):
            await bot.send_message(chat_id=5, text="Пожалуйста, укажите, кто Вы:", reply_markup=markup)
    finally:
        await bot.session.close()
    bodies = [body for _, _, body in rec.requests]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Администрация"
    assert bodies[1]["parse_mode"] == "HTML"
