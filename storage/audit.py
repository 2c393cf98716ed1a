"""The audit trail: who did what on the staff side, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import fetch_all


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    ticket_id: int | None
    detail: str


def _entry(row: aiosqlite.Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=datetime.fromisoformat(row["at"]),
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        action=row["action"],
        ticket_id=row["ticket_id"],
        detail=row["detail"],
    )


class AuditRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def record(
        self,
        action: str,
        *,
        at: datetime,
        actor_id: int | None,
        actor_name: str,
        ticket_id: int | None = None,
        detail: str = "",
    ) -> None:
        await self.conn.execute(
            "INSERT INTO audit (at, actor_id, actor_name, action, ticket_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (at.isoformat(), actor_id, actor_name, action, ticket_id, detail),
        )

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        """The newest ``limit`` entries, newest first."""
        rows = await fetch_all(self.conn, "SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [_entry(r) for r in rows]

    async def of_ticket(self, ticket_id: int) -> list[AuditEntry]:
        """A ticket's history, oldest first."""
        rows = await fetch_all(self.conn, "SELECT * FROM audit WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [_entry(r) for r in rows]
