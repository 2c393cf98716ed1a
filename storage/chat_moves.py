"""Chats that Telegram moved to a new id (a group upgraded to a supergroup)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import fetch_all


@dataclass(frozen=True)
class ChatMove:
    old_chat_id: int
    new_chat_id: int
    moved_at: datetime


class ChatMovesRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def record(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """Remember the move, and send the notices still queued for the old id to the new one.

        A queued notice that replied to a message or went to a topic of the old group loses that place:
        its message ids mean nothing in the new chat.
        """
        await self.conn.execute(
            "INSERT OR REPLACE INTO chat_moves (old_chat_id, new_chat_id, moved_at) VALUES (?, ?, ?)",
            (old_chat_id, new_chat_id, now.isoformat()),
        )
        await self.conn.execute(
            """UPDATE outbox SET chat_id = ?, thread_id = NULL, reply_to = NULL
               WHERE chat_id = ? AND status = 'pending'""",
            (new_chat_id, old_chat_id),
        )

    async def all(self) -> list[ChatMove]:
        rows = await fetch_all(self.conn, "SELECT * FROM chat_moves ORDER BY moved_at, old_chat_id")
        return [
            ChatMove(r["old_chat_id"], r["new_chat_id"], datetime.fromisoformat(r["moved_at"])) for r in rows
        ]

    async def resolve(self, chat_id: int) -> list[ChatMove]:
        """The moves that lead from ``chat_id`` to where the chat is now (empty: it never moved)."""
        by_old = {move.old_chat_id: move for move in await self.all()}
        chain: list[ChatMove] = []
        seen = {chat_id}
        while chat_id in by_old:
            move = by_old[chat_id]
            chain.append(move)
            chat_id = move.new_chat_id
            if chat_id in seen:
                break  # a loop cannot come from Telegram; stop rather than spin
            seen.add(chat_id)
        return chain
