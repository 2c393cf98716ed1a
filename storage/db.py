"""The SQLite connection: WAL, busy timeout, numbered migrations applied by ``PRAGMA user_version``."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

MIGRATION_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
log = logging.getLogger(__name__)

# SQLite's primary result codes after which the database takes no more writes until someone acts: the bot
# stops (and says why) instead of dropping every message it is given.
FATAL_CODES = {
    sqlite3.SQLITE_READONLY: "the database is read-only",
    sqlite3.SQLITE_IOERR: "disk I/O error",
    sqlite3.SQLITE_CORRUPT: "the database file is corrupt",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
    sqlite3.SQLITE_NOTADB: "the file is not a database",
}


def fatal_reason(exc: BaseException) -> str | None:
    """What an error says about the database, when it means the database is unusable (else None)."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    return FATAL_CODES.get(code & 0xFF)


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
    # Erasure is real (152-ФЗ): deleted and overwritten content is zeroed in the file, not left in free
    # space or in the unused part of a page.
    await conn.execute("PRAGMA secure_delete=ON")
    return conn


class _NoStatements(logging.Filter):
    """aiosqlite logs every statement with its parameters at DEBUG: the parameters are message texts."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


def quiet_driver_logs() -> None:
    """No user text in the logs at any level: aiosqlite's DEBUG records (each statement and its parameters,
    the texts people wrote) are dropped, whatever level the root logger is set to. Idempotent."""
    driver = logging.getLogger("aiosqlite")
    if not any(isinstance(f, _NoStatements) for f in driver.filters):
        driver.addFilter(_NoStatements())
    if driver.level < logging.INFO:
        driver.setLevel(logging.INFO)


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
        self.failure: str | None = None
        """Why the database became unusable (see :meth:`note`); ``failed`` is set then."""
        self.failed = asyncio.Event()
        self._identity = self._file_identity()

    def _file_identity(self) -> tuple[int, int] | None:
        if str(self.path) == ":memory:":
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            log.error("the database failed: %s", reason)
        self.failed.set()

    def note(self, exc: BaseException) -> bool:
        """Look at an error that escaped a handler or a job: True (and :attr:`failed` set) when it means the
        database is unusable (the disk is full, the file is gone or corrupt)."""
        reason = fatal_reason(exc)
        if reason is None:
            return False
        self.fail(f"{reason} ({self.path}: {exc})")
        return True

    async def check(self, now: datetime | None = None) -> None:
        """The scheduler's check: is the file we write still the one at ``path``? A file deleted or replaced
        under a running bot takes every later write with it into an unlinked inode."""
        if self._identity is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.fail(f"the database file {self.path} is gone (deleted or its disk unmounted)")
            return
        except OSError as exc:
            self.fail(f"the database file {self.path} cannot be reached: {exc}")
            return
        if (st.st_dev, st.st_ino) != self._identity:
            self.fail(f"the database file {self.path} was replaced while the bot ran")
            return
        try:
            await fetch_one(self.conn, "SELECT 1")
        except sqlite3.Error as exc:
            if not self.note(exc):
                raise

    async def checkpoint(self, attempts: int = 40) -> bool:
        """Move the write-ahead log into the database file and truncate the log to zero bytes, so that what
        an erasure removed is not left in old log frames. False when a reader kept the log (tried again
        by the next erasure or retention pass)."""
        if str(self.path) == ":memory:":
            return True
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(0.05)  # a reader (the writer connection, a backup) finishes in moments
            async with self._write_lock:
                row = await fetch_one(self.conn, "PRAGMA wal_checkpoint(TRUNCATE)")
            if row is not None and int(row[0]) == 0:
                return True
        log.warning("the write-ahead log could not be truncated now: tried again at the next erasure")
        return False

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        quiet_driver_logs()
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
    async def settled(self) -> AsyncIterator[aiosqlite.Connection]:
        """Reads that must see only committed data: no transaction of this process is open meanwhile.

        Every repository shares one connection, and a read on it in the middle of another task's transaction
        sees that transaction's rows before they are committed (and before the task that writes them has
        marked them as its own: a new ticket, say, that the recovery would then post a second time).
        """
        async with self._write_lock:
            yield self.conn

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


def backup(source: Path, target: Path) -> int:
    """Write a consistent copy of the database at ``source`` to ``target`` with SQLite's online backup API
    (the bot may keep writing meanwhile: the copy is one moment's state, WAL included). The copy is checked
    (``PRAGMA quick_check``) and moved into place only when whole. Returns its schema version."""
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=1024)
            check = dst.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its check: {check}")
            version = int(dst.execute("PRAGMA user_version").fetchone()[0])
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    os.replace(partial, target)
    return version
