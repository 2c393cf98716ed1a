"""The outbox: the bot's own notices and alerts, sent in order per chat, chats in parallel.

A notice is written in the transaction of the change it reports (:meth:`helpdesk.store.Store.notice`), so
it is sent exactly once whatever crashes; this is the sender. What Telegram refuses for good is recorded
with the reason (and shown to staff); what fails for now waits for the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup

from bot.delivery import Gateway
from bot.staff_chat import StaffChat
from helpdesk.formatting import escape, plain_text, shorten
from helpdesk.ports import Destination
from helpdesk.store import Store
from helpdesk.texts import Texts
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, *, gateway: Gateway, store: Store, texts: Texts, staff_chat: StaffChat) -> None:
        self.gateway = gateway
        self.store = store
        self.texts = texts
        self.staff_chat = staff_chat
        self._kicked = asyncio.Event()
        self._task: asyncio.Task[int] | None = None

    async def enqueue(
        self,
        dest: Destination,
        html_text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        dedupe: str | None = None,
    ) -> None:
        """Queue a notice on its own (a change that has its own transaction queues through the store)."""
        async with self.store.transaction():
            await self.store.outbox.add(
                chat_id=dest.chat_id,
                thread_id=dest.thread_id,
                reply_to=dest.reply_to,
                text=html_text,
                markup=markup.model_dump_json(exclude_none=True) if markup else None,
                dedupe_key=dedupe,
                now=self.store.now(),
            )
        self.kick()

    def kick(self) -> None:
        """Start draining now (in the background) if nobody is draining already."""
        self._kicked.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.drain())

    async def finish(self, grace: float = 10.0) -> None:
        """On shutdown: let a running drain finish (what is left stays queued for the next start)."""
        task = self._task
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=grace)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def drain(self) -> int:
        """Send what the outbox holds: chats in parallel, each chat in order. Returns how many were sent."""
        sent = 0
        while True:
            self._kicked.clear()
            items = await self.store.outbox.pending()
            if not items:
                return sent
            by_chat: dict[int, list[OutboxItem]] = {}
            for item in items:
                by_chat.setdefault(item.chat_id, []).append(item)
            results = await asyncio.gather(*(self._drain_chat(chat_items) for chat_items in by_chat.values()))
            sent += sum(results)
            if not self._kicked.is_set() and sum(results) == 0:
                return sent  # what is left waits for the next tick (the chat is unreachable for now)

    async def _drain_chat(self, items: list[OutboxItem]) -> int:
        sent = 0
        for item in items:
            markup = InlineKeyboardMarkup.model_validate_json(item.markup) if item.markup else None
            dest = Destination(item.chat_id, item.thread_id, item.reply_to)
            try:
                if item.photo is not None:
                    message_id = await self.gateway.send_file(
                        dest, item.photo, "report.png", caption_html=item.text, photo=True, markup=markup
                    )
                else:
                    message_id = await self.gateway.send(dest, item.text, markup=markup)
            except (TelegramForbiddenError, TelegramBadRequest) as exc:
                # Blocked by the user, or refused for good: recorded with the reason, not retried for ever.
                async with self.store.transaction():
                    await self.store.outbox.failed(item.id, exc.message)
                    if isinstance(exc, TelegramBadRequest) and item.chat_id != self.staff_chat.id:
                        # Staff see what did not reach whom, and why. (A blocked user is reported by the
                        # gateway; a refusal in the staff group itself can only be logged.)
                        preview = shorten(plain_text(item.text).replace("\n", " "), 200)
                        notice = self.texts.staff(
                            "staff.notice_failed",
                            chat=item.chat_id,
                            reason=escape(exc.message),
                            text=escape(preview),
                        )
                        await self.store.notice(Destination(self.staff_chat.id), notice)
                        self._kicked.set()
                log.warning("notice %s to %s not delivered: %s", item.id, item.chat_id, exc.message)
                continue
            except TelegramAPIError as exc:
                async with self.store.transaction():
                    await self.store.outbox.retry_later(item.id, str(exc))
                return sent  # keep this chat's order: the rest waits for the next round
            async with self.store.transaction():
                await self.store.outbox.sent(item.id, message_id, self.store.now())
            sent += 1
        return sent
