"""The seminar use cases against a real SQLite file and an in-memory channel: no Telegram, no waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from helpdesk.clock import ManualClock
from helpdesk.domain import Role
from helpdesk.ports import Button, Delivery
from helpdesk.seminars import (
    Choice,
    Drafted,
    SeminarAction,
    SeminarService,
    Unreadable,
)
from helpdesk.texts import Texts
from storage.db import Database
from storage.seminars import Seminar, SeminarRepo
from storage.users import TELEGRAM, User, UserRepo

NOW = datetime(2026, 9, 1, 11, 0, tzinfo=UTC)  # 14:00 in Moscow
START = datetime(2026, 9, 3, 12, 0, tzinfo=UTC)  # 3 September, 15:00 in Moscow
ANNOUNCE = "03.09 15:00; Итоговые оценки в ЭЖ; каб. 21; учителя"
TEXTS = Texts()  # compiled once: the catalogs do not change during the run


@dataclass
class FakeChannel:
    """Records what was sent; ``answers`` maps a chat id to the delivery its next send reports."""

    sent: list[tuple[int, str, tuple[Button, ...]]] = field(default_factory=list)
    answers: dict[int, Delivery] = field(default_factory=dict)

    async def send(self, user: User, html: str, buttons: Sequence[Button] = ()) -> Delivery:
        await asyncio.sleep(0)  # a real send yields: lets a concurrent caller in
        delivery = self.answers.pop(user.chat_id, Delivery.SENT)
        if delivery is Delivery.SENT:
            self.sent.append((user.chat_id, html, tuple(buttons)))
        return delivery

    @property
    def chats(self) -> list[int]:
        return [chat for chat, _, _ in self.sent]


@dataclass
class World:
    db: Database
    clock: ManualClock
    channel: FakeChannel
    service: SeminarService

    async def user(self, n: int, role: Role | None, *, language: str = "ru") -> User:
        users = UserRepo(self.db.conn)
        user = await users.upsert(
            channel=TELEGRAM,
            external_id=str(n),
            chat_id=n,
            first_name=f"U{n}",
            last_name=None,
            username=None,
            client_language=language,
            now=NOW,
        )
        if role is not None:
            await users.set_role(user.id, role)
        return user

    async def published(self, text: str = ANNOUNCE) -> Seminar:
        drafted = await self.service.announce(text, author_id=7, author_name="Ольга Петровна")
        assert isinstance(drafted, Drafted)
        seminar = await self.service.publish(drafted.seminar.id)
        assert seminar is not None
        return seminar


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    db = await Database.open(tmp_path / "db.sqlite3")
    clock = ManualClock(NOW)
    channel = FakeChannel()
    service = SeminarService(db=db, clock=clock, channel=channel, texts=TEXTS, tz=ZoneInfo("Europe/Moscow"))
    try:
        yield World(db, clock, channel, service)
    finally:
        await db.close()


# ---- the deputy director ---------------------------------------------------------------------------


async def test_an_announcement_is_a_draft_with_its_audience(world: World) -> None:
    await world.user(1, Role.SUBJECT_TEACHER)
    await world.user(2, Role.CLASS_TEACHER)
    await world.user(3, Role.PARENT)
    await world.user(4, Role.SUBJECT_TEACHER)
    await UserRepo(world.db.conn).mark_unreachable(TELEGRAM, 4)

    outcome = await world.service.announce(ANNOUNCE, author_id=7, author_name="Ольга Петровна")

    assert isinstance(outcome, Drafted)
    assert outcome.audience == 2  # the teachers who can be reached
    seminar = outcome.seminar
    assert (seminar.title, seminar.place, seminar.starts_at) == ("Итоговые оценки в ЭЖ", "каб. 21", START)
    assert (seminar.created_by_id, seminar.created_by_name) == (7, "Ольга Петровна")
    assert seminar.announced_at is None
    assert world.channel.sent == []  # nobody is told about a draft
    assert await world.service.upcoming_for(1) == []


async def test_an_unreadable_announcement_names_the_problem_and_stores_nothing(world: World) -> None:
    outcome = await world.service.announce("03.09 15:00; Тема; каб. 21; бабушки", author_id=7, author_name="")
    assert outcome == Unreadable("roles", "бабушки")
    assert await world.service.announce(
        "01.09 10:00; Тема; каб. 21; учителя", author_id=7, author_name=""
    ) == (Unreadable("past", "01.09 10:00"))
    assert await SeminarRepo(world.db.conn).get(1) is None


async def test_publish_once_and_discard_only_a_draft(world: World) -> None:
    first = await world.service.announce(ANNOUNCE, author_id=None, author_name="")
    second = await world.service.announce(ANNOUNCE, author_id=None, author_name="")
    assert isinstance(first, Drafted) and isinstance(second, Drafted)

    published = await world.service.publish(first.seminar.id)
    assert published is not None and published.announced_at == NOW
    assert await world.service.publish(first.seminar.id) is None  # a second press
    assert not await world.service.discard(first.seminar.id)  # published: not a draft any more

    assert await world.service.discard(second.seminar.id)
    assert not await world.service.discard(second.seminar.id)
    assert await world.service.publish(second.seminar.id) is None
    assert not await world.service.discard(999)


async def test_a_draft_whose_time_has_passed_is_not_published(world: World) -> None:
    drafted = await world.service.announce(ANNOUNCE, author_id=None, author_name="")
    assert isinstance(drafted, Drafted)
    world.clock.set(START + timedelta(minutes=1))
    assert await world.service.publish(drafted.seminar.id) is None


async def test_rosters_list_who_signed_up_in_order(world: World) -> None:
    first = await world.user(1, Role.SUBJECT_TEACHER)
    second = await world.user(2, Role.PARENT)
    assert await world.service.rosters() == []
    seminar = await world.published()
    await world.service.choose(seminar.id, second.id, SeminarAction.SIGN_UP)
    world.clock.advance(minutes=1)
    await world.service.choose(seminar.id, first.id, SeminarAction.SIGN_UP)

    [roster] = await world.service.rosters()
    assert roster.seminar.id == seminar.id
    assert [s.user.first_name for s in roster.signups] == ["U2", "U1"]
    one = await world.service.roster(seminar.id)
    assert one is not None and one.signups == roster.signups
    assert await world.service.roster(999) is None


# ---- users -----------------------------------------------------------------------------------------


async def test_sign_up_and_cancel(world: World) -> None:
    user = await world.user(1, Role.PARENT)
    seminar = await world.published()
    [offer] = await world.service.upcoming_for(user.id)
    assert (offer.seminar.id, offer.signed_up) == (seminar.id, False)

    assert await world.service.choose(seminar.id, user.id, SeminarAction.SIGN_UP) is Choice.SIGNED_UP
    assert await world.service.choose(seminar.id, user.id, SeminarAction.SIGN_UP) is Choice.SIGNED_UP
    [offer] = await world.service.upcoming_for(user.id)
    assert offer.signed_up

    assert await world.service.choose(seminar.id, user.id, SeminarAction.CANCEL) is Choice.CANCELLED
    assert await world.service.choose(seminar.id, user.id, SeminarAction.CANCEL) is Choice.CANCELLED
    [offer] = await world.service.upcoming_for(user.id)
    assert not offer.signed_up


async def test_a_seminar_that_began_or_does_not_exist_is_gone(world: World) -> None:
    user = await world.user(1, Role.PARENT)
    seminar = await world.published()
    assert await world.service.choose(999, user.id, SeminarAction.SIGN_UP) is Choice.GONE
    world.clock.set(START)
    assert await world.service.choose(seminar.id, user.id, SeminarAction.SIGN_UP) is Choice.GONE
    assert await world.service.upcoming_for(user.id) == []


# ---- notices ---------------------------------------------------------------------------------------


async def test_broadcast_tells_each_user_once_in_their_language(world: World) -> None:
    await world.user(1, Role.SUBJECT_TEACHER)
    await world.user(2, Role.CLASS_TEACHER, language="en")
    await world.user(3, Role.PARENT)
    seminar = await world.published()

    assert await world.service.broadcast(seminar) == 2
    assert world.channel.chats == [1, 2]
    (_, ru, ru_buttons), (_, en, en_buttons) = world.channel.sent
    assert "Приглашаем Вас" in ru and "Итоговые оценки в ЭЖ" in ru and "3 сентября (чт), 15:00" in ru
    assert "You are invited" in en and "Thu 3 September, 15:00" in en
    # The payload is the callback data of today's button (``bot.callbacks.SeminarCb``).
    assert ru_buttons == (Button("✍️ Записаться", f"sm:in:{seminar.id}"),)
    assert en_buttons == (Button("✍️ Sign up", f"sm:in:{seminar.id}"),)

    assert await world.service.broadcast(seminar) == 0
    await world.service.check(NOW)
    assert world.channel.chats == [1, 2]


async def test_a_refusal_is_recorded_and_a_deferral_resumes_at_the_next_check(world: World) -> None:
    for n in range(1, 5):
        await world.user(n, Role.SUBJECT_TEACHER)
    seminar = await world.published()
    world.channel.answers = {2: Delivery.REFUSED, 3: Delivery.DEFERRED}

    assert await world.service.broadcast(seminar) == 1
    assert world.channel.chats == [1]
    await world.service.check(NOW + timedelta(seconds=30))
    assert world.channel.chats == [1, 3, 4]  # the refusing user is not asked again
    repo = SeminarRepo(world.db.conn)
    assert await repo.notices_sent(seminar.id, "announce") == 3
    assert await repo.announce_recipients(seminar) == []


async def test_a_late_joiner_is_told_at_the_next_check_until_the_start(world: World) -> None:
    await world.user(1, Role.SUBJECT_TEACHER)
    seminar = await world.published()
    await world.service.broadcast(seminar)
    await world.user(2, Role.CLASS_TEACHER)
    await world.service.check(NOW + timedelta(minutes=1))
    assert world.channel.chats == [1, 2]
    await world.user(3, Role.CLASS_TEACHER)
    await world.service.check(START)
    assert world.channel.chats == [1, 2]


async def test_a_broadcast_and_a_check_at_once_send_each_notice_once(world: World) -> None:
    for n in range(1, 6):
        await world.user(n, Role.SUBJECT_TEACHER)
    seminar = await world.published()
    await asyncio.gather(world.service.broadcast(seminar), world.service.check(NOW))
    assert sorted(world.channel.chats) == [1, 2, 3, 4, 5]


async def test_reminders_a_day_and_an_hour_before_once_each(world: World) -> None:
    first = await world.user(1, Role.SUBJECT_TEACHER)
    await world.user(2, Role.SUBJECT_TEACHER)
    third = await world.user(3, Role.PARENT)
    seminar = await world.published()
    await world.service.broadcast(seminar)
    await world.service.choose(seminar.id, first.id, SeminarAction.SIGN_UP)
    await world.service.choose(seminar.id, third.id, SeminarAction.SIGN_UP)
    world.channel.sent.clear()

    await world.service.check(START - timedelta(hours=30))
    assert world.channel.sent == []
    await world.service.check(START - timedelta(hours=20))
    await world.service.check(START - timedelta(hours=19))
    assert [(chat, "завтра" in text) for chat, text, _ in world.channel.sent] == [(1, True), (3, True)]
    assert world.channel.sent[0][2] == (Button("Отменить запись", f"sm:out:{seminar.id}"),)
    world.channel.sent.clear()

    await world.service.check(START - timedelta(minutes=59))
    await world.service.check(START - timedelta(minutes=30))
    assert [(chat, "Через час" in text) for chat, text, _ in world.channel.sent] == [(1, True), (3, True)]
    world.channel.sent.clear()
    await world.service.check(START + timedelta(minutes=1))
    assert world.channel.sent == []
