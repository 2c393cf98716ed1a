"""Users of every channel, keyed by (channel, external id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

import aiosqlite

from helpdesk.domain import Role
from storage.db import fetch_one

TELEGRAM = "tg"


@dataclass(frozen=True)
class User:
    id: int
    channel: str
    external_id: str
    chat_id: int
    first_name: str
    last_name: str | None
    username: str | None
    client_language: str | None
    locale: str | None
    role: Role | None
    unreachable: bool
    staff_thread_id: int | None
    consent_version: str | None = None
    parent_confirmed: bool = False

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "—"

    def effective_locale(self, default: str) -> str:
        """The chosen language, else English for English Telegram clients, else the school's default."""
        if self.locale:
            return self.locale
        if self.client_language and self.client_language.lower().startswith("en"):
            return "en"
        return default


USER_COLUMNS = (
    "id",
    "channel",
    "external_id",
    "chat_id",
    "first_name",
    "last_name",
    "username",
    "client_language",
    "locale",
    "role",
    "unreachable",
    "staff_thread_id",
    "consent_version",
    "parent_confirmed_at",
)


def user_columns(table: str, prefix: str) -> str:
    """The user's columns of ``table`` renamed with ``prefix``, for a query that joins users to another table."""
    return ", ".join(f"{table}.{c} AS {prefix}{c}" for c in USER_COLUMNS)


@cache
def _keys(prefix: str) -> tuple[str, ...]:
    return tuple(prefix + c for c in USER_COLUMNS)


def _user(row: aiosqlite.Row, prefix: str = "") -> User:
    fields = {c: row[k] for c, k in zip(USER_COLUMNS, _keys(prefix), strict=True)}
    fields["role"] = Role(fields["role"]) if fields["role"] else None
    fields["unreachable"] = bool(fields["unreachable"])
    fields["parent_confirmed"] = fields.pop("parent_confirmed_at") is not None
    return User(**fields)


class UserRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def upsert(
        self,
        *,
        channel: str,
        external_id: str,
        chat_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        client_language: str | None,
        now: datetime,
    ) -> User:
        """Create or refresh a user from an incoming event. Writing to us means they are reachable."""
        ts = now.isoformat()
        row = await fetch_one(
            self.conn,
            """
            INSERT INTO users (channel, external_id, chat_id, first_name, last_name, username,
                               client_language, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (channel, external_id) DO UPDATE SET
                chat_id = excluded.chat_id, first_name = excluded.first_name,
                last_name = excluded.last_name, username = excluded.username,
                client_language = excluded.client_language, unreachable = 0,
                updated_at = excluded.updated_at
            RETURNING *
            """,
            (channel, external_id, chat_id, first_name, last_name, username, client_language, ts, ts),
        )
        assert row is not None
        return _user(row)

    async def get(self, user_id: int) -> User | None:
        row = await fetch_one(self.conn, "SELECT * FROM users WHERE id = ?", (user_id,))
        return _user(row) if row else None

    async def by_external(self, channel: str, external_id: str) -> User | None:
        row = await fetch_one(
            self.conn, "SELECT * FROM users WHERE channel = ? AND external_id = ?", (channel, external_id)
        )
        return _user(row) if row else None

    async def by_chat(self, channel: str, chat_id: int) -> User | None:
        row = await fetch_one(
            self.conn, "SELECT * FROM users WHERE channel = ? AND chat_id = ?", (channel, chat_id)
        )
        return _user(row) if row else None

    async def set_role(self, user_id: int, role: Role) -> None:
        await self.conn.execute("UPDATE users SET role = ? WHERE id = ?", (role.value, user_id))

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self.conn.execute("UPDATE users SET locale = ? WHERE id = ?", (locale, user_id))

    async def set_staff_thread(self, user_id: int, thread_id: int | None) -> None:
        await self.conn.execute("UPDATE users SET staff_thread_id = ? WHERE id = ?", (thread_id, user_id))

    async def mark_unreachable(self, channel: str, chat_id: int) -> bool:
        """Record that the user blocked the bot. Returns True if this changed anything."""
        cur = await self.conn.execute(
            "UPDATE users SET unreachable = 1 WHERE channel = ? AND chat_id = ? AND unreachable = 0",
            (channel, chat_id),
        )
        return cur.rowcount > 0
