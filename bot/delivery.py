"""The single gateway for outgoing Telegram calls.

Every request the bot makes passes :class:`DeliveryMiddleware` (installed on the bot's session), so
rate limits, retries and the handling of blocked users live here and nowhere else:

* 429 ``retry_after`` pauses only the chat it concerns (other chats keep flowing), then retries;
* 5xx and network errors are retried with bounded exponential backoff;
* 403 from a private chat is recorded on the user (the caller still sees the error, to tell staff).

:class:`Gateway` adds the operations the desk needs on top: sending long texts in parts, relaying a
message from one chat to another (``copyMessage`` is Telegram's implementation of our ``relay``),
editing without tripping over "message is not modified".
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, ReplyParameters

from bot.formatting import CAPTION_LIMIT, TEXT_LIMIT, compose, visible_len

if TYPE_CHECKING:
    from aiogram.methods import Response

log = logging.getLogger(__name__)

BlockedCallback = Callable[[int], Awaitable[None]]


class DeliveryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        max_attempts: int = 6,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
    ) -> None:
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.on_blocked: BlockedCallback | None = None
        self._not_before: dict[int | str | None, float] = {}
        self.stats: dict[str, int] = {
            "retry_after": 0,
            "server_errors": 0,
            "network_errors": 0,
            "forbidden": 0,
        }

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ == GetUpdates.__api_method__:
            # The polling loop has its own backoff; holding it here would only delay updates.
            return await make_request(bot, method)
        chat_key: int | str | None = getattr(method, "chat_id", None)
        attempt = 0
        while True:
            attempt += 1
            await self._wait_for(chat_key)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.stats["retry_after"] += 1
                pause = min(float(exc.retry_after), self.max_retry_after)
                self._not_before[chat_key] = max(
                    self._not_before.get(chat_key, 0.0), time.monotonic() + pause
                )
                log.warning("429 for chat %s on %s: waiting %.0f s", chat_key, method.__api_method__, pause)
                if attempt >= self.max_attempts:
                    raise
            except (TelegramServerError, TelegramNetworkError) as exc:
                kind = "server_errors" if isinstance(exc, TelegramServerError) else "network_errors"
                self.stats[kind] += 1
                if attempt >= self.max_attempts:
                    raise
                delay = min(self.max_backoff, self.base_backoff * 2 ** (attempt - 1))
                delay *= 0.75 + random.random() / 2
                log.warning(
                    "%s on %s (attempt %d): retry in %.1f s", exc, method.__api_method__, attempt, delay
                )
                await asyncio.sleep(delay)
            except TelegramForbiddenError:
                self.stats["forbidden"] += 1
                if isinstance(chat_key, int) and chat_key > 0 and self.on_blocked is not None:
                    await self.on_blocked(chat_key)
                raise

    async def _wait_for(self, chat_key: int | str | None) -> None:
        until = self._not_before.get(chat_key)
        if until is None:
            return
        delay = until - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            self._not_before.pop(chat_key, None)


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a chat, optionally a forum topic, optionally as a reply."""

    chat_id: int
    thread_id: int | None = None
    reply_to: int | None = None


class Gateway:
    """Outgoing operations of the desk. All of them end up in the bot's session, through the middleware."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def _reply(self, dest: Destination) -> ReplyParameters | None:
        if dest.reply_to is None:
            return None
        return ReplyParameters(message_id=dest.reply_to, allow_sending_without_reply=True)

    async def send(
        self,
        dest: Destination,
        html_text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        **kwargs: Any,
    ) -> int:
        """Send one HTML message that is known to fit. Returns its message id."""
        msg = await self.bot.send_message(
            chat_id=dest.chat_id,
            text=html_text,
            message_thread_id=dest.thread_id,
            reply_parameters=self._reply(dest),
            reply_markup=markup,
            **kwargs,
        )
        return msg.message_id

    async def send_long(
        self,
        dest: Destination,
        header_html: str,
        body_plain: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
    ) -> list[int]:
        """Header plus user-written body, in as many messages as needed. Buttons go on the last part."""
        parts = compose(header_html, body_plain, TEXT_LIMIT)
        ids: list[int] = []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            ids.append(await self.send(dest, part, markup=markup if last else None))
        return ids

    async def relay(
        self,
        from_chat_id: int,
        message_id: int,
        dest: Destination,
        *,
        caption_html: str | None = None,
    ) -> int:
        """Copy a message (media with its caption) to ``dest``; optionally replace its caption."""
        if caption_html is not None and visible_len(caption_html) > CAPTION_LIMIT:
            # Too long for a caption: the media goes bare, the caption follows as a text.
            copied = await self.bot.copy_message(
                chat_id=dest.chat_id,
                from_chat_id=from_chat_id,
                message_id=message_id,
                message_thread_id=dest.thread_id,
                reply_parameters=self._reply(dest),
                caption="",
            )
            await self.send(Destination(dest.chat_id, dest.thread_id, copied.message_id), caption_html)
            return copied.message_id
        kwargs: dict[str, Any] = {}
        if caption_html is not None:
            kwargs["caption"] = caption_html
        copied = await self.bot.copy_message(
            chat_id=dest.chat_id,
            from_chat_id=from_chat_id,
            message_id=message_id,
            message_thread_id=dest.thread_id,
            reply_parameters=self._reply(dest),
            **kwargs,
        )
        return copied.message_id

    async def edit(
        self, chat_id: int, message_id: int, html_text: str, *, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id, message_id=message_id, text=html_text, reply_markup=markup
            )
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                raise

    async def drop_keyboard(self, chat_id: int, message_id: int) -> None:
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        except TelegramBadRequest as exc:
            # Already without buttons, or too old to edit: nothing to do either way.
            log.debug("drop_keyboard: %s", exc.message)
