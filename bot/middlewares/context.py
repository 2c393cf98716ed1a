"""Per-update context: the user row (private chats) and the texts in the user's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from helpdesk.store import Store
from helpdesk.texts import Texts
from storage.users import TELEGRAM


class UserContextMiddleware(BaseMiddleware):
    def __init__(self, store: Store, texts: Texts) -> None:
        self.store = store
        self.texts = texts

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat = None
        if isinstance(event, Message):
            chat = event.chat
        elif isinstance(event, CallbackQuery) and event.message is not None:
            chat = event.message.chat
        who = data.get("event_from_user")
        if chat is not None and chat.type == "private" and who is not None and not who.is_bot:
            user = await self.store.touch_user(
                channel=TELEGRAM,
                external_id=str(who.id),
                chat_id=chat.id,
                first_name=who.first_name,
                last_name=who.last_name,
                username=who.username,
                client_language=who.language_code,
            )
            data["user"] = user
            data["tr"] = self.texts.of(user)
        else:
            data["tr"] = self.texts.staff
        return await handler(event, data)
