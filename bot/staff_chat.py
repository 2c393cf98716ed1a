"""The staff group's chat id, and following the group when Telegram gives it a new one.

A basic group that becomes a supergroup (topics turned on, many members, some settings) gets a new chat id;
every call naming the old id then fails with "group chat was upgraded to a supergroup chat" and the new id
(``TelegramMigrateToChat``), and the bot gets a service message in each group (``migrate_to_chat_id`` in the
old one, ``migrate_from_chat_id`` in the new one). Whichever comes first, :class:`StaffChatMoves` moves the
bot to the new id at once, remembers the move, and has the desk post the open tickets' cards again there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError

from bot.delivery import Destination
from storage.chat_moves import ChatMovesRepo

if TYPE_CHECKING:
    from bot.desk import Desk
    from storage.db import Database

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
    """Follows the staff group to its new id and remembers the move (``chat_moves``)."""

    def __init__(self, staff: StaffChat, desk: Desk, db: Database) -> None:
        self.staff = staff
        self.desk = desk
        self.db = db
        self._lock = asyncio.Lock()

    async def restore(self) -> None:
        """At start: a move remembered for the configured id wins over the configured id."""
        chain = await ChatMovesRepo(self.db.conn).resolve(self.staff.configured)
        for move in chain:
            self.staff.move_to(move.new_chat_id)
        if chain:
            log.warning(
                "STAFF_CHAT_ID %s is out of date: the group became supergroup %s on %s; using %s. "
                "Put STAFF_CHAT_ID=%s into .env",
                self.staff.configured,
                chain[-1].new_chat_id,
                chain[-1].moved_at.date().isoformat(),
                self.staff.id,
                self.staff.id,
            )

    async def call_failed(self, named: Collection[int], new_id: int) -> None:
        """The delivery middleware's hook: a call naming ``named`` chats was refused because one of them
        became supergroup ``new_id``. Returns once the bot has moved, so the caller can retry at once."""
        if self.staff.id in named:
            await self.follow(self.staff.id, new_id)

    async def follow(self, old_id: int, new_id: int) -> bool:
        """Group ``old_id`` is now ``new_id``: if it is the staff group, move there. True when the staff
        group is (now, or already) at ``new_id``; False for any other group."""
        async with self._lock:
            if self.staff.id != old_id:
                return self.staff.id == new_id and old_id in self.staff.former  # moved already
            # At once: from here on every filter and every sender uses the new id.
            self.staff.move_to(new_id)
            log.warning(
                "the staff group %s became supergroup %s: the bot follows it there. Put STAFF_CHAT_ID=%s into .env",
                old_id,
                new_id,
                new_id,
            )
            async with self.db.transaction() as conn:
                await ChatMovesRepo(conn).record(old_id, new_id, self.desk.service.now())
                await self.desk.enqueue_in(
                    conn,
                    Destination(new_id),
                    self.desk.staff_tr("staff.group_moved"),
                    dedupe=f"moved:{old_id}:{new_id}",
                )
            try:
                await self.desk.detect_staff_mode()  # a group that turned topics on is a forum now
            except TelegramAPIError as exc:
                log.error("staff group %s: mode not detected: %s", new_id, exc)
        self.desk.staff_moved()
        return True
