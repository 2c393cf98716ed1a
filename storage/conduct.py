"""The conduct record: violations, session ends, blocks, withheld specialist messages, complaints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import aiosqlite

from storage.db import fetch_all, fetch_one


class EventKind(StrEnum):
    VIOLATION = "violation"  # a user broke the rules (the filter, or a specialist's button)
    SESSION_END = "session_end"  # the user's open ticket was closed by the policy
    BLOCK = "block"  # repeated violations: the user may not ask until unblocked
    UNBLOCK = "unblock"  # the deputy director lifted the block
    STAFF_VIOLATION = "staff_violation"  # a specialist's message was withheld


class Actor(StrEnum):
    FILTER = "filter"
    SPECIALIST = "specialist"
    DEPUTY = "deputy"


@dataclass(frozen=True)
class ConductEvent:
    id: int
    at: datetime
    kind: EventKind
    user_id: int | None
    ticket_id: int | None
    actor: Actor
    actor_id: int | None
    actor_name: str | None
    category: str | None
    matches: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Complaint:
    id: int
    at: datetime
    user_id: int
    ticket_id: int | None
    specialist_id: int | None
    specialist_name: str | None
    text: str
    sent_to: int | None


# Matched fragments are joined with a character no normalised fragment contains.
_SEP = "\x1f"


def _event(row: aiosqlite.Row) -> ConductEvent:
    return ConductEvent(
        id=row["id"],
        at=datetime.fromisoformat(row["at"]),
        kind=EventKind(row["kind"]),
        user_id=row["user_id"],
        ticket_id=row["ticket_id"],
        actor=Actor(row["actor"]),
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        category=row["category"],
        matches=tuple(m for m in row["matches"].split(_SEP) if m),
        text=row["text"],
    )


def _complaint(row: aiosqlite.Row) -> Complaint:
    return Complaint(
        id=row["id"],
        at=datetime.fromisoformat(row["at"]),
        user_id=row["user_id"],
        ticket_id=row["ticket_id"],
        specialist_id=row["specialist_id"],
        specialist_name=row["specialist_name"],
        text=row["text"],
        sent_to=row["sent_to"],
    )


class ConductRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def add(
        self,
        *,
        kind: EventKind,
        now: datetime,
        actor: Actor,
        user_id: int | None = None,
        ticket_id: int | None = None,
        actor_id: int | None = None,
        actor_name: str | None = None,
        category: str | None = None,
        matches: tuple[str, ...] = (),
        text: str = "",
    ) -> ConductEvent:
        row = await fetch_one(
            self.conn,
            """INSERT INTO conduct_events (at, kind, user_id, ticket_id, actor, actor_id, actor_name,
                   category, matches, text)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *""",
            (
                now.isoformat(),
                kind.value,
                user_id,
                ticket_id,
                actor.value,
                actor_id,
                actor_name,
                category,
                _SEP.join(matches),
                text,
            ),
        )
        assert row is not None
        return _event(row)

    async def for_user(self, user_id: int) -> list[ConductEvent]:
        rows = await fetch_all(
            self.conn, "SELECT * FROM conduct_events WHERE user_id = ? ORDER BY at, id", (user_id,)
        )
        return [_event(r) for r in rows]

    async def between(self, start: datetime, end: datetime) -> list[ConductEvent]:
        """Everything recorded in [start, end), for reports."""
        rows = await fetch_all(
            self.conn,
            "SELECT * FROM conduct_events WHERE at >= ? AND at < ? ORDER BY at, id",
            (start.isoformat(), end.isoformat()),
        )
        return [_event(r) for r in rows]

    async def last_notice(self, user_id: int) -> datetime | None:
        row = await fetch_one(self.conn, "SELECT at FROM conduct_notices WHERE user_id = ?", (user_id,))
        return datetime.fromisoformat(row["at"]) if row else None

    async def set_notice(self, user_id: int, now: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO conduct_notices (user_id, at) VALUES (?, ?)
               ON CONFLICT (user_id) DO UPDATE SET at = excluded.at""",
            (user_id, now.isoformat()),
        )

    async def add_complaint(
        self,
        *,
        now: datetime,
        user_id: int,
        ticket_id: int | None,
        specialist_id: int | None,
        specialist_name: str | None,
        text: str,
    ) -> Complaint:
        row = await fetch_one(
            self.conn,
            """INSERT INTO complaints (at, user_id, ticket_id, specialist_id, specialist_name, text)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING *""",
            (now.isoformat(), user_id, ticket_id, specialist_id, specialist_name, text),
        )
        assert row is not None
        return _complaint(row)

    async def complaint_sent(self, complaint_id: int, chat_id: int) -> None:
        await self.conn.execute("UPDATE complaints SET sent_to = ? WHERE id = ?", (chat_id, complaint_id))

    async def complaints(self) -> list[Complaint]:
        rows = await fetch_all(self.conn, "SELECT * FROM complaints ORDER BY id")
        return [_complaint(r) for r in rows]
