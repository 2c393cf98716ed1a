"""Reports: consultation minutes across a weekend and a holiday, the figures of a small fixed history
computed by hand and compared exactly, the text, the periods, the weekly rule, the CSV and the chart."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.charts import HEIGHT_PX, WIDTH_PX, MatplotlibCharts
from helpdesk.clock import ManualClock
from helpdesk.domain import Category as C
from helpdesk.domain import CategoryFigures, DayFigures, Durations, Role, SpecialistLoad, Topic
from helpdesk.duty import Duty
from helpdesk.reports import EXPORT_COLUMNS, Reports
from helpdesk.rules.consultation import calendar, consultation_minutes
from helpdesk.rules.reports import Period, PeriodKind, last_week, parse_period, weekly_due
from helpdesk.school import (
    DateRange,
    ReportSettings,
    SchoolProfile,
    Slot,
    Specialist,
    SpecialistKind,
    VendorSupport,
)
from helpdesk.specialists import Specialists
from helpdesk.store import Store
from helpdesk.texts import Texts
from storage.db import Database
from tests.unit.test_usecases import FakeStaff

MSK = ZoneInfo("Europe/Moscow")
SECRET = "СЕКРЕТНЫЙ ТЕКСТ ВОПРОСА"


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment in November 2026, school time (Moscow). 2 November 2026 is a Monday."""
    return datetime(2026, month, day, hour, minute, tzinfo=MSK)


# Consultations Monday to Friday 14:00–16:00; Wednesday 4 November is a holiday.
PROFILE = SchoolProfile(
    name="Школа",
    short_name="Школа",
    phone="1",
    email="a@b.ru",
    vendor=VendorSupport(name="В", hours="всегда", rules="—"),
    specialists=(Specialist("tech", "Иванов Иван Иванович", "Иванов И. И.", SpecialistKind.TECH),),
    slots=tuple(Slot(d, time(14), time(16), "tech") for d in range(5)),
    holidays=(DateRange(date(2026, 11, 4), date(2026, 11, 4), "День народного единства"),),
    timezone="Europe/Moscow",
    reports=ReportSettings(first_response_minutes=40, resolution_minutes=60),
)
WEEK = Period(date(2026, 11, 2), date(2026, 11, 8), PeriodKind.DATES)
NOW = at(10, 12)  # Tuesday of the next week


def test_consultation_minutes_skip_evenings_weekends_and_holidays() -> None:
    cal = calendar(PROFILE, at(2, 0), at(12, 0))
    # Inside one consultation.
    assert consultation_minutes(cal, at(2, 15), at(2, 15, 30)) == 30
    # Friday 15:30 → Monday 14:20: 30 minutes on Friday, the weekend does not count, 20 on Monday.
    assert consultation_minutes(cal, at(6, 15, 30), at(9, 14, 20)) == 50
    # Tuesday 16:30 (after hours) → Thursday 14:10: Wednesday is a holiday, so only Thursday's 10 minutes.
    assert consultation_minutes(cal, at(3, 16, 30), at(5, 14, 10)) == 10
    # Asked on Saturday, answered on Sunday: no consultation minute passed.
    assert consultation_minutes(cal, at(7, 10), at(8, 18)) == 0
    # Whole days: Monday 2 → Monday 9 holds four consultation days (not Wednesday) of 120 minutes.
    assert consultation_minutes(cal, at(2, 0), at(9, 0)) == 4 * 120


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


@dataclass
class History:
    db: Database
    reports: Reports


async def add_ticket(
    db: Database,
    *,
    role: str,
    topic: str,
    category: str,
    created: datetime,
    answered: datetime | None = None,
    closed: datetime | None = None,
    claimed_by: tuple[int, str] | None = None,
    vendor: datetime | None = None,
    offered: str = "",
    closed_by: str | None = None,
) -> int:
    async with db.transaction() as conn:
        cur = await conn.execute(
            """INSERT INTO tickets (user_id, role, topic, category, status, question, claimed_by_id,
                   claimed_by_name, closed_by, created_at, claimed_at, answered_at, closed_at, vendor_at,
                   offered_articles)
               VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                role,
                topic,
                category,
                "closed" if closed else ("claimed" if claimed_by else "open"),
                SECRET,
                claimed_by[0] if claimed_by else None,
                claimed_by[1] if claimed_by else None,
                closed_by or ("Иван" if closed else None),
                iso(created),
                iso(answered),
                iso(answered),
                iso(closed),
                iso(vendor),
                offered,
            ),
        )
        ticket_id = cur.lastrowid
        assert ticket_id is not None
        if answered is not None and claimed_by is not None:
            await conn.execute(
                """INSERT INTO messages (ticket_id, direction, kind, author_id, author_name, text, created_at)
                   VALUES (?, 'out', 'text', ?, ?, ?, ?)""",
                (ticket_id, claimed_by[0], claimed_by[1], "ответ специалиста " + SECRET, iso(answered)),
            )
    return ticket_id


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[History]:
    """The fixed week (2–8 November 2026) and what lies around it."""
    db = await Database.open(tmp_path / "reports.sqlite3")
    clock = ManualClock(NOW.astimezone(UTC))
    store = Store(db, clock)
    texts = Texts()
    staff = FakeStaff(store=store)
    specialists = Specialists(school=PROFILE, store=store, clock=clock, tr=texts("ru"))
    duty = Duty(store=store, specialists=specialists, staff=staff, notices=staff, texts=texts, manager_chat_id=-42)
    reports = Reports(
        store=store,
        school=PROFILE,
        duty=duty,
        notices=staff,
        texts=texts,
        clock=clock,
        charts=MatplotlibCharts(),
        manager_chat_id=-42,
    )
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (id, external_id, chat_id, first_name, created_at, updated_at) "
            "VALUES (1, '501', 501, 'Анна', '2026-09-01', '2026-09-01')"
        )
        await conn.execute(
            "INSERT INTO specialist_links (specialist_key, tg_user_id, tg_name, linked_at) "
            "VALUES ('tech', 901, 'Иван', '2026-09-01')"
        )
    ivan, petr = (901, "Иван"), (902, "Пётр")
    t1 = await add_ticket(
        db, role="par", topic="ed", category="grades", created=at(2, 15), answered=at(2, 15, 30),
        closed=at(2, 15, 45), claimed_by=ivan,
    )  # fmt: skip
    await add_ticket(
        db, role="par", topic="ed", category="grades", created=at(6, 15, 30), answered=at(9, 14, 20),
        claimed_by=petr, offered="login-help",
    )  # fmt: skip
    t3 = await add_ticket(
        db, role="tch", topic="ej", category="login", created=at(3, 16, 30), answered=at(5, 14, 10),
        closed=at(5, 15, 10), claimed_by=ivan, vendor=at(3, 16, 40),
    )  # fmt: skip
    await add_ticket(db, role="oth", topic="ej", category="tt", created=at(7, 10))
    t5 = await add_ticket(
        db, role="stu", topic="ed", category="other", created=at(2, 14), closed=at(2, 14, 5),
        closed_by="по регламенту",
    )  # fmt: skip
    # Outside the week: Sunday 1 November and Monday 9 November.
    await add_ticket(db, role="par", topic="ed", category="grades", created=at(1, 15), answered=at(2, 14))
    await add_ticket(db, role="par", topic="ed", category="grades", created=at(9, 14, 30))
    async with db.transaction() as conn:
        for ticket_id, asked, score, rated, comment in (
            (t1, at(2, 15, 45), 5, at(2, 15, 50), "Спасибо, всё получилось"),
            (t3, at(5, 15, 10), 2, at(5, 15, 20), None),
            (None, at(9, 15), 1, at(9, 15, 5), "вне недели"),
        ):
            await conn.execute(
                """INSERT INTO ratings (ticket_id, role, topic, category, asked_at, score, rated_at, comment)
                   SELECT ?, role, topic, category, ?, ?, ?, ? FROM tickets WHERE id = COALESCE(?, 1)""",
                (ticket_id, iso(asked), score, iso(rated), comment, ticket_id),
            )
            if ticket_id is not None:
                await conn.execute("UPDATE tickets SET rating = ? WHERE id = ?", (score, ticket_id))
        for helped, moment in ((1, at(2, 10)), (1, at(3, 11)), (1, at(8, 23, 59)), (0, at(6, 9)), (1, at(9, 0))):
            await conn.execute(
                "INSERT INTO kb_feedback (user_id, article_id, helped, created_at) VALUES (1, 'a', ?, ?)",
                (helped, iso(moment)),
            )
        for moment in (at(2, 9), at(2, 10), at(3, 11), at(6, 9), at(6, 9, 1), at(8, 23, 59), at(9, 0)):
            await conn.execute(
                "INSERT INTO kb_events (article_id, event, user_id, created_at) VALUES ('a', 'offered', 1, ?)",
                (iso(moment),),
            )
        await conn.execute(
            "INSERT INTO kb_events (article_id, event, user_id, created_at) VALUES ('a', 'opened', 1, ?)",
            (iso(at(2, 10)),),
        )
        for kind in ("violation", "session_end"):
            await conn.execute(
                "INSERT INTO conduct_events (at, kind, user_id, ticket_id, actor) VALUES (?, ?, 1, ?, 'filter')",
                (iso(at(2, 14, 5)), kind, t5),
            )
    try:
        yield History(db, reports)
    finally:
        await db.close()


async def test_the_figures_of_a_fixed_week_match_the_hand_count(history: History) -> None:
    f = await history.reports.figures(WEEK)
    assert (f.tickets, f.closed) == (5, 3)
    assert f.by_role == ((Role.PARENT, 2), (Role.OTHER_STAFF, 1), (Role.STUDENT, 1), (Role.SUBJECT_TEACHER, 1))
    assert f.by_topic == ((Topic.DIARY, 3), (Topic.JOURNAL, 2))
    assert f.by_category == ((C.GRADES, 2), (C.LOGIN, 1), (C.OTHER, 1), (C.TIMETABLE, 1))
    # First responses 30 (in one consultation), 50 (over the weekend), 10 (over the holiday): median 30,
    # p90 the 3rd of 3; target 40 → two of three.
    assert f.first_response == Durations(count=3, median=30.0, p90=50.0, within=2)
    # Resolutions 45 and 70 (the session ended for misconduct does not count): median 57.5, p90 the 2nd;
    # target 60 → one.
    assert f.resolution == Durations(count=2, median=57.5, p90=70.0, within=1)
    assert (f.kb_offers, f.kb_helped, f.kb_not_helped, f.kb_offered_tickets) == (6, 3, 1, 1)
    assert (f.ratings_asked, f.ratings_given, f.rating_counts, f.rating_mean) == (2, 2, (0, 1, 0, 0, 1), 3.5)
    assert f.comments == ((5, "Спасибо, всё получилось"),)
    # Tuesday 16:40 → Thursday 15:10: 46.5 hours at the vendor.
    assert (f.vendor_handoffs, f.vendor_closed, f.vendor_median_hours) == (1, 1, 46.5)
    assert f.conduct == (("session_end", 1), ("violation", 1))
    assert f.load == (
        SpecialistLoad("Иванов И. И.", taken=2, answered=2, median_first=20.0),
        SpecialistLoad("Пётр", taken=1, answered=1, median_first=50.0),
    )
    assert f.weekdays == (2, 1, 0, 0, 1, 1, 0)
    hours = [0] * 24
    hours[10], hours[14], hours[15], hours[16] = 1, 1, 2, 1
    assert f.hours == tuple(hours)
    assert f.categories == (
        CategoryFigures(C.GRADES, 2, 1, 5.0),
        CategoryFigures(C.LOGIN, 1, 1, 2.0),
        CategoryFigures(C.OTHER, 1, 0, None),
        CategoryFigures(C.TIMETABLE, 1, 0, None),
    )
    assert f.days == (
        DayFigures(date(2026, 11, 2), ((Topic.DIARY, 2),), 30.0),
        DayFigures(date(2026, 11, 3), ((Topic.JOURNAL, 1),), 10.0),
        DayFigures(date(2026, 11, 4), (), None),
        DayFigures(date(2026, 11, 5), (), None),
        DayFigures(date(2026, 11, 6), ((Topic.DIARY, 1),), 50.0),
        DayFigures(date(2026, 11, 7), ((Topic.JOURNAL, 1),), None),
        DayFigures(date(2026, 11, 8), (), None),
    )


async def test_the_report_text_says_it_and_hides_the_load_outside_management(history: History) -> None:
    report = await history.reports.build(WEEK)
    text = report.text
    for expected in (
        "02.11.2026 – 08.11.2026",
        "Вопросов: 5 (ЭД 3, ЭЖ 2), закрыто 3",
        "медиана 30 мин, 90% — до 50 мин; в срок (40 мин) — 67%",
        "медиана 58 мин",  # 57.5, rounded to even
        "предложено статей — 6, «помогло» — 3, «нет» — 1",
        "Оценки: 3,5 из 5 (оценили 2 из 2, 100%)",
        "Передано разработчику: 1, закрыто 1, медиана до закрытия 46 ч 30 мин",
        "Иванов И. И.: 2 / 2 / 20 мин",
        "«Спасибо, всё получилось»",
        "Ниже всего оценки: Вход и пароль 2,0",
        "Больше всего вопросов: пн, вт; в часы 10–11, 15–16",  # ties: the earlier first
    ):
        assert expected in text, (expected, text)
    staff_text = history.reports.compose(report.figures, WEEK, management=False)
    assert "Иванов И. И.: 2" not in staff_text and "Спасибо, всё получилось" not in staff_text
    assert SECRET not in text


async def test_the_chart_is_a_png_of_the_expected_size_and_the_same_for_the_same_data(history: History) -> None:
    from PIL import Image

    report = await history.reports.build(WEEK)
    assert report.chart is not None and report.chart.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(report.chart)) as image:
        image.load()
        assert image.size == (WIDTH_PX, HEIGHT_PX)
        assert image.format == "PNG"
    again = await history.reports.build(WEEK)
    assert again.chart == report.chart


async def test_the_csv_has_one_row_per_ticket_and_no_message_text(history: History) -> None:
    data, count = await history.reports.export_csv(WEEK)
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert count == len(rows) - 1 == 5
    by_id = {row[0]: dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows[1:]}
    first = by_id["1"]
    assert first["created"] == "2026-11-02 15:00"
    assert (first["first_response_min"], first["resolution_min"], first["rating"]) == ("30", "45", "5")
    assert first["specialist"] == "Иванов И. И."
    assert by_id["5"]["closed_how"] == "conduct"
    assert by_id["2"]["first_response_min"] == "50" and by_id["2"]["status"] == "claimed"
    assert SECRET not in text and "ответ специалиста" not in text and "Спасибо" not in text


def test_periods() -> None:
    today = date(2026, 11, 12)  # Thursday
    assert parse_period("", today, PROFILE) == Period(date(2026, 11, 6), today, PeriodKind.WEEK)
    assert parse_period("month", today, PROFILE) == Period(date(2026, 10, 14), today, PeriodKind.MONTH)
    assert parse_period("01.09.2026-30.09.2026", today, PROFILE) == Period(
        date(2026, 9, 1), date(2026, 9, 30), PeriodKind.DATES
    )
    assert parse_period("30.09.2026-01.09.2026", today, PROFILE) is None
    assert parse_period("31.02.2026-01.03.2026", today, PROFILE) is None
    assert parse_period("вчера", today, PROFILE) is None
    # The term begins after the last break of five days or more (a one-day holiday is not a break).
    school = load_example()
    assert parse_period("term", today, school) == Period(date(2026, 11, 4), today, PeriodKind.TERM)
    assert parse_period("term", date(2026, 10, 1), school) == Period(
        date(2026, 9, 1), date(2026, 10, 1), PeriodKind.TERM
    )
    assert last_week(today) == Period(date(2026, 11, 2), date(2026, 11, 8), PeriodKind.WEEKLY)


def load_example() -> SchoolProfile:
    from helpdesk.school import load_profile

    return load_profile(Path(__file__).resolve().parents[2] / "school.example.toml")


def test_the_weekly_report_is_due_once_from_its_weekday_and_time() -> None:
    monday = datetime(2026, 11, 9, 7, 59, tzinfo=MSK)
    assert weekly_due(monday, 0, time(8), None) is None
    week = weekly_due(monday.replace(minute=0, hour=8), 0, time(8), None)
    assert week == Period(date(2026, 11, 2), date(2026, 11, 8), PeriodKind.WEEKLY)
    assert weekly_due(monday.replace(hour=9), 0, time(8), "2026-11-02") is None
    # The bot was down on Monday: the report comes on Wednesday, for the same week.
    assert weekly_due(datetime(2026, 11, 11, 12, tzinfo=MSK), 0, time(8), None) == week
    # A Friday report is not due on Thursday.
    assert weekly_due(datetime(2026, 11, 12, 12, tzinfo=MSK), 4, time(8), "2026-10-26") is None
