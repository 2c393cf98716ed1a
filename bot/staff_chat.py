"""The staff group's chat id, and following the group when Telegram gives it a new one.

A basic group that becomes a supergroup (topics turned on, many members, some settings) gets a new chat id;
every call naming the old id then fails with "group chat was upgraded to a supergroup chat" and the new id
(``TelegramMigrateToChat``), and the bot gets a service message in each group (``migrate_to_chat_id`` in the
old one, ``migrate_from_chat_id`` in the new one). Whichever comes first, :class:`StaffChatMoves` moves the
bot to the new id at once, remembers the move and detects whether the new group is a forum; the staff side
(:class:`bot.staff_side.TelegramStaff`), which waits for moves, then posts the open tickets' cards there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramMigrateToChat

from helpdesk.ports import Destination
from helpdesk.store import Store
from helpdesk.texts import Texts

log = logging.getLogger(__name__)


class StaffChat:
    """The staff group as it is now.

    One object shared by everything that sends to the group or recognises it (the desk, the routers'
    filters, the conduct checks, the membership check), so that a move takes effect for all of them at once.
    """

    def __init__(self, configured: int) -> None:
        self.configured = configured
        """STAFF_CHAT_ID as configured."""
        self._id = configured
        self.former: tuple[int, ...] = ()
        """Ids the group had before, oldest first."""
        self.forum = False
        """Whether the group has topics: detected at start and after a move."""
        self.moved = asyncio.Event()
        """Set when a move is recorded and its notice queued (:class:`StaffChatMoves`); whoever acts on
        moves clears it."""

    @property
    def id(self) -> int:
        return self._id

    def knows(self, chat_id: int) -> bool:
        """The group now, or one of its former ids (updates written there before the move may come late)."""
        return chat_id == self._id or chat_id in self.former

    def move_to(self, new_id: int) -> None:
        if new_id != self._id:
            self.former = (*self.former, self._id)
            self._id = new_id

    def __repr__(self) -> str:
        moved = f", formerly {', '.join(map(str, self.former))}" if self.former else ""
        return f"<StaffChat {self._id}{moved}>"


class StaffChatMoves:
    """Follows the staff group to its new id, remembers the move (``chat_moves``) and knows the group's
    mode. Built before the bot: the delivery middleware calls :meth:`call_failed` with the bot in hand."""

    def __init__(self, staff: StaffChat, store: Store, texts: Texts) -> None:
        self.staff = staff
        self.store = store
        self.texts = texts
        self._lock = asyncio.Lock()

    async def restore(self) -> None:
        """At start: a move remembered for the configured id wins over the configured id."""
        chain = await self.store.chat_moves.resolve(self.staff.configured)
        for move in chain:
            self.staff.move_to(move.new_chat_id)
        if chain:
            self.staff.moved.set()
            log.warning(
                "STAFF_CHAT_ID %s is out of date: the group became supergroup %s on %s; using %s. "
                "Put STAFF_CHAT_ID=%s into .env",
                self.staff.configured,
                chain[-1].new_chat_id,
                chain[-1].moved_at.date().isoformat(),
                self.staff.id,
                self.staff.id,
            )

    async def detect_mode(self, bot: Bot) -> None:
        """Is the staff group a forum (topics on)? Asked of Telegram at start and after a move."""
        chat_id = self.staff.id
        try:
            chat = await bot.get_chat(chat_id)
        except TelegramMigrateToChat as exc:
            if exc.migrate_to_chat_id != self.staff.id:
                raise
            return  # the group became a supergroup: followed, and its mode detected there (call_failed)
        except TelegramBadRequest as exc:
            log.error("staff chat %s is not reachable: %s (run `python main.py doctor`)", chat_id, exc)
            return
        self.staff.forum = bool(chat.is_forum)
        log.info("staff chat %s: %s mode", chat_id, "forum" if self.staff.forum else "reply")

    async def call_failed(self, bot: Bot, named: Collection[int], new_id: int) -> None:
        """The delivery middleware's callback: a call naming ``named`` chats was refused because one of
        them became supergroup ``new_id``. Returns once the bot has moved, so the caller can retry at once."""
        if self.staff.id in named:
            await self.follow(bot, self.staff.id, new_id)

    async def follow(self, bot: Bot, old_id: int, new_id: int) -> bool:
        """Group ``old_id`` is now ``new_id``: if it is the staff group, move there. True when the staff
        group is (now, or already) at ``new_id``; False for any other group."""
        async with self._lock:
            if self.staff.id != old_id:
                return self.staff.id == new_id and old_id in self.staff.former  # moved already
            # At once: from here on every filter and every sender uses the new id.
            self.staff.move_to(new_id)
            log.warning(
                "the staff group %s became supergroup %s: the bot follows it there. "
                "Put STAFF_CHAT_ID=%s into .env",
                old_id,
                new_id,
                new_id,
            )
            async with self.store.transaction():
                await self.store.chat_moves.record(old_id, new_id, self.store.now())
                await self.store.notice(
                    Destination(new_id),
                    self.texts.staff("staff.group_moved"),
                    dedupe=f"moved:{old_id}:{new_id}",
                )
            try:
                await self.detect_mode(bot)  # a group that turned topics on is a forum now
            except TelegramAPIError as exc:
                log.error("staff group %s: mode not detected: %s", new_id, exc)
        self.staff.moved.set()
        return True
