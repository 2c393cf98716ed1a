"""The help desk's vocabulary: roles, topics, categories, ticket states; the figures a report counts.

Pure data, no aiogram. Values are short ASCII codes: they go into callback data (64 bytes)
and into the database, and never change once shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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


# ---- Report figures -------------------------------------------------------------------------------------
# What a report over a period counts (computed by SQL aggregates in ``storage/reports.py``, composed into
# words by ``helpdesk/rules/reports.py``). Durations are consultation minutes: only minutes inside the
# school's consultation schedule count (weekends, evenings and holidays do not).


@dataclass(frozen=True)
class Durations:
    """How long something took, in consultation minutes: how many were measured, the median, the 90th
    percentile (nearest rank) and how many took no longer than the target."""

    count: int = 0
    median: float | None = None
    p90: float | None = None
    within: int = 0

    @property
    def share_within(self) -> float | None:
        return self.within / self.count if self.count else None


@dataclass(frozen=True)
class SpecialistLoad:
    """One specialist's part: tickets taken, tickets answered, the median first response of those taken."""

    name: str
    taken: int
    answered: int
    median_first: float | None


@dataclass(frozen=True)
class CategoryFigures:
    category: Category
    tickets: int
    rated: int
    mean_rating: float | None


@dataclass(frozen=True)
class DayFigures:
    """One local day: tickets opened by topic, and the median first response of those tickets."""

    day: date
    by_topic: tuple[tuple[Topic, int], ...]
    median_first: float | None

    @property
    def tickets(self) -> int:
        return sum(n for _, n in self.by_topic)


@dataclass(frozen=True)
class ReportFigures:
    tickets: int = 0
    closed: int = 0
    by_role: tuple[tuple[Role, int], ...] = ()
    by_topic: tuple[tuple[Topic, int], ...] = ()
    by_category: tuple[tuple[Category, int], ...] = ()
    first_response: Durations = Durations()
    resolution: Durations = Durations()
    # Reference articles: articles offered (in the question dialog), answers «помогло» / «нет», and questions
    # asked after articles were offered.
    kb_offers: int = 0
    kb_helped: int = 0
    kb_not_helped: int = 0
    kb_offered_tickets: int = 0
    # Satisfaction: asked, answered, the 1..5 distribution, the mean, the latest comments (score, text).
    ratings_asked: int = 0
    ratings_given: int = 0
    rating_counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    rating_mean: float | None = None
    comments: tuple[tuple[int, str], ...] = ()
    # Hand-offs to the vendor: how many, how many closed since, the median hours from hand-off to close.
    vendor_handoffs: int = 0
    vendor_closed: int = 0
    vendor_median_hours: float | None = None
    conduct: tuple[tuple[str, int], ...] = ()  # kind, count
    load: tuple[SpecialistLoad, ...] = ()
    weekdays: tuple[int, ...] = (0, 0, 0, 0, 0, 0, 0)  # Monday first
    hours: tuple[int, ...] = tuple(0 for _ in range(24))
    categories: tuple[CategoryFigures, ...] = ()
    days: tuple[DayFigures, ...] = ()
