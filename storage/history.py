"""Writes a made-up history in bulk: the sandbox's «a month of history» button and the report benchmark.

Only what the reports read: users, tickets (no question text), one answer per answered ticket, ratings,
answers to reference articles and conduct events. One transaction, ``executemany`` per table. Every ticket
of the history is closed: an open one would be posted to the staff group and escalated like a real one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from helpdesk.domain import Category, Role, Topic

DEMO_CHANNEL = "demo"  # users of the made-up history: never anyone's real chat


@dataclass(frozen=True)
class PastTicket:
    user: int  # index into the made-up users
    role: Role
    topic: Topic
    category: Category
    created: datetime
    claimed_by: tuple[int, str] | None = None  # Telegram id, name
    answered: datetime | None = None
    closed: datetime | None = None
    closed_by: str | None = None
    vendor_at: datetime | None = None
    offered: tuple[str, ...] = ()
    conduct_end: bool = False
    rating: int | None = None
    rating_comment: str | None = None


@dataclass(frozen=True)
class PastArticleAnswer:
    user: int
    article_id: str
    helped: bool
    at: datetime


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


class HistoryRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def insert(
        self,
        *,
        users: int,
        tickets: Sequence[PastTicket],
        articles: Sequence[PastArticleAnswer],
        now: datetime,
        key: str,
    ) -> int:
        """Insert ``users`` made-up users (their external ids start with ``key``) and the rest; returns the
        number of tickets written. Call inside a transaction."""
        c = self.conn
        stamp = _iso(now)
        await c.executemany(
            """INSERT INTO users (channel, external_id, chat_id, first_name, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, external_id) DO NOTHING""",
            [(DEMO_CHANNEL, f"{key}-{i}", -(10**12) - i, f"Гость {i + 1}", stamp, stamp) for i in range(users)],
        )
        ids = {
            row[0]: row[1]
            for row in await c.execute_fetchall(
                "SELECT external_id, id FROM users WHERE channel = ? AND external_id LIKE ?", (DEMO_CHANNEL, f"{key}-%")
            )
        }
        user_id = [ids[f"{key}-{i}"] for i in range(users)]
        row = await c.execute_fetchall("SELECT COALESCE(MAX(id), 0) FROM tickets")
        first_id = next(iter(row))[0] + 1
        ticket_rows = []
        messages = []
        ratings = []
        conduct = []
        for n, t in enumerate(tickets):
            if t.closed is None:
                raise ValueError("a ticket of a made-up history must be closed")
            tid = first_id + n
            status = "closed"
            ticket_rows.append(
                (
                    tid,
                    user_id[t.user],
                    t.role.value,
                    t.topic.value,
                    t.category.value,
                    status,
                    t.claimed_by[0] if t.claimed_by else None,
                    t.claimed_by[1] if t.claimed_by else None,
                    t.closed_by,
                    _iso(t.created),
                    _iso(t.answered) if t.claimed_by else None,
                    _iso(t.answered),
                    _iso(t.closed),
                    _iso(t.vendor_at),
                    ",".join(t.offered),
                    t.rating,
                )
            )
            if t.answered is not None and t.claimed_by is not None:
                messages.append((tid, t.claimed_by[0], t.claimed_by[1], _iso(t.answered)))
            if t.closed is not None and not t.conduct_end:
                ratings.append(
                    (
                        tid,
                        t.role.value,
                        t.topic.value,
                        t.category.value,
                        t.claimed_by[0] if t.claimed_by else None,
                        _iso(t.closed),
                        t.rating,
                        _iso(t.closed) if t.rating else None,
                        t.rating_comment,
                    )
                )
            if t.conduct_end:
                for kind in ("violation", "session_end"):
                    conduct.append((_iso(t.closed or t.created), kind, user_id[t.user], tid))
        await c.executemany(
            """INSERT INTO tickets (id, user_id, role, topic, category, status, claimed_by_id, claimed_by_name,
                   closed_by, created_at, claimed_at, answered_at, closed_at, vendor_at, offered_articles, rating)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            ticket_rows,
        )
        await c.executemany(
            """INSERT INTO messages (ticket_id, direction, kind, author_id, author_name, delivery, created_at)
               VALUES (?, 'out', 'text', ?, ?, 'delivered', ?)""",
            messages,
        )
        await c.executemany(
            """INSERT INTO ratings (ticket_id, role, topic, category, specialist_id, asked_at, score, rated_at,
                   comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            ratings,
        )
        await c.executemany(
            "INSERT INTO conduct_events (at, kind, user_id, ticket_id, actor) VALUES (?, ?, ?, ?, 'filter')",
            conduct,
        )
        await c.executemany(
            "INSERT INTO kb_feedback (user_id, article_id, helped, created_at) VALUES (?, ?, ?, ?)",
            [(user_id[a.user], a.article_id, int(a.helped), _iso(a.at)) for a in articles],
        )
        # Every answer to an article followed its offer; so did every question asked after offered articles.
        offers = [(a.article_id, user_id[a.user], None, _iso(a.at)) for a in articles]
        offers += [
            (article, user_id[t.user], first_id + n, _iso(t.created))
            for n, t in enumerate(tickets)
            for article in t.offered
        ]
        await c.executemany(
            "INSERT INTO kb_events (article_id, event, user_id, ticket_id, created_at) VALUES (?, 'offered', ?, ?, ?)",
            offers,
        )
        return len(ticket_rows)
