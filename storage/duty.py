"""Specialist links, invites, scheduler marks and per-ticket scheduled actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import fetch_all, fetch_one


@dataclass(frozen=True)
class SpecialistLink:
    specialist_key: str
    tg_user_id: int
    tg_name: str
    linked_at: datetime


def _link(row: aiosqlite.Row) -> SpecialistLink:
    return SpecialistLink(
        specialist_key=row["specialist_key"],
        tg_user_id=row["tg_user_id"],
        tg_name=row["tg_name"],
        linked_at=datetime.fromisoformat(row["linked_at"]),
    )


@dataclass(frozen=True)
class Invite:
    token: str
    specialist_key: str
    created_by: int | None
    created_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class LinkRequest:
    """An invite opened by an account other than the one linked to the specialist: waits for management."""

    id: int
    specialist_key: str
    tg_user_id: int
    tg_name: str
    requested_at: datetime
    decided_at: datetime | None


def _request(row: aiosqlite.Row) -> LinkRequest:
    return LinkRequest(
        id=row["id"],
        specialist_key=row["specialist_key"],
        tg_user_id=row["tg_user_id"],
        tg_name=row["tg_name"],
        requested_at=datetime.fromisoformat(row["requested_at"]),
        decided_at=datetime.fromisoformat(row["decided_at"]) if row["decided_at"] else None,
    )


class DutyRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    # ---- links ----
    async def links(self) -> list[SpecialistLink]:
        return [
            _link(r)
            for r in await fetch_all(self.conn, "SELECT * FROM specialist_links ORDER BY specialist_key")
        ]

    async def link_of(self, key: str) -> SpecialistLink | None:
        row = await fetch_one(self.conn, "SELECT * FROM specialist_links WHERE specialist_key = ?", (key,))
        return _link(row) if row else None

    async def key_of(self, tg_user_id: int) -> str | None:
        row = await fetch_one(
            self.conn, "SELECT specialist_key FROM specialist_links WHERE tg_user_id = ?", (tg_user_id,)
        )
        return str(row[0]) if row else None

    async def link(self, key: str, tg_user_id: int, tg_name: str, now: datetime) -> None:
        # One account per specialist and one specialist per account: the newest link wins.
        await self.conn.execute(
            "DELETE FROM specialist_links WHERE specialist_key = ? OR tg_user_id = ?", (key, tg_user_id)
        )
        await self.conn.execute(
            "INSERT INTO specialist_links (specialist_key, tg_user_id, tg_name, linked_at) VALUES (?, ?, ?, ?)",
            (key, tg_user_id, tg_name, now.isoformat()),
        )

    async def unlink(self, key: str) -> bool:
        cur = await self.conn.execute("DELETE FROM specialist_links WHERE specialist_key = ?", (key,))
        return cur.rowcount > 0

    # ---- invites ----
    async def create_invite(self, token: str, key: str, created_by: int | None, now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO invites (token, specialist_key, created_by, created_at) VALUES (?, ?, ?, ?)",
            (token, key, created_by, now.isoformat()),
        )

    async def invite(self, token: str) -> Invite | None:
        row = await fetch_one(self.conn, "SELECT * FROM invites WHERE token = ?", (token,))
        if row is None:
            return None
        return Invite(
            token=row["token"],
            specialist_key=row["specialist_key"],
            created_by=row["created_by"],
            created_at=datetime.fromisoformat(row["created_at"]),
            used_at=datetime.fromisoformat(row["used_at"]) if row["used_at"] else None,
        )

    async def request_link(self, key: str, tg_user_id: int, tg_name: str, now: datetime) -> LinkRequest:
        row = await fetch_one(
            self.conn,
            "INSERT INTO link_requests (specialist_key, tg_user_id, tg_name, requested_at) VALUES (?, ?, ?, ?)"
            " RETURNING *",
            (key, tg_user_id, tg_name, now.isoformat()),
        )
        assert row is not None
        return _request(row)

    async def decide_link(self, request_id: int, decided_by: int | None, now: datetime) -> LinkRequest | None:
        """Mark an undecided request decided; None if there is none (unknown, or decided already)."""
        row = await fetch_one(
            self.conn,
            "UPDATE link_requests SET decided_at = ?, decided_by = ? WHERE id = ? AND decided_at IS NULL"
            " RETURNING *",
            (now.isoformat(), decided_by, request_id),
        )
        return _request(row) if row else None

    async def use_invite(self, token: str, used_by: int, now: datetime) -> str | None:
        """Consume a one-time invite. Returns the specialist key, or None if unknown or used."""
        row = await fetch_one(
            self.conn,
            "UPDATE invites SET used_at = ?, used_by = ? WHERE token = ? AND used_at IS NULL RETURNING specialist_key",
            (now.isoformat(), used_by, token),
        )
        return str(row[0]) if row else None

    # ---- marks and actions ----
    async def mark(self, name: str) -> str | None:
        row = await fetch_one(self.conn, "SELECT value FROM job_marks WHERE name = ?", (name,))
        return str(row[0]) if row else None

    async def set_mark(self, name: str, value: str) -> None:
        await self.conn.execute(
            "INSERT INTO job_marks (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    async def actions_done(self, ticket_id: int) -> set[str]:
        return {
            str(r[0])
            for r in await fetch_all(
                self.conn, "SELECT action FROM ticket_actions WHERE ticket_id = ?", (ticket_id,)
            )
        }

    async def mark_action(self, ticket_id: int, action: str, now: datetime) -> bool:
        """Record an action as done; False if it was done already (so it fires exactly once)."""
        cur = await self.conn.execute(
            "INSERT OR IGNORE INTO ticket_actions (ticket_id, action, done_at) VALUES (?, ?, ?)",
            (ticket_id, action, now.isoformat()),
        )
        return cur.rowcount > 0
