"""Reference articles' records: answers to "помогло" / "нет", what was offered and opened, articles sent in a
ticket by a specialist, and the example questions learned from tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from helpdesk.domain import Category, Role, Topic
from storage.db import fetch_all, fetch_one


@dataclass(frozen=True)
class ArticleStats:
    article_id: str
    helped: int
    not_helped: int
    offered: int = 0
    opened: int = 0


@dataclass(frozen=True)
class Example:
    id: int
    article_id: str
    question: str
    ticket_id: int | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class AskedQuestion:
    """A ticket's question, for the gaps report."""

    ticket_id: int
    role: Role
    topic: Topic
    category: Category
    question: str
    created_at: datetime


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class KbFeedbackRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def record(self, *, user_id: int, article_id: str, helped: bool, now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO kb_feedback (user_id, article_id, helped, created_at) VALUES (?, ?, ?, ?)",
            (user_id, article_id, int(helped), _iso(now)),
        )

    async def event(
        self, *, article_id: str, event: str, user_id: int | None, ticket_id: int | None, now: datetime
    ) -> None:
        await self.conn.execute(
            "INSERT INTO kb_events (article_id, event, user_id, ticket_id, created_at) VALUES (?, ?, ?, ?, ?)",
            (article_id, event, user_id, ticket_id, _iso(now)),
        )

    async def stats(self, since: datetime | None = None) -> list[ArticleStats]:
        """Per article: offered, opened, helped, declined; most helpful first."""
        where, params = ("WHERE created_at >= ?", (_iso(since),)) if since else ("", ())
        rows = await fetch_all(
            self.conn,
            f"""
            SELECT article_id, SUM(yes) AS yes, SUM(no) AS no, SUM(offered) AS offered, SUM(opened) AS opened
            FROM (
                SELECT article_id, helped AS yes, 1 - helped AS no, 0 AS offered, 0 AS opened
                FROM kb_feedback {where}
                UNION ALL
                SELECT article_id, 0, 0, event = 'offered', event = 'opened' FROM kb_events {where}
            )
            GROUP BY article_id ORDER BY yes DESC, no, offered DESC, article_id
            """,
            (*params, *params),
        )
        return [
            ArticleStats(r["article_id"], int(r["yes"]), int(r["no"]), int(r["offered"]), int(r["opened"]))
            for r in rows
        ]

    async def helped_count(self) -> int:
        row = await fetch_one(self.conn, "SELECT COUNT(*) FROM kb_feedback WHERE helped = 1")
        return int(row[0]) if row else 0

    # ---- articles sent in a ticket ------------------------------------------------------------------

    async def sent_in_ticket(
        self, *, ticket_id: int, article_id: str, staff_id: int | None, staff_name: str, now: datetime
    ) -> None:
        await self.conn.execute(
            """INSERT INTO ticket_articles (ticket_id, article_id, staff_id, staff_name, sent_at)
               VALUES (?, ?, ?, ?, ?)""",
            (ticket_id, article_id, staff_id, staff_name, _iso(now)),
        )

    async def answered_in_ticket(self, *, ticket_id: int, article_id: str, helped: bool, now: datetime) -> bool:
        """The user's answer to the article sent last in this ticket; False when it was answered already."""
        cursor = await self.conn.execute(
            """UPDATE ticket_articles SET outcome = ?, answered_at = ?
               WHERE id = (SELECT id FROM ticket_articles WHERE ticket_id = ? AND article_id = ?
                           ORDER BY id DESC LIMIT 1) AND outcome IS NULL""",
            ("helped" if helped else "declined", _iso(now), ticket_id, article_id),
        )
        return cursor.rowcount > 0

    async def articles_of_ticket(self, ticket_id: int) -> list[tuple[str, str | None]]:
        """(article id, outcome) of the articles sent in a ticket, in order."""
        rows = await fetch_all(
            self.conn,
            "SELECT article_id, outcome FROM ticket_articles WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [(r["article_id"], r["outcome"]) for r in rows]

    # ---- example questions ----------------------------------------------------------------------

    async def add_example(
        self, *, article_id: str, question: str, ticket_id: int | None, now: datetime
    ) -> bool:
        """False when the article has this example already (or it was rejected: it stays rejected)."""
        cursor = await self.conn.execute(
            """INSERT OR IGNORE INTO kb_examples (article_id, question, ticket_id, status, created_at)
               VALUES (?, ?, ?, 'accepted', ?)""",
            (article_id, question, ticket_id, _iso(now)),
        )
        return cursor.rowcount > 0

    async def reject_example(self, example_id: int) -> Example | None:
        await self.conn.execute("UPDATE kb_examples SET status = 'rejected' WHERE id = ?", (example_id,))
        row = await fetch_one(self.conn, "SELECT * FROM kb_examples WHERE id = ?", (example_id,))
        return _example(row) if row else None

    async def examples(self, *, status: str = "accepted", since: datetime | None = None) -> list[Example]:
        where, params = ("AND created_at >= ?", (_iso(since),)) if since else ("", ())
        rows = await fetch_all(
            self.conn,
            f"SELECT * FROM kb_examples WHERE status = ? {where} ORDER BY id",
            (status, *params),
        )
        return [_example(r) for r in rows]

    # ---- the gaps report ----------------------------------------------------------------------------

    async def questions_without_article(self, since: datetime) -> list[AskedQuestion]:
        """Tickets since ``since`` in which no specialist sent an article."""
        rows = await fetch_all(
            self.conn,
            """SELECT id, role, topic, category, question, created_at FROM tickets t
               WHERE created_at >= ? AND question != ''
                 AND NOT EXISTS (SELECT 1 FROM ticket_articles a WHERE a.ticket_id = t.id)
               ORDER BY id""",
            (_iso(since),),
        )
        return [
            AskedQuestion(
                r["id"],
                Role(r["role"]),
                Topic(r["topic"]),
                Category(r["category"]),
                r["question"],
                datetime.fromisoformat(r["created_at"]),
            )
            for r in rows
        ]


def _example(row: aiosqlite.Row) -> Example:
    return Example(
        row["id"],
        row["article_id"],
        row["question"],
        row["ticket_id"],
        row["status"],
        datetime.fromisoformat(row["created_at"]),
    )
