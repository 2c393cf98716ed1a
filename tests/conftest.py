"""Shared fixtures: a fake Bot API server on 127.0.0.1 and the real bot polling it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.factory import App, create_app, serve
from fakegram import Actor, FakeTelegram
from helpdesk.clock import ManualClock

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
EXAMPLE_PROFILE = Path(__file__).resolve().parent.parent / "school.example.toml"


@dataclass
class Harness:
    """The fake Telegram world plus our bot, started and stopped like in production."""

    server: FakeTelegram
    tmp_path: Path
    forum: bool
    clock: ManualClock = field(default_factory=lambda: ManualClock(datetime(2026, 9, 1, 11, 0, tzinfo=UTC)))
    app: App | None = None
    task: asyncio.Task[None] | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    starts: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.specialist = self.server.add_user(first_name="Ирина", last_name="Соколова", language_code="ru")
        self.deputy = self.server.add_user(first_name="Ольга", last_name="Петровна", language_code="ru")
        self.group = self.server.add_group(
            title="ЭЖ: помощь",
            forum=self.forum,
            members=[self.specialist, self.deputy],
            admins=[self.deputy],
            bot_is_admin=True,
            bot_can_manage_topics=True,
        )

    def profile(self) -> Path:
        """The example school profile, with the harness's deputy director named as management."""
        path = self.tmp_path / "school.toml"
        if not path.exists():
            text = EXAMPLE_PROFILE.read_text(encoding="utf-8")
            assert "members = []" in text
            path.write_text(text.replace("members = []", f"members = [{self.deputy.id}]", 1), encoding="utf-8")
        return path

    @property
    def env(self) -> dict[str, str]:
        return {
            "SCHOOL_PROFILE": str(self.profile()),
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": self.server.base_url,
            "STAFF_CHAT_ID": str(self.group.id),
            "DATABASE_PATH": str(self.tmp_path / "helpdesk.sqlite3"),
            "TIMEZONE": "Europe/Moscow",
            "DEFAULT_LOCALE": "ru",
            "DAILY_SUMMARY_TIME": "off",
            # The fake server enforces no flood limits unless a test turns them on; neither do we then.
            "FLOOD_CONTROL": "off",
            **self.extra_env,
        }

    async def start(self, wait_for: str = "getUpdates") -> App:
        assert self.task is None, "already running"
        calls_before = len(self.server.calls)
        self.app = await create_app(load_settings(self.env), clock=self.clock)
        app = self.app
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(serve(app, self.stop_event, polling_timeout=1))
        self.starts += 1
        # Started means: start-up done and the first getUpdates (or setWebhook) is out.
        for _ in range(300):
            if any(c.method == wait_for for c in self.server.calls[calls_before:]):
                return app
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)
        raise AssertionError("the bot did not start polling")

    async def stop(self) -> None:
        if self.task is None or self.app is None:
            return
        self.stop_event.set()
        await asyncio.wait_for(self.task, 20)
        self.task = None
        self.app = None

    async def restart(self) -> App:
        await self.stop()
        return await self.start()

    def user(self, first_name: str = "Анна", *, language_code: str = "ru", last_name: str | None = None) -> Actor:
        return self.server.actor(
            self.server.add_user(first_name=first_name, last_name=last_name, language_code=language_code)
        )

    def staff(self) -> Actor:
        return self.server.actor(self.specialist, chat=self.group)

    def staff_in(self, thread_id: int | None) -> Actor:
        actor = self.staff()
        return actor.in_thread(thread_id) if thread_id else actor


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(token=TOKEN, bot_username="school_help_bot", bot_first_name="Помощник ЭЖ")
    await server.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        await server.stop()
    # Any call that real Telegram would refuse is a failure of the bot.
    assert not server.rejected, "refused calls: " + "; ".join(f"{c.method}: {c.error}" for c in server.rejected)
    bugs = [w for w in server.warnings if w.startswith("fakegram bug")]
    assert not bugs, bugs


async def _harness(server: FakeTelegram, tmp_path: Path, forum: bool) -> AsyncIterator[Harness]:
    harness = Harness(server=server, tmp_path=tmp_path, forum=forum)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture(params=["forum", "plain"])
async def desk(request: pytest.FixtureRequest, fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Harness]:
    """The running bot, once with a forum staff group and once with a plain one."""
    async for harness in _harness(fake_telegram, tmp_path, request.param == "forum"):
        yield harness


@pytest.fixture
async def forum_desk(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(fake_telegram, tmp_path, True):
        yield harness


@pytest.fixture
async def plain_desk(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(fake_telegram, tmp_path, False):
        yield harness
