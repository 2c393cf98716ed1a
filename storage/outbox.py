"""The outbox: messages the bot itself must send, stored with the change that caused them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import fetch_all


@dataclass(frozen=True)
class OutboxItem:
    id: int
    chat_id: int
    thread_id: int | None
    reply_to: int | None
    text: str
    markup: str | None
    attempts: int
    photo: bytes | None = None  # a picture sent with ``text`` as its caption


class OutboxRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def add(
        self,
        *,
        chat_id: int,
        thread_id: int | None,
        reply_to: int | None,
        text: str,
        markup: str | None,
        dedupe_key: str | None,
        now: datetime,
        photo: bytes | None = None,
    ) -> bool:
        """Queue a message. With a ``dedupe_key`` the same message is queued at most once."""
        cur = await self.conn.execute(
            """INSERT OR IGNORE INTO outbox (chat_id, thread_id, reply_to, text, markup, dedupe_key, created_at,
                                          photo)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (chat_id, thread_id, reply_to, text, markup, dedupe_key, now.isoformat(), photo),
        )
        return cur.rowcount > 0

    async def pending(self, limit: int = 500) -> list[OutboxItem]:
        rows = await fetch_all(
            self.conn, "SELECT * FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,)
        )
        return [
            OutboxItem(
                r["id"],
                r["chat_id"],
                r["thread_id"],
                r["reply_to"],
                r["text"],
                r["markup"],
                r["attempts"],
                r["photo"],
            )
            for r in rows
        ]

    async def sent(self, item_id: int, message_id: int, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?, error = NULL WHERE id = ?",
            (message_id, now.isoformat(), item_id),
        )

    async def failed(self, item_id: int, error: str) -> None:
        await self.conn.execute(
            "UPDATE outbox SET status = 'failed', error = ? WHERE id = ?", (error, item_id)
        )

    async def retry_later(self, item_id: int, error: str) -> None:
        await self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, error = ? WHERE id = ?", (error, item_id)
        )
