"""Seminar notices through the Telegram channel: paced sending, each notice once, and resuming after
Telegram trouble (the use cases with their fake channel are in ``test_seminar_service.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.exceptions import TelegramForbiddenError, TelegramNetworkError
from aiogram.methods import SendMessage

import bot.seminar_notifier as notifier_module
from bot import keyboards
from bot.callbacks import SeminarCb
from bot.seminar_notifier import BroadcastChannel
from helpdesk.clock import ManualClock
from helpdesk.domain import Role
from helpdesk.ports import Destination
from helpdesk.seminars import SeminarAction, SeminarService, signup_button
from helpdesk.texts import Texts
from storage.db import Database
from storage.seminars import Seminar, SeminarRepo
from storage.users import TELEGRAM, UserRepo

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
START = datetime(2026, 9, 3, 12, 0, tzinfo=UTC)
METHOD = SendMessage(chat_id=1, text="x")


class FakeGateway:
    """Records what would be sent; ``fail`` maps a chat id to the error its next send raises."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.fail: dict[int, Exception] = {}

    async def send(self, dest: Destination, html_text: str, **_: Any) -> int:
        error = self.fail.pop(dest.chat_id, None)
        if error is not None:
            raise error
        self.sent.append((dest.chat_id, html_text))
        return len(self.sent)


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = await Database.open(tmp_path / "db.sqlite3")
    try:
        yield database
    finally:
        await database.close()


async def _setup(db: Database, teachers: int) -> Seminar:
    users = UserRepo(db.conn)
    for n in range(1, teachers + 1):
        user = await users.upsert(
            channel=TELEGRAM,
            external_id=str(n),
            chat_id=n,
            first_name=f"T{n}",
            last_name=None,
            username=None,
            client_language="ru",
            now=NOW,
        )
        await users.set_role(user.id, Role.SUBJECT_TEACHER)
    repo = SeminarRepo(db.conn)
    seminar = await repo.create(
        title="Итоговые оценки",
        starts_at=START,
        place="каб. 21",
        roles=(Role.SUBJECT_TEACHER,),
        created_by_id=None,
        created_by_name="",
        now=NOW,
    )
    await repo.mark_announced(seminar.id, NOW)
    got = await repo.get(seminar.id)
    assert got is not None
    return got


def _notifier(db: Database, gateway: FakeGateway) -> SeminarService:
    return SeminarService(
        db=db,
        clock=ManualClock(NOW),
        channel=BroadcastChannel(gateway, messages_per_second=20),  # type: ignore[arg-type]
        texts=Texts(),
        tz=ZoneInfo("Europe/Moscow"),
    )


async def test_broadcast_is_paced_and_sent_once(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(notifier_module.asyncio, "sleep", fake_sleep)
    seminar = await _setup(db, teachers=5)
    gateway = FakeGateway()
    notifier = _notifier(db, gateway)

    assert await notifier.broadcast(seminar) == 5
    assert sorted(chat for chat, _ in gateway.sent) == [1, 2, 3, 4, 5]
    assert "Итоговые оценки" in gateway.sent[0][1]
    assert pauses == [0.05] * 5  # at most 20 messages a second
    assert await notifier.broadcast(seminar) == 0
    await notifier.check(NOW)
    assert len(gateway.sent) == 5


async def test_a_blocked_user_is_skipped_and_a_network_failure_resumes_later(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(notifier_module.asyncio, "sleep", no_sleep)
    seminar = await _setup(db, teachers=4)
    gateway = FakeGateway()
    gateway.fail[2] = TelegramForbiddenError(METHOD, "Forbidden: bot was blocked by the user")
    gateway.fail[3] = TelegramNetworkError(METHOD, "connection reset")
    notifier = _notifier(db, gateway)

    # User 2 refused (recorded, not retried); user 3 hit a network error: the broadcast pauses there.
    assert await notifier.broadcast(seminar) == 1
    assert [chat for chat, _ in gateway.sent] == [1]
    # The next tick goes on from where it stopped, without repeating anyone.
    await notifier.check(NOW + timedelta(seconds=30))
    assert [chat for chat, _ in gateway.sent] == [1, 3, 4]
    assert await SeminarRepo(db.conn).notices_sent(seminar.id, "announce") == 3


async def test_reminders_once_each_for_those_signed_up(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(notifier_module.asyncio, "sleep", no_sleep)
    seminar = await _setup(db, teachers=3)
    gateway = FakeGateway()
    notifier = _notifier(db, gateway)
    await notifier.broadcast(seminar)
    repo = SeminarRepo(db.conn)
    await repo.sign_up(seminar.id, 1, NOW)
    await repo.sign_up(seminar.id, 3, NOW)
    gateway.sent.clear()

    await notifier.check(START - timedelta(hours=30))
    assert gateway.sent == []
    await notifier.check(START - timedelta(hours=20))
    await notifier.check(START - timedelta(hours=19))
    assert [(chat, "завтра" in text) for chat, text in gateway.sent] == [(1, True), (3, True)]
    gateway.sent.clear()
    await notifier.check(START - timedelta(minutes=59))
    await notifier.check(START - timedelta(minutes=30))
    assert [(chat, "Через час" in text) for chat, text in gateway.sent] == [(1, True), (3, True)]
    gateway.sent.clear()
    await notifier.check(START + timedelta(minutes=1))
    assert gateway.sent == []


@pytest.mark.parametrize("signed_up", [False, True])
def test_the_core_button_is_todays_callback_data(signed_up: bool) -> None:
    tr = Texts()("ru")
    action = SeminarAction.CANCEL if signed_up else SeminarAction.SIGN_UP
    assert signup_button(tr, 42, signed_up).payload == SeminarCb(action=action, seminar=42).pack()
    button = keyboards.seminar(tr, 42, signed_up).inline_keyboard[0][0]
    assert button.callback_data == SeminarCb(action=action, seminar=42).pack()
