"""Consultation schedule rules: who is on duty when, and how to say it.

Pure functions over a :class:`~helpdesk.school.SchoolProfile`. ``now`` is always an aware datetime
passed in by the caller; slot times are local to the school's time zone. A slot covers
``[start, end)``: a 14:00–16:00 consultation has begun at 14:00 (not at 13:59) and is over at 16:00.

Holidays and breaks cancel the weekly slots; one-off changes apply on their date in file order:
``cancel`` removes (part of) a specialist's consultation, ``substitute`` hands it to another
specialist, ``extra`` adds a consultation (even on a holiday — it is explicit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from helpdesk.formatting import escape
from helpdesk.school import Change, ChangeKind, DateRange, SchoolProfile, Specialist

if TYPE_CHECKING:
    from helpdesk.texts import Tr

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "DutyWindow",
    "Predicate",
    "any_specialist",
    "date_text",
    "day_phrase",
    "describe_duty",
    "duty_windows",
    "format_schedule",
    "next_duty",
    "on_duty",
    "on_duty_windows",
    "promise",
    "specialist_label",
    "weekday_name",
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
# Words: from the gettext catalogs (``locales/*/LC_MESSAGES/schedule.po``), plain text escaped here.

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _hm(t: time | datetime) -> str:
    return f"{t.hour}:{t.minute:02d}"


def _span(a: time | datetime, b: time | datetime) -> str:
    return f"{_hm(a)}–{_hm(b)}"


def weekday_name(tr: Tr, day: date, form: str = "short") -> str:
    """The weekday of ``day`` in one of the catalog's forms: ``short`` ("Пн"), ``in_date`` ("пн",
    after a date) or ``on`` ("во вторник", with its preposition)."""
    return tr(f"weekday.{form}.{_WEEKDAYS[day.weekday()]}")


def date_text(tr: Tr, day: date) -> str:
    """``"12 января"`` (the month in the genitive), ``"12 January"``; shared with the seminars' dates."""
    return f"{day.day} {tr(f'month.genitive.{_MONTHS[day.month - 1]}')}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def day_phrase(now: datetime, when: datetime, tr: Tr) -> str:
    """``"сегодня"``, ``"завтра"``, ``"во вторник"`` (2–6 days ahead) or ``"12 января"``; English
    ``"today"``, ``"tomorrow"``, ``"on Tuesday"``, ``"on 12 January"``. Dates are compared in
    ``when``'s time zone."""
    _require_aware(now, when)
    delta = (when.date() - now.astimezone(when.tzinfo).date()).days
    if delta == 0:
        return tr("schedule.today")
    if delta == 1:
        return tr("schedule.tomorrow")
    if 2 <= delta <= 6:
        return weekday_name(tr, when.date(), "on")
    text = date_text(tr, when.date())
    if abs(delta) > 300:
        text += f" {when.year}"
    return tr("schedule.on_date", date=text)


def promise(now: datetime, when: datetime, tr: Tr) -> str:
    """When a queued question will be taken up: ``"в понедельник после 14:00"``,
    ``"on Monday after 14:00"``."""
    return tr("schedule.promise", day=day_phrase(now, when, tr), time=_hm(when))


def specialist_label(spec: Specialist, tr: Tr, *, position: bool = True) -> str:
    """``"технический специалист (Иванов И. И.)"`` — plain text, not escaped. ``position``: the profile's
    job title when it has one (for staff); else the kind of helper (for users: «технический специалист»,
    not «заместитель директора по УВР»)."""
    # The profile's positions are written in Russian: other locales name the kind of specialist.
    own = position and tr.locale == "ru" and spec.position
    what = spec.position if own else tr(f"schedule.kind.{spec.kind}")
    return tr("schedule.label", kind=what, name=spec.short_name)


def _weekdays_text(days: Sequence[int], tr: Tr) -> str:
    names = [tr(f"weekday.short.{d}") for d in _WEEKDAYS]
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


def _range_text(rng: DateRange, tr: Tr) -> str:
    if rng.start == rng.end:
        return date_text(tr, rng.start)
    return tr("schedule.range", start=date_text(tr, rng.start), end=date_text(tr, rng.end))


def _break_line(rng: DateRange, tr: Tr) -> str:
    return escape(tr("schedule.break", dates=_range_text(rng, tr), title=rng.title))


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


def _change_line(
    profile: SchoolProfile, change: Change, today: date, tr: Tr, *, position: bool = True
) -> str | None:
    who = profile.find_specialist(change.specialist)
    if who is None:
        return None
    delta = (change.date - today).days
    if delta == 0:
        day = _cap(tr("schedule.today"))
    elif delta == 1:
        day = _cap(tr("schedule.tomorrow"))
    else:
        day = f"{date_text(tr, change.date)} ({weekday_name(tr, change.date, 'in_date')})"
    times = _change_times(profile, change)
    if change.kind is ChangeKind.CANCEL:
        text = tr("schedule.change_cancel", day=day, times=times, name=who.short_name)
    elif change.kind is ChangeKind.SUBSTITUTE:
        sub = profile.find_specialist(change.substitute or "")
        if sub is None:
            return None
        text = tr(
            "schedule.change_substitute",
            day=day,
            times=times,
            name=who.short_name,
            substitute=specialist_label(sub, tr, position=position),
        )
    else:
        text = tr(
            "schedule.change_extra", day=day, times=times, specialist=specialist_label(who, tr, position=position)
        )
    return escape(text)


def format_schedule(
    profile: SchoolProfile, today: date, tr: Tr, *, areas: Callable[[Specialist], str] | None = None
) -> str:
    """The weekly schedule as Telegram HTML, grouped by time and specialist::

        Пн, Ср 14:00–16:00 — технический специалист (Иванов И. И.)

    followed by the school's note, a current or coming (within 30 days) break, and changes
    for today and the next six days. With ``areas`` (for users: what each helper helps with, as a parent
    would say it) the lines say the kind of help and the kind of helper, not the school's job titles::

        Пн, Ср 14:00–16:00 — вход и пароли, мобильное приложение: технический специалист (Иванов И. И.)
    """
    position = areas is None
    lines = [f"<b>{escape(tr('schedule.title'))}</b>"]
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
        who = specialist_label(spec, tr, position=position)
        area = areas(spec) if areas is not None else ""
        if area:
            who = tr("routing.help.line", help=area, who=who)
        lines.append(escape(f"{_weekdays_text(days, tr)} {_span(start, end)} — {who}"))
        shown += 1
    if not shown:
        lines.append(escape(tr("schedule.empty")))
    if profile.schedule_note:
        lines.append(f"<i>{escape(profile.schedule_note)}</i>")

    extra: list[str] = []
    current = [r for r in profile.holidays if today in r]
    coming = sorted(
        (r for r in profile.holidays if today < r.start <= today + timedelta(days=30)), key=lambda r: r.start
    )
    for rng in [*current, *coming[:1]]:
        extra.append(_break_line(rng, tr))
    changes = sorted(
        (c for c in profile.changes if 0 <= (c.date - today).days <= 6),
        key=lambda c: (c.date, c.start or time.min),
    )
    for change in changes:
        line = _change_line(profile, change, today, tr, position=position)
        if line is not None:
            extra.append(line)
    if extra:
        lines.append("")
        lines.extend(extra)
    return "\n".join(lines)


def _window_line(now: datetime, w: DutyWindow, tr: Tr, *, current: bool) -> str:
    if current:
        text = tr("schedule.until", specialist=specialist_label(w.specialist, tr), time=_hm(w.end))
    else:
        text = f"{_cap(day_phrase(now, w.start, tr))} {_span(w.start, w.end)} — {specialist_label(w.specialist, tr)}"
    if w.replaces is not None:
        text += " " + tr("schedule.instead", name=w.replaces.short_name)
    return "• " + escape(text)


def describe_duty(profile: SchoolProfile, now: datetime, tr: Tr, *, upcoming: int = 3) -> str:
    """Who is on duty now and who comes next (for the staff ``/duty`` command), Telegram HTML."""
    _require_aware(now)
    local = now.astimezone(profile.tz)
    lines: list[str] = []
    current = on_duty_windows(profile, now)
    if current:
        lines.append(f"<b>{escape(tr('schedule.on_duty'))}</b>")
        lines.extend(_window_line(local, w, tr, current=True) for w in current)
    else:
        lines.append(escape(tr("schedule.nobody")))
        holiday = profile.holiday_on(local.date())
        if holiday is not None:
            lines.append(_break_line(holiday, tr))
    nxt: list[DutyWindow] = []
    for w in duty_windows(profile, now, now + timedelta(days=DEFAULT_HORIZON_DAYS)):
        if w.start > now:
            nxt.append(w)
            if len(nxt) >= upcoming:
                break
    if nxt:
        lines.append(f"<b>{escape(tr('schedule.next'))}</b>")
        lines.extend(_window_line(local, w, tr, current=False) for w in nxt)
    else:
        lines.append(escape(tr("schedule.none_next")))
    return "\n".join(lines)
