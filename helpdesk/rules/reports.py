"""Reports: which period a request means, when the weekly report is due, and what a report says.

Pure functions: ``today`` and ``now`` are arguments, the figures come computed (``storage/reports.py``).

Periods (``/report`` and its argument), all whole local days, today included:

* ``week`` (the default): the last 7 days; ``month``: the last 30 days;
* ``term``: since the school's last break of at least :data:`TERM_BREAK_DAYS` days ended (the profile's
  ``[[holidays]]``), or since 1 September when no break has ended this school year;
* ``DD.MM.YYYY-DD.MM.YYYY``: those days (at most :data:`MAX_DAYS`).

The weekly report covers the previous Monday to Sunday and is due once, on the profile's weekday at its
time or later that week (a bot that was down at 08:00 sends it when it starts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from helpdesk.domain import Durations, ReportFigures
from helpdesk.formatting import escape, shorten
from helpdesk.school import SchoolProfile

if TYPE_CHECKING:
    from helpdesk.texts import Tr

__all__ = [
    "MAX_DAYS",
    "TERM_BREAK_DAYS",
    "Period",
    "PeriodKind",
    "compose",
    "duration_text",
    "last_week",
    "parse_period",
    "weekly_due",
]

MAX_DAYS = 400
TERM_BREAK_DAYS = 5
_DATES = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*[-–—]\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")
_WORDS = {
    "week": "week",
    "неделя": "week",
    "month": "month",
    "месяц": "month",
    "term": "term",
    "четверть": "term",
    "триместр": "term",
}


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    TERM = "term"
    DATES = "dates"
    WEEKLY = "weekly"  # the Monday report: the previous Monday to Sunday


@dataclass(frozen=True)
class Period:
    """Local days ``first..last``, both included."""

    first: date
    last: date
    kind: PeriodKind

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, profile: SchoolProfile) -> tuple[datetime, datetime]:
        """``[start, end)``: local midnight of the first day, local midnight after the last."""
        tz = profile.tz
        after = self.last + timedelta(days=1)
        return (
            datetime(self.first.year, self.first.month, self.first.day, tzinfo=tz),
            datetime(after.year, after.month, after.day, tzinfo=tz),
        )

    def label(self) -> str:
        return f"{self.first:%d.%m.%Y} – {self.last:%d.%m.%Y}"


def term_start(profile: SchoolProfile, today: date) -> date:
    school_year = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    ends = [
        r.end + timedelta(days=1)
        for r in profile.holidays
        if (r.end - r.start).days + 1 >= TERM_BREAK_DAYS and r.end < today and r.end >= school_year
    ]
    return max(ends, default=school_year)


def parse_period(arg: str, today: date, profile: SchoolProfile) -> Period | None:
    """The period ``/report ARG`` asks for; None when ARG is not understood."""
    text = arg.strip().lower()
    word = _WORDS.get(text or "week")
    if word == "week":
        return Period(today - timedelta(days=6), today, PeriodKind.WEEK)
    if word == "month":
        return Period(today - timedelta(days=29), today, PeriodKind.MONTH)
    if word == "term":
        return Period(term_start(profile, today), today, PeriodKind.TERM)
    m = _DATES.match(text)
    if m is None:
        return None
    d1, m1, y1, d2, m2, y2 = (int(g) for g in m.groups())
    try:
        first, last = date(y1, m1, d1), date(y2, m2, d2)
    except ValueError:
        return None
    if last < first or (last - first).days + 1 > MAX_DAYS:
        return None
    return Period(first, last, PeriodKind.DATES)


def last_week(today: date) -> Period:
    """The Monday-to-Sunday week before the one ``today`` is in."""
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1), PeriodKind.WEEKLY)


def weekly_due(now_local: datetime, weekday: int, at: time, last_sent: str | None) -> Period | None:
    """The week to report at ``now_local`` (school time), or None: due from ``weekday`` ``at`` onwards in
    each week, once (``last_sent`` is the ISO first day of the week reported last)."""
    today = now_local.date()
    monday = today - timedelta(days=today.weekday())
    due_day = monday + timedelta(days=weekday)
    if today < due_day or (today == due_day and now_local.time() < at):
        return None
    week = last_week(today)
    if last_sent == week.first.isoformat():
        return None
    return week


# ---- words ------------------------------------------------------------------------------------------


def duration_text(minutes: float | None, tr: Tr) -> str:
    """``"25 мин"``, ``"2 ч"``, ``"3 ч 10 мин"``; ``"—"`` when there is nothing to measure."""
    if minutes is None:
        return "—"
    whole = round(minutes)
    if whole < 60:
        return tr("report.minutes", minutes=whole)
    hours, rest = divmod(whole, 60)
    if not rest:
        return tr("report.hours", hours=hours)
    return tr("report.hours_minutes", hours=hours, minutes=rest)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def _number(value: float, locale: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if locale == "ru" else text


def _durations(key: str, d: Durations, sla: float, tr: Tr) -> str:
    if not d.count:
        return tr(f"{key}_none")
    return tr(
        key,
        median=duration_text(d.median, tr),
        p90=duration_text(d.p90, tr),
        sla=duration_text(sla, tr),
        share=_percent(d.within, d.count),
    )


def compose(
    figures: ReportFigures,
    period: Period,
    tr: Tr,
    *,
    sla_first: float,
    sla_resolution: float,
    management: bool,
) -> str:
    """The report's text (Telegram HTML): a few lines a deputy director reads on a phone. ``management``:
    the chat is management's own, so the load per specialist and the users' comments may be shown."""
    f = figures
    lines = [f"<b>{escape(tr('report.title', period=period.label()))}</b>"]
    if not f.tickets and not f.ratings_asked and not f.kb_helped + f.kb_not_helped:
        lines.append(tr("report.empty"))
        return "\n".join(lines)
    topics = ", ".join(f"{tr(f'topic.short.{t.value}')} {n}" for t, n in f.by_topic)
    lines.append(tr("report.tickets", count=f.tickets, topics=topics or "—", closed=f.closed))
    if f.by_role:
        roles = ", ".join(f"{escape(tr(f'report.role.{r.value}'))} {n}" for r, n in f.by_role)
        lines.append(tr("report.roles", roles=roles))
    lines.append(_durations("report.first_response", f.first_response, sla_first, tr))
    lines.append(_durations("report.resolution", f.resolution, sla_resolution, tr))
    lines.append(
        tr(
            "report.kb",
            offers=f.kb_offers,
            helped=f.kb_helped,
            not_helped=f.kb_not_helped,
            offered=f.kb_offered_tickets,
        )
    )
    if f.ratings_asked:
        if f.ratings_given and f.rating_mean is not None:
            stars = " · ".join(f"{s}★ {f.rating_counts[s - 1]}" for s in range(5, 0, -1))
            lines.append(
                tr(
                    "report.ratings",
                    mean=_number(f.rating_mean, tr.locale),
                    given=f.ratings_given,
                    asked=f.ratings_asked,
                    share=_percent(f.ratings_given, f.ratings_asked),
                    stars=stars,
                )
            )
        else:
            lines.append(tr("report.ratings_none", asked=f.ratings_asked))
    if f.vendor_handoffs:
        lines.append(
            tr(
                "report.vendor",
                handed=f.vendor_handoffs,
                closed=f.vendor_closed,
                median=duration_text(
                    f.vendor_median_hours * 60 if f.vendor_median_hours is not None else None, tr
                ),
            )
        )
    if f.conduct:
        events = ", ".join(f"{escape(tr(f'report.conduct.{kind}'))} {n}" for kind, n in f.conduct)
        lines.append(tr("report.conduct", events=events))
    if f.categories:
        top = ", ".join(
            f"{escape(tr(f'category.{c.category.value}'))} {c.tickets}" for c in f.categories[:3] if c.tickets
        )
        if top:
            lines.append(tr("report.top_categories", items=top))
        rated = sorted(
            (c for c in f.categories if c.mean_rating is not None), key=lambda c: (c.mean_rating, -c.rated)
        )
        if rated:
            low = ", ".join(
                f"{escape(tr(f'category.{c.category.value}'))} {_number(c.mean_rating or 0, tr.locale)}"
                for c in rated[:2]
            )
            lines.append(tr("report.low_categories", items=low))
    if f.tickets:
        busiest = sorted(range(7), key=lambda d: (-f.weekdays[d], d))[:2]
        hours = sorted(range(24), key=lambda h: (-f.hours[h], h))[:2]
        lines.append(
            tr(
                "report.busiest",
                days=", ".join(tr(f"report.weekday.{d}") for d in busiest if f.weekdays[d]),
                hours=", ".join(f"{h}–{h + 1}" for h in sorted(hours) if f.hours[h]),
            )
        )
    if management and f.load:
        lines.append(tr("report.load_title"))
        for s in f.load[:8]:
            lines.append(
                tr(
                    "report.load_line",
                    name=escape(s.name or "—"),
                    taken=s.taken,
                    answered=s.answered,
                    median=duration_text(s.median_first, tr),
                )
            )
    if management and f.comments:
        lines.append(tr("report.comments_title"))
        for score, text in f.comments:
            lines.append(tr("report.comment_line", score=score, text=escape(shorten(text.replace("\n", " "), 160))))
    return "\n".join(lines)
