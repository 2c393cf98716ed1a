"""Consultation schedule rules: who is on duty when, and how to say it.

Pure functions over a :class:`~helpdesk.school.SchoolProfile`. ``now`` is always an aware datetime
passed in by the caller; slot times are local to the school's time zone. A slot covers
``[start, end)``: a 14:00–16:00 consultation has begun at 14:00 (not at 13:59) and is over at 16:00.

Holidays and breaks cancel the weekly slots; one-off changes apply on their date in file order:
``cancel`` removes (part of) a specialist's consultation, ``substitute`` hands it to another
specialist, ``extra`` adds a consultation (even on a holiday — it is explicit).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from helpdesk.school import Change, ChangeKind, DateRange, SchoolProfile, Specialist, SpecialistKind

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "DutyWindow",
    "Predicate",
    "any_specialist",
    "day_phrase",
    "describe_duty",
    "duty_windows",
    "format_schedule",
    "next_duty",
    "on_duty",
    "on_duty_windows",
    "promise",
    "promise_ru",
    "specialist_label",
    "windows_on",
]

Predicate = Callable[[Specialist], bool]

DEFAULT_HORIZON_DAYS = 60


def any_specialist(_: Specialist) -> bool:
    return True


@dataclass(frozen=True)
class DutyWindow:
    """A concrete consultation ``[start, end)`` (aware datetimes in the school's time zone).

    ``replaces`` is the specialist whose slot a substitute took; ``extra`` marks a one-off slot.
    """

    start: datetime
    end: datetime
    specialist: Specialist
    replaces: Specialist | None = None
    extra: bool = False

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def covers(self, predicate: Predicate) -> bool:
        """Whether the window serves tickets matching ``predicate``: the specialist on duty
        matches, or the one they substitute for does (a substitute takes over the slot)."""
        if predicate(self.specialist):
            return True
        return self.replaces is not None and predicate(self.replaces)

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclass(frozen=True)
class _Piece:
    start: time
    end: time
    who: str
    replaces: str | None = None
    extra: bool = False


def _apply_change(pieces: list[_Piece], change: Change) -> list[_Piece]:
    if change.kind is ChangeKind.EXTRA:
        assert change.start is not None and change.end is not None
        return [*pieces, _Piece(change.start, change.end, change.specialist, extra=True)]
    lo = change.start or time.min
    hi = change.end or time.max
    result: list[_Piece] = []
    for p in pieces:
        if p.who != change.specialist or not (p.start < hi and lo < p.end):
            result.append(p)
            continue
        if p.start < lo:
            result.append(replace(p, end=lo))
        if change.kind is ChangeKind.SUBSTITUTE and change.substitute is not None:
            result.append(
                replace(
                    p,
                    start=max(p.start, lo),
                    end=min(p.end, hi),
                    who=change.substitute,
                    replaces=p.replaces or p.who,
                )
            )
        if hi < p.end:
            result.append(replace(p, start=hi))
    return result


def windows_on(profile: SchoolProfile, day: date) -> list[DutyWindow]:
    """All consultations on the local date ``day``, ordered by start (ties: file order)."""
    pieces: list[_Piece] = []
    if profile.holiday_on(day) is None:
        pieces = [_Piece(s.start, s.end, s.specialist) for s in profile.slots if s.weekday == day.weekday()]
    for change in profile.changes_on(day):
        pieces = _apply_change(pieces, change)
    pieces.sort(key=lambda p: (p.start, p.end))
    tz = profile.tz
    result: list[DutyWindow] = []
    for p in pieces:
        who = profile.find_specialist(p.who)
        if who is None:  # a hand-built profile with a dangling key: nobody to be on duty
            continue
        result.append(
            DutyWindow(
                start=datetime.combine(day, p.start, tzinfo=tz),
                end=datetime.combine(day, p.end, tzinfo=tz),
                specialist=who,
                replaces=profile.find_specialist(p.replaces) if p.replaces else None,
                extra=p.extra,
            )
        )
    return result


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("schedule functions need timezone-aware datetimes")


def duty_windows(
    profile: SchoolProfile,
    start: datetime,
    end: datetime,
    predicate: Predicate | None = None,
) -> Iterator[DutyWindow]:
    """Consultations overlapping ``[start, end)`` that cover ``predicate``, in chronological
    order. Windows are not clipped: the first one may begin before ``start``."""
    _require_aware(start, end)
    tz = profile.tz
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        for w in windows_on(profile, day):
            if w.end > start and w.start < end and (predicate is None or w.covers(predicate)):
                yield w
        day += timedelta(days=1)


def on_duty_windows(profile: SchoolProfile, now: datetime) -> list[DutyWindow]:
    _require_aware(now)
    local = now.astimezone(profile.tz)
    return [w for w in windows_on(profile, local.date()) if w.contains(now)]


def on_duty(profile: SchoolProfile, now: datetime) -> list[Specialist]:
    """Specialists holding a consultation at ``now`` (substitutes instead of those they replace)."""
    result: list[Specialist] = []
    for w in on_duty_windows(profile, now):
        if w.specialist not in result:
            result.append(w.specialist)
    return result


def next_duty(
    profile: SchoolProfile,
    now: datetime,
    predicate: Predicate = any_specialist,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> DutyWindow | None:
    """The next consultation covering ``predicate``: its ``start`` is the first moment ``>= now``
    someone suitable is on duty (``now`` itself if they are on duty already), ``end`` the slot's
    end. ``None`` if there is none within ``horizon_days``."""
    for w in duty_windows(profile, now, now + timedelta(days=horizon_days), predicate):
        return replace(w, start=max(w.start, now))
    return None


# --------------------------------------------------------------------------------------------
# Words

_WEEKDAY_SHORT = {
    "ru": ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_ON_WEEKDAY = {
    "ru": (
        "в понедельник",
        "во вторник",
        "в среду",
        "в четверг",
        "в пятницу",
        "в субботу",
        "в воскресенье",
    ),
    "en": ("on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday", "on Sunday"),
}
# Month names in the genitive ("12 января"), shared with the seminars' dates.
MONTHS = {
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_KIND_LABEL = {
    "ru": {
        SpecialistKind.DEPUTY: "заместитель директора",
        SpecialistKind.TECH: "технический специалист",
        SpecialistKind.TEACHER: "учитель-консультант",
    },
    "en": {
        SpecialistKind.DEPUTY: "deputy director",
        SpecialistKind.TECH: "technical specialist",
        SpecialistKind.TEACHER: "teacher consultant",
    },
}
_WORDS = {
    "ru": {
        "today": "сегодня",
        "tomorrow": "завтра",
        "after": "после",
        "title": "График консультаций",
        "empty": "График консультаций пока не заполнен.",
        "no_consult": "консультаций нет",
        "on_duty": "Сейчас на дежурстве:",
        "nobody": "Сейчас консультаций нет.",
        "next": "Далее:",
        "none_next": "Ближайших консультаций нет.",
        "until": "до",
        "instead": "замещает",
        "extra": "дополнительная консультация",
    },
    "en": {
        "today": "today",
        "tomorrow": "tomorrow",
        "after": "after",
        "title": "Consultation hours",
        "empty": "The consultation schedule has not been filled in yet.",
        "no_consult": "no consultations",
        "on_duty": "On duty now:",
        "nobody": "No consultation right now.",
        "next": "Next:",
        "none_next": "No consultations coming up.",
        "until": "until",
        "instead": "substituting for",
        "extra": "extra consultation",
    },
}


def _lang(locale: str) -> str:
    return "en" if locale.lower().startswith("en") else "ru"


def _hm(t: time | datetime) -> str:
    return f"{t.hour}:{t.minute:02d}"


def _span(a: time | datetime, b: time | datetime) -> str:
    return f"{_hm(a)}–{_hm(b)}"


def _date_text(day: date, lang: str) -> str:
    return f"{day.day} {MONTHS[lang][day.month - 1]}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def day_phrase(now: datetime, when: datetime, locale: str = "ru") -> str:
    """``"сегодня"``, ``"завтра"``, ``"во вторник"`` (2–6 days ahead) or ``"12 января"``; English
    ``"today"``, ``"tomorrow"``, ``"on Tuesday"``, ``"on 12 January"``. Dates are compared in
    ``when``'s time zone."""
    _require_aware(now, when)
    lang = _lang(locale)
    words = _WORDS[lang]
    delta = (when.date() - now.astimezone(when.tzinfo).date()).days
    if delta == 0:
        return words["today"]
    if delta == 1:
        return words["tomorrow"]
    if 2 <= delta <= 6:
        return _ON_WEEKDAY[lang][when.weekday()]
    text = _date_text(when.date(), lang)
    if abs(delta) > 300:
        text += f" {when.year}"
    return f"on {text}" if lang == "en" else text


def promise(now: datetime, when: datetime, locale: str = "ru") -> str:
    """When a queued question will be taken up: ``"в понедельник после 14:00"``,
    ``"on Monday after 14:00"``."""
    return f"{day_phrase(now, when, locale)} {_WORDS[_lang(locale)]['after']} {_hm(when)}"


def promise_ru(now: datetime, when: datetime) -> str:
    return promise(now, when, "ru")


def specialist_label(spec: Specialist, locale: str = "ru") -> str:
    """``"технический специалист (Иванов И. И.)"`` — plain text, not escaped."""
    lang = _lang(locale)
    what = spec.position if lang == "ru" and spec.position else _KIND_LABEL[lang][spec.kind]
    return f"{what} ({spec.short_name})"


def _weekdays_text(days: Sequence[int], lang: str) -> str:
    names = _WEEKDAY_SHORT[lang]
    days = sorted(days)
    parts: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{names[days[i]]}–{names[days[j]]}")
        else:
            parts.extend(names[d] for d in days[i : j + 1])
        i = j + 1
    return ", ".join(parts)


def _range_text(rng: DateRange, lang: str) -> str:
    if rng.start == rng.end:
        return _date_text(rng.start, lang)
    if lang == "en":
        return f"From {_date_text(rng.start, lang)} to {_date_text(rng.end, lang)}"
    return f"С {_date_text(rng.start, lang)} по {_date_text(rng.end, lang)}"


def _break_line(rng: DateRange, lang: str) -> str:
    return _esc(f"{_cap(_range_text(rng, lang))} — {rng.title}, {_WORDS[lang]['no_consult']}.")


def _change_times(profile: SchoolProfile, change: Change) -> str:
    if change.start is not None and change.end is not None:
        return _span(change.start, change.end)
    slots = sorted(
        (
            s
            for s in profile.slots
            if s.specialist == change.specialist and s.weekday == change.date.weekday()
        ),
        key=lambda s: s.start,
    )
    return ", ".join(_span(s.start, s.end) for s in slots)


def _change_line(profile: SchoolProfile, change: Change, today: date, lang: str) -> str | None:
    who = profile.find_specialist(change.specialist)
    if who is None:
        return None
    delta = (change.date - today).days
    if delta == 0:
        prefix = "Сегодня" if lang == "ru" else "Today"
    elif delta == 1:
        prefix = "Завтра" if lang == "ru" else "Tomorrow"
    else:
        prefix = f"{_date_text(change.date, lang)} ({_WEEKDAY_SHORT[lang][change.date.weekday()].lower()})"
        if lang == "en":
            prefix = f"{_date_text(change.date, lang)} ({_WEEKDAY_SHORT[lang][change.date.weekday()]})"
    times = _change_times(profile, change)
    if change.kind is ChangeKind.CANCEL:
        if lang == "ru":
            text = f"{prefix}: консультация {times} ({who.short_name}) отменена."
        else:
            text = f"{prefix}: the {times} consultation ({who.short_name}) is cancelled."
    elif change.kind is ChangeKind.SUBSTITUTE:
        sub = profile.find_specialist(change.substitute or "")
        if sub is None:
            return None
        if lang == "ru":
            text = f"{prefix}: консультацию {times} ({who.short_name}) ведёт замещающий — {specialist_label(sub, lang)}."
        else:
            text = f"{prefix}: the {times} consultation ({who.short_name}) is held by a substitute — {specialist_label(sub, lang)}."
    else:
        text = f"{prefix}: {_WORDS[lang]['extra']} {times} — {specialist_label(who, lang)}."
    return _esc(text)


def format_schedule(profile: SchoolProfile, today: date, locale: str = "ru") -> str:
    """The weekly schedule as Telegram HTML, grouped by time and specialist::

        Пн, Ср 14:00–16:00 — технический специалист (Иванов И. И.)

    followed by the school's note, a current or coming (within 30 days) break, and changes
    for today and the next six days.
    """
    lang = _lang(locale)
    words = _WORDS[lang]
    lines = [f"<b>{_esc(words['title'])}</b>"]
    order = {s.key: i for i, s in enumerate(profile.specialists)}
    groups: dict[tuple[time, time, str], list[int]] = {}
    for slot in profile.slots:
        groups.setdefault((slot.start, slot.end, slot.specialist), []).append(slot.weekday)
    rows = sorted(groups.items(), key=lambda kv: (min(kv[1]), kv[0][0], kv[0][1], order.get(kv[0][2], 0)))
    shown = 0
    for (start, end, key), days in rows:
        spec = profile.find_specialist(key)
        if spec is None:
            continue
        lines.append(
            _esc(f"{_weekdays_text(days, lang)} {_span(start, end)} — {specialist_label(spec, lang)}")
        )
        shown += 1
    if not shown:
        lines.append(_esc(words["empty"]))
    if profile.schedule_note:
        lines.append(f"<i>{_esc(profile.schedule_note)}</i>")

    extra: list[str] = []
    current = [r for r in profile.holidays if today in r]
    coming = sorted(
        (r for r in profile.holidays if today < r.start <= today + timedelta(days=30)), key=lambda r: r.start
    )
    for rng in [*current, *coming[:1]]:
        extra.append(_break_line(rng, lang))
    changes = sorted(
        (c for c in profile.changes if 0 <= (c.date - today).days <= 6),
        key=lambda c: (c.date, c.start or time.min),
    )
    for change in changes:
        line = _change_line(profile, change, today, lang)
        if line is not None:
            extra.append(line)
    if extra:
        lines.append("")
        lines.extend(extra)
    return "\n".join(lines)


def _window_line(now: datetime, w: DutyWindow, lang: str, *, current: bool) -> str:
    words = _WORDS[lang]
    if current:
        text = f"{specialist_label(w.specialist, lang)} — {words['until']} {_hm(w.end)}"
    else:
        text = f"{_cap(day_phrase(now, w.start, lang))} {_span(w.start, w.end)} — {specialist_label(w.specialist, lang)}"
    if w.replaces is not None:
        text += f" ({words['instead']} {w.replaces.short_name})"
    return "• " + _esc(text)


def describe_duty(profile: SchoolProfile, now: datetime, locale: str = "ru", *, upcoming: int = 3) -> str:
    """Who is on duty now and who comes next (for the staff ``/duty`` command), Telegram HTML."""
    _require_aware(now)
    lang = _lang(locale)
    words = _WORDS[lang]
    local = now.astimezone(profile.tz)
    lines: list[str] = []
    current = on_duty_windows(profile, now)
    if current:
        lines.append(f"<b>{_esc(words['on_duty'])}</b>")
        lines.extend(_window_line(local, w, lang, current=True) for w in current)
    else:
        lines.append(_esc(words["nobody"]))
        holiday = profile.holiday_on(local.date())
        if holiday is not None:
            lines.append(_break_line(holiday, lang))
    nxt: list[DutyWindow] = []
    for w in duty_windows(profile, now, now + timedelta(days=DEFAULT_HORIZON_DAYS)):
        if w.start > now:
            nxt.append(w)
            if len(nxt) >= upcoming:
                break
    if nxt:
        lines.append(f"<b>{_esc(words['next'])}</b>")
        lines.extend(_window_line(local, w, lang, current=False) for w in nxt)
    else:
        lines.append(_esc(words["none_next"]))
    return "\n".join(lines)
