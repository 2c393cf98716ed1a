"""End to end: a restart does not reset the staff group's minute (Telegram keeps counting it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fakegram import FakeTelegram
from helpdesk.ports import Destination
from storage.flood import FloodJournal
from tests.conftest import Harness


async def test_a_bot_restarted_right_after_using_its_group_budget_gets_no_429(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    flood = fake_telegram.enable_limits()
    h = Harness(server=fake_telegram, tmp_path=tmp_path, forum=False)
    h.extra_env["FLOOD_CONTROL"] = "on"
    app = await h.start()
    try:
        group = h.group.id
        limiter = app.delivery.limiter
        # The bot spends the staff group's minute: as many posts as it allows itself.
        for i in range(limiter.group_room(group)):
            await app.gateway.send(Destination(group), f"Сообщение {i + 1}")
        assert limiter.group_room(group) == 0
        # Each send was noted as it was made, not at shutdown: a crash would keep them as well.
        await limiter.settle()
        assert len((await FloodJournal(app.db).load())[group]) == limiter.group_limit

        app = await h.restart()
        limiter = app.delivery.limiter
        # The restarted bot knows the minute is spent, as Telegram does: two more posts now would get a 429
        # (a refused check takes nothing from the budget).
        assert limiter.group_room(group) == 0
        assert limiter.group_backlog(group) > 50
        assert flood.check("sendMessage", group, False, 2) is not None
        waited = limiter.waited
        late = asyncio.create_task(app.gateway.send(Destination(group), "После перезапуска"))
        late_2 = asyncio.create_task(app.gateway.send(Destination(group), "И ещё одно"))
        # They wait for the minute (both are asleep for the rest of it) instead of being sent into a 429.
        backlog = limiter.group_backlog(group)
        assert await fake_telegram.world.wait_for(lambda: limiter.waited - waited >= 2 * (backlog - 1), 5)
        assert not late.done() and not late_2.done()
        assert fake_telegram.stats.too_many == 0
        late.cancel()
        late_2.cancel()
        await asyncio.gather(late, late_2, return_exceptions=True)
    finally:
        await h.stop()
    assert fake_telegram.stats.too_many == 0
