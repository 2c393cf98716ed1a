"""Incoming updates, durably: stored in the database before Telegram is told they arrived, handled once.

Polling: each batch from ``getUpdates`` is written to the ``inbox`` table, and only then is the next
``getUpdates`` (which confirms the batch to Telegram) sent. Webhook: the update is written before the HTTP
answer. Either way a crash loses nothing: unprocessed updates are handled at the next start, and an update
that comes again (re-delivered after a crash) is recognised by its id and not handled twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.albums import AFTER_UPDATE
from bot.startup import REFUSED_TOKEN, Fatal
from storage.db import Database, fetch_all, fetch_one

log = logging.getLogger(__name__)


INT64_MAX = 2**63 - 1


def valid_update_id(value: object) -> bool:
    """Telegram's update ids are positive integers that fit SQLite's 64 bits (a bool is no id)."""
    return type(value) is int and 0 <= value <= INT64_MAX


class UpdateProcessor:
    """Stores updates and feeds them to the dispatcher, each once."""

    def __init__(self, bot: Bot, dp: Dispatcher, db: Database) -> None:
        self.bot = bot
        self.dp = dp
        self.db = db
        self.tasks: set[asyncio.Task[None]] = set()
        self.handled = 0
        self.duplicates = 0
        self._done: list[int] = []
        self._flusher: asyncio.Task[None] | None = None

    async def accept(self, payloads: list[dict[str, Any]]) -> None:
        """Store a batch durably (one transaction), then start handling the new ones."""
        batch: dict[int, dict[str, Any]] = {}
        for payload in payloads:
            update_id = payload.get("update_id")
            if not valid_update_id(update_id):
                log.warning("update without a valid update_id ignored")
                continue
            assert isinstance(update_id, int)
            batch.setdefault(update_id, payload)
        if not batch:
            return
        now = datetime.now(UTC).isoformat()
        # One statement for the whole batch (one trip to the database thread, atomic); RETURNING names
        # the updates that were not stored before.
        rows = ",".join("(?, ?, ?)" for _ in batch)
        params: list[Any] = []
        for update_id, payload in batch.items():
            params += [update_id, json.dumps(payload, ensure_ascii=False), now]
        async with self.db.autocommit() as conn:
            stored = await fetch_all(
                conn,
                f"INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES {rows} RETURNING update_id",
                params,
            )
        new_ids = {int(r[0]) for r in stored}
        fresh = [(u, p) for u, p in batch.items() if u in new_ids]
        self.duplicates += len(batch) - len(fresh)
        for update_id, payload in fresh:
            self._spawn(update_id, payload)

    def _spawn(self, update_id: int, payload: dict[str, Any]) -> None:
        task = asyncio.create_task(self._handle(update_id, payload))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _handle(self, update_id: int, payload: dict[str, Any]) -> None:
        try:
            update = Update.model_validate(payload, context={"bot": self.bot})
        except ValidationError as exc:
            log.warning("update %s is malformed and was skipped: %s", update_id, exc.errors()[:1])
        else:
            # What the handler leaves to finish later (an album's answer, see bot/albums.py): the update is
            # marked handled once that is done too, so a crash before it handles the update again.
            deferred: list[asyncio.Future[None]] = []
            token = AFTER_UPDATE.set(deferred)
            try:
                await self.dp.feed_update(self.bot, update)
            except Exception as exc:
                log.exception("update %s failed", update_id)
                self.db.note(exc)
            finally:
                AFTER_UPDATE.reset(token)
            if deferred:
                await asyncio.gather(*deferred, return_exceptions=True)
        self.handled += 1
        # Marks are written in small batches: one write per burst instead of one per update. An update
        # handled again after a crash is harmless: what it stores is recognised by its message id.
        self._done.append(update_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(0.05)
        await self.flush()

    async def flush(self) -> None:
        done, self._done = self._done, []
        if not done:
            return
        now = datetime.now(UTC).isoformat()
        marks = ",".join("?" * len(done))
        async with self.db.autocommit() as conn:
            await conn.execute(
                f"UPDATE inbox SET processed_at = ? WHERE update_id IN ({marks})", [now, *done]
            )

    async def backlog(self) -> int:
        """Handle what was stored but not handled before the last stop (oldest first)."""
        rows = list(
            await fetch_all(
                self.db.conn,
                "SELECT update_id, payload FROM inbox WHERE processed_at IS NULL ORDER BY update_id",
            )
        )
        for row in rows:
            self._spawn(int(row[0]), json.loads(row[1]))
        return len(rows)

    async def last_update_id(self) -> int | None:
        row = await fetch_one(self.db.conn, "SELECT MAX(update_id) FROM inbox")
        return int(row[0]) if row and row[0] is not None else None

    async def prune(self, now: datetime) -> None:
        """Forget handled updates after two days (Telegram keeps undelivered ones for 24 hours)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM inbox WHERE processed_at IS NOT NULL AND received_at < ?",
                ((now - timedelta(days=2)).isoformat(),),
            )

    async def drain(self, grace: float = 15.0) -> None:
        """Let the updates being handled finish (graceful shutdown)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=grace)
        if self._flusher is not None and not self._flusher.done():
            await self._flusher
        await self.flush()


class Polling:
    """Long polling with the durable inbox. ``run()`` until ``stop()``."""

    def __init__(self, bot: Bot, dp: Dispatcher, processor: UpdateProcessor, *, timeout: int = 25) -> None:
        self.bot = bot
        self.dp = dp
        self.processor = processor
        self.timeout = timeout
        self.stopped = asyncio.Event()
        self._fetch: asyncio.Task[Any] | None = None

    async def run(self) -> None:
        bot = self.bot
        url = bot.session.api.api_url(token=bot.token, method="getUpdates")
        allowed = self.dp.resolve_used_update_types()
        last = await self.processor.last_update_id()
        offset = last + 1 if last is not None else None
        delay = 1.0
        # Our own HTTP session for incoming updates: a malformed update must not make the whole batch
        # unreadable (each one is validated on its own), and polling never waits behind outgoing calls.
        async with aiohttp.ClientSession() as session:
            while not self.stopped.is_set():
                body: dict[str, Any] = {"timeout": self.timeout, "allowed_updates": allowed}
                if offset is not None:
                    body["offset"] = offset
                self._fetch = asyncio.create_task(self._get(session, url, body))
                try:
                    data = await self._fetch
                except asyncio.CancelledError:
                    if self.stopped.is_set():
                        break
                    raise
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    log.warning("getUpdates failed (%s); retrying in %.0f s", exc, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stopped.wait(), delay)
                    delay = min(delay * 2, 30.0)
                    continue
                if not data.get("ok"):
                    code = data.get("error_code")
                    if code == 401:
                        raise Fatal(REFUSED_TOKEN)
                    log.warning("getUpdates: %s %s; retrying in %.0f s", code, data.get("description"), delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stopped.wait(), delay)
                    delay = min(delay * 2, 30.0)
                    continue
                delay = 1.0
                updates = [u for u in data.get("result") or [] if isinstance(u, dict)]
                if not updates:
                    continue
                await self.processor.accept(updates)
                ids = [u["update_id"] for u in updates if valid_update_id(u.get("update_id"))]
                if ids:
                    offset = max(ids) + 1

    async def _get(self, session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=self.timeout + 15)
        async with session.post(url, json=body, timeout=timeout) as resp:
            data = await resp.json(content_type=None)
        if not isinstance(data, dict):
            raise ValueError("getUpdates answered something that is not a JSON object")
        return data

    def stop(self) -> None:
        self.stopped.set()
        if self._fetch is not None:
            self._fetch.cancel()


def webhook_app(processor: UpdateProcessor, *, path: str, secret: str) -> web.Application:
    """The webhook endpoint (secret checked in constant time) and a health endpoint."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.json_response({"ok": False, "description": "wrong secret token"}, status=401)
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            # RecursionError: JSON nested deeper than the parser goes (a crafted body, never Telegram's).
            return web.json_response({"ok": False, "description": "not JSON"}, status=400)
        if not isinstance(payload, dict) or not valid_update_id(payload.get("update_id")):
            # Answered 400 and not stored: Telegram never sends it, and a stored one could not be marked.
            return web.json_response({"ok": False, "description": "not an update"}, status=400)
        # Stored before we answer: once Telegram hears 200, the update is ours to keep.
        await processor.accept([payload])
        return web.json_response({"ok": True})

    async def health(request: web.Request) -> web.Response:
        row = await fetch_one(processor.db.conn, "SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL")
        return web.json_response(
            {
                "ok": True,
                "backlog": int(row[0]) if row else 0,
                "handled": processor.handled,
                "in_flight": len(processor.tasks),
            }
        )

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post(path, receive)
    app.router.add_get("/health", health)
    return app
