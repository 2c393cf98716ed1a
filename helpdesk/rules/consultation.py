"""Consultation minutes: time that counts only inside the school's consultation schedule.

A question asked on Friday at 17:00 and answered on Monday at 14:10 took 10 consultation minutes when the
Monday consultation starts at 14:00: evenings, weekends and holidays do not count. The schedule is the
profile's (weekly slots, holidays and breaks, one-off changes), any specialist on duty counting.

:func:`calendar` lays a period's consultations out as stretches with the consultation seconds before each;
then the seconds counted up to any moment are one look-up (:func:`counted_at`), and a duration is the
difference of two. ``storage/reports.py`` does the same look-up in SQL over the same stretches. Pure.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from helpdesk.rules.escalation import duty_intervals
from helpdesk.school import SchoolProfile

__all__ = ["Stretch", "calendar", "consultation_minutes", "counted_at", "local_days"]

Stretch = tuple[float, float, float]
"""``(start, end, counted_before)``: a consultation ``[start, end)`` in Unix seconds, and the consultation
seconds of all the stretches before it."""


def calendar(profile: SchoolProfile, start: datetime, end: datetime) -> tuple[Stretch, ...]:
    """The consultations in ``[start, end)`` (overlapping ones merged), in order, each with the
    consultation seconds before it."""
    stretches: list[Stretch] = []
    before = 0.0
    for s, e in duty_intervals(profile, start, end):
        a, b = s.timestamp(), e.timestamp()
        stretches.append((a, b, before))
        before += b - a
    return tuple(stretches)


def counted_at(stretches: Sequence[Stretch], moment: float) -> float:
    """Consultation seconds from the calendar's start up to ``moment`` (Unix seconds)."""
    i = bisect_right(stretches, moment, key=lambda st: st[0]) - 1
    if i < 0:
        return 0.0
    s, e, before = stretches[i]
    return before + min(moment - s, e - s)


def consultation_minutes(stretches: Sequence[Stretch], start: datetime, end: datetime) -> float:
    """Consultation minutes between two moments inside the calendar (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0.0
    return (counted_at(stretches, end.timestamp()) - counted_at(stretches, start.timestamp())) / 60


def local_days(profile: SchoolProfile, first: date, last: date) -> tuple[tuple[float, float, str, int], ...]:
    """The school's local days ``first..last``: ``(start, end, ISO date, weekday)``, Unix seconds, so that
    SQL can place a moment on its local day and hour."""
    tz = profile.tz
    days = []
    day = first
    while day <= last:
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        nxt = day + timedelta(days=1)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
        days.append((start.timestamp(), end.timestamp(), day.isoformat(), day.weekday()))
        day = nxt
    return tuple(days)
