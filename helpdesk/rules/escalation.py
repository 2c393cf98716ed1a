"""Escalation time: response deadlines count consultation minutes only.

A question asked on Friday evening is not "late" on Monday morning: the clock runs only while at
least one suitable specialist is on duty (``predicate``, usually
:meth:`helpdesk.rules.routing.RouteDecision.matches`). Pure functions; ``now`` is an argument.

Actions, each fired at most once per ticket (the caller stores what was done):

* ``"remind"`` — the ticket is still unclaimed after N on-duty minutes: remind the specialists;
* ``"alert_unclaimed"`` — still unclaimed after M on-duty minutes: tell the manager;
* ``"alert_unanswered"`` — claimed but unanswered K on-duty minutes after the claim: tell the
  manager.

A scheduler calls :func:`due_actions` (or :meth:`EscalationPlan.due_actions`) on every tick and
after a restart: an action whose deadline passed while the bot was down is due once, and once
recorded in ``already_done`` never again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.rules.schedule import DEFAULT_HORIZON_DAYS, Predicate, any_specialist, duty_windows
from helpdesk.school import SchoolProfile

__all__ = [
    "ACTIONS",
    "ALERT_UNANSWERED",
    "ALERT_UNCLAIMED",
    "REMIND",
    "Elapsed",
    "EscalationPlan",
    "EscalationSettings",
    "deadline_after",
    "due_actions",
    "duty_intervals",
    "on_duty_minutes",
    "wall_minutes",
]

REMIND = "remind"
ALERT_UNCLAIMED = "alert_unclaimed"
ALERT_UNANSWERED = "alert_unanswered"
ACTIONS = (REMIND, ALERT_UNCLAIMED, ALERT_UNANSWERED)

Elapsed = Callable[[datetime, datetime], float]
"""Minutes that count between two moments."""


@dataclass(frozen=True)
class EscalationSettings:
    """N, M, K in counted minutes; ``None`` switches an action off."""

    remind_after: float | None = 30  # N: unclaimed → remind the specialists
    alert_unclaimed_after: float | None = 120  # M: unclaimed → alert the manager
    alert_unanswered_after: float | None = 240  # K: claimed, unanswered → alert the manager


def duty_intervals(
    profile: SchoolProfile,
    start: datetime,
    end: datetime,
    predicate: Predicate = any_specialist,
) -> Iterator[tuple[datetime, datetime]]:
    """Disjoint ``[from, to)`` stretches inside ``[start, end)`` when someone matching
    ``predicate`` is on duty (overlapping and adjacent consultations merged), in order."""
    current: tuple[datetime, datetime] | None = None
    for w in duty_windows(profile, start, end, predicate):
        s, e = max(w.start, start), min(w.end, end)
        if s >= e:
            continue
        if current is None:
            current = (s, e)
        elif s <= current[1]:
            current = (current[0], max(current[1], e))
        else:
            yield current
            current = (s, e)
    if current is not None:
        yield current


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def on_duty_minutes(
    profile: SchoolProfile,
    start: datetime,
    end: datetime,
    predicate: Predicate = any_specialist,
) -> float:
    """Minutes in ``[start, end)`` when at least one specialist matching ``predicate`` is on duty."""
    if end <= start:
        return 0.0
    return sum(_minutes(e - s) for s, e in duty_intervals(profile, start, end, predicate))


def deadline_after(
    profile: SchoolProfile,
    start: datetime,
    minutes: float,
    predicate: Predicate = any_specialist,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> datetime | None:
    """The moment ``minutes`` on-duty minutes have passed since ``start``; ``start`` itself for
    ``minutes <= 0``; ``None`` if there is not that much duty time within ``horizon_days``."""
    if minutes <= 0:
        return start
    remaining = timedelta(minutes=minutes)
    for s, e in duty_intervals(profile, start, start + timedelta(days=horizon_days), predicate):
        if e - s >= remaining:
            return s + remaining
        remaining -= e - s
    return None


def wall_minutes(start: datetime, end: datetime) -> float:
    """Plain clock minutes (never negative): the :data:`Elapsed` used when no profile is given."""
    return max(0.0, _minutes(end - start))


def due_actions(
    ticket_created_at: datetime,
    claimed_at: datetime | None,
    answered_at: datetime | None,
    now: datetime,
    settings: EscalationSettings,
    already_done: Collection[str],
    *,
    elapsed: Elapsed = wall_minutes,
) -> list[str]:
    """Actions due at ``now`` and not in ``already_done``, in the order of :data:`ACTIONS`.

    An answered ticket needs nothing; a claimed one can only be ``alert_unanswered`` (counted
    from the claim); an unclaimed one can be ``remind`` and ``alert_unclaimed`` (from creation).
    ``elapsed`` counts minutes between two moments (:meth:`EscalationPlan.due_actions` counts
    on-duty minutes).
    """
    if answered_at is not None:
        return []
    due: list[str] = []

    def check(action: str, since: datetime, limit: float | None) -> None:
        if limit is None or action in already_done or now < since:
            return
        if elapsed(since, now) >= limit:
            due.append(action)

    if claimed_at is None:
        check(REMIND, ticket_created_at, settings.remind_after)
        check(ALERT_UNCLAIMED, ticket_created_at, settings.alert_unclaimed_after)
    else:
        check(ALERT_UNANSWERED, claimed_at, settings.alert_unanswered_after)
    return due


@dataclass(frozen=True)
class EscalationPlan:
    """Escalation for one kind of ticket: the profile, who is suitable, and N/M/K."""

    profile: SchoolProfile
    settings: EscalationSettings
    predicate: Predicate = any_specialist

    def elapsed(self, start: datetime, end: datetime) -> float:
        return on_duty_minutes(self.profile, start, end, self.predicate)

    def due_actions(
        self,
        ticket_created_at: datetime,
        claimed_at: datetime | None,
        answered_at: datetime | None,
        now: datetime,
        already_done: Collection[str],
    ) -> list[str]:
        return due_actions(
            ticket_created_at, claimed_at, answered_at, now, self.settings, already_done, elapsed=self.elapsed
        )

    def deadlines(
        self, ticket_created_at: datetime, claimed_at: datetime | None, answered_at: datetime | None
    ) -> dict[str, datetime | None]:
        """When each applicable action falls due (``None``: not within the look-ahead horizon)."""
        if answered_at is not None:
            return {}
        s = self.settings
        plan: list[tuple[str, datetime, float | None]]
        if claimed_at is None:
            plan = [
                (REMIND, ticket_created_at, s.remind_after),
                (ALERT_UNCLAIMED, ticket_created_at, s.alert_unclaimed_after),
            ]
        else:
            plan = [(ALERT_UNANSWERED, claimed_at, s.alert_unanswered_after)]
        return {
            action: deadline_after(self.profile, since, limit, self.predicate)
            for action, since, limit in plan
            if limit is not None
        }

    def next_due(
        self,
        ticket_created_at: datetime,
        claimed_at: datetime | None,
        answered_at: datetime | None,
        already_done: Collection[str],
    ) -> datetime | None:
        """The earliest deadline of an action not done yet — when the scheduler should look again."""
        pending = [
            when
            for action, when in self.deadlines(ticket_created_at, claimed_at, answered_at).items()
            if action not in already_done and when is not None
        ]
        return min(pending, default=None)
