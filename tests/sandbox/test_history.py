"""The sandbox's «Месяц истории» button: a plausible month written once, and the deputy director sees the
month's report (text and chart) at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.core import Sandbox, SandboxError


async def test_a_month_of_history_gives_a_real_report(tmp_path: Path) -> None:
    sandbox = Sandbox(database_path=tmp_path / "sandbox.sqlite3", tick_seconds=3600)
    await sandbox.start()
    try:
        assert sandbox.status == "running"
        count = await sandbox.fill_history()
        assert 150 <= count <= 600
        with pytest.raises(SandboxError):
            await sandbox.fill_history()
        server = sandbox.server
        assert server is not None
        deputy = sandbox.people["deputy"].user

        def shown() -> bool:
            msgs = server.chat_messages(deputy.id)
            return any("Отчёт службы помощи" in m.content for m in msgs) and any(m.kind == "photo" for m in msgs)

        assert await server.world.wait_for(shown, 30)
        text = next(m for m in server.chat_messages(deputy.id) if "Отчёт службы помощи" in m.content).content
        assert "Вопросов:" in text and "Оценки:" in text and "Нагрузка специалистов" in text
        # The history is all closed: nothing of it reaches the staff group as a new question.
        assert sandbox.group is not None
        assert not any("Вопрос №" in m.content for m in server.chat_messages(sandbox.group))
    finally:
        await sandbox.stop()
