"""Seminars, sign-ups and the notices sent about them (each notice to each user once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from helpdesk.domain import Role
from storage.db import fetch_all, fetch_one
from storage.users import TELEGRAM, User, _user


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Seminar:
    id: int
    title: str
    starts_at: datetime
    place: str
    roles: tuple[Role, ...]
    created_by_id: int | None
    created_by_name: str
    created_at: datetime
    announced_at: datetime | None
    cancelled_at: datetime | None

    def upcoming(self, now: datetime) -> bool:
        """Announced, not cancelled, not started yet."""
        return self.announced_at is not None and self.cancelled_at is None and now < self.starts_at


@dataclass(frozen=True)
class Signup:
    user: User
    signed_at: datetime


def _seminar(row: aiosqlite.Row) -> Seminar:
    starts = _dt(row["starts_at"])
    created = _dt(row["created_at"])
    assert starts is not None and created is not None
    return Seminar(
        id=row["id"],
        title=row["title"],
        starts_at=starts,
        place=row["place"],
        roles=tuple(Role(r) for r in row["roles"].split(",") if r),
        created_by_id=row["created_by_id"],
        created_by_name=row["created_by_name"],
        created_at=created,
        announced_at=_dt(row["announced_at"]),
        cancelled_at=_dt(row["cancelled_at"]),
    )


class SeminarRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def create(
        self,
        *,
        title: str,
        starts_at: datetime,
        place: str,
        roles: tuple[Role, ...],
        created_by_id: int | None,
        created_by_name: str,
        now: datetime,
    ) -> Seminar:
        row = await fetch_one(
            self.conn,
            """
            INSERT INTO seminars (title, starts_at, place, roles, created_by_id, created_by_name, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            RETURNING *
            """,
            (
                title,
                _ts(starts_at),
                place,
                ",".join(r.value for r in roles),
                created_by_id,
                created_by_name,
                _ts(now),
            ),
        )
        assert row is not None
        return _seminar(row)

    async def get(self, seminar_id: int) -> Seminar | None:
        row = await fetch_one(self.conn, "SELECT * FROM seminars WHERE id = ?", (seminar_id,))
        return _seminar(row) if row else None

    async def mark_announced(self, seminar_id: int, now: datetime) -> bool:
        """Publish a draft. False if it was already announced (a second press of the button)."""
        cur = await self.conn.execute(
            "UPDATE seminars SET announced_at = ? WHERE id = ? AND announced_at IS NULL AND cancelled_at IS NULL",
            (_ts(now), seminar_id),
        )
        return cur.rowcount > 0

    async def cancel(self, seminar_id: int, now: datetime) -> bool:
        cur = await self.conn.execute(
            "UPDATE seminars SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL",
            (_ts(now), seminar_id),
        )
        return cur.rowcount > 0

    async def upcoming(self, now: datetime) -> list[Seminar]:
        """Announced, not cancelled, not started; soonest first."""
        rows = await fetch_all(
            self.conn,
            """
            SELECT * FROM seminars
            WHERE announced_at IS NOT NULL AND cancelled_at IS NULL AND starts_at > ?
            ORDER BY starts_at, id
            """,
            (_ts(now),),
        )
        return [_seminar(r) for r in rows]

    # ---- sign-ups -------------------------------------------------------------------------------

    async def sign_up(self, seminar_id: int, user_id: int, now: datetime) -> bool:
        """True if the user was not signed up before."""
        cur = await self.conn.execute(
            "INSERT OR IGNORE INTO seminar_signups (seminar_id, user_id, signed_at) VALUES (?, ?, ?)",
            (seminar_id, user_id, _ts(now)),
        )
        return cur.rowcount > 0

    async def cancel_signup(self, seminar_id: int, user_id: int) -> bool:
        """True if there was a sign-up. Reminders already sent stay recorded (so a new sign-up does not
        repeat them)."""
        cur = await self.conn.execute(
            "DELETE FROM seminar_signups WHERE seminar_id = ? AND user_id = ?", (seminar_id, user_id)
        )
        return cur.rowcount > 0

    async def signed_up_to(self, user_id: int) -> set[int]:
        rows = await fetch_all(
            self.conn, "SELECT seminar_id FROM seminar_signups WHERE user_id = ?", (user_id,)
        )
        return {int(r[0]) for r in rows}

    async def count_signups(self, seminar_id: int) -> int:
        row = await fetch_one(
            self.conn, "SELECT COUNT(*) FROM seminar_signups WHERE seminar_id = ?", (seminar_id,)
        )
        return int(row[0]) if row else 0

    async def signups(self, seminar_id: int) -> list[Signup]:
        """Who signed up, in the order they did."""
        rows = await fetch_all(
            self.conn,
            """
            SELECT u.*, s.signed_at AS signed_at FROM seminar_signups s JOIN users u ON u.id = s.user_id
            WHERE s.seminar_id = ? ORDER BY s.signed_at, u.id
            """,
            (seminar_id,),
        )
        return [Signup(_user(r), datetime.fromisoformat(r["signed_at"])) for r in rows]

    # ---- notices --------------------------------------------------------------------------------

    async def audience_size(self, roles: tuple[Role, ...]) -> int:
        """How many reachable users of these roles have used the bot."""
        if not roles:
            return 0
        marks = ",".join("?" for _ in roles)
        row = await fetch_one(
            self.conn,
            f"SELECT COUNT(*) FROM users WHERE channel = ? AND unreachable = 0 AND role IN ({marks})",
            (TELEGRAM, *(r.value for r in roles)),
        )
        return int(row[0]) if row else 0

    async def announce_recipients(self, seminar: Seminar, limit: int = 1000) -> list[User]:
        """Users of the seminar's roles who have used the bot, are reachable and were not told yet."""
        if not seminar.roles:
            return []
        marks = ",".join("?" for _ in seminar.roles)
        rows = await fetch_all(
            self.conn,
            f"""
            SELECT u.* FROM users u
            WHERE u.channel = ? AND u.unreachable = 0 AND u.role IN ({marks})
              AND NOT EXISTS (SELECT 1 FROM seminar_notices n
                              WHERE n.seminar_id = ? AND n.user_id = u.id AND n.kind = 'announce')
            ORDER BY u.id LIMIT ?
            """,
            (TELEGRAM, *(r.value for r in seminar.roles), seminar.id, limit),
        )
        return [_user(r) for r in rows]

    async def signups_without(self, seminar_id: int, kind: str) -> list[Signup]:
        """Reachable signed-up users who have not had the ``kind`` notice."""
        rows = await fetch_all(
            self.conn,
            """
            SELECT u.*, s.signed_at AS signed_at FROM seminar_signups s JOIN users u ON u.id = s.user_id
            WHERE s.seminar_id = ? AND u.unreachable = 0
              AND NOT EXISTS (SELECT 1 FROM seminar_notices n
                              WHERE n.seminar_id = s.seminar_id AND n.user_id = u.id AND n.kind = ?)
            ORDER BY s.signed_at, u.id
            """,
            (seminar_id, kind),
        )
        return [Signup(_user(r), datetime.fromisoformat(r["signed_at"])) for r in rows]

    async def record_notice(self, seminar_id: int, user_id: int, kind: str, now: datetime, ok: bool) -> None:
        await self.conn.execute(
            "INSERT OR IGNORE INTO seminar_notices (seminar_id, user_id, kind, sent_at, ok) VALUES (?, ?, ?, ?, ?)",
            (seminar_id, user_id, kind, _ts(now), int(ok)),
        )

    async def notices_sent(self, seminar_id: int, kind: str) -> int:
        row = await fetch_one(
            self.conn,
            "SELECT COUNT(*) FROM seminar_notices WHERE seminar_id = ? AND kind = ? AND ok = 1",
            (seminar_id, kind),
        )
        return int(row[0]) if row else 0
