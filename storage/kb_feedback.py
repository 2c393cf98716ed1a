"""Answers to reference articles offered in the question dialog: "помогло" or "нет, задать вопрос"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from storage.db import fetch_all, fetch_one


@dataclass(frozen=True)
class ArticleStats:
    article_id: str
    helped: int
    not_helped: int


class KbFeedbackRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def record(self, *, user_id: int, article_id: str, helped: bool, now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO kb_feedback (user_id, article_id, helped, created_at) VALUES (?, ?, ?, ?)",
            (user_id, article_id, int(helped), now.astimezone(UTC).isoformat()),
        )

    async def stats(self, since: datetime | None = None) -> list[ArticleStats]:
        """Per article, most helpful first."""
        where, params = ("WHERE created_at >= ?", (since.astimezone(UTC).isoformat(),)) if since else ("", ())
        rows = await fetch_all(
            self.conn,
            f"""
            SELECT article_id, SUM(helped) AS yes, SUM(1 - helped) AS no FROM kb_feedback {where}
            GROUP BY article_id ORDER BY yes DESC, no, article_id
            """,
            params,
        )
        return [ArticleStats(r["article_id"], int(r["yes"]), int(r["no"])) for r in rows]

    async def helped_count(self) -> int:
        row = await fetch_one(self.conn, "SELECT COUNT(*) FROM kb_feedback WHERE helped = 1")
        return int(row[0]) if row else 0
