"""Training seminars: reading the deputy director's announcement, and when reminders are due.

Pure Python: no aiogram, no I/O. Time comes in as arguments (aware datetimes).

The announcement is one command, the parts separated by ``;`` or by new lines::

    /seminar 15.10 15:00; Итоговые оценки в ЭЖ; каб. 21 или https://meet.example/abc; учителя, классные руководители

(when; title; place or link; for whom). The year may be left out: the next such date is meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING

from helpdesk.domain import Role
from helpdesk.rules.schedule import date_text, weekday_name

if TYPE_CHECKING:
    from helpdesk.texts import Tr

__all__ = [
    "DAY_BEFORE",
    "HOUR_BEFORE",
    "MAX_PLACE",
    "MAX_TITLE",
    "NoticeKind",
    "SeminarDraft",
    "SeminarFormatError",
    "due_reminder",
    "format_when",
    "parse_announcement",
    "parse_roles",
]

DAY_BEFORE = timedelta(hours=24)
HOUR_BEFORE = timedelta(hours=1)
MAX_TITLE = 200
MAX_PLACE = 300
MAX_AHEAD = timedelta(days=366)


class NoticeKind(StrEnum):
    ANNOUNCE = "announce"
    DAY = "day"
    HOUR = "hour"


class SeminarFormatError(ValueError):
    """The announcement cannot be read. ``code`` names the text to show; ``value`` is the bad part."""

    def __init__(self, code: str, value: str = "") -> None:
        super().__init__(f"{code}: {value}" if value else code)
        self.code = code
        self.value = value


@dataclass(frozen=True)
class SeminarDraft:
    title: str
    starts_at: datetime  # aware, UTC
    place: str
    roles: tuple[Role, ...]


# --------------------------------------------------------------------------- roles

_STAFF = (Role.ADMINISTRATION, Role.SUBJECT_TEACHER, Role.CLASS_TEACHER, Role.OTHER_STAFF)

_ALL_WORDS = frozenset({"все", "всем", "всех", "для всех", "all", "everyone"})

# Word beginnings (lower case, ё → е) and the roles they mean. Checked in order, the first match wins.
_ROLE_WORDS: tuple[tuple[str, tuple[Role, ...]], ...] = (
    ("все сотрудник", _STAFF),
    ("всем сотрудник", _STAFF),
    ("всех сотрудник", _STAFF),
    ("сотрудник", _STAFF),
    ("персонал", _STAFF),
    ("педагог", _STAFF),
    ("staff", _STAFF),
    ("администрац", (Role.ADMINISTRATION,)),
    ("админ", (Role.ADMINISTRATION,)),
    ("adm", (Role.ADMINISTRATION,)),
    ("предметник", (Role.SUBJECT_TEACHER,)),
    ("учителя-предметник", (Role.SUBJECT_TEACHER,)),
    ("учитель-предметник", (Role.SUBJECT_TEACHER,)),
    ("tch", (Role.SUBJECT_TEACHER,)),
    ("классн", (Role.CLASS_TEACHER,)),
    ("классрук", (Role.CLASS_TEACHER,)),
    ("кл. рук", (Role.CLASS_TEACHER,)),
    ("кл.рук", (Role.CLASS_TEACHER,)),
    ("class", (Role.CLASS_TEACHER,)),
    ("cls", (Role.CLASS_TEACHER,)),
    # "учителя" in a school means every teacher: subject teachers and class teachers.
    ("учител", (Role.SUBJECT_TEACHER, Role.CLASS_TEACHER)),
    ("teacher", (Role.SUBJECT_TEACHER, Role.CLASS_TEACHER)),
    ("друг", (Role.OTHER_STAFF,)),
    ("oth", (Role.OTHER_STAFF,)),
    ("учени", (Role.STUDENT,)),
    ("учащ", (Role.STUDENT,)),
    ("обучающ", (Role.STUDENT,)),
    ("школьник", (Role.STUDENT,)),
    ("student", (Role.STUDENT,)),
    ("stu", (Role.STUDENT,)),
    ("родител", (Role.PARENT,)),
    ("законн", (Role.PARENT,)),
    ("parent", (Role.PARENT,)),
    ("par", (Role.PARENT,)),
)


def parse_roles(text: str) -> tuple[Role, ...]:
    """``"учителя, родители"`` → (tch, cls, par), in the order of :class:`Role`.

    Raises SeminarFormatError("roles", word) for a word it does not know, ("roles", "") for nothing.
    """
    found: set[Role] = set()
    pieces = re.split(r",|;|/|\+|\s+и\s+|\s+and\s+", text.lower().replace("ё", "е"))
    for raw in pieces:
        piece = raw.strip(" .\t")
        if not piece:
            continue
        if piece in _ALL_WORDS:
            found.update(Role)
            continue
        for prefix, roles in _ROLE_WORDS:
            if piece.startswith(prefix):
                found.update(roles)
                break
        else:
            raise SeminarFormatError("roles", raw.strip())
    if not found:
        raise SeminarFormatError("roles", "")
    return tuple(r for r in Role if r in found)


# --------------------------------------------------------------------------- date and time

_DATE_RE = re.compile(r"^(?P<d>\d{1,2})[./](?P<m>\d{1,2})(?:[./](?P<y>\d{2}|\d{4}))?$")
_ISO_DATE_RE = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
_TIME_RE = re.compile(r"^(?P<h>\d{1,2})[:.](?P<mi>\d{2})$")


def _parse_date(word: str, today: date) -> date:
    match = _DATE_RE.match(word) or _ISO_DATE_RE.match(word)
    if match is None:
        raise SeminarFormatError("date", word)
    day, month = int(match.group("d")), int(match.group("m"))
    year_text = match.group("y")
    try:
        if year_text is None:
            result = date(today.year, month, day)
            if result < today:
                result = date(today.year + 1, month, day)
            return result
        year = int(year_text)
        return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        raise SeminarFormatError("date", word) from None


def _parse_time(word: str) -> time:
    match = _TIME_RE.match(word)
    if match is None:
        raise SeminarFormatError("time", word)
    try:
        return time(int(match.group("h")), int(match.group("mi")))
    except ValueError:
        raise SeminarFormatError("time", word) from None


def parse_announcement(text: str, now: datetime, tz: tzinfo) -> SeminarDraft:
    """Read ``"<date> <time>; <title>; <place or link>; <roles>"`` (the command's arguments).

    ``now`` is the current moment; the date and time are the school's local ones (``tz``).
    Raises :class:`SeminarFormatError` whose ``code`` is one of: ``format``, ``date``, ``time``,
    ``past``, ``far``, ``title``, ``place``, ``roles``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    parts = [p.strip() for p in re.split(r"[;\n]", text)]
    parts = [p for p in parts if p]
    if len(parts) != 4:
        raise SeminarFormatError("format")
    when, title, place, roles_text = parts
    words = when.split()
    if len(words) != 2:
        raise SeminarFormatError("format")
    local_now = now.astimezone(tz)
    day = _parse_date(words[0], local_now.date())
    at = _parse_time(words[1])
    starts_local = datetime.combine(day, at, tzinfo=tz)
    if starts_local <= local_now:
        raise SeminarFormatError("past", when)
    if starts_local - local_now > MAX_AHEAD:
        raise SeminarFormatError("far", when)
    if len(title) > MAX_TITLE:
        raise SeminarFormatError("title", str(MAX_TITLE))
    if len(place) > MAX_PLACE:
        raise SeminarFormatError("place", str(MAX_PLACE))
    return SeminarDraft(
        title=title,
        starts_at=starts_local.astimezone(UTC),
        place=place,
        roles=parse_roles(roles_text),
    )


# --------------------------------------------------------------------------- reminders


def due_reminder(starts_at: datetime, signed_at: datetime, now: datetime) -> NoticeKind | None:
    """Which reminder is due for one sign-up at ``now``, if any (the caller skips ones already sent).

    The day-before reminder is due from 24 hours before the start, the hour-before one from an hour
    before; once the hour window opens, the day-before one is no longer sent. A reminder is only for
    those who signed up before its window opened (someone who just signed up knows when it is).
    Nothing is due once the seminar has started.
    """
    if now >= starts_at:
        return None
    hour_from = starts_at - HOUR_BEFORE
    day_from = starts_at - DAY_BEFORE
    if now >= hour_from:
        return NoticeKind.HOUR if signed_at < hour_from else None
    if now >= day_from:
        return NoticeKind.DAY if signed_at < day_from else None
    return None


# --------------------------------------------------------------------------- presentation

def format_when(moment: datetime, tz: tzinfo, tr: Tr) -> str:
    """``"15 октября (чт), 15:00"`` / ``"Thu 15 October, 15:00"`` in the school's time zone."""
    local = moment.astimezone(tz)
    return tr(
        "seminar.when",
        date=date_text(tr, local.date()),
        weekday=weekday_name(tr, local.date(), "in_date"),
        time=f"{local.hour}:{local.minute:02d}",
    )


_SCHEME_URL_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://([^/\s?#<>\"']+)")
_BARE_DOMAIN_RE = re.compile(r"(?<![@\w.-])((?:[\w-]+\.)+[^\W\d_]{2,})(?=$|[/\s:?#,;)\]»\"'])")


def link_domains(text: str) -> list[str]:
    """Every domain a message would link to, in order, once each: what management checks in a
    broadcast's preview before it goes out. Both ``https://host/...`` and bare ``host.tld/...`` (Telegram
    makes those links too); an internationalised name is shown with its ASCII form, so a look-alike
    (``sсhool.ru`` with a Cyrillic «с») stands out."""
    found: list[str] = []
    for m in list(_SCHEME_URL_RE.finditer(text)) + list(_BARE_DOMAIN_RE.finditer(text)):
        host = m.group(1).rsplit("@", 1)[-1].split(":", 1)[0].strip(".").lower()
        if not host or ("." not in host and "://" not in m.group(0)):
            continue
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_host = host
        shown = host if ascii_host == host else f"{host} ({ascii_host})"
        if shown not in found:
            found.append(shown)
    return found
