"""Seminars: reading the announcement, when reminders are due, and the repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from helpdesk.domain import Role
from helpdesk.rules.seminars import (
    NoticeKind,
    SeminarFormatError,
    due_reminder,
    format_when,
    parse_announcement,
    parse_roles,
)
from helpdesk.texts import Texts
from storage.db import Database
from storage.seminars import SeminarRepo
from storage.users import TELEGRAM, UserRepo

MSK = ZoneInfo("Europe/Moscow")
TEXTS = Texts()
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # 11:00 in Moscow


# ---- the announcement ------------------------------------------------------------------------------


def test_announcement_in_one_line() -> None:
    draft = parse_announcement(
        "15.10 15:00; Итоговые оценки в ЭЖ; каб. 21; учителя, классные руководители", NOW, MSK
    )
    assert draft.title == "Итоговые оценки в ЭЖ"
    assert draft.place == "каб. 21"
    assert draft.starts_at == datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
    assert draft.roles == (Role.SUBJECT_TEACHER, Role.CLASS_TEACHER)


def test_announcement_on_separate_lines_with_a_link() -> None:
    draft = parse_announcement(
        "2.9.2026 9.30\nВход в дневник через Госуслуги\nhttps://meet.example/abc?x=1\nродители и ученики",
        NOW,
        MSK,
    )
    assert draft.starts_at == datetime(2026, 9, 2, 6, 30, tzinfo=UTC)
    assert draft.place == "https://meet.example/abc?x=1"
    assert draft.roles == (Role.STUDENT, Role.PARENT)


def test_a_date_without_the_year_is_the_next_one() -> None:
    draft = parse_announcement("20.01 14:00; Отчёты; актовый зал; все", NOW, MSK)
    assert draft.starts_at.astimezone(MSK).date().isoformat() == "2027-01-20"
    assert draft.roles == tuple(Role)


def test_today_later_is_fine_and_today_earlier_is_past() -> None:
    assert parse_announcement("01.09 16:00; Т; М; родители", NOW, MSK).starts_at.hour == 13
    with pytest.raises(SeminarFormatError) as err:
        parse_announcement("01.09 10:00; Т; М; родители", NOW, MSK)
    assert err.value.code == "past"


@pytest.mark.parametrize(
    ("text", "code", "value"),
    [
        ("15.10 15:00; Тема; Место", "format", ""),
        ("15.10 15:00; Тема; Место; родители; лишнее", "format", ""),
        ("завтра 15:00; Тема; Место; родители", "date", "завтра"),
        ("31.02 15:00; Тема; Место; родители", "date", "31.02"),
        ("15.10 25:00; Тема; Место; родители", "time", "25:00"),
        ("15.10 в 15; Тема; Место; родители", "format", ""),
        ("15.10.2030 15:00; Тема; Место; родители", "far", "15.10.2030 15:00"),
        ("15.10 15:00; Тема; Место; бабушки", "roles", "бабушки"),
        ("15.10 15:00; " + "Т" * 201 + "; Место; все", "title", "200"),
    ],
)
def test_announcement_errors_name_the_problem(text: str, code: str, value: str) -> None:
    with pytest.raises(SeminarFormatError) as err:
        parse_announcement(text, NOW, MSK)
    assert (err.value.code, err.value.value) == (code, value)


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("родители", (Role.PARENT,)),
        ("Учителя-предметники", (Role.SUBJECT_TEACHER,)),
        ("классные руководители", (Role.CLASS_TEACHER,)),
        ("учителя", (Role.SUBJECT_TEACHER, Role.CLASS_TEACHER)),
        ("все сотрудники", (Role.ADMINISTRATION, Role.SUBJECT_TEACHER, Role.CLASS_TEACHER, Role.OTHER_STAFF)),
        ("администрация + другие сотрудники", (Role.ADMINISTRATION, Role.OTHER_STAFF)),
        ("обучающиеся и законные представители", (Role.STUDENT, Role.PARENT)),
        ("Всех", tuple(Role)),
        ("par, stu", (Role.STUDENT, Role.PARENT)),
    ],
)
def test_roles_in_words(text: str, roles: tuple[Role, ...]) -> None:
    assert parse_roles(text) == roles


def test_roles_must_not_be_empty() -> None:
    with pytest.raises(SeminarFormatError):
        parse_roles(" , ")


def test_when_is_shown_in_the_school_time_zone() -> None:
    moment = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
    assert format_when(moment, MSK, TEXTS("ru")) == "15 октября (чт), 15:00"
    assert format_when(moment, MSK, TEXTS("en")) == "Thu 15 October, 15:00"


# ---- reminders -------------------------------------------------------------------------------------

START = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
EARLY = START - timedelta(days=10)


@pytest.mark.parametrize(
    ("before_start", "expected"),
    [
        (timedelta(days=2), None),
        (timedelta(hours=24, minutes=1), None),
        (timedelta(hours=24), NoticeKind.DAY),
        (timedelta(hours=3), NoticeKind.DAY),
        (timedelta(hours=1, seconds=1), NoticeKind.DAY),
        (timedelta(hours=1), NoticeKind.HOUR),
        (timedelta(minutes=1), NoticeKind.HOUR),
        (timedelta(0), None),
        (-timedelta(minutes=5), None),
    ],
)
def test_reminder_windows(before_start: timedelta, expected: NoticeKind | None) -> None:
    assert due_reminder(START, EARLY, START - before_start) is expected


def test_no_reminder_for_a_window_that_opened_before_the_sign_up() -> None:
    signed = START - timedelta(hours=5)
    assert due_reminder(START, signed, START - timedelta(hours=4)) is None
    assert due_reminder(START, signed, START - timedelta(minutes=30)) is NoticeKind.HOUR
    just_now = START - timedelta(minutes=20)
    assert due_reminder(START, just_now, START - timedelta(minutes=10)) is None


# ---- the repository --------------------------------------------------------------------------------


async def test_repository_sign_ups_and_notices(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        users = UserRepo(db.conn)
        made = []
        for n, role in enumerate((Role.SUBJECT_TEACHER, Role.PARENT, Role.CLASS_TEACHER, None), 1):
            user = await users.upsert(
                channel=TELEGRAM,
                external_id=str(n),
                chat_id=n,
                first_name=f"U{n}",
                last_name=None,
                username=None,
                client_language="ru",
                now=NOW,
            )
            if role is not None:
                await users.set_role(user.id, role)
            made.append(user)
        await users.mark_unreachable(TELEGRAM, 3)  # the class teacher blocked the bot

        repo = SeminarRepo(db.conn)
        seminar = await repo.create(
            title="Т",
            starts_at=START,
            place="М",
            roles=(Role.SUBJECT_TEACHER, Role.CLASS_TEACHER),
            created_by_id=7,
            created_by_name="Ольга",
            now=NOW,
        )
        assert not seminar.upcoming(NOW)  # a draft until announced
        assert await repo.upcoming(NOW) == []
        assert await repo.mark_announced(seminar.id, NOW)
        assert not await repo.mark_announced(seminar.id, NOW)
        [seminar] = await repo.upcoming(NOW)
        assert seminar.upcoming(NOW) and not seminar.upcoming(START)
        assert await repo.audience_size(seminar.roles) == 1

        assert [u.id for u in await repo.announce_recipients(seminar)] == [made[0].id]
        await repo.record_notice(seminar.id, made[0].id, "announce", NOW, True)
        assert await repo.announce_recipients(seminar) == []
        assert await repo.notices_sent(seminar.id, "announce") == 1

        assert await repo.sign_up(seminar.id, made[1].id, NOW)
        assert not await repo.sign_up(seminar.id, made[1].id, NOW)
        assert await repo.sign_up(seminar.id, made[0].id, NOW + timedelta(minutes=1))
        assert [s.user.first_name for s in await repo.signups(seminar.id)] == ["U2", "U1"]
        assert await repo.signed_up_to(made[1].id) == {seminar.id}
        await repo.record_notice(seminar.id, made[1].id, "day", NOW, True)
        assert [s.user.id for s in await repo.signups_without(seminar.id, "day")] == [made[0].id]
        assert await repo.cancel_signup(seminar.id, made[0].id)
        assert not await repo.cancel_signup(seminar.id, made[0].id)
        assert await repo.count_signups(seminar.id) == 1
        assert await repo.cancel(seminar.id, NOW)
        assert await repo.upcoming(NOW) == []
    finally:
        await db.close()
