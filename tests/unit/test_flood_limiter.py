"""The flood limiter on its own: sends fit Telegram's limits at the moment they are made, a group waiting
for its minute holds nobody else up, and a group's minute survives a restart."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

from bot.delivery import FloodLimiter
from fakegram.limits import FloodControl, Limits
from storage.db import Database
from storage.flood import FloodJournal

GROUP = -100123


async def test_a_group_waiting_for_its_minute_holds_up_no_private_chat() -> None:
    limiter = FloodLimiter(group_limit=2, group_window=3.0)
    for _ in range(2):
        await limiter.acquire("sendMessage", GROUP)
    assert limiter.group_room(GROUP) == 0
    waiting = asyncio.create_task(limiter.acquire("sendMessage", GROUP))
    await asyncio.sleep(0.05)
    assert limiter.group_room(GROUP) == 0  # the waiting send counts as made
    started = time.monotonic()
    for chat in (1, 2, 3):
        await limiter.acquire("sendMessage", chat)
    assert time.monotonic() - started < 0.1
    assert not waiting.done()
    await asyncio.wait_for(waiting, 4)


async def test_every_send_fits_the_servers_limits_when_it_is_made() -> None:
    """Many callers at once, private chats and groups: the fake server's flood control, asked at the
    moment each send is made, never refuses one (a send counted when reserved but made later would).
    The limiter keeps a margin under the global limit (2 a second, 2 in the burst) for groups' sends
    that go ahead of the queue."""
    server = FloodControl(
        Limits(
            private_per_second=4.0,
            private_burst=3,
            group_per_minute=20,
            global_per_second=24.0,
            global_burst=8,
        )
    )
    limiter = FloodLimiter(
        private_rate=3.6, private_burst=3, group_limit=19, global_rate=22.0, global_burst=6
    )
    refused: list[tuple[int, int]] = []
    rng = random.Random(7)

    async def send(chat: int) -> None:
        await asyncio.sleep(rng.uniform(0, 0.5))
        await limiter.acquire("sendMessage", chat)
        retry = server.check("sendMessage", chat, chat > 0)
        if retry is not None:
            refused.append((chat, retry))

    chats = [1, 2, 3, 4, 5] * 10 + [GROUP, GROUP - 1] * 6
    await asyncio.wait_for(asyncio.gather(*(send(c) for c in chats)), 30)
    assert refused == []


async def test_the_groups_minute_is_restored_after_a_restart(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "flood.sqlite3")
    try:
        journal = FloodJournal(db)
        before = FloodLimiter(group_limit=3)
        before.journal = journal.save
        for _ in range(3):
            await before.acquire("sendMessage", GROUP)
        await before.settle()
        noted = await journal.load()
        assert len(noted[GROUP]) == 3
        # A restart: a new limiter, seeded from what was noted (a private chat's note would be ignored).
        after = FloodLimiter(group_limit=3)
        after.restore({**noted, 42: [time.time()]})
        assert after.group_room(GROUP) == 0
        assert 55 < after.group_backlog(GROUP) <= 61
        # Sends older than the window are forgotten.
        stale = FloodLimiter(group_limit=3)
        stale.restore({GROUP: [time.time() - 120] * 3})
        assert stale.group_room(GROUP) == 3
    finally:
        await db.close()
