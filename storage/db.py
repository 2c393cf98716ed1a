"""The SQLite connection: WAL, busy timeout, numbered migrations applied by ``PRAGMA user_version``."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

MIGRATION_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """All migrations shipped with the package, as (number, file name, SQL), in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, ... without gaps, found {numbers}")
    return found


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
    """The first row of a query, in one trip to the database thread.

    ``async with conn.execute(...) as cur: await cur.fetchone()`` costs three trips (execute, fetch,
    close), each a hand-over between threads; under load those hand-overs are most of a query's cost.
    """
    rows = await conn.execute_fetchall(sql, tuple(params))
    return next(iter(rows), None)  # type: ignore[return-value]


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
    """All rows of a query, in one trip to the database thread."""
    return list(await conn.execute_fetchall(sql, tuple(params)))  # type: ignore[arg-type]


async def _connect(path: Path | str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA busy_timeout=5000")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class Database:
    """Two aiosqlite connections to one file (WAL).

    ``conn`` is shared by all coroutines for reads and for transactions; a lock keeps the transactions
    apart (a transaction is several trips to the database thread, and another coroutine's statement must
    not land in the middle of it). ``writer`` takes single-statement writes (:meth:`autocommit`): they
    need no lock of ours, SQLite itself serialises them against transactions, and so the hot path (a
    message stored, a delivery noted) never queues behind other coroutines' transactions. Under load
    that queue was most of the time an update took.
    """

    def __init__(
        self, conn: aiosqlite.Connection, path: Path, writer: aiosqlite.Connection | None = None
    ) -> None:
        self.conn = conn
        self.path = path
        self.writer = writer
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await _connect(path)
        db = cls(conn, path)
        await db.migrate()
        if str(path) != ":memory:":  # an in-memory database cannot be shared: everything uses ``conn``
            db.writer = await _connect(path)
        return db

    async def migrate(self) -> int:
        """Apply the migrations newer than ``user_version``. Returns the resulting version."""
        row = await fetch_one(self.conn, "PRAGMA user_version")
        current = int(row[0]) if row else 0
        for number, _name, sql in migrations():
            if number <= current:
                continue
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(sql):
                    await self.conn.execute(statement)
                await self.conn.execute(f"PRAGMA user_version={number}")
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            current = number
        return current

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction. The service call is the boundary, not each query."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write statement, atomic on its own, on the ``writer`` connection: no BEGIN/COMMIT, no lock.

        Use it for exactly one statement (anything more needs :meth:`transaction`), and never inside a
        transaction: the statement would wait for that very transaction to end.
        """
        if self.writer is None:
            async with self._write_lock:
                yield self.conn
        else:
            yield self.writer

    async def close(self) -> None:
        if self.writer is not None:
            await self.writer.close()
        await self.conn.close()


def _split_sql(sql: str) -> list[str]:
    """Split a migration into complete statements (triggers, ``;`` in strings and comments are fine)."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()[:80]!r}")
    return statements
