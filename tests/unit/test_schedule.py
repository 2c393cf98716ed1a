"""Schedule rules with a fixed ``now`` (Europe/Moscow)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from helpdesk.rules.schedule import (
    DutyWindow,
    day_phrase,
    describe_duty,
    duty_windows,
    format_schedule,
    next_duty,
    on_duty,
    promise,
)
from helpdesk.school import (
    Change,
    ChangeKind,
    DateRange,
    SchoolProfile,
    Slot,
    Specialist,
    SpecialistKind,
    VendorSupport,
)
from helpdesk.texts import Texts

MSK = ZoneInfo("Europe/Moscow")
RU, EN = Texts()("ru"), Texts()("en")

TECH = Specialist("tech", "Иванов Иван Иванович", "Иванов И. И.", SpecialistKind.TECH)
ZAM = Specialist(
    "zam",
    "Петрова Анна Сергеевна",
    "Петрова А. С.",
    SpecialistKind.DEPUTY,
    position="заместитель директора по УВР",
)
TEACHER = Specialist("teacher", "Кузнецова Елена Николаевна", "Кузнецова Е. Н.", SpecialistKind.TEACHER)
VENDOR = VendorSupport(name="Поддержка", hours="Пн–Пт", rules="Через администратора")

# December 2026: Mon 7, Tue 8, Wed 9, Thu 10, Fri 11, Sat 12, Sun 13, Mon 14.
SLOTS = (
    Slot(0, time(14), time(16), "tech"),
    Slot(2, time(14), time(16), "tech"),
    Slot(1, time(15), time(17), "zam"),
    Slot(3, time(15), time(17), "zam"),
    Slot(4, time(13), time(15), "teacher"),
)
WINTER = DateRange(date(2026, 12, 28), date(2027, 1, 11), "зимние каникулы")


def make(
    slots: tuple[Slot, ...] = SLOTS,
    holidays: tuple[DateRange, ...] = (WINTER,),
    changes: tuple[Change, ...] = (),
    specialists: tuple[Specialist, ...] = (TECH, ZAM, TEACHER),
) -> SchoolProfile:
    return SchoolProfile(
        name="Школа",
        short_name="СОШ №16",
        phone="(86550) 93-464",
        email="kazmschool@mail.ru",
        vendor=VENDOR,
        specialists=specialists,
        slots=slots,
        holidays=holidays,
        changes=changes,
    )


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def keys(specialists: list[Specialist]) -> list[str]:
    return [s.key for s in specialists]


# ---- on duty: edges, time zones


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [(13, 59, []), (14, 0, ["tech"]), (15, 59, ["tech"]), (16, 0, []), (16, 1, [])],
)
def test_slot_edges(hour: int, minute: int, expected: list[str]) -> None:
    assert keys(on_duty(make(), at(7, hour, minute))) == expected


def test_now_in_another_time_zone() -> None:
    assert keys(on_duty(make(), datetime(2026, 12, 7, 11, 0, tzinfo=UTC))) == ["tech"]  # 14:00 MSK
    assert keys(on_duty(make(), datetime(2026, 12, 7, 10, 59, tzinfo=UTC))) == []


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        on_duty(make(), datetime(2026, 12, 7, 14, 0))


def test_back_to_back_slots() -> None:
    profile = make(slots=(Slot(0, time(14), time(15), "tech"), Slot(0, time(15), time(16), "zam")))
    assert keys(on_duty(profile, at(7, 14, 59))) == ["tech"]
    assert keys(on_duty(profile, at(7, 15, 0))) == ["zam"]


# ---- holidays and breaks


def test_no_consultations_in_the_break() -> None:
    profile = make()
    assert on_duty(profile, at(28, 14, 30)) == []
    assert on_duty(profile, at(11, 14, 30, month=1, year=2027)) == []  # last day inclusive
    assert keys(on_duty(profile, at(12, 15, 30, month=1, year=2027))) == ["zam"]  # Tuesday after it
    # 13 January 2027 is a Wednesday: tech has 14–16
    assert keys(on_duty(profile, at(13, 14, 30, month=1, year=2027))) == ["tech"]


def test_next_duty_skips_the_break() -> None:
    now = at(25, 18)  # Friday before the winter break
    window = next_duty(make(), now)
    assert window is not None
    assert window.start == at(12, 15, month=1, year=2027)  # Tuesday after the break
    assert window.specialist.key == "zam"
    assert promise(now, window.start, RU) == "12 января после 15:00"


def test_public_holiday_single_day() -> None:
    profile = make(holidays=(DateRange(date(2026, 12, 7), date(2026, 12, 7), "праздник"),))
    assert on_duty(profile, at(7, 14, 30)) == []
    window = next_duty(profile, at(7, 9))
    assert window is not None and window.start == at(8, 15)


# ---- changes


def test_cancel_whole_day() -> None:
    profile = make(changes=(Change(date(2026, 12, 7), ChangeKind.CANCEL, "tech"),))
    assert on_duty(profile, at(7, 14, 30)) == []
    assert keys(on_duty(profile, at(9, 14, 30))) == ["tech"]  # only that date
    window = next_duty(profile, at(7, 10), lambda s: s.key == "tech")
    assert window is not None and window.start == at(9, 14)


def test_cancel_part_of_a_slot() -> None:
    profile = make(
        changes=(Change(date(2026, 12, 7), ChangeKind.CANCEL, "tech", start=time(14), end=time(15)),)
    )
    assert on_duty(profile, at(7, 14, 30)) == []
    assert keys(on_duty(profile, at(7, 15))) == ["tech"]
    window = next_duty(profile, at(7, 13))
    assert window is not None and window.start == at(7, 15) and window.end == at(7, 16)


def test_substitute_takes_the_slot() -> None:
    profile = make(changes=(Change(date(2026, 12, 9), ChangeKind.SUBSTITUTE, "tech", substitute="teacher"),))
    assert keys(on_duty(profile, at(9, 14))) == ["teacher"]
    window = next_duty(profile, at(9, 10), lambda s: s.key == "tech")
    assert window is not None
    assert (
        window.specialist.key == "teacher" and window.replaces is not None and window.replaces.key == "tech"
    )
    assert window.start == at(9, 14)
    assert keys(on_duty(profile, at(7, 14))) == ["tech"]  # other days unchanged


def test_substitute_for_part_of_a_slot() -> None:
    profile = make(
        changes=(Change(date(2026, 12, 9), ChangeKind.SUBSTITUTE, "tech", "zam", time(15), time(16)),)
    )
    assert keys(on_duty(profile, at(9, 14, 59))) == ["tech"]
    assert keys(on_duty(profile, at(9, 15))) == ["zam"]


def test_extra_slot_even_on_a_weekend_and_a_holiday() -> None:
    profile = make(
        changes=(
            Change(date(2026, 12, 12), ChangeKind.EXTRA, "zam", start=time(10), end=time(12)),
            Change(date(2026, 12, 30), ChangeKind.EXTRA, "tech", start=time(10), end=time(11)),
        )
    )
    assert keys(on_duty(profile, at(12, 10))) == ["zam"]
    assert on_duty(profile, at(12, 12)) == []
    window = next_duty(profile, at(11, 18))
    assert window is not None and window.extra and window.start == at(12, 10)
    assert keys(on_duty(profile, at(30, 10, 30))) == ["tech"]
    assert on_duty(profile, at(29, 10, 30)) == []


# ---- next duty


def test_next_duty_now_if_on_duty() -> None:
    now = at(7, 14, 30)
    window = next_duty(make(), now)
    assert window is not None and window.start == now and window.end == at(7, 16)


def test_next_duty_with_predicate() -> None:
    window = next_duty(make(), at(7, 14, 30), lambda s: s.kind is SpecialistKind.TEACHER)
    assert window is not None and window.start == at(11, 13) and window.specialist.key == "teacher"


def test_empty_schedule() -> None:
    profile = make(slots=())
    assert on_duty(profile, at(7, 14)) == []
    assert next_duty(profile, at(7, 14)) is None
    assert "пока не заполнен" in format_schedule(profile, date(2026, 12, 7), RU)
    assert "Ближайших консультаций нет" in describe_duty(profile, at(7, 14), RU)


def test_no_specialists_at_all() -> None:
    profile = make(slots=(), specialists=())
    assert next_duty(profile, at(7, 14)) is None


def test_nobody_matching_ever() -> None:
    assert next_duty(make(), at(7, 14), lambda s: False) is None


def test_slots_only_inside_a_long_break() -> None:
    profile = make(holidays=(DateRange(date(2026, 12, 1), date(2027, 3, 1), "карантин"),))
    assert next_duty(profile, at(7, 14)) is None
    assert next_duty(profile, at(7, 14), horizon_days=120) is not None


def test_duty_windows_are_chronological() -> None:
    windows = list(duty_windows(make(), at(7, 15), at(14, 15)))
    assert [w.start for w in windows] == [at(7, 14), at(8, 15), at(9, 14), at(10, 15), at(11, 13), at(14, 14)]
    assert all(isinstance(w, DutyWindow) for w in windows)
    zam_only = list(duty_windows(make(), at(7, 0), at(14, 0), lambda s: s.key == "zam"))
    assert [w.start.day for w in zam_only] == [8, 10]


# ---- promises


def test_friday_evening_promises_monday() -> None:
    now = at(11, 18)
    window = next_duty(make(), now)
    assert window is not None
    assert promise(now, window.start, RU) == "в понедельник после 14:00"
    assert promise(now, window.start, EN) == "on Monday after 14:00"


def test_promise_today_and_tomorrow() -> None:
    now = at(7, 10)
    window = next_duty(make(), now)
    assert window is not None and promise(now, window.start, RU) == "сегодня после 14:00"
    assert promise(now, window.start, EN) == "today after 14:00"
    now = at(7, 17)
    window = next_duty(make(), now)
    assert window is not None and promise(now, window.start, RU) == "завтра после 15:00"
    assert promise(now, window.start, EN) == "tomorrow after 15:00"


@pytest.mark.parametrize(
    ("day", "ru", "en"),
    [
        (9, "в среду", "on Wednesday"),
        (10, "в четверг", "on Thursday"),
        (11, "в пятницу", "on Friday"),
        (12, "в субботу", "on Saturday"),
        (13, "в воскресенье", "on Sunday"),
        (8, "во вторник", "on Tuesday"),
    ],
)
def test_weekday_prepositions(day: int, ru: str, en: str) -> None:
    now = at(6, 12) if day == 8 else at(7, 12)  # Sunday 6 / Monday 7 December: 2–6 days ahead
    assert promise(now, at(day, 9, 30), RU) == f"{ru} после 9:30"
    assert promise(now, at(day, 9, 30), EN) == f"{en} after 9:30"


def test_monday_two_days_ahead_and_the_limit_of_weekday_names() -> None:
    assert promise(at(12, 12), at(14, 14), RU) == "в понедельник после 14:00"
    assert promise(at(7, 12), at(13, 14), RU) == "в воскресенье после 14:00"  # 6 days
    assert promise(at(7, 12), at(14, 14), RU) == "14 декабря после 14:00"  # 7 days: a date
    assert promise(at(7, 12), at(14, 14), EN) == "on 14 December after 14:00"


def test_far_ahead_uses_the_month_in_genitive() -> None:
    now = at(25, 18)
    assert promise(now, at(12, 14, month=1, year=2027), RU) == "12 января после 14:00"
    assert promise(now, at(12, 14, month=1, year=2027), EN) == "on 12 January after 14:00"
    assert promise(at(1, 10, month=2, year=2027), at(1, 14, month=3, year=2027), RU) == "1 марта после 14:00"


def test_day_phrase_compares_local_dates() -> None:
    # 23:30 UTC on the 7th is already the 8th in Moscow: the 8th's slot is "today"
    now = datetime(2026, 12, 7, 21, 30, tzinfo=UTC)
    assert day_phrase(now, at(8, 15), RU) == "сегодня"


# ---- texts


class _TagCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag


def assert_telegram_html(text: str) -> None:
    checker = _TagCheck()
    checker.feed(text)
    checker.close()
    assert not checker.stack
    assert set(checker.tags) <= {"b", "i"}
    stripped = text.replace("<b>", "").replace("</b>", "").replace("<i>", "").replace("</i>", "")
    assert "<" not in stripped and ">" not in stripped
    assert "&" not in stripped.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")


def test_format_schedule_groups_days() -> None:
    text = format_schedule(make(), date(2026, 12, 7), RU)
    lines = text.splitlines()
    assert lines[0] == "<b>График консультаций</b>"
    assert "Пн, Ср 14:00–16:00 — технический специалист (Иванов И. И.)" in lines
    assert "Вт, Чт 15:00–17:00 — заместитель директора по УВР (Петрова А. С.)" in lines
    assert "Пт 13:00–15:00 — учитель-консультант (Кузнецова Е. Н.)" in lines
    assert_telegram_html(text)


def test_format_schedule_ranges_of_days_and_english() -> None:
    slots = tuple(Slot(d, time(9), time(10), "tech") for d in range(5))
    text = format_schedule(make(slots=slots), date(2026, 12, 7), EN)
    assert "Mon–Fri 9:00–10:00 — technical specialist (Иванов И. И.)" in text
    assert text.startswith("<b>Consultation hours</b>")


def test_format_schedule_marks_breaks() -> None:
    soon = format_schedule(make(), date(2026, 12, 20), RU)
    assert "С 28 декабря по 11 января — зимние каникулы, консультаций нет." in soon
    during = format_schedule(make(), date(2027, 1, 3), RU)
    assert "С 28 декабря по 11 января — зимние каникулы, консультаций нет." in during
    far = format_schedule(make(), date(2026, 10, 1), RU)
    assert "зимние каникулы" not in far
    en = format_schedule(make(), date(2026, 12, 20), EN)
    assert "From 28 December to 11 January — зимние каникулы, no consultations." in en


def test_format_schedule_shows_changes() -> None:
    profile = make(
        changes=(
            Change(date(2026, 12, 7), ChangeKind.CANCEL, "tech"),
            Change(date(2026, 12, 8), ChangeKind.SUBSTITUTE, "zam", substitute="teacher"),
            Change(date(2026, 12, 12), ChangeKind.EXTRA, "zam", start=time(10), end=time(12)),
            Change(date(2026, 12, 30), ChangeKind.EXTRA, "zam", start=time(10), end=time(12)),
        )
    )
    text = format_schedule(profile, date(2026, 12, 7), RU)
    assert "Сегодня: консультация 14:00–16:00 (Иванов И. И.) отменена." in text
    assert (
        "Завтра: консультацию 15:00–17:00 (Петрова А. С.) ведёт замещающий — учитель-консультант (Кузнецова Е. Н.)."
        in text
    )
    assert (
        "12 декабря (сб): дополнительная консультация 10:00–12:00 — заместитель директора по УВР (Петрова А. С.)."
        in text
    )
    assert "30 декабря" not in text
    en = format_schedule(profile, date(2026, 12, 7), EN)
    assert "Today: the 14:00–16:00 consultation (Иванов И. И.) is cancelled." in en
    assert_telegram_html(text)
    assert_telegram_html(en)


def test_format_schedule_escapes_html() -> None:
    odd = replace(TECH, short_name="<Иванов & Co>", position="техник <b>")
    profile = make(specialists=(odd, ZAM, TEACHER))
    profile = replace(profile, schedule_note="Пишите <в бот> & ждите")
    text = format_schedule(profile, date(2026, 12, 7), RU)
    assert "техник &lt;b&gt; (&lt;Иванов &amp; Co&gt;)" in text
    assert "Пишите &lt;в бот&gt; &amp; ждите" in text
    assert_telegram_html(text)


def test_describe_duty() -> None:
    profile = make(changes=(Change(date(2026, 12, 9), ChangeKind.SUBSTITUTE, "tech", substitute="teacher"),))
    text = describe_duty(profile, at(9, 14, 30), RU)
    assert "<b>Сейчас на дежурстве:</b>" in text
    assert "• учитель-консультант (Кузнецова Е. Н.) — до 16:00 (замещает Иванов И. И.)" in text
    assert "• Завтра 15:00–17:00 — заместитель директора по УВР (Петрова А. С.)" in text
    assert "• В пятницу 13:00–15:00 — учитель-консультант (Кузнецова Е. Н.)" in text
    assert_telegram_html(text)


def test_describe_duty_nobody_and_holiday() -> None:
    text = describe_duty(make(), at(30, 14, 30), RU)
    assert text.startswith("Сейчас консультаций нет.")
    assert "зимние каникулы, консультаций нет" in text
    assert "• 12 января 15:00–17:00 — заместитель директора по УВР (Петрова А. С.)" in text
    en = describe_duty(make(), at(7, 14, 30), EN)
    assert "<b>On duty now:</b>" in en and "technical specialist (Иванов И. И.) — until 16:00" in en
    assert_telegram_html(en)


def test_horizon_is_finite_for_sparse_schedules() -> None:
    # one consultation a week on Sunday: found within the horizon from any day
    profile = make(slots=(Slot(6, time(10), time(11), "tech"),), holidays=())
    window = next_duty(profile, at(7, 12))
    assert window is not None and window.start == at(13, 10)
    assert window.start - at(7, 12) < timedelta(days=7)
