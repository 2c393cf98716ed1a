"""End to end: a burst of new questions under Telegram's real flood limits (enforced by the fake server)."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from fakegram import FakeTelegram
from tests.conftest import Harness
from tests.e2e.helpers import press_on


async def test_a_burst_of_tickets_is_visible_to_staff_without_a_single_429(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.enable_limits()
    h = Harness(server=fake_telegram, tmp_path=tmp_path, forum=False)
    h.extra_env.update({"FLOOD_CONTROL": "on", "TICK_SECONDS": "0.5"})
    await h.start()
    try:
        parents = [h.user(f"Родитель{i}") for i in range(40)]

        async def ask(i: int) -> None:
            # Many people at once: the server is never idle, so press on the very message that was expected.
            p = parents[i]
            await p.send("/start")
            await press_on(p, await p.expect("кто Вы", timeout=60), "Родитель")
            await press_on(p, await p.expect("С чем связан", timeout=60), "дневник")
            await press_on(p, await p.expect("Выберите тему", timeout=60), "Оценки")
            await p.expect("Опишите", timeout=60)
            await p.send(f"Вопрос родителя номер {i}: не видно оценок")
            await press_on(p, await p.expect("Проверьте", timeout=60), "Отправить")
            await p.expect("принят", timeout=60)

        started = time.monotonic()
        await asyncio.gather(*(ask(i) for i in range(40)))
        asked = time.monotonic() - started

        def visible() -> set[int]:
            seen: set[int] = set()
            for m in h.server.chat_messages(h.group.id):
                if m.from_bot and m.text:
                    seen.update(int(n) for n in re.findall(r"№(\d+)", m.text))
            return seen

        await fake_telegram.world.wait_for(lambda: set(range(1, 41)) <= visible(), 120)
        assert set(range(1, 41)) <= visible(), sorted(set(range(1, 41)) - visible())
        assert fake_telegram.stats.too_many == 0
        seen_after = time.monotonic() - started
        print(f"40 tickets asked in {asked:.1f}s, all visible to staff after {seen_after:.1f}s, 0 x 429")
    finally:
        await h.stop()
