"""aiogram FSM state kept in SQLite, so a restart in the middle of a dialog resumes it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from storage.db import Database


def _key(key: StorageKey) -> str:
    parts = [str(key.bot_id), str(key.chat_id), str(key.user_id)]
    if key.thread_id:
        parts.append(f"t{key.thread_id}")
    if key.business_connection_id:
        parts.append(f"b{key.business_connection_id}")
    if key.destiny != "default":
        parts.append(f"d{key.destiny}")
    return ":".join(parts)


class SQLiteStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        now = datetime.now(UTC).isoformat()
        async with self.db.transaction() as conn:
            await conn.execute(
                """INSERT INTO fsm (key, state, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at""",
                (_key(key), value, now),
            )

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.conn.execute("SELECT state FROM fsm WHERE key = ?", (_key(key),)) as cur:
            row = await cur.fetchone()
        return row["state"] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        now = datetime.now(UTC).isoformat()
        async with self.db.transaction() as conn:
            await conn.execute(
                """INSERT INTO fsm (key, data, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at""",
                (_key(key), json.dumps(dict(data), ensure_ascii=False), now),
            )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.conn.execute("SELECT data FROM fsm WHERE key = ?", (_key(key),)) as cur:
            row = await cur.fetchone()
        if not row:
            return {}
        loaded = json.loads(row["data"])
        return loaded if isinstance(loaded, dict) else {}

    async def close(self) -> None:
        # The database belongs to the application, which closes it on shutdown.
        return None
