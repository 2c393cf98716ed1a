"""Routing of tickets by role, topic and category."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from helpdesk.domain import Category, Role, RouteReason, Topic, categories_for
from helpdesk.rules.routing import candidates_for, format_user_schedule, help_areas, route, suitable
from helpdesk.school import (
    Change,
    ChangeKind,
    RoutingRule,
    SchoolProfile,
    Slot,
    Specialist,
    SpecialistKind,
    VendorSupport,
    load_profile,
)
from helpdesk.texts import Texts

MSK = ZoneInfo("Europe/Moscow")
RU, EN = Texts()("ru"), Texts()("en")
ROOT = Path(__file__).resolve().parents[2]

TECH = Specialist("tech", "Иванов Иван Иванович", "Иванов И. И.", SpecialistKind.TECH)
ZAM1 = Specialist("zam1", "Петрова Анна Сергеевна", "Петрова А. С.", SpecialistKind.DEPUTY)
ZAM2 = Specialist("zam2", "Сидоров Михаил Викторович", "Сидоров М. В.", SpecialistKind.DEPUTY)
TEACHER = Specialist("t1", "Кузнецова Елена Николаевна", "Кузнецова Е. Н.", SpecialistKind.TEACHER)

# Mon, Wed 14–16 tech; Tue, Thu 15–17 zam1; Fri 13–15 teacher. December 2026: Mon 7 … Fri 11.
SLOTS = (
    Slot(0, time(14), time(16), "tech"),
    Slot(2, time(14), time(16), "tech"),
    Slot(1, time(15), time(17), "zam1"),
    Slot(3, time(15), time(17), "zam1"),
    Slot(4, time(13), time(15), "t1"),
)


def make(
    specialists: tuple[Specialist, ...] = (TEACHER, TECH, ZAM1, ZAM2),
    slots: tuple[Slot, ...] = SLOTS,
    changes: tuple[Change, ...] = (),
) -> SchoolProfile:
    return SchoolProfile(
        name="Школа",
        short_name="СОШ №16",
        phone="(86550) 93-464",
        email="kazmschool@mail.ru",
        vendor=VendorSupport(name="Поддержка", hours="Пн–Пт", rules="Через администратора"),
        specialists=specialists,
        slots=slots,
        changes=changes,
    )


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=MSK)


def kinds(specialists: tuple[Specialist, ...]) -> list[SpecialistKind]:
    return [s.kind for s in specialists]


ALL_CASES = [(role, topic, cat) for role in Role for topic in Topic for cat in categories_for(role, topic)]


@pytest.mark.parametrize(("role", "topic", "category"), ALL_CASES)
def test_default_routing_by_kind(role: Role, topic: Topic, category: Category) -> None:
    decision = route(make(), role, topic, category, at(7, 10))
    assert decision.candidates, (role, topic, category)
    assert not decision.fallback
    if category.is_technical:
        assert kinds(decision.candidates) == [SpecialistKind.TECH]
    elif topic is Topic.JOURNAL:
        assert kinds(decision.candidates) == [
            SpecialistKind.DEPUTY,
            SpecialistKind.DEPUTY,
            SpecialistKind.TEACHER,
        ]
        assert [s.key for s in decision.candidates] == ["zam1", "zam2", "t1"]  # file order within a kind
    else:
        assert kinds(decision.candidates) == [
            SpecialistKind.TEACHER,
            SpecialistKind.DEPUTY,
            SpecialistKind.DEPUTY,
        ]


def test_explicit_handles_narrow_the_defaults() -> None:
    teacher = replace(TEACHER, topics=frozenset({Topic.DIARY}), roles=frozenset({Role.PARENT}))
    profile = make(specialists=(teacher, TECH, ZAM1))
    parent = candidates_for(profile, Role.PARENT, Topic.DIARY, Category.GRADES)[0]
    assert [s.key for s in parent] == ["t1", "zam1"]
    student = candidates_for(profile, Role.STUDENT, Topic.DIARY, Category.GRADES)[0]
    assert [s.key for s in student] == ["zam1"]
    journal = candidates_for(profile, Role.SUBJECT_TEACHER, Topic.JOURNAL, Category.GRADES)[0]
    assert [s.key for s in journal] == ["zam1"]


def test_explicit_handles_override_the_defaults() -> None:
    # the deputy who administers the journal also resets passwords
    admin = Specialist(
        "zam1", "Петрова А. С.", "Петрова А. С.", SpecialistKind.DEPUTY, categories=frozenset()
    )
    profile = make(specialists=(TECH, admin))
    keys = [s.key for s in candidates_for(profile, Role.PARENT, Topic.DIARY, Category.LOGIN)[0]]
    assert keys == ["tech", "zam1"]  # the technical specialist still comes first


def test_fallback_to_deputies_when_nobody_handles_it() -> None:
    grades_only = frozenset({Category.GRADES})
    profile = make(
        specialists=(TECH, replace(ZAM1, categories=grades_only), replace(ZAM2, categories=grades_only))
    )
    decision = route(profile, Role.CLASS_TEACHER, Topic.JOURNAL, Category.REPORTS, at(8, 15, 30))
    assert decision.fallback
    assert [s.key for s in decision.candidates] == ["zam1", "zam2"]
    assert [s.key for s in decision.on_duty_now] == ["zam1"]


def test_fallback_without_deputies_takes_everyone() -> None:
    profile = make(specialists=(TECH,), slots=(SLOTS[0],))
    decision = route(profile, Role.PARENT, Topic.DIARY, Category.GRADES, at(7, 14, 30))
    assert decision.fallback and [s.key for s in decision.candidates] == ["tech"]
    assert not decision.queued


def test_on_duty_now_is_not_queued() -> None:
    now = at(7, 14, 30)
    decision = route(make(), Role.PARENT, Topic.DIARY, Category.LOGIN, now)
    assert [s.key for s in decision.on_duty_now] == ["tech"]
    assert not decision.queued and decision.take_up_at == now
    assert decision.specialist_for_promise is not None and decision.specialist_for_promise.key == "tech"
    assert decision.promise(now, RU) is None


def test_someone_on_duty_but_not_suitable_queues_the_ticket() -> None:
    now = at(7, 14, 30)  # tech on duty, grades question
    decision = route(make(), Role.SUBJECT_TEACHER, Topic.JOURNAL, Category.GRADES, now)
    assert decision.queued and decision.on_duty_now == ()
    assert decision.take_up_at == at(8, 15)
    assert decision.specialist_for_promise is not None and decision.specialist_for_promise.key == "zam1"
    assert decision.promise(now, RU) == "завтра после 15:00"


def test_friday_evening_login_is_promised_for_monday() -> None:
    now = at(11, 18)
    decision = route(make(), Role.PARENT, Topic.DIARY, Category.LOGIN, now)
    assert decision.queued and decision.take_up_at == at(14, 14)
    assert decision.promise(now, RU) == "в понедельник после 14:00"
    assert decision.promise(now, EN) == "on Monday after 14:00"


def test_diary_question_on_friday_goes_to_the_teacher_on_duty() -> None:
    decision = route(make(), Role.PARENT, Topic.DIARY, Category.HOMEWORK, at(11, 13, 30))
    assert [s.key for s in decision.on_duty_now] == ["t1"]
    journal = route(make(), Role.SUBJECT_TEACHER, Topic.JOURNAL, Category.HOMEWORK, at(11, 13, 30))
    assert [s.key for s in journal.on_duty_now] == ["t1"]  # a teacher also handles journal questions


def test_substitute_takes_the_tickets_of_the_slot() -> None:
    profile = make(changes=(Change(date(2026, 12, 9), ChangeKind.SUBSTITUTE, "tech", substitute="zam1"),))
    decision = route(profile, Role.STUDENT, Topic.DIARY, Category.MOBILE, at(9, 14, 30))
    assert [s.key for s in decision.on_duty_now] == ["zam1"]
    assert not decision.queued


def test_cancelled_slot_queues_until_the_next_one() -> None:
    profile = make(changes=(Change(date(2026, 12, 7), ChangeKind.CANCEL, "tech"),))
    decision = route(profile, Role.PARENT, Topic.DIARY, Category.LOGIN, at(7, 14, 30))
    assert decision.queued and decision.take_up_at == at(9, 14)


def test_empty_profile() -> None:
    decision = route(make(specialists=(), slots=()), Role.PARENT, Topic.DIARY, Category.LOGIN, at(7, 14))
    assert decision.candidates == () and decision.queued
    assert decision.take_up_at is None and decision.specialist_for_promise is None
    assert decision.promise(at(7, 14), RU) is None


def test_no_slots_for_suitable_specialists() -> None:
    decision = route(make(slots=SLOTS[2:]), Role.PARENT, Topic.DIARY, Category.LOGIN, at(7, 14))
    assert [s.key for s in decision.candidates] == ["tech"]
    assert decision.queued and decision.take_up_at is None


def test_suitable_predicate() -> None:
    predicate = suitable(make(), Role.PARENT, Topic.DIARY, Category.LOGIN)
    assert predicate(TECH) and not predicate(ZAM1)
    decision = route(make(), Role.PARENT, Topic.DIARY, Category.LOGIN, at(7, 10))
    assert decision.matches(TECH) and not decision.matches(TEACHER)


def test_example_profile_routing() -> None:
    profile = load_profile(ROOT / "school.example.toml")
    login = route(profile, Role.PARENT, Topic.DIARY, Category.LOGIN, at(7, 10))
    assert [s.key for s in login.candidates] == ["tech"]
    reports = route(profile, Role.ADMINISTRATION, Topic.JOURNAL, Category.REPORTS, at(7, 10))
    assert [s.key for s in reports.candidates] == ["zam_uvr", "zam_vr", "teacher1"]
    grades = route(profile, Role.PARENT, Topic.DIARY, Category.GRADES, at(7, 10))
    assert [s.key for s in grades.candidates] == ["teacher1", "teacher2", "zam_uvr", "zam_vr"]
    friday = route(profile, Role.PARENT, Topic.DIARY, Category.LOGIN, at(11, 18))
    assert friday.promise(at(11, 18), RU) == "в понедельник после 14:00"


# ---- the decision: who, when and why (the example profile; September 2026: Fri 4, Sat 5, Tue 8, Wed 9) ----

EXAMPLE = load_profile(ROOT / "school.example.toml")


def sep(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=MSK)


def test_saturday_evening_goes_to_the_earliest_qualified_slot_not_the_first_candidate() -> None:
    decision = route(EXAMPLE, Role.PARENT, Topic.DIARY, Category.GRADES, sep(5, 20))
    assert decision.candidates[0].key == "teacher1"  # Кузнецова: Fridays only
    assert decision.reason is RouteReason.NEXT_SLOT and decision.queued
    assert decision.assignee is not None and decision.assignee.key == "teacher2"  # Смирнова, Tue 14:00
    assert decision.take_up_at == sep(8, 14)
    assert decision.routed_to[0] == "teacher2"  # what the card reads
    assert decision.consulting_now == ()
    assert decision.decided_at == sep(5, 20) and decision.promise(sep(5, 20), RU) == "во вторник после 14:00"


def test_a_deputy_consulting_does_not_take_a_login_question() -> None:
    decision = route(EXAMPLE, Role.PARENT, Topic.DIARY, Category.LOGIN, sep(8, 15, 30))
    assert decision.reason is RouteReason.NOT_THEIRS and decision.queued
    assert [s.key for s in decision.consulting_now] == ["zam_uvr"]
    assert decision.assignee is not None and decision.assignee.key == "tech"
    assert decision.take_up_at == sep(9, 14)  # not Wed 13:00 (the other deputy)
    assert decision.routed_to == ("tech",)


def test_friday_slot_takes_the_question_now() -> None:
    decision = route(EXAMPLE, Role.PARENT, Topic.DIARY, Category.GRADES, sep(4, 13, 30))
    assert decision.reason is RouteReason.ON_DUTY and not decision.queued
    assert decision.assignee is not None and decision.assignee.key == "teacher1"
    assert decision.take_up_at == sep(4, 13, 30) and decision.routed_to == ("teacher1",)


def test_no_qualified_slot_while_someone_else_consults() -> None:
    profile = make(slots=SLOTS[2:])  # the technical specialist has no consultations
    decision = route(profile, Role.PARENT, Topic.DIARY, Category.LOGIN, at(8, 15, 30))
    assert decision.reason is RouteReason.NO_SLOT and decision.assignee is None
    assert [s.key for s in decision.consulting_now] == ["zam1"]
    assert decision.routed_to == ("tech",)  # the candidates, nobody named


def test_of_two_slots_starting_together_the_better_kind_gets_it() -> None:
    slots = (Slot(0, time(14), time(16), "zam1"), Slot(0, time(14), time(16), "t1"))
    profile = make(slots=slots)
    decision = route(profile, Role.PARENT, Topic.DIARY, Category.GRADES, at(6, 20))
    assert decision.assignee is not None and decision.assignee.key == "t1"  # diary: teacher first
    journal = route(profile, Role.SUBJECT_TEACHER, Topic.JOURNAL, Category.GRADES, at(6, 20))
    assert journal.assignee is not None and journal.assignee.key == "zam1"


def test_profile_routing_names_kinds_in_order() -> None:
    rules = (
        RoutingRule(Category.LOGIN, (SpecialistKind.TECH, SpecialistKind.DEPUTY)),
        RoutingRule(Category.GRADES, (SpecialistKind.DEPUTY,)),
        RoutingRule(Category.GRADES, (SpecialistKind.TEACHER,), Topic.DIARY),
    )
    profile = replace(make(), routing=rules)
    # the routing line lets a deputy (whose default categories are non-technical) take logins, after tech
    login = candidates_for(profile, Role.PARENT, Topic.DIARY, Category.LOGIN)[0]
    assert [s.key for s in login] == ["tech", "zam1", "zam2"]
    # Tue 15:30: the technical specialist is not consulting, the deputy is: it is his now
    decision = route(profile, Role.PARENT, Topic.DIARY, Category.LOGIN, at(8, 15, 30))
    assert decision.reason is RouteReason.ON_DUTY and decision.assignee == ZAM1
    # per topic beats both topics; only the kinds named may take it
    assert [s.key for s in candidates_for(profile, Role.PARENT, Topic.DIARY, Category.GRADES)[0]] == ["t1"]
    journal = candidates_for(profile, Role.SUBJECT_TEACHER, Topic.JOURNAL, Category.GRADES)[0]
    assert [s.key for s in journal] == ["zam1", "zam2"]
    # a specialist's own categories still narrow what the routing allows
    narrow = replace(
        profile, specialists=(TEACHER, TECH, replace(ZAM1, categories=frozenset({Category.GRADES})))
    )
    assert [s.key for s in candidates_for(narrow, Role.PARENT, Topic.DIARY, Category.LOGIN)[0]] == ["tech"]


def test_example_routing_is_what_the_defaults_were() -> None:
    """The example profile writes its routing out; it routes every question as the defaults did."""
    silent = replace(EXAMPLE, routing=())
    for role, topic, category in ALL_CASES:
        for moment in (sep(5, 20), sep(8, 14, 30), sep(8, 15, 30), sep(4, 13, 30), sep(9, 13, 15)):
            a = route(EXAMPLE, role, topic, category, moment)
            b = route(silent, role, topic, category, moment)
            assert (a.candidates, a.assignee, a.take_up_at, a.reason) == (
                b.candidates,
                b.assignee,
                b.take_up_at,
                b.reason,
            ), (role, topic, category, moment)


def test_help_areas_in_the_users_words() -> None:
    assert help_areas(EXAMPLE, EXAMPLE.specialist("tech"), RU) == "вход и пароли, мобильное приложение"
    general = "оценки, домашние задания, расписание и другие вопросы"
    assert help_areas(EXAMPLE, EXAMPLE.specialist("zam_uvr"), RU) == general
    assert help_areas(EXAMPLE, EXAMPLE.specialist("teacher2"), RU) == f"{general} по дневнику"
    assert help_areas(EXAMPLE, EXAMPLE.specialist("teacher2"), EN).endswith("in the diary")
    # a teacher who only takes grades
    narrow = replace(TEACHER, categories=frozenset({Category.GRADES, Category.HOMEWORK}))
    profile = make(specialists=(narrow, TECH, ZAM1))
    assert help_areas(profile, narrow, RU) == "оценки, домашние задания"
    # someone the routing gives nothing shows no area
    routing = (RoutingRule(Category.OTHER, (SpecialistKind.DEPUTY,)),)
    only_deputies = replace(make(specialists=(TECH, ZAM1)), routing=routing)
    assert help_areas(only_deputies, TECH, RU) == "вход и пароли, мобильное приложение"
    text = format_user_schedule(EXAMPLE, date(2026, 9, 7), RU)
    assert "Пн, Ср 14:00–16:00 — вход и пароли, мобильное приложение: технический специалист (Иванов И. И.)" in text
    assert "по УВР" not in text
