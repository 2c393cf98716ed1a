from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from fakegram import FakeTelegram

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    srv = FakeTelegram(token=TOKEN, bot_username="school_help_bot", bot_first_name="Помощник ЭЖ")
    await srv.start(host="127.0.0.1", port=0)
    try:
        yield srv
    finally:
        await srv.stop()
    bugs = [w for w in srv.warnings if w.startswith("fakegram bug")]
    assert not bugs, bugs


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    b = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        yield b
    finally:
        await b.session.close()
