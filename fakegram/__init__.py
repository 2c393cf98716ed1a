"""fakegram — a fake Telegram Bot API server for tests and sandboxes.

    server = FakeTelegram(token="123456:TEST-TOKEN", bot_username="school_help_bot")
    await server.start()                       # http://127.0.0.1:<free port>
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
"""

from .actors import Actor
from .html import EntityParseError, parse_html
from .server import FakeTelegram
from .spec import ApiError, Upload
from .state import Call, CallAnswer, FakeChat, FakeUser, FileRecord, Msg, Topic

__all__ = [
    "Actor",
    "ApiError",
    "Call",
    "CallAnswer",
    "EntityParseError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "FileRecord",
    "Msg",
    "Topic",
    "Upload",
    "parse_html",
]
