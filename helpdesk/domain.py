"""The help desk's vocabulary: roles, topics, categories, ticket states.

Pure data, no aiogram. Values are short ASCII codes: they go into callback data (64 bytes)
and into the database, and never change once shipped.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATION = "adm"
    SUBJECT_TEACHER = "tch"
    CLASS_TEACHER = "cls"
    OTHER_STAFF = "oth"
    STUDENT = "stu"
    PARENT = "par"

    @property
    def is_staff_member(self) -> bool:
        """School employees use the journal (ЭЖ); students and parents use the diary (ЭД)."""
        return self in {Role.ADMINISTRATION, Role.SUBJECT_TEACHER, Role.CLASS_TEACHER, Role.OTHER_STAFF}


class Topic(StrEnum):
    JOURNAL = "ej"  # электронный журнал, used by staff
    DIARY = "ed"  # электронный дневник, used by students and parents


class Category(StrEnum):
    LOGIN = "login"  # вход и пароль
    GRADES = "grades"  # оценки
    HOMEWORK = "hw"  # домашнее задание
    ATTENDANCE = "att"  # посещаемость
    TIMETABLE = "tt"  # расписание
    REPORTS = "rep"  # отчёты
    MOBILE = "mob"  # мобильное приложение
    OTHER = "other"  # другое

    @property
    def is_technical(self) -> bool:
        return self in {Category.LOGIN, Category.MOBILE}


class TicketStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"


# Which categories make sense for a role on a topic. Order is the order of the buttons.
_JOURNAL_STAFF = (
    Category.LOGIN,
    Category.GRADES,
    Category.HOMEWORK,
    Category.ATTENDANCE,
    Category.TIMETABLE,
    Category.REPORTS,
    Category.MOBILE,
    Category.OTHER,
)
_JOURNAL_OTHER = (Category.LOGIN, Category.TIMETABLE, Category.REPORTS, Category.OTHER)
_DIARY = (
    Category.LOGIN,
    Category.GRADES,
    Category.HOMEWORK,
    Category.ATTENDANCE,
    Category.TIMETABLE,
    Category.MOBILE,
    Category.OTHER,
)


def categories_for(role: Role, topic: Topic) -> tuple[Category, ...]:
    """Categories offered to ``role`` for ``topic``.

    Teachers and administration see every journal category; other staff use the journal less.
    Everyone may ask about the diary (a teacher may be a parent too), with the diary's categories.
    """
    if topic is Topic.DIARY:
        return _DIARY
    if role in {Role.ADMINISTRATION, Role.SUBJECT_TEACHER, Role.CLASS_TEACHER}:
        return _JOURNAL_STAFF
    return _JOURNAL_OTHER


def default_topic(role: Role) -> Topic:
    return Topic.JOURNAL if role.is_staff_member else Topic.DIARY


class RouteReason(StrEnum):
    """Why a question went where it did (stored with the ticket: the card says it as the user was told)."""

    ON_DUTY = "on_duty"  # a helper qualified for it is consulting now: it is theirs now
    NEXT_SLOT = "next_slot"  # nobody is consulting now: the earliest consultation of a qualified helper
    NOT_THEIRS = "not_theirs"  # someone is consulting now, but not a helper qualified for this question
    NO_SLOT = "no_slot"  # no qualified helper has a consultation in the schedule
