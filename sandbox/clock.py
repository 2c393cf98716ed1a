"""The sandbox's clock: real time running on from a moment the visitor chose ("Saturday 20:00")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from helpdesk.clock import Clock, system_clock
from helpdesk.rules.schedule import windows_on
from helpdesk.school import SchoolProfile, SpecialistKind


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


@dataclass(frozen=True)
class Preset:
    """A moment to try the desk at: a weekday and a time; ``kind``: the kind of helper whose consultation
    must be running then (the preset is named for the questions that helper takes)."""

    weekday: int
    at: time
    kind: SpecialistKind | None = None


PRESETS = {
    # Tuesday 15:30: the deputy director consults (grades, homework, timetable, reports: [[slots]] вт 15–17).
    "weekday": Preset(1, time(15, 30), SpecialistKind.DEPUTY),
    # Monday 14:30: the technical specialist consults (login and password, the app: [[slots]] пн 14–16).
    "login": Preset(0, time(14, 30), SpecialistKind.TECH),
    "evening": Preset(2, time(20, 0)),  # Wednesday evening, after hours
    "saturday": Preset(5, time(20, 0)),  # Saturday 20:00: the out-of-hours path
}
WEEKS_AHEAD = 53


def preset_moment(name: str, now: datetime, tz: ZoneInfo, profile: SchoolProfile | None = None) -> datetime:
    """The next moment (from ``now``) on the preset's weekday and time, in the school's time zone. With a
    ``profile``, a preset named for a kind of helper lands only where such a helper really consults: a week
    of holidays, or a day the slot was moved or given to somebody else, is skipped."""
    preset = PRESETS[name]
    local = now.astimezone(tz)
    day = local.date() + timedelta(days=(preset.weekday - local.weekday()) % 7)
    for _ in range(WEEKS_AHEAD):
        moment = datetime.combine(day, preset.at, tzinfo=tz)
        if moment > local and _consulting(profile, preset, moment):
            return moment.astimezone(UTC)
        day += timedelta(days=7)
    raise ValueError(f"no {name!r} consultation in the school's schedule within a year")


def _consulting(profile: SchoolProfile | None, preset: Preset, moment: datetime) -> bool:
    if profile is None or preset.kind is None:
        return True
    return any(
        w.contains(moment) and w.specialist.kind == preset.kind for w in windows_on(profile, moment.date())
    )


def parse_local(value: str, tz: ZoneInfo) -> datetime:
    """``YYYY-MM-DDTHH:MM`` as typed into a datetime-local field, in the school's time zone."""
    naive = datetime.fromisoformat(value)
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=tz)
