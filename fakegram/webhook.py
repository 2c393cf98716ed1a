"""Webhook delivery, as Telegram does it: after setWebhook, queued updates are POSTed to the URL one by one
with the secret token header, and retried until the bot answers 2xx. getUpdates is refused meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from .world import World


class WebhookPusher:
    def __init__(self, world: World) -> None:
        self.world = world
        self.url = ""
        self.secret: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.refused = 0
        self.last_error: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.url)

    def set(self, url: str, secret: str | None) -> None:
        self.url = url
        self.secret = secret
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def clear(self) -> None:
        self.url = ""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def _run(self) -> None:
        w = self.world
        async with aiohttp.ClientSession() as session:
            while self.url:
                if not w.updates:
                    await w.wait_for(lambda: bool(w.updates) or not self.url, 1.0)
                    continue
                update = w.updates[0]
                headers = {"Content-Type": "application/json"}
                if self.secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.secret
                try:
                    async with session.post(
                        self.url, data=json.dumps(update), headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                    ) as resp:
                        ok = 200 <= resp.status < 300
                        if not ok:
                            self.last_error = f"HTTP {resp.status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    ok = False
                    self.last_error = repr(exc)
                if ok:
                    if w.updates and w.updates[0] is update:
                        w.updates.pop(0)
                    w.fetched_upto = max(w.fetched_upto, int(update["update_id"]))
                    self.delivered += 1
                    w.bump()
                else:
                    self.refused += 1
                    await asyncio.sleep(0.3)
