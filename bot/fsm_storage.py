"""aiogram FSM state kept in SQLite, so a restart in the middle of a dialog resumes it."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from storage.db import Database, fetch_all, fetch_one


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
    """Write-through: every change is in the database before the handler goes on; reads come from memory.

    This process is the only writer of the ``fsm`` table, so what it wrote last is what the table holds.
    Every update asks for the state (and most handlers for the data): from memory that costs nothing,
    from the database it was two trips to the database thread per update. An unchanged value is not
    written again. The most recently used ``cache_size`` keys are kept.
    """

    def __init__(self, db: Database, cache_size: int = 20_000) -> None:
        self.db = db
        self.cache_size = cache_size
        # key -> (state, data as JSON text); the JSON text doubles as a deep copy for every reader.
        self._cache: OrderedDict[str, tuple[str | None, str]] = OrderedDict()
        # The whole table is in memory (see `preload`): a key not in memory has no row.
        self._complete = False

    async def preload(self) -> None:
        """Read the whole table at start-up when it fits in memory. Until a key has to be forgotten, a key
        not in memory is then known to have no row: a new user's first update asks the database nothing
        (a wave of /start from a class chat is hundreds of them)."""
        rows = await fetch_all(
            self.db.conn, "SELECT key, state, data FROM fsm LIMIT ?", (self.cache_size + 1,)
        )
        if len(rows) > self.cache_size:
            return
        for row in rows:
            self._cache.setdefault(row["key"], (row["state"], row["data"] or "{}"))
        self._complete = True

    async def _load(self, key: str) -> tuple[str | None, str]:
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        if self._complete:
            value: tuple[str | None, str] = (None, "{}")
            self._remember(key, value)
            return value
        row = await fetch_one(self.db.conn, "SELECT state, data FROM fsm WHERE key = ?", (key,))
        value = (row["state"], row["data"] or "{}") if row else (None, "{}")
        self._remember(key, value)
        return value

    def _remember(self, key: str, value: tuple[str | None, str]) -> None:
        self._cache[key] = value
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
            self._complete = False

    async def _write(self, key: str, column: str, value: str | None) -> None:
        now = datetime.now(UTC).isoformat()
        try:
            async with self.db.autocommit() as conn:
                await conn.execute(
                    f"""INSERT INTO fsm (key, {column}, updated_at) VALUES (?, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at""",
                    (key, value, now),
                )
        except BaseException:
            self._cache.pop(key, None)  # unsure what the table holds now: read it again next time
            self._complete = False
            raise
        # The writer connection runs statements in the order they were queued and their results come back
        # in that order, so memory follows the order in which the writes committed.
        hit = self._cache.get(key)
        if hit is not None:  # (forgotten meanwhile: read again when needed)
            self._remember(key, (value, hit[1]) if column == "state" else (hit[0], value or "{}"))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        k = _key(key)
        current, _ = await self._load(k)
        if current == value:
            return
        await self._write(k, "state", value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._load(_key(key)))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        k = _key(key)
        text = json.dumps(dict(data), ensure_ascii=False)
        _, current = await self._load(k)
        if current == text:
            return
        await self._write(k, "data", text)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        loaded = json.loads((await self._load(_key(key)))[1])
        return loaded if isinstance(loaded, dict) else {}

    def evict(self, chat_id: int, user_id: int) -> None:
        """Forget what memory holds for a person's dialogs (their data was erased from the table): no write,
        so nothing of them is stored again."""
        needle = f":{chat_id}:{user_id}"
        for key in [k for k in self._cache if needle in k]:
            self._cache.pop(key, None)

    async def close(self) -> None:
        # The database belongs to the application, which closes it on shutdown.
        return None
