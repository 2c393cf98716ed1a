"""Escalation counts on-duty minutes only; each action fires once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.rules.escalation import (
    ACTIONS,
    ALERT_UNANSWERED,
    ALERT_UNCLAIMED,
    REMIND,
    EscalationPlan,
    EscalationSettings,
    deadline_after,
    due_actions,
    duty_intervals,
    on_duty_minutes,
)
from helpdesk.school import DateRange, SchoolProfile, Slot, Specialist, SpecialistKind, VendorSupport

MSK = ZoneInfo("Europe/Moscow")

TECH = Specialist("tech", "Иванов Иван Иванович", "Иванов И. И.", SpecialistKind.TECH)
ZAM = Specialist("zam", "Петрова Анна Сергеевна", "Петрова А. С.", SpecialistKind.DEPUTY)
TEACHER = Specialist("teacher", "Кузнецова Елена Николаевна", "Кузнецова Е. Н.", SpecialistKind.TEACHER)

# December 2026: Mon 7, Tue 8, Wed 9, Thu 10, Fri 11, Sat 12, Sun 13, Mon 14.
SLOTS = (
    Slot(0, time(14), time(16), "tech"),
    Slot(2, time(14), time(16), "tech"),
    Slot(1, time(15), time(17), "zam"),
    Slot(3, time(15), time(17), "zam"),
    Slot(4, time(13), time(15), "teacher"),
)


def make(slots: tuple[Slot, ...] = SLOTS, holidays: tuple[DateRange, ...] = ()) -> SchoolProfile:
    return SchoolProfile(
        name="Школа",
        short_name="СОШ №16",
        phone="(86550) 93-464",
        email="kazmschool@mail.ru",
        vendor=VendorSupport(name="Поддержка", hours="Пн–Пт", rules="Через администратора"),
        specialists=(TECH, ZAM, TEACHER),
        slots=slots,
        holidays=holidays,
    )


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=MSK)


# ---- on-duty minutes


def test_minutes_across_a_weekend() -> None:
    # Friday 14:00–15:00 (teacher) + Monday 14:00–15:00 (tech); nothing on Saturday and Sunday
    assert on_duty_minutes(make(), at(11, 14), at(14, 15)) == 120
    assert on_duty_minutes(make(), at(11, 14), at(14, 15), lambda s: s.key == "tech") == 60
    assert on_duty_minutes(make(), at(11, 18), at(14, 9)) == 0


def test_minutes_of_a_full_week() -> None:
    assert on_duty_minutes(make(), at(7, 0), at(14, 0)) == 2 * 120 + 2 * 120 + 120


def test_overlapping_consultations_count_once() -> None:
    profile = make(slots=(Slot(0, time(14), time(16), "tech"), Slot(0, time(15), time(17), "zam")))
    assert on_duty_minutes(profile, at(7, 0), at(8, 0)) == 180
    assert list(duty_intervals(profile, at(7, 0), at(8, 0))) == [(at(7, 14), at(7, 17))]


def test_edges_and_empty_ranges() -> None:
    assert on_duty_minutes(make(), at(7, 14, 30), at(7, 15)) == 30
    assert on_duty_minutes(make(), at(7, 15), at(7, 14)) == 0
    assert on_duty_minutes(make(slots=()), at(7, 0), at(14, 0)) == 0


def test_holidays_do_not_count() -> None:
    profile = make(holidays=(DateRange(date(2026, 12, 8), date(2026, 12, 10), "карантин"),))
    assert on_duty_minutes(profile, at(7, 0), at(12, 0)) == 120 + 120  # Monday and Friday


# ---- deadlines


def test_deadline_across_days() -> None:
    # 30 minutes left on Friday (14:30–15:00), the remaining 60 on Monday from 14:00
    assert deadline_after(make(), at(11, 14, 30), 90) == at(14, 15)


def test_deadline_with_predicate_skips_other_specialists() -> None:
    # zam: Tue 15–17 (120) then Thu 15:00 + 30
    assert deadline_after(make(), at(7, 10), 150, lambda s: s.key == "zam") == at(10, 15, 30)


def test_deadline_exactly_at_the_end_of_a_window() -> None:
    assert deadline_after(make(), at(8, 15), 120, lambda s: s.key == "zam") == at(8, 17)


def test_deadline_zero_and_impossible() -> None:
    assert deadline_after(make(), at(7, 10), 0) == at(7, 10)
    assert deadline_after(make(slots=()), at(7, 10), 30) is None
    assert deadline_after(make(), at(7, 10), 10_000, horizon_days=7) is None


def test_deadline_matches_minutes() -> None:
    start = at(9, 15, 17)
    for minutes in (1, 43, 120, 333):
        deadline = deadline_after(make(), start, minutes)
        assert deadline is not None
        assert on_duty_minutes(make(), start, deadline) == pytest.approx(minutes)


# ---- due actions (wall clock)

SETTINGS = EscalationSettings(remind_after=30, alert_unclaimed_after=120, alert_unanswered_after=240)
T0 = at(7, 9)


def test_nothing_due_early() -> None:
    assert due_actions(T0, None, None, T0 + timedelta(minutes=29), SETTINGS, set()) == []


def test_remind_then_alert_each_once() -> None:
    assert due_actions(T0, None, None, T0 + timedelta(minutes=30), SETTINGS, set()) == [REMIND]
    assert due_actions(T0, None, None, T0 + timedelta(minutes=31), SETTINGS, {REMIND}) == []
    assert due_actions(T0, None, None, T0 + timedelta(minutes=120), SETTINGS, {REMIND}) == [ALERT_UNCLAIMED]
    assert due_actions(T0, None, None, T0 + timedelta(days=3), SETTINGS, {REMIND, ALERT_UNCLAIMED}) == []


def test_restart_after_the_deadlines_fires_once() -> None:
    late = T0 + timedelta(days=2)
    assert due_actions(T0, None, None, late, SETTINGS, set()) == [REMIND, ALERT_UNCLAIMED]
    assert due_actions(T0, None, None, late, SETTINGS, [REMIND, ALERT_UNCLAIMED]) == []


def test_claimed_ticket_only_waits_for_an_answer() -> None:
    claimed = T0 + timedelta(minutes=10)
    assert due_actions(T0, claimed, None, T0 + timedelta(minutes=200), SETTINGS, set()) == []
    assert due_actions(T0, claimed, None, claimed + timedelta(minutes=240), SETTINGS, set()) == [
        ALERT_UNANSWERED
    ]
    assert (
        due_actions(T0, claimed, None, claimed + timedelta(minutes=500), SETTINGS, {ALERT_UNANSWERED}) == []
    )


def test_answered_ticket_needs_nothing() -> None:
    answered = T0 + timedelta(minutes=5)
    assert due_actions(T0, None, answered, T0 + timedelta(days=5), SETTINGS, set()) == []
    assert due_actions(T0, T0, answered, T0 + timedelta(days=5), SETTINGS, set()) == []


def test_disabled_actions() -> None:
    settings = EscalationSettings(remind_after=None, alert_unclaimed_after=60, alert_unanswered_after=None)
    assert due_actions(T0, None, None, T0 + timedelta(days=1), settings, set()) == [ALERT_UNCLAIMED]
    assert due_actions(T0, T0, None, T0 + timedelta(days=1), settings, set()) == []


def test_scheduler_ticks_fire_each_action_once() -> None:
    done: set[str] = set()
    fired: list[str] = []
    now = T0
    while now < T0 + timedelta(hours=10):
        for action in due_actions(T0, None, None, now, SETTINGS, done):
            fired.append(action)
            done.add(action)
        now += timedelta(minutes=7)
    assert fired == [REMIND, ALERT_UNCLAIMED]
    assert set(fired) <= set(ACTIONS)


# ---- the plan: on-duty minutes


def test_plan_counts_only_on_duty_minutes() -> None:
    plan = EscalationPlan(make(), SETTINGS, lambda s: s.key == "tech")
    created = at(11, 18)  # Friday evening, tech is next on duty Monday 14:00
    assert plan.due_actions(created, None, None, at(14, 14, 29), set()) == []
    assert plan.due_actions(created, None, None, at(14, 14, 30), set()) == [REMIND]
    assert plan.due_actions(created, None, None, at(14, 16), {REMIND}) == [ALERT_UNCLAIMED]
    assert plan.deadlines(created, None, None) == {REMIND: at(14, 14, 30), ALERT_UNCLAIMED: at(14, 16)}
    assert plan.next_due(created, None, None, set()) == at(14, 14, 30)
    assert plan.next_due(created, None, None, {REMIND}) == at(14, 16)
    assert plan.next_due(created, None, None, {REMIND, ALERT_UNCLAIMED}) is None


def test_plan_unanswered_counts_from_the_claim() -> None:
    plan = EscalationPlan(make(), SETTINGS, lambda s: s.key == "tech")
    claimed = at(7, 15)  # 60 minutes on Monday, 120 on Wednesday, 60 on the next Monday
    assert plan.deadlines(at(7, 14), claimed, None) == {ALERT_UNANSWERED: at(14, 15)}
    assert plan.due_actions(at(7, 14), claimed, None, at(14, 14, 59), set()) == []
    assert plan.due_actions(at(7, 14), claimed, None, at(14, 15), set()) == [ALERT_UNANSWERED]
    assert plan.deadlines(at(7, 14), claimed, at(7, 16)) == {}
