"""The sandbox's clock: real time running on from a moment the visitor chose ("Saturday 20:00")."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpdesk.clock import Clock, system_clock


class OffsetClock:
    """``base() + offset``: time still flows, but from a chosen moment. Always timezone-aware."""

    def __init__(self, base: Clock = system_clock) -> None:
        self.base = base
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self.base() + self.offset

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("OffsetClock needs an aware datetime")
        self.offset = moment - self.base()

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def reset(self) -> None:
        self.offset = timedelta(0)

    @property
    def shifted(self) -> bool:
        return abs(self.offset) >= timedelta(seconds=1)


PRESETS = {
    "weekday": (1, time(15, 30)),  # Tuesday 15:30: the deputy and a teacher consult in the example profile
    "evening": (2, time(20, 0)),  # Wednesday evening, after hours
    "saturday": (5, time(20, 0)),  # Saturday 20:00: the out-of-hours path
}


def preset_moment(name: str, now: datetime, tz: ZoneInfo) -> datetime:
    """The next moment (from ``now``) on the preset's weekday and time, in the school's time zone."""
    weekday, at = PRESETS[name]
    local = now.astimezone(tz)
    days = (weekday - local.weekday()) % 7
    moment = datetime.combine(local.date() + timedelta(days=days), at, tzinfo=tz)
    if moment <= local:
        moment += timedelta(days=7)
    return moment.astimezone(UTC)


def parse_local(value: str, tz: ZoneInfo) -> datetime:
    """``YYYY-MM-DDTHH:MM`` as typed into a datetime-local field, in the school's time zone."""
    naive = datetime.fromisoformat(value)
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=tz)
