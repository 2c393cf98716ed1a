"""The school profile: who helps, when, and how to reach the e-journal vendor.

A school describes itself in a TOML file (see ``school.example.toml``) that it edits without
touching code. :func:`load_profile` reads and validates it into frozen dataclasses. Any problem
raises :class:`ProfileError`, whose text is one line naming the file, the line and the problem::

    school.toml:42: slot ends before it starts (14:00–13:00)

Pure data and validation: no aiogram, no I/O except reading the file.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk.domain import Category, Role, Topic
from helpdesk.rules.privacy import DEFAULT_PRIVACY, PrivacySettings

__all__ = [
    "DEFAULT_TIMEZONE",
    "Change",
    "ChangeKind",
    "DateRange",
    "Management",
    "ProfileError",
    "ReportSettings",
    "RoutingRule",
    "SchoolProfile",
    "Slot",
    "Specialist",
    "SpecialistKind",
    "VendorSupport",
    "default_categories",
    "default_preference",
    "load_profile",
    "parse_weekday",
]

DEFAULT_TIMEZONE = "Europe/Moscow"

_E = TypeVar("_E", bound=StrEnum)


class ProfileError(Exception):
    """A school profile that cannot be used. ``str()`` is a single line: ``file:line: problem``."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file = file
        self.line = line
        self.problem = " ".join(problem.split())  # always one line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.problem}"
        return f"{self.file}:{self.line}: {self.problem}"


class SpecialistKind(StrEnum):
    DEPUTY = "deputy"  # заместитель директора (системный администратор ЭЖ)
    TECH = "tech"  # технический специалист
    TEACHER = "teacher"  # учитель, опытный пользователь ЭЖ


class ChangeKind(StrEnum):
    CANCEL = "cancel"  # консультация отменена
    SUBSTITUTE = "substitute"  # консультацию ведёт другой специалист
    EXTRA = "extra"  # дополнительная разовая консультация


_NON_TECHNICAL = frozenset(c for c in Category if not c.is_technical)
_TECHNICAL = frozenset(c for c in Category if c.is_technical)


def default_categories(kind: SpecialistKind) -> frozenset[Category]:
    """Categories a specialist handles when the profile does not say: technical ones for the
    technical specialist, everything else for deputies and teachers."""
    return _TECHNICAL if kind is SpecialistKind.TECH else _NON_TECHNICAL


def default_preference(topic: Topic, category: Category) -> tuple[SpecialistKind, ...]:
    """Kinds of helper in order of preference when the profile's ``[routing]`` does not name the category:
    technical categories — technical specialist, deputy, teacher; the journal — deputy, teacher, technical
    specialist; the diary — teacher, deputy, technical specialist. (With these defaults the specialists' own
    categories decide who actually takes what: see :meth:`Specialist.handles`.)"""
    if category.is_technical:
        return (SpecialistKind.TECH, SpecialistKind.DEPUTY, SpecialistKind.TEACHER)
    if topic is Topic.JOURNAL:
        return (SpecialistKind.DEPUTY, SpecialistKind.TEACHER, SpecialistKind.TECH)
    return (SpecialistKind.TEACHER, SpecialistKind.DEPUTY, SpecialistKind.TECH)


@dataclass(frozen=True)
class RoutingRule:
    """A line of the profile's ``[routing]``: which kinds of helper may take ``category`` (on ``topic``, or
    on both topics when ``topic`` is None), best first."""

    category: Category
    kinds: tuple[SpecialistKind, ...]
    topic: Topic | None = None


@dataclass(frozen=True)
class Specialist:
    """Someone who answers questions.

    ``topics``, ``categories`` and ``roles`` restrict which tickets the specialist takes.
    ``None`` means the profile is silent (defaults by kind: see :meth:`handles`), an empty set
    means "all".
    """

    key: str
    name: str
    short_name: str
    kind: SpecialistKind
    position: str | None = None
    topics: frozenset[Topic] | None = None
    categories: frozenset[Category] | None = None
    roles: frozenset[Role] | None = None
    manager: str | None = None

    @property
    def explicit(self) -> bool:
        """Whether the profile says anything about which tickets this specialist handles."""
        return self.topics is not None or self.categories is not None or self.roles is not None

    @property
    def effective_categories(self) -> frozenset[Category]:
        if self.categories is None:
            return default_categories(self.kind)
        return self.categories or frozenset(Category)

    def handles(self, role: Role, topic: Topic, category: Category, *, routed: bool = False) -> bool:
        """Whether tickets of this kind belong to the specialist.

        Defaults when the profile is silent: every topic and role; categories by kind — the
        technical specialist takes technical categories (login, mobile app), deputies and
        teachers take the rest. ``routed``: the profile's ``[routing]`` names this category and
        this specialist's kind for it, which replaces the defaults by kind (the specialist's own
        ``categories``, when written, still apply).
        """
        if self.topics and topic not in self.topics:
            return False
        if self.roles and role not in self.roles:
            return False
        if routed and self.categories is None:
            return True
        return category in self.effective_categories


@dataclass(frozen=True)
class Slot:
    """A weekly consultation slot: ``weekday`` 0 = Monday … 6 = Sunday, ``[start, end)``."""

    weekday: int
    start: time
    end: time
    specialist: str


@dataclass(frozen=True)
class DateRange:
    """Holidays or a school break, both ends inclusive: no consultations on these dates."""

    start: date
    end: date
    title: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Change:
    """A one-off change on ``date``.

    * ``cancel``: the specialist's consultation that day (or its part in ``[start, end)``) is off;
    * ``substitute``: ``substitute`` takes the specialist's slot (or its part in ``[start, end)``);
    * ``extra``: an additional one-off consultation ``[start, end)`` by the specialist; it takes
      place even on a holiday.
    """

    date: date
    kind: ChangeKind
    specialist: str
    substitute: str | None = None
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class VendorSupport:
    """The e-journal vendor's support desk: the last line for what the school cannot solve."""

    name: str
    hours: str
    rules: str
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    prepare: tuple[str, ...] = ()
    reminder_days: int = 3


DEFAULT_INVITE_HOURS = 72


@dataclass(frozen=True)
class Management:
    """The school's management (the director, the deputy directors): who may invite and unlink
    specialists, announce to many users, list sign-ups, unblock users, change who is on duty. Named by
    Telegram id or by username (kept lower-case, without «@»)."""

    ids: frozenset[int] = frozenset()
    usernames: frozenset[str] = frozenset()
    invite_hours: int = DEFAULT_INVITE_HOURS

    def names(self, user_id: int | None, username: str | None) -> bool:
        if user_id is not None and user_id in self.ids:
            return True
        return bool(username) and (username or "").lstrip("@").lower() in self.usernames


@dataclass(frozen=True)
class ReportSettings:
    """The deputy director's weekly report and the targets reports measure against (``[reports]``).
    ``weekly_day`` None: no weekly report. Targets are consultation minutes."""

    weekly_day: int | None = 0  # Monday
    weekly_time: time = time(8, 0)
    first_response_minutes: int = 120
    resolution_minutes: int = 480


@dataclass(frozen=True)
class SchoolProfile:
    name: str
    short_name: str
    phone: str
    email: str
    vendor: VendorSupport
    specialists: tuple[Specialist, ...] = ()
    slots: tuple[Slot, ...] = ()
    holidays: tuple[DateRange, ...] = ()
    changes: tuple[Change, ...] = ()
    address: str | None = None
    schedule_note: str | None = None
    timezone: str | None = None
    management: Management = Management()
    privacy: PrivacySettings = DEFAULT_PRIVACY
    routing: tuple[RoutingRule, ...] = ()
    reports: ReportSettings = ReportSettings()
    _by_key: Mapping[str, Specialist] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {s.key: s for s in self.specialists})

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONE)

    def specialist(self, key: str) -> Specialist:
        """The specialist with ``key``; ``KeyError`` if there is none."""
        return self._by_key[key]

    def find_specialist(self, key: str) -> Specialist | None:
        return self._by_key.get(key)

    def holiday_on(self, day: date) -> DateRange | None:
        for rng in self.holidays:
            if day in rng:
                return rng
        return None

    def changes_on(self, day: date) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.date == day)

    def kinds_for(self, topic: Topic, category: Category) -> tuple[tuple[SpecialistKind, ...], bool]:
        """``(kinds of helper who may take the question, best first; whether the profile says so)``: the
        ``[routing]`` line for the topic, else the line for both topics, else :func:`default_preference`."""
        general: RoutingRule | None = None
        for rule in self.routing:
            if rule.category is not category:
                continue
            if rule.topic is topic:
                return rule.kinds, True
            if rule.topic is None:
                general = rule
        if general is not None:
            return general.kinds, True
        return default_preference(topic, category), False

    def manager_of(self, key: str) -> Specialist | None:
        spec = self._by_key.get(key)
        if spec is None or spec.manager is None:
            return None
        return self._by_key.get(spec.manager)


# --------------------------------------------------------------------------------------------
# Vocabulary accepted in the file

_WEEKDAYS: dict[str, int] = {}
for _i, _names in enumerate(
    [
        ("пн", "понедельник", "mon", "monday"),
        ("вт", "вторник", "tue", "tuesday"),
        ("ср", "среда", "wed", "wednesday"),
        ("чт", "четверг", "thu", "thursday"),
        ("пт", "пятница", "fri", "friday"),
        ("сб", "суббота", "sat", "saturday"),
        ("вс", "воскресенье", "sun", "sunday"),
    ]
):
    for _n in _names:
        _WEEKDAYS[_n] = _i

_WEEKDAY_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def parse_weekday(text: str) -> int | None:
    """``"пн"``/``"Mon"``/``"понедельник"`` → 0 … ``"вс"``/``"sun"`` → 6; ``None`` if unknown."""
    return _WEEKDAYS.get(text.strip().lower().rstrip("."))


_TOPIC_ALIASES: dict[str, Topic] = {
    "journal": Topic.JOURNAL,
    "эж": Topic.JOURNAL,
    "журнал": Topic.JOURNAL,
    "diary": Topic.DIARY,
    "эд": Topic.DIARY,
    "дневник": Topic.DIARY,
}
_CATEGORY_ALIASES: dict[str, Category] = {
    "вход": Category.LOGIN,
    "пароль": Category.LOGIN,
    "оценки": Category.GRADES,
    "homework": Category.HOMEWORK,
    "дз": Category.HOMEWORK,
    "домашнее задание": Category.HOMEWORK,
    "attendance": Category.ATTENDANCE,
    "посещаемость": Category.ATTENDANCE,
    "timetable": Category.TIMETABLE,
    "расписание": Category.TIMETABLE,
    "reports": Category.REPORTS,
    "отчёты": Category.REPORTS,
    "отчеты": Category.REPORTS,
    "mobile": Category.MOBILE,
    "приложение": Category.MOBILE,
    "мобильное приложение": Category.MOBILE,
    "другое": Category.OTHER,
}
_ROLE_ALIASES: dict[str, Role] = {
    "administration": Role.ADMINISTRATION,
    "администрация": Role.ADMINISTRATION,
    "subject_teacher": Role.SUBJECT_TEACHER,
    "teacher": Role.SUBJECT_TEACHER,
    "учитель": Role.SUBJECT_TEACHER,
    "учитель-предметник": Role.SUBJECT_TEACHER,
    "class_teacher": Role.CLASS_TEACHER,
    "классный руководитель": Role.CLASS_TEACHER,
    "other_staff": Role.OTHER_STAFF,
    "сотрудник": Role.OTHER_STAFF,
    "student": Role.STUDENT,
    "ученик": Role.STUDENT,
    "обучающийся": Role.STUDENT,
    "parent": Role.PARENT,
    "родитель": Role.PARENT,
}

_KEY_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_RU_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")

_PRIVACY_KEYS = (
    "operator",
    "policy_url",
    "show_full_name",
    "show_profile_link",
    "students_need_parent",
    "alert_excerpt",
    "ticket_texts_days",
    "inactive_user_days",
    "conduct_days",
    "service_days",
)
_ROOT_KEYS = (
    "school", "vendor", "management", "reports", "routing", "specialists", "slots", "holidays", "changes", "privacy",
)
_REPORTS_KEYS = ("weekly_day", "weekly_time", "first_response_minutes", "resolution_minutes")
_KIND_ALIASES: dict[str, SpecialistKind] = {
    "технический специалист": SpecialistKind.TECH,
    "техник": SpecialistKind.TECH,
    "заместитель": SpecialistKind.DEPUTY,
    "заместитель директора": SpecialistKind.DEPUTY,
    "учитель": SpecialistKind.TEACHER,
}
_MANAGEMENT_KEYS = ("members", "invite_hours")
_USERNAME_RE = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
_SCHOOL_KEYS = ("name", "short_name", "phone", "email", "address", "schedule_note", "timezone")
_VENDOR_KEYS = ("name", "phone", "email", "url", "hours", "rules", "prepare", "reminder_days")
_SPECIALIST_KEYS = (
    "key",
    "name",
    "short_name",
    "kind",
    "position",
    "topics",
    "categories",
    "roles",
    "manager",
)
_SLOT_KEYS = ("day", "days", "start", "end", "specialist")
_HOLIDAY_KEYS = ("date", "start", "end", "title")
_CHANGE_KEYS = ("date", "kind", "specialist", "substitute", "start", "end")


def _hm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


# --------------------------------------------------------------------------------------------
# Line numbers: TOML parsers forget them, so the loader scans the text itself.

_HEADER_RE = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]|^\[\s*([^\[\]]+?)\s*\]")
_KEY_LINE_RE = re.compile(r'^("[^"]*"|\'[^\']*\'|[A-Za-z0-9_\-.]+)\s*=')

# a location in the document: (table, index in an array of tables or None, key or None)
_Where = tuple[str, int | None, str | None]


def _scan_depth(text: str, depth: int) -> tuple[int, str | None]:
    """Bracket depth after ``text`` (outside strings and comments) and an open multi-line
    string delimiter, if the line leaves one open."""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            break
        if text.startswith('"""', i) or text.startswith("'''", i):
            delim = text[i : i + 3]
            close = text.find(delim, i + 3)
            if close < 0:
                return depth, delim
            i = close + 3
            continue
        if ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if ch == '"' and text[j] == "\\" else 1
            i = j + 1
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return depth, None


class _Locator:
    """Maps tables, array-of-tables entries and keys to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: dict[tuple[str, int | None], int] = {}
        self.spans: dict[tuple[str, int | None], tuple[int, int]] = {}
        self.keys: dict[tuple[str, int | None, str], int] = {}
        counts: dict[str, int] = {}
        current: tuple[str, int | None] = ("", None)
        start_line = 1
        depth = 0
        open_ml: str | None = None
        for no, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            if open_ml is not None:
                pos = line.find(open_ml)
                if pos < 0:
                    continue
                line = line[pos + 3 :]
                open_ml = None
                depth, open_ml = _scan_depth(line, depth)
                continue
            if depth == 0 and line.startswith("["):
                m = _HEADER_RE.match(line)
                if m:
                    self.spans[current] = (start_line, no - 1)
                    if m.group(1) is not None:
                        name = m.group(1).strip()
                        idx = counts.get(name, 0)
                        counts[name] = idx + 1
                        current = (name, idx)
                    else:
                        current = (m.group(2).strip(), None)
                    self.headers.setdefault(current, no)
                    start_line = no
                    continue
            if depth == 0:
                km = _KEY_LINE_RE.match(line)
                if km:
                    key = km.group(1).strip("\"'")
                    self.keys.setdefault((current[0], current[1], key), no)
                    line = line[km.end() :]
            depth, open_ml = _scan_depth(line, depth)
        self.spans[current] = (start_line, len(self.lines))

    def line(self, where: _Where, value: str | None = None) -> int | None:
        table, index, key = where
        if not table and key is not None and ("", None, key) not in self.keys:
            # a root key written as a [table] or [[table]] header
            header = self.headers.get((key, None)) or self.headers.get((key, 0))
            if header is not None:
                return header
        if table and (table, index) not in self.headers and (table, None) not in self.headers:
            # the table may be written inline or with dotted keys: point at its root key
            root = self.keys.get(("", None, table))
            if root is not None:
                return root
        span = self.spans.get((table, index))
        first: int | None = None
        if key is not None:
            first = self.keys.get((table, index, key))
        if first is None:
            first = self.headers.get((table, index))
        if first is None:
            return None
        if value is not None:
            last = span[1] if span else len(self.lines)
            for no in range(first, last + 1):
                if value in self.lines[no - 1]:
                    return no
        return first


# --------------------------------------------------------------------------------------------
# The loader


class _Loader:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.locator = _Locator(text)

    def fail(self, where: _Where, problem: str, value: str | None = None) -> NoReturn:
        raise ProfileError(self.file, self.locator.line(where, value), problem)

    @staticmethod
    def _label(where: _Where) -> str:
        table, index, _ = where
        if not table:
            return "the file"
        return f"[[{table}]]" if index is not None else f"[{table}]"

    def check_keys(self, data: Mapping[str, Any], allowed: Iterable[str], where: _Where) -> None:
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                tip = f'did you mean "{hint[0]}"?' if hint else f"allowed: {', '.join(allowed)}"
                self.fail((where[0], where[1], key), f'unknown key "{key}" in {self._label(where)} ({tip})')

    def table(self, data: Mapping[str, Any], key: str, where: _Where) -> Mapping[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            if value is None:
                self.fail(where, f"missing [{key}] table")
            self.fail(("", None, key), f"[{key}] must be a table")
        return value

    def array(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail((key, 0, None), f"{key} must be written as [[{key}]] tables")
        return value

    def string(
        self, data: Mapping[str, Any], key: str, where: _Where, *, required: bool = True
    ) -> str | None:
        value = data.get(key)
        at: _Where = (where[0], where[1], key)
        if value is None:
            if required:
                self.fail(where, f'missing "{key}" in {self._label(where)}')
            return None
        if not isinstance(value, str):
            self.fail(at, f'"{key}" must be text in quotes')
        value = value.strip()
        if not value:
            if required:
                self.fail(at, f'"{key}" must not be empty')
            return None
        return value

    def req(self, data: Mapping[str, Any], key: str, where: _Where) -> str:
        value = self.string(data, key, where)
        assert value is not None
        return value

    def time_(self, data: Mapping[str, Any], key: str, where: _Where) -> time | None:
        value = data.get(key)
        if value is None:
            return None
        at: _Where = (where[0], where[1], key)
        if isinstance(value, time):
            if value.tzinfo is not None or value.second or value.microsecond:
                self.fail(at, f'invalid time for "{key}" (expected "HH:MM", e.g. "14:00")')
            return value
        if isinstance(value, str):
            m = _TIME_RE.match(value.strip())
            if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
                return time(int(m.group(1)), int(m.group(2)))
        self.fail(
            at, f'invalid time {_show(value)} for "{key}" (expected "HH:MM", e.g. "14:00")', _needle(value)
        )

    def date_(self, data: Mapping[str, Any], key: str, where: _Where) -> date | None:
        value = data.get(key)
        if value is None:
            return None
        at: _Where = (where[0], where[1], key)
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            text = value.strip()
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
            m = _RU_DATE_RE.match(text)
            if m:
                try:
                    return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
                except ValueError:
                    pass
        self.fail(
            at,
            f'invalid date {_show(value)} for "{key}" (expected YYYY-MM-DD, e.g. 2026-12-28)',
            _needle(value),
        )

    def enum_set(
        self,
        data: Mapping[str, Any],
        key: str,
        where: _Where,
        enum: type[_E],
        aliases: Mapping[str, _E],
    ) -> frozenset[_E] | None:
        value = data.get(key)
        if value is None:
            return None
        at: _Where = (where[0], where[1], key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(at, f'"{key}" must be a list, e.g. {key} = ["{next(iter(enum)).value}"]')
        result: set[_E] = set()
        for item in value:
            text = item.strip().lower() if isinstance(item, str) else None
            found: _E | None = None
            if text is not None:
                try:
                    found = enum(text)
                except ValueError:
                    found = aliases.get(text) or aliases.get(text.replace("ё", "е"))
            if found is None:
                known = ", ".join(e.value for e in enum)
                self.fail(at, f'unknown value {_show(item)} in "{key}" (known: {known})', _needle(item))
            result.add(found)
        return frozenset(result)

    # ---- sections

    def school(self, data: Mapping[str, Any]) -> dict[str, Any]:
        where: _Where = ("school", None, None)
        sec = self.table(data, "school", where)
        self.check_keys(sec, _SCHOOL_KEYS, where)
        email = self.req(sec, "email", where)
        if "@" not in email:
            self.fail(("school", None, "email"), f'invalid e-mail "{email}"')
        tz = self.string(sec, "timezone", where, required=False)
        if tz is not None:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                self.fail(("school", None, "timezone"), f'unknown time zone "{tz}" (e.g. "Europe/Moscow")')
        return {
            "name": self.req(sec, "name", where),
            "short_name": self.req(sec, "short_name", where),
            "phone": self.req(sec, "phone", where),
            "email": email,
            "address": self.string(sec, "address", where, required=False),
            "schedule_note": self.string(sec, "schedule_note", where, required=False),
            "timezone": tz,
        }

    def vendor(self, data: Mapping[str, Any]) -> VendorSupport:
        where: _Where = ("vendor", None, None)
        sec = self.table(data, "vendor", where)
        self.check_keys(sec, _VENDOR_KEYS, where)
        prepare = sec.get("prepare", [])
        if not isinstance(prepare, list) or not all(isinstance(p, str) and p.strip() for p in prepare):
            self.fail(("vendor", None, "prepare"), '"prepare" must be a list of texts')
        days = sec.get("reminder_days", 3)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
            self.fail(
                ("vendor", None, "reminder_days"), '"reminder_days" must be a whole number of days, 1–60'
            )
        email = self.string(sec, "email", where, required=False)
        if email is not None and "@" not in email:
            self.fail(("vendor", None, "email"), f'invalid e-mail "{email}"')
        return VendorSupport(
            name=self.req(sec, "name", where),
            hours=self.req(sec, "hours", where),
            rules=self.req(sec, "rules", where),
            phone=self.string(sec, "phone", where, required=False),
            email=email,
            url=self.string(sec, "url", where, required=False),
            prepare=tuple(p.strip() for p in prepare),
            reminder_days=days,
        )

    def management(self, data: Mapping[str, Any]) -> Management:
        if "management" not in data:
            return Management()
        where: _Where = ("management", None, None)
        sec = self.table(data, "management", where)
        self.check_keys(sec, _MANAGEMENT_KEYS, where)
        at: _Where = ("management", None, "members")
        members = sec.get("members", [])
        if not isinstance(members, list):
            self.fail(at, '"members" must be a list, e.g. members = [123456789, "@petrova_as"]')
        ids: set[int] = set()
        usernames: set[str] = set()
        for item in members:
            if isinstance(item, int) and not isinstance(item, bool) and item > 0:
                ids.add(item)
                continue
            m = _USERNAME_RE.match(item.strip()) if isinstance(item, str) else None
            if m is None:
                self.fail(
                    at,
                    f"{_show(item)} in \"members\" is neither a Telegram id (a number) nor a username"
                    ' (e.g. "@petrova_as")',
                    _needle(item),
                )
            usernames.add(m.group(1).lower())
        hours = sec.get("invite_hours", DEFAULT_INVITE_HOURS)
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 720:
            self.fail(
                ("management", None, "invite_hours"), '"invite_hours" must be a whole number of hours, 1–720'
            )
        return Management(ids=frozenset(ids), usernames=frozenset(usernames), invite_hours=hours)

    def reports(self, data: Mapping[str, Any]) -> ReportSettings:
        if "reports" not in data:
            return ReportSettings()
        where: _Where = ("reports", None, None)
        sec = self.table(data, "reports", where)
        self.check_keys(sec, _REPORTS_KEYS, where)
        defaults = ReportSettings()
        day: int | None = defaults.weekly_day
        raw_day = sec.get("weekly_day")
        if raw_day is not None:
            if not isinstance(raw_day, str):
                self.fail(("reports", None, "weekly_day"), '"weekly_day" must be a weekday such as "пн", or ""')
            if raw_day.strip() in ("", "нет", "off"):
                day = None
            else:
                day = parse_weekday(raw_day)
                if day is None:
                    self.fail(
                        ("reports", None, "weekly_day"),
                        f'unknown weekday "{raw_day}" for "weekly_day" (e.g. "пн"; "" for no weekly report)',
                        raw_day,
                    )
        at = self.time_(sec, "weekly_time", where) or defaults.weekly_time
        minutes: dict[str, int] = {}
        for key in ("first_response_minutes", "resolution_minutes"):
            value = sec.get(key, getattr(defaults, key))
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
                self.fail(("reports", None, key), f'"{key}" must be a whole number of minutes, e.g. 120')
            minutes[key] = value
        return ReportSettings(weekly_day=day, weekly_time=at, **minutes)

    def privacy(self, data: Mapping[str, Any]) -> PrivacySettings:
        if "privacy" not in data:
            return PrivacySettings()
        where: _Where = ("privacy", None, None)
        sec = self.table(data, "privacy", where)
        self.check_keys(sec, _PRIVACY_KEYS, where)
        flags: dict[str, bool] = {}
        for key in ("show_full_name", "show_profile_link", "students_need_parent"):
            value = sec.get(key, False)
            if not isinstance(value, bool):
                self.fail(("privacy", None, key), f'"{key}" must be true or false')
            flags[key] = value
        numbers: dict[str, int] = {}
        defaults = PrivacySettings()
        for key, low, high in (
            ("alert_excerpt", 0, 1500),
            ("ticket_texts_days", 1, 3650),
            ("inactive_user_days", 1, 3650),
            ("conduct_days", 1, 3650),
            ("service_days", 1, 3650),
        ):
            value = sec.get(key, getattr(defaults, key))
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                self.fail(("privacy", None, key), f'"{key}" must be a whole number, {low}–{high}')
            numbers[key] = value
        return PrivacySettings(
            operator=self.string(sec, "operator", where, required=False),
            policy_url=self.string(sec, "policy_url", where, required=False),
            show_full_name=flags["show_full_name"],
            show_profile_link=flags["show_profile_link"],
            students_need_parent=flags["students_need_parent"],
            alert_excerpt=numbers["alert_excerpt"],
            ticket_texts_days=numbers["ticket_texts_days"],
            inactive_user_days=numbers["inactive_user_days"],
            conduct_days=numbers["conduct_days"],
            service_days=numbers["service_days"],
        )
    def routing(self, data: Mapping[str, Any]) -> tuple[RoutingRule, ...]:
        """``[routing]``: ``category = ["kind", ...]`` for both topics, and ``[routing.ej]`` /
        ``[routing.ed]`` tables of the same lines for one topic."""
        if "routing" not in data:
            return ()
        sec = self.table(data, "routing", ("routing", None, None))
        rules: list[tuple[RoutingRule, _Where]] = []
        for key, value in sec.items():
            topic = _TOPIC_ALIASES.get(key.strip().lower()) or _enum_or_none(Topic, key)
            if topic is not None and isinstance(value, dict):
                table = f"routing.{key}"
                at_table: _Where = (
                    (table, None, None) if self.locator.line((table, None, None)) else ("routing", None, key)
                )
                for cat_key, kinds in value.items():
                    where: _Where = (table, None, cat_key) if at_table[0] == table else at_table
                    rules.append((self.routing_rule(cat_key, kinds, where, f"[{table}]", topic), where))
                continue
            at: _Where = ("routing", None, key)
            rules.append((self.routing_rule(key, value, at, "[routing]", None), at))
        seen: set[tuple[Topic | None, Category]] = set()
        for rule, where in rules:
            if (rule.topic, rule.category) in seen:
                table = f"[routing.{rule.topic.value}]" if rule.topic else "[routing]"
                self.fail(where, f'category "{rule.category.value}" is given twice in {table}')
            seen.add((rule.topic, rule.category))
        return tuple(rule for rule, _ in rules)

    def routing_rule(
        self, key: str, value: object, where: _Where, table: str, topic: Topic | None
    ) -> RoutingRule:
        text = key.strip().lower()
        category = _enum_or_none(Category, text) or _CATEGORY_ALIASES.get(text) or _CATEGORY_ALIASES.get(
            text.replace("ё", "е")
        )
        if category is None:
            known = ", ".join(c.value for c in Category)
            topics = "" if topic is not None else " or a topic table [routing.ej] / [routing.ed]"
            self.fail(where, f'unknown category "{key}" in {table} (known: {known}){topics}')
        example = f'{category.value} = ["deputy", "teacher"]'
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail(where, f'"{key}" in {table} must be a list of kinds of specialist, e.g. {example}')
        kinds: list[SpecialistKind] = []
        for item in value:
            name = item.strip().lower() if isinstance(item, str) else ""
            kind = _enum_or_none(SpecialistKind, name) or _KIND_ALIASES.get(name)
            if kind is None:
                known = ", ".join(k.value for k in SpecialistKind)
                self.fail(
                    where, f'unknown kind {_show(item)} for "{key}" in {table} (known: {known})', _needle(item)
                )
            if kind in kinds:
                self.fail(where, f'kind "{kind.value}" is listed twice for "{key}" in {table}', _needle(item))
            kinds.append(kind)
        return RoutingRule(category, tuple(kinds), topic)

    def specialists(self, data: Mapping[str, Any]) -> tuple[Specialist, ...]:
        result: list[Specialist] = []
        seen: set[str] = set()
        for i, sec in enumerate(self.array(data, "specialists")):
            where: _Where = ("specialists", i, None)
            self.check_keys(sec, _SPECIALIST_KEYS, where)
            key = self.req(sec, "key", where)
            if not _KEY_RE.match(key):
                self.fail(
                    ("specialists", i, "key"),
                    f'specialist key "{key}" must be short Latin letters, digits or "_" (e.g. "tech", "zam1")',
                )
            if key in seen:
                self.fail(("specialists", i, "key"), f'duplicate specialist key "{key}"')
            seen.add(key)
            kind_text = self.req(sec, "kind", where)
            try:
                kind = SpecialistKind(kind_text.lower())
            except ValueError:
                known = ", ".join(k.value for k in SpecialistKind)
                self.fail(
                    ("specialists", i, "kind"), f'unknown kind "{kind_text}" for "{key}" (known: {known})'
                )
            result.append(
                Specialist(
                    key=key,
                    name=self.req(sec, "name", where),
                    short_name=self.req(sec, "short_name", where),
                    kind=kind,
                    position=self.string(sec, "position", where, required=False),
                    topics=self.enum_set(sec, "topics", where, Topic, _TOPIC_ALIASES),
                    categories=self.enum_set(sec, "categories", where, Category, _CATEGORY_ALIASES),
                    roles=self.enum_set(sec, "roles", where, Role, _ROLE_ALIASES),
                    manager=self.string(sec, "manager", where, required=False),
                )
            )
        known_keys = {s.key for s in result}
        for i, spec in enumerate(result):
            if spec.manager is None:
                continue
            at: _Where = ("specialists", i, "manager")
            if spec.manager not in known_keys:
                self.fail(
                    at,
                    f'unknown manager "{spec.manager}" for "{spec.key}" (known: {_known(result)})',
                    spec.manager,
                )
            if spec.manager == spec.key:
                self.fail(at, f'"{spec.key}" cannot be their own manager')
        by_key = {s.key: s for s in result}
        for i, spec in enumerate(result):
            chain = [spec.key]
            cur = spec.manager
            while cur is not None:
                if cur in chain:
                    self.fail(
                        ("specialists", i, "manager"), f"managers form a loop: {' → '.join([*chain, cur])}"
                    )
                chain.append(cur)
                cur = by_key[cur].manager
        return tuple(result)

    def ref(self, key: str, specialists: tuple[Specialist, ...], at: _Where, context: str) -> None:
        if key not in {s.key for s in specialists}:
            self.fail(at, f'unknown specialist "{key}" in {context} (known: {_known(specialists)})', key)

    def slots(self, data: Mapping[str, Any], specialists: tuple[Specialist, ...]) -> tuple[Slot, ...]:
        result: list[tuple[Slot, int]] = []
        for i, sec in enumerate(self.array(data, "slots")):
            where: _Where = ("slots", i, None)
            self.check_keys(sec, _SLOT_KEYS, where)
            if "day" in sec and "days" in sec:
                self.fail(("slots", i, "days"), 'use either "day" or "days", not both')
            raw = sec.get("days", sec.get("day"))
            day_key = "days" if "days" in sec else "day"
            if raw is None:
                self.fail(where, 'missing "days" in [[slots]] (e.g. days = ["пн", "ср"])')
            items = [raw] if isinstance(raw, str) else raw
            if not isinstance(items, list) or not items:
                self.fail(
                    ("slots", i, day_key), '"days" must be a list of weekdays, e.g. days = ["пн", "ср"]'
                )
            weekdays: list[int] = []
            for item in items:
                wd = parse_weekday(item) if isinstance(item, str) else None
                if wd is None:
                    self.fail(
                        ("slots", i, day_key),
                        f"unknown weekday {_show(item)} (use пн, вт, ср, чт, пт, сб, вс or mon … sun)",
                        _needle(item),
                    )
                if wd in weekdays:
                    self.fail(("slots", i, day_key), f"weekday {_show(item)} is listed twice", _needle(item))
                weekdays.append(wd)
            start = self.time_(sec, "start", where)
            end = self.time_(sec, "end", where)
            if start is None or end is None:
                self.fail(where, f'missing "{"start" if start is None else "end"}" in [[slots]]')
            if end <= start:
                problem = "ends before it starts" if end < start else "has zero length"
                self.fail(("slots", i, "end"), f"slot {problem} ({_hm(start)}–{_hm(end)})")
            who = self.req(sec, "specialist", where)
            self.ref(who, specialists, ("slots", i, "specialist"), "schedule")
            for wd in weekdays:
                result.append((Slot(wd, start, end, who), i))
        for a_pos, (a, ai) in enumerate(result):
            for b, bi in result[a_pos + 1 :]:
                if (
                    a.specialist == b.specialist
                    and a.weekday == b.weekday
                    and a.start < b.end
                    and b.start < a.end
                ):
                    self.fail(
                        ("slots", max(ai, bi), "start"),
                        f'slots of "{a.specialist}" overlap on {_WEEKDAY_EN[a.weekday]} '
                        f"({_hm(a.start)}–{_hm(a.end)} and {_hm(b.start)}–{_hm(b.end)})",
                    )
        return tuple(s for s, _ in result)

    def holidays(self, data: Mapping[str, Any]) -> tuple[DateRange, ...]:
        result: list[DateRange] = []
        for i, sec in enumerate(self.array(data, "holidays")):
            where: _Where = ("holidays", i, None)
            self.check_keys(sec, _HOLIDAY_KEYS, where)
            title = self.req(sec, "title", where)
            single = self.date_(sec, "date", where)
            start = self.date_(sec, "start", where)
            end = self.date_(sec, "end", where)
            if single is not None:
                if start is not None or end is not None:
                    self.fail(("holidays", i, "date"), 'use either "date" or "start"/"end", not both')
                start = end = single
            if start is None or end is None:
                self.fail(
                    where, f'missing "{"start" if start is None else "end"}" date in [[holidays]] "{title}"'
                )
            if end < start:
                self.fail(("holidays", i, "end"), f'"{title}" ends before it starts ({start} – {end})')
            result.append(DateRange(start, end, title))
        return tuple(result)

    def changes(
        self, data: Mapping[str, Any], specialists: tuple[Specialist, ...], slots: tuple[Slot, ...]
    ) -> tuple[Change, ...]:
        result: list[Change] = []
        for i, sec in enumerate(self.array(data, "changes")):
            where: _Where = ("changes", i, None)
            self.check_keys(sec, _CHANGE_KEYS, where)
            day = self.date_(sec, "date", where)
            if day is None:
                self.fail(where, 'missing "date" in [[changes]]')
            kind_text = self.req(sec, "kind", where)
            try:
                kind = ChangeKind(kind_text.lower())
            except ValueError:
                known = ", ".join(k.value for k in ChangeKind)
                self.fail(("changes", i, "kind"), f'unknown change kind "{kind_text}" (known: {known})')
            who = self.req(sec, "specialist", where)
            self.ref(who, specialists, ("changes", i, "specialist"), "changes")
            sub = self.string(sec, "substitute", where, required=False)
            start = self.time_(sec, "start", where)
            end = self.time_(sec, "end", where)
            if kind is ChangeKind.SUBSTITUTE:
                if sub is None:
                    self.fail(where, 'a "substitute" change needs substitute = "<specialist key>"')
                self.ref(sub, specialists, ("changes", i, "substitute"), "changes")
                if sub == who:
                    self.fail(("changes", i, "substitute"), f'"{who}" cannot substitute for themselves')
            elif sub is not None:
                self.fail(
                    ("changes", i, "substitute"), '"substitute" only makes sense with kind = "substitute"'
                )
            if kind is ChangeKind.EXTRA and (start is None or end is None):
                self.fail(where, 'an "extra" consultation needs "start" and "end"')
            if (start is None) != (end is None):
                self.fail(where, 'give both "start" and "end", or neither (the whole day)')
            if start is not None and end is not None and end <= start:
                problem = "ends before it starts" if end < start else "has zero length"
                self.fail(("changes", i, "end"), f"change {problem} ({_hm(start)}–{_hm(end)})")
            if kind is not ChangeKind.EXTRA:
                lo = start or time.min
                hi = end or time.max
                if not any(
                    s.specialist == who and s.weekday == day.weekday() and s.start < hi and lo < s.end
                    for s in slots
                ):
                    span = f" {_hm(lo)}–{_hm(hi)}" if start is not None else ""
                    self.fail(
                        ("changes", i, "date"),
                        f'"{who}" has no consultation on {day} ({_WEEKDAY_EN[day.weekday()]}){span} to {kind.value}',
                    )
            result.append(Change(day, kind, who, sub, start, end))
        return tuple(result)

    def profile(self, data: Mapping[str, Any]) -> SchoolProfile:
        self.check_keys(data, _ROOT_KEYS, ("", None, None))
        school = self.school(data)
        vendor = self.vendor(data)
        management = self.management(data)
        reports = self.reports(data)
        privacy = self.privacy(data)
        routing = self.routing(data)
        specialists = self.specialists(data)
        slots = self.slots(data, specialists)
        holidays = self.holidays(data)
        changes = self.changes(data, specialists, slots)
        return SchoolProfile(
            vendor=vendor,
            specialists=specialists,
            slots=slots,
            holidays=holidays,
            changes=changes,
            management=management,
            reports=reports,
            privacy=privacy,
            routing=routing,
            **school,
        )


def _enum_or_none(enum: type[_E], text: str) -> _E | None:
    try:
        return enum(text.strip().lower())
    except ValueError:
        return None


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _needle(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _known(specialists: Iterable[Specialist]) -> str:
    keys = [s.key for s in specialists]
    return ", ".join(keys) if keys else "none — add [[specialists]] first"


_TOML_POS_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_EOF_RE = re.compile(r"\s*\(at end of document\)\s*$")


def load_profile(path: str | Path) -> SchoolProfile:
    """Read and validate a school profile. Raises :class:`ProfileError` with ``file:line: problem``."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ProfileError(file, None, "the file must be saved as UTF-8 text") from None
    except OSError as exc:
        raise ProfileError(file, None, f"cannot read the file: {exc.strerror or exc}") from None
    text = text.removeprefix("\ufeff")  # a BOM from Windows Notepad
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line: int | None = None
        m = _TOML_POS_RE.search(message)
        if m:
            line = int(m.group(1))
            message = f"{message[: m.start()]} (column {m.group(2)})"
        elif _TOML_EOF_RE.search(message):
            line = max(1, len(text.splitlines()))
            message = _TOML_EOF_RE.sub(" (at the end of the file)", message)
        raise ProfileError(file, line, f"TOML syntax error: {message}") from None
    return _Loader(file, text).profile(data)
