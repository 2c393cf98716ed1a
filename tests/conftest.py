"""Shared fixtures: a fake Bot API server on 127.0.0.1 and the real bot polling it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fakegram import Actor, FakeTelegram
from helpdesk.clock import ManualClock
from helpdesk.rules.kb import KnowledgeBase
from tests.timing import VirtualTime

if TYPE_CHECKING:
    from bot.factory import App

# The bot's modules (aiogram: seconds to import) are imported where they are used, not here: under
# pytest-xdist the controlling process loads this file too, and runs no test.

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
EXAMPLE_PROFILE = Path(__file__).resolve().parent.parent / "school.example.toml"


@dataclass
class Harness:
    """The fake Telegram world plus our bot, started and stopped like in production."""

    server: FakeTelegram
    tmp_path: Path
    forum: bool
    clock: ManualClock = field(default_factory=lambda: ManualClock(datetime(2026, 9, 1, 11, 0, tzinfo=UTC)))
    time: VirtualTime = field(default_factory=VirtualTime)
    """The delivery's waits (retry backoff, 429 pauses): they cost nothing unless a test holds them."""
    app: App | None = None
    task: asyncio.Task[None] | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    starts: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    consented: bool = True
    """Users made by :meth:`user` have agreed to the personal-data notice already (recorded in the database
    as the bot records it), so that scenarios about something else need not press «Согласен(на)». The
    tests of the notice itself turn it off (``h.consented = False``) or pass ``consented=False``."""
    _unwatch: Callable[[], None] = lambda: None
    _to_consent: list[tuple[int, str, str | None, str]] = field(default_factory=list)
    _consenting: list[asyncio.Future[None]] = field(default_factory=list)

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
        from bot.config import load_settings
        from bot.factory import create_app, serve
        from bot.updates import UpdateProcessor

        arrived_before = self.server.arrived(wait_for)
        self.app = await create_app(
            load_settings(self.env), clock=self.clock, sleep=self.time.sleep, monotonic=self.time.monotonic
        )
        app = self.app
        self.stop_event = asyncio.Event()
        task = self.task = asyncio.create_task(serve(app, self.stop_event, polling_timeout=1))
        self.starts += 1
        # Started means: start-up done and the first getUpdates (or setWebhook) has reached the server. A long
        # poll is signalled when it arrives, not when it ends a second later.
        arrived = await self.server.world.wait_for(
            lambda: task.done() or self.server.arrived(wait_for) > arrived_before, 10
        )
        if task.done():
            task.result()
            raise AssertionError("the bot stopped during start-up")
        if not arrived:
            raise AssertionError("the bot did not start polling")
        # The bot tells the fake server when it is done with what it fetched: a press waits for that, not
        # for a fixed quiet period.
        processor = app.extras["processor"]
        assert isinstance(processor, UpdateProcessor)
        self._unwatch = self.server.watch_bot(lambda: bool(processor.tasks))
        await self._record_consents()
        return app

    def _record_consents_now(self) -> bool:
        """The same, at once, from this (the event loop's) thread, when no transaction of the bot is open
        (every one holds the database's lock): the write cannot wait on the loop it blocks. The user must
        have agreed before their first message reaches the bot. False: the bot is in a transaction."""
        assert self.app is not None
        if self.app.db._write_lock.locked():
            return False
        import sqlite3

        from helpdesk.privacy import Consent

        consent = self.app.extras["consent"]
        assert isinstance(consent, Consent)
        now = self.clock().isoformat()
        db = sqlite3.connect(self.tmp_path / "helpdesk.sqlite3", timeout=10)
        try:
            with db:
                db.execute(
                    "INSERT OR IGNORE INTO notice_versions (version, text, created_at) VALUES (?, ?, ?)",
                    (consent.version, consent.notice_ru, now),
                )
                while self._to_consent:
                    tg_id, first_name, last_name, language = self._to_consent.pop(0)
                    (user_id,) = db.execute(
                        "INSERT INTO users (channel, external_id, chat_id, first_name, last_name, client_language,"
                        " consent_version, consent_at, created_at, updated_at) VALUES ('tg', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (channel, external_id) DO UPDATE SET consent_version = excluded.consent_version,"
                        " consent_at = excluded.consent_at RETURNING id",
                        (str(tg_id), tg_id, first_name, last_name, language, consent.version, now, now, now),
                    ).fetchone()
                    db.execute(
                        "INSERT INTO consents (user_id, version, decision, at) VALUES (?, ?, 'agree', ?)",
                        (user_id, consent.version, now),
                    )
                    self.app.store._user_cache.pop(("tg", str(tg_id)), None)
        finally:
            db.close()
        return True

    async def _record_consents(self) -> None:
        """The same, in the event loop, in one transaction of the bot's database: queued on its lock (first
        come, first served) at once, before anything the user writes can reach the bot."""
        if self.app is None:
            return
        from helpdesk.privacy import Consent

        consent = self.app.extras["consent"]
        assert isinstance(consent, Consent)
        now = self.clock().isoformat()
        async with self.app.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO notice_versions (version, text, created_at) VALUES (?, ?, ?)",
                (consent.version, consent.notice_ru, now),
            )
            while self._to_consent:
                tg_id, first_name, last_name, language = self._to_consent.pop(0)
                rows = await conn.execute_fetchall(
                    "INSERT INTO users (channel, external_id, chat_id, first_name, last_name, client_language,"
                    " consent_version, consent_at, created_at, updated_at) VALUES ('tg', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (channel, external_id) DO UPDATE SET consent_version = excluded.consent_version,"
                    " consent_at = excluded.consent_at RETURNING id",
                    (str(tg_id), tg_id, first_name, last_name, language, consent.version, now, now, now),
                )
                (user_id,) = next(iter(rows))
                await conn.execute(
                    "INSERT INTO consents (user_id, version, decision, at) VALUES (?, ?, 'agree', ?)",
                    (user_id, consent.version, now),
                )
                # The bot may have stored the user a moment before (one statement of its own): its copy in
                # memory has no consent yet.
                self.app.store._user_cache.pop(("tg", str(tg_id)), None)

    async def stop(self) -> None:
        if self._consenting:
            await asyncio.gather(*self._consenting)
            self._consenting.clear()
        if self.task is None or self.app is None:
            return
        self._unwatch()
        self.stop_event.set()
        await asyncio.wait_for(self.task, 20)
        self.task = None
        self.app = None

    async def restart(self) -> App:
        await self.stop()
        return await self.start()

    def user(
        self,
        first_name: str = "Анна",
        *,
        language_code: str = "ru",
        last_name: str | None = None,
        consented: bool | None = None,
    ) -> Actor:
        """A user of the bot; unless ``consented`` (default: the harness's) is False, one who has agreed to
        the personal-data notice already."""
        tg_user = self.server.add_user(first_name=first_name, last_name=last_name, language_code=language_code)
        if self.consented if consented is None else consented:
            self._to_consent.append((tg_user.id, first_name, last_name, language_code))
            if self.app is not None and not self._record_consents_now():
                self._consenting.append(asyncio.ensure_future(self._record_consents()))
        return self.server.actor(tg_user)

    async def consents_recorded(self) -> None:
        """Wait until the users made so far are recorded as having agreed (when the bot held the database's
        lock at the moment, the record was queued)."""
        if self._consenting:
            await asyncio.gather(*self._consenting)
            self._consenting.clear()

    def staff(self) -> Actor:
        return self.server.actor(self.specialist, chat=self.group)

    def staff_in(self, thread_id: int | None) -> Actor:
        actor = self.staff()
        return actor.in_thread(thread_id) if thread_id else actor


# The longest tests first: under pytest-xdist, one of them started last would keep a worker busy while the
# others have nothing left to do. (The order within each part stays as collected.)
LONGEST_FIRST = (
    "tests/fuzz/test_fuzz_updates.py::test_dispatcher_survives_random_updates",
    "tests/sandbox/test_browser.py",
    "tests/fuzz/",
    "tests/e2e/test_burst.py",
    "tests/e2e/test_fail_loudly.py",
    "tests/e2e/test_main_process.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, p in enumerate(LONGEST_FIRST) if item.nodeid.startswith(p)), len(LONGEST_FIRST))

    items.sort(key=rank)


@pytest.fixture(scope="session", autouse=True)
def _knowledge_base_built_once() -> Iterator[None]:
    """Every harness builds the app as production does, except that the knowledge base is built once per
    directory and session (parsing and stemming it takes a third of a second, and a test session starts
    the bot hundreds of times); it is read-only once built. An edited file is a new key."""
    import bot.factory

    build = bot.factory.load_knowledge_base
    built: dict[tuple[object, ...], KnowledgeBase] = {}

    def load(root: Path, default_locale: str = "ru") -> KnowledgeBase:
        base = Path(root).resolve()
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        key = (base, default_locale, *((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
        if key not in built:
            built[key] = build(root, default_locale)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot.factory, "load_knowledge_base", load)
        yield


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
