"""Each update gets the knowledge base as it is now (``kb``): articles reloaded or examples learned while the
bot runs are seen by the next update, with no handler holding an old one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from helpdesk.knowledge import KnowledgeLibrary


class KnowledgeMiddleware(BaseMiddleware):
    def __init__(self, library: KnowledgeLibrary) -> None:
        self.library = library

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["kb"] = self.library.kb
        return await handler(event, data)
