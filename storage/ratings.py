"""Satisfaction ratings: asked once per ticket, answered once (a score, then perhaps a comment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from storage.db import fetch_one
from storage.tickets import Ticket


@dataclass(frozen=True)
class Rating:
    ticket_id: int | None
    score: int | None
    comment: str | None
    asked_at: datetime
    rated_at: datetime | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class RatingRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def ask(self, ticket: Ticket, now: datetime) -> bool:
        """Note that the user is asked about ``ticket``; False when they were asked before (once per ticket)."""
        cur = await self.conn.execute(
            """INSERT INTO ratings (ticket_id, role, topic, category, specialist_id, asked_at)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id) DO NOTHING""",
            (
                ticket.id,
                ticket.role.value,
                ticket.topic.value,
                ticket.category.value,
                ticket.claimed_by_id,
                _iso(now),
            ),
        )
        return cur.rowcount > 0

    async def get(self, ticket_id: int) -> Rating | None:
        row = await fetch_one(self.conn, "SELECT * FROM ratings WHERE ticket_id = ?", (ticket_id,))
        if row is None:
            return None
        return Rating(
            ticket_id=row["ticket_id"],
            score=row["score"],
            comment=row["comment"],
            asked_at=datetime.fromisoformat(row["asked_at"]),
            rated_at=datetime.fromisoformat(row["rated_at"]) if row["rated_at"] else None,
        )

    async def rate(self, ticket_id: int, score: int, now: datetime) -> bool:
        """The score, once: False when the ticket was not asked about or is rated already."""
        cur = await self.conn.execute(
            "UPDATE ratings SET score = ?, rated_at = ? WHERE ticket_id = ? AND score IS NULL",
            (score, _iso(now), ticket_id),
        )
        if cur.rowcount == 0:
            return False
        await self.conn.execute("UPDATE tickets SET rating = ? WHERE id = ?", (score, ticket_id))
        return True

    async def comment(self, ticket_id: int, text: str) -> bool:
        """The comment after the score, once."""
        cur = await self.conn.execute(
            "UPDATE ratings SET comment = ? WHERE ticket_id = ? AND score IS NOT NULL AND comment IS NULL",
            (text, ticket_id),
        )
        return cur.rowcount > 0
