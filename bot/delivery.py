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
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetMe, GetUpdates, Response, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, ReplyParameters
from pydantic import BaseModel, ConfigDict

from helpdesk.formatting import CAPTION_LIMIT, TEXT_LIMIT, compose, visible_len
from helpdesk.ports import Destination

log = logging.getLogger(__name__)

BlockedCallback = Callable[[int], Awaitable[None]]
# (the chats a refused call named, the supergroup one of them became)
MigratedCallback = Callable[[Bot, tuple[int, ...], int], Awaitable[None]]

# Calls that post a message count against Telegram's flood limits in every chat; edits and new topics
# count in groups only.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendContact",
    }
)
GROUP_ONLY_METHODS = frozenset(
    {"editMessageText", "editMessageCaption", "editMessageMedia", "createForumTopic"}
)


class _Bucket:
    """A token bucket kept as a schedule (GCRA): ``rate`` sends a second, up to ``burst`` at once.

    Sends are committed in time order (see :meth:`FloodLimiter.acquire`), so the bucket only needs the
    moment at which it would be empty again.
    """

    def __init__(self, rate: float, burst: float) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.tat = float("-inf")

    def earliest(self, at: float) -> float:
        """The first moment not before ``at`` at which one more send fits."""
        return max(at, self.tat - self.tolerance)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval


class _Window:
    """At most ``limit`` sends in any ``window`` seconds (Telegram's per-group limit)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.slots: deque[float] = deque()

    def prune(self, now: float) -> None:
        while self.slots and self.slots[0] <= now - self.window:
            self.slots.popleft()

    def live(self, at: float) -> list[float]:
        return [t for t in self.slots if t > at - self.window]

    def earliest(self, at: float) -> float:
        live = self.live(at)
        if len(live) < self.limit:
            return at
        return live[-self.limit] + self.window

    def take(self, at: float) -> None:
        self.slots.append(at)


GroupJournal = Callable[[int | str, list[float]], Awaitable[None]]
"""Keeps a group's recent sends (unix times) across restarts: ``await journal(chat, times)``."""


class FloodLimiter:
    """Keeps the bot under Telegram's limits *before* Telegram enforces them.

    About one message a second per private chat (a short burst allowed), 20 a minute per group (a forum
    is one group), about 30 a second overall. The figures are a little under Telegram's so that network
    jitter does not turn into 429s. Each caller waits for its own chat only.

    A send is committed to its chat's budget and to the global one at the same moment, the moment it is
    made: a caller first waits, holding nothing, until its chat has room (a group's minute may be a long
    wait), then takes its place in the global queue (a fraction of a second). So a group send waiting
    for its minute never delays anybody else, and a private chat's burst is counted when it is sent.
    A group's send may go ahead of that queue, within the margin kept under the global limit.

    A group's minute outlives the process: Telegram still counts the sends made before a restart. With a
    ``journal`` every group send is written down as it is made, and :meth:`restore` seeds the windows
    at start-up.
    """

    def __init__(
        self,
        *,
        private_rate: float = 0.9,
        private_burst: float = 3,
        group_limit: int = 19,
        group_window: float = 61.0,
        global_rate: float = 28.0,
        global_burst: float = 28,
        journal: GroupJournal | None = None,
    ) -> None:
        self.private_rate = private_rate
        self.private_burst = private_burst
        self.group_limit = group_limit
        self.group_window = group_window
        self.global_bucket = _Bucket(global_rate, global_burst)
        self._private: dict[int | str, _Bucket] = {}
        self._groups: dict[int | str, _Window] = {}
        self._waiting: dict[int | str, int] = {}
        self.ahead_per_second = 2
        self._ahead: deque[float] = deque()
        self.journal = journal
        self._notes: set[asyncio.Task[None]] = set()
        self.waited = 0.0

    @classmethod
    def off(cls) -> FloodLimiter:
        """No proactive limiting (for tests against a server that does not enforce limits)."""
        limiter = cls()
        limiter.enabled = False
        return limiter

    enabled = True

    def counted(self, method: str, chat: int | str | None) -> bool:
        if chat is None or not self.enabled:
            return False
        return method in SEND_METHODS or (not _is_private(chat) and method in GROUP_ONLY_METHODS)

    def _budget(self, chat: int | str, now: float) -> _Bucket | _Window:
        if _is_private(chat):
            bucket = self._private.get(chat)
            if bucket is None:
                bucket = self._private[chat] = _Bucket(self.private_rate, self.private_burst)
            return bucket
        window = self._groups.get(chat)
        if window is None:
            window = self._groups[chat] = _Window(self.group_limit, self.group_window)
        window.prune(now)
        return window

    async def acquire(self, method: str, chat: int | str | None) -> None:
        """Wait until a send to ``chat`` fits every limit, and count it."""
        if chat is None or not self.counted(method, chat):
            return
        group = not _is_private(chat)
        if group:
            self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            while True:
                now = time.monotonic()
                budget = self._budget(chat, now)
                ready = budget.earliest(now)
                if ready <= now:
                    at = self.global_bucket.earliest(now)
                    ahead = group and at > now and self._may_go_ahead(now)
                    if ahead:
                        at = now
                    ready = budget.earliest(at)
                    if ready <= at:
                        budget.take(at)
                        self.global_bucket.take(at)
                        if ahead:
                            self._ahead.append(now)
                        break
                # The chat has no room yet: wait holding nothing, then look again.
                self.waited += ready - now
                await asyncio.sleep(ready - now)
        finally:
            if group:
                left = self._waiting.get(chat, 1) - 1
                if left:
                    self._waiting[chat] = left
                else:
                    self._waiting.pop(chat, None)
        if group and self.journal is not None:
            self._note(chat)
        delay = at - time.monotonic()
        if delay > 0:
            self.waited += delay
            await asyncio.sleep(delay)

    def _may_go_ahead(self, now: float) -> bool:
        """May a group's send skip the global queue of private messages? Staff see the desk through the
        group, and its sends are few (20 a minute), so yes, as long as those that do stay within the margin
        kept under Telegram's overall limit (two a second: 28 of its 30)."""
        while self._ahead and self._ahead[0] <= now - 1.0:
            self._ahead.popleft()
        return len(self._ahead) < self.ahead_per_second

    def _note(self, chat: int | str) -> None:
        """Write the group's sends down in the background: the send itself must not wait for the disk
        (a note lost in a crash is one send under the margin below Telegram's 20)."""
        journal = self.journal
        if journal is None:
            return
        times = self.group_sends(chat)

        async def write() -> None:
            try:
                await journal(chat, times)
            except Exception:
                log.warning("sends to %s not noted for a restart", chat, exc_info=True)

        task = asyncio.create_task(write())
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)

    async def settle(self) -> None:
        """Let the notes being written finish (before the database closes)."""
        if self._notes:
            await asyncio.gather(*self._notes, return_exceptions=True)

    def group_room(self, chat: int | str) -> int:
        """How many more messages the group takes right now within its per-minute budget (sends already
        waiting for it count as made)."""
        if not self.enabled:
            return self.group_limit
        window = self._groups.get(chat)
        used = len(window.live(time.monotonic())) if window is not None else 0
        return max(0, self.group_limit - used - self._waiting.get(chat, 0))

    def group_backlog(self, chat: int | str) -> float:
        """Seconds until the group could take one more message: how far behind its budget we are."""
        window = self._groups.get(chat)
        if window is None:
            return 0.0
        now = time.monotonic()
        return max(0.0, window.earliest(now) - now)

    def group_sends(self, chat: int | str) -> list[float]:
        """The group's sends still inside its window, as unix times (what :attr:`journal` keeps)."""
        window = self._groups.get(chat)
        if window is None:
            return []
        now = time.monotonic()
        shift = time.time() - now
        return [round(t + shift, 3) for t in window.live(now)]

    def restore(self, sends: Mapping[int | str, Iterable[float]]) -> None:
        """Seed the groups' windows with sends made before a restart (unix times, as journalled)."""
        now = time.monotonic()
        shift = time.time() - now
        for chat, times in sends.items():
            if _is_private(chat):
                continue
            window = self._groups.get(chat)
            if window is None:
                window = self._groups[chat] = _Window(self.group_limit, self.group_window)
            merged = sorted([*window.slots, *(min(now, t - shift) for t in times)])
            window.slots = deque(t for t in merged if t > now - window.window)


def _is_private(chat: int | str) -> bool:
    return isinstance(chat, int) and chat > 0


class DeliveryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        max_attempts: int = 6,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        limiter: FloodLimiter | None = None,
        on_blocked: BlockedCallback | None = None,
        on_migrated: MigratedCallback | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``on_blocked(chat_id)``: a private chat answered 403 (the user blocked the bot).
        ``on_migrated(bot, chat_ids, new_id)``: a call naming ``chat_ids`` was refused because one of them
        became supergroup ``new_id``; it returns once the bot has moved, so the caller can retry at once."""
        self.limiter = limiter or FloodLimiter()
        # Time as a dependency (retry backoff, 429 pauses), so that tests need not wait for real.
        self.sleep = sleep
        self.monotonic = monotonic
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.on_blocked = on_blocked
        self.on_migrated = on_migrated
        self._not_before: dict[int | str | None, float] = {}
        self._response_models: dict[Any, Any] = {}
        self.stats: dict[str, int] = {
            "retry_after": 0,
            "server_errors": 0,
            "network_errors": 0,
            "forbidden": 0,
        }

    def _keep_response_model(self, method: TelegramMethod[Any]) -> None:
        """Hold aiogram's ``Response[T]`` model for this method's result type.

        aiogram builds ``Response[T]`` for every answer, and pydantic caches parametrised models only
        weakly: with nothing else holding it, the model is collected and built again (schema and all) for
        the next call — a fifth of a millisecond each time. One strong reference per result type ends that.
        """
        returning = method.__returning__
        with contextlib.suppress(TypeError):  # an unhashable result type: nothing to keep
            if returning not in self._response_models:
                self._response_models[returning] = Response[returning]  # type: ignore[valid-type]

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ in (GetUpdates.__api_method__, GetMe.__api_method__):
            # The polling loop and the start-up check (bot/startup.py) have their own backoff; holding them
            # here would only delay updates, or the start-up's verdict.
            return await make_request(bot, method)
        self._keep_response_model(method)
        chat_key: int | str | None = getattr(method, "chat_id", None)
        if method.__api_method__ == "answerCallbackQuery":
            return await self._answer_callback(make_request, bot, method)
        attempt = 0
        while True:
            attempt += 1
            await self._wait_for(chat_key)
            await self.limiter.acquire(method.__api_method__, chat_key)
            try:
                return await make_request(bot, method)
            except TelegramBadRequest as exc:
                if method.__api_method__.startswith("edit") and "message is not modified" in exc.message:
                    # The message already looks as asked (an update handled again after a restart, or two
                    # edits racing): the edit's purpose holds, so the handler goes on.
                    log.info("%s: message already as asked", method.__api_method__)
                    return Response[TelegramType](ok=True, result=True)  # type: ignore[arg-type]
                raise
            except TelegramRetryAfter as exc:
                self.stats["retry_after"] += 1
                pause = min(float(exc.retry_after), self.max_retry_after)
                self._not_before[chat_key] = max(
                    self._not_before.get(chat_key, 0.0), self.monotonic() + pause
                )
                log.warning("429 for chat %s on %s: waiting %.0f s", chat_key, method.__api_method__, pause)
                if attempt >= self.max_attempts:
                    raise
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as exc:
                # ClientDecodeError: an answer that is not the Bot API's JSON, a proxy's HTML error page.
                kind = "network_errors" if isinstance(exc, TelegramNetworkError) else "server_errors"
                self.stats[kind] += 1
                if attempt >= self.max_attempts:
                    if isinstance(exc, ClientDecodeError):
                        # Callers handle Telegram's refusals (TelegramAPIError): this is one of them.
                        raise TelegramServerError(
                            method=method, message="an answer that is not the Bot API's JSON (a proxy's page?)"
                        ) from None
                    raise
                delay = min(self.max_backoff, self.base_backoff * 2 ** (attempt - 1))
                delay *= 0.75 + random.random() / 2
                log.warning(
                    "%s on %s (attempt %d): retry in %.1f s",
                    "an answer that is not JSON" if isinstance(exc, ClientDecodeError) else exc,
                    method.__api_method__,
                    attempt,
                    delay,
                )
                await self.sleep(delay)
            except TelegramForbiddenError:
                self.stats["forbidden"] += 1
                if isinstance(chat_key, int) and chat_key > 0 and self.on_blocked is not None:
                    await self.on_blocked(chat_key)
                raise
            except TelegramMigrateToChat as exc:
                # The group became a supergroup: the hook moves the bot there before the caller sees this.
                if self.on_migrated is not None:
                    named = (getattr(method, "chat_id", None), getattr(method, "from_chat_id", None))
                    await self.on_migrated(
                        bot, tuple(c for c in named if isinstance(c, int)), exc.migrate_to_chat_id
                    )
                raise

    async def _answer_callback(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Answering a button press is a courtesy: a query that is too old (replayed after a restart, or
        answered already) must not stop the handler that does the real work."""
        try:
            return await make_request(bot, method)
        except (
            TelegramBadRequest, TelegramServerError, TelegramNetworkError, TelegramRetryAfter, ClientDecodeError
        ) as exc:
            log.info("callback answer skipped: %s", exc)
            return Response[TelegramType](ok=True, result=True)  # type: ignore[arg-type]

    async def _wait_for(self, chat_key: int | str | None) -> None:
        until = self._not_before.get(chat_key)
        if until is None:
            return
        delay = until - self.monotonic()
        if delay > 0:
            await self.sleep(delay)
        else:
            self._not_before.pop(chat_key, None)


class SentMessage(BaseModel):
    """The part of Telegram's answer to a sent message that the desk keeps: its id.

    aiogram would validate the whole ``Message`` Telegram returns (chat, sender, entities, the topic's
    opening message it replies to, buttons) into nested models for every message the desk sends, only for
    the desk to read ``message_id``: a third of the cost of a send. Unknown keys are skipped unread.
    """

    model_config = ConfigDict(extra="ignore")

    message_id: int


class _SendMessage(SendMessage):
    """``sendMessage`` as the gateway makes it: the same call, only the message id parsed from the answer."""

    __returning__ = SentMessage  # type: ignore[assignment]


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
        sent = await self.bot(
            _SendMessage(
                chat_id=dest.chat_id,
                text=html_text,
                message_thread_id=dest.thread_id,
                reply_parameters=self._reply(dest),
                reply_markup=markup,
                **kwargs,
            )
        )
        return cast(SentMessage, sent).message_id

    async def send_file(
        self,
        dest: Destination,
        data: bytes,
        filename: str,
        *,
        caption_html: str = "",
        photo: bool = False,
        markup: InlineKeyboardMarkup | None = None,
    ) -> int:
        """Upload ``data`` as a photo (a picture shown inline) or a document, with a caption; a caption too
        long for one (at most a message's length) goes after the file as a message. Returns the file's message id."""
        long_caption = visible_len(caption_html) > CAPTION_LIMIT
        upload = BufferedInputFile(data, filename=filename)
        caption = None if long_caption or not caption_html else caption_html
        common: dict[str, Any] = {
            "chat_id": dest.chat_id,
            "caption": caption,
            "message_thread_id": dest.thread_id,
            "reply_parameters": self._reply(dest),
            "reply_markup": None if long_caption else markup,
        }
        if photo:
            sent = await self.bot.send_photo(photo=upload, **common)
        else:
            sent = await self.bot.send_document(document=upload, **common)
        if long_caption:
            await self.send(Destination(dest.chat_id, dest.thread_id), caption_html, markup=markup)
        return sent.message_id

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
