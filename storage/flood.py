"""Recent sends to groups, kept across restarts: Telegram keeps counting a group's minute after the bot
restarts, so the restarted bot must too (see ``bot.delivery.FloodLimiter``).

One row per group in ``job_marks``: ``flood:<chat id>`` -> a JSON list of unix times, the sends still
inside the group's window (at most 20), rewritten at each send.
"""

from __future__ import annotations

import json
import logging

from storage.db import Database, fetch_all

log = logging.getLogger(__name__)

PREFIX = "flood:"


class FloodJournal:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, chat: int | str, times: list[float]) -> None:
        async with self.db.autocommit() as conn:
            await conn.execute(
                "INSERT INTO job_marks (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (f"{PREFIX}{chat}", json.dumps(times)),
            )

    async def load(self) -> dict[int | str, list[float]]:
        """Every group's sends as last written (old ones included: the limiter drops what has expired)."""
        found: dict[int | str, list[float]] = {}
        rows = await fetch_all(
            self.db.conn, "SELECT name, value FROM job_marks WHERE name LIKE ?", (f"{PREFIX}%",)
        )
        for name, value in rows:
            key = str(name)[len(PREFIX) :]
            chat: int | str = int(key) if key.lstrip("-").isdigit() else key
            try:
                times = [float(t) for t in json.loads(value)]
            except (ValueError, TypeError):
                log.warning("ignoring a malformed note of sends to %s", key)
                continue
            found[chat] = times
        return found
