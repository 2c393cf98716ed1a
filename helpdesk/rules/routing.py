"""Who takes a ticket: routing by the user's role, the topic and the category.

Pure: :func:`route` looks at the school profile and ``now`` only.

Rules
-----
1. **Candidates** are the specialists whose profile entry handles the ticket
   (:meth:`helpdesk.school.Specialist.handles`). When a specialist's entry says nothing about
   ``topics``/``categories``/``roles`` the defaults apply:

   * technical categories (``Category.is_technical``: login and password, the mobile app) go to
     the technical specialist;
   * methodological and administrative journal questions (grades, homework, attendance,
     timetable, reports, other on ``Topic.JOURNAL``) go to a deputy director or an experienced
     teacher;
   * non-technical diary questions (students, parents) go to an experienced teacher or a deputy.

   What the profile does write narrows or overrides these defaults per field (for instance
   ``topics = ["ed"]`` keeps a teacher to diary questions; ``categories = []`` means all).
2. **Order of preference**, by kind, then by order in the file: technical categories — technical
   specialist, deputy, teacher; journal — deputy, teacher, technical specialist; diary — teacher,
   deputy, technical specialist.
3. **Fallback**: if nobody handles the ticket, every deputy director is a candidate (the deputies
   run the journal); with no deputies in the profile, every specialist is.
4. **On duty now** are the candidates holding a consultation at ``now`` plus anyone who
   substitutes for a candidate today (a substitute takes over the slot and its tickets).
   If there is nobody, the ticket is **queued** and ``take_up_at`` is the start of the earliest
   consultation of a candidate (``None`` if there is none within the look-ahead horizon).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from helpdesk.domain import Category, Role, Topic
from helpdesk.rules.schedule import DEFAULT_HORIZON_DAYS, Predicate, next_duty, on_duty_windows, promise
from helpdesk.school import SchoolProfile, Specialist, SpecialistKind

if TYPE_CHECKING:
    from helpdesk.texts import Tr

__all__ = ["RouteDecision", "candidates_for", "preference", "route", "suitable"]


@dataclass(frozen=True)
class RouteDecision:
    """Where a ticket goes.

    * ``candidates`` — specialists who handle it, best first;
    * ``on_duty_now`` — those of them (or their substitutes) holding a consultation now;
    * ``queued`` — nobody suitable is on duty: the ticket waits;
    * ``take_up_at`` — when it will be taken up: ``now`` if someone is on duty, else the start
      of the next suitable consultation, ``None`` if none is scheduled;
    * ``specialist_for_promise`` — who will take it up then;
    * ``fallback`` — nobody handles this kind of ticket, so it went to the deputies.
    """

    candidates: tuple[Specialist, ...]
    on_duty_now: tuple[Specialist, ...]
    queued: bool
    take_up_at: datetime | None
    specialist_for_promise: Specialist | None
    fallback: bool = False

    def matches(self, specialist: Specialist) -> bool:
        """The predicate "suitable for this ticket", for schedule and escalation functions."""
        return any(c.key == specialist.key for c in self.candidates)

    def promise(self, now: datetime, tr: Tr) -> str | None:
        """``"в понедельник после 14:00"`` for a queued ticket; ``None`` if not queued or unknown."""
        if not self.queued or self.take_up_at is None:
            return None
        return promise(now, self.take_up_at, tr)


def preference(topic: Topic, category: Category) -> tuple[SpecialistKind, ...]:
    """Kinds of specialist in order of preference for a ticket."""
    if category.is_technical:
        return (SpecialistKind.TECH, SpecialistKind.DEPUTY, SpecialistKind.TEACHER)
    if topic is Topic.JOURNAL:
        return (SpecialistKind.DEPUTY, SpecialistKind.TEACHER, SpecialistKind.TECH)
    return (SpecialistKind.TEACHER, SpecialistKind.DEPUTY, SpecialistKind.TECH)


def candidates_for(
    profile: SchoolProfile, role: Role, topic: Topic, category: Category
) -> tuple[tuple[Specialist, ...], bool]:
    """``(candidates best first, fallback used)`` — see the module's rules 1–3."""
    matching = [s for s in profile.specialists if s.handles(role, topic, category)]
    fallback = not matching
    if fallback:
        matching = [s for s in profile.specialists if s.kind is SpecialistKind.DEPUTY] or list(
            profile.specialists
        )
    kinds = preference(topic, category)
    position = {s.key: i for i, s in enumerate(profile.specialists)}
    matching.sort(key=lambda s: (kinds.index(s.kind), position[s.key]))
    return tuple(matching), fallback


def suitable(profile: SchoolProfile, role: Role, topic: Topic, category: Category) -> Predicate:
    """A predicate for :mod:`helpdesk.rules.schedule` / escalation: is a specialist a candidate."""
    keys = frozenset(s.key for s in candidates_for(profile, role, topic, category)[0])
    return lambda s: s.key in keys


def route(
    profile: SchoolProfile,
    role: Role,
    topic: Topic,
    category: Category,
    now: datetime,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> RouteDecision:
    """Route a ticket asked at ``now`` (aware). See the module docstring for the rules."""
    candidates, fallback = candidates_for(profile, role, topic, category)
    rank = {s.key: i for i, s in enumerate(candidates)}

    def matches(s: Specialist) -> bool:
        return s.key in rank

    ranked: list[tuple[int, Specialist]] = []
    for w in on_duty_windows(profile, now):
        if not w.covers(matches):
            continue
        r = rank.get(w.specialist.key)
        if r is None and w.replaces is not None:
            r = rank.get(w.replaces.key)
        if r is not None and all(s.key != w.specialist.key for _, s in ranked):
            ranked.append((r, w.specialist))
    on_duty_now = tuple(s for _, s in sorted(ranked, key=lambda rs: rs[0]))
    if on_duty_now:
        return RouteDecision(candidates, on_duty_now, False, now, on_duty_now[0], fallback)
    window = next_duty(profile, now, matches, horizon_days=horizon_days) if candidates else None
    return RouteDecision(
        candidates=candidates,
        on_duty_now=(),
        queued=True,
        take_up_at=window.start if window else None,
        specialist_for_promise=window.specialist if window else None,
        fallback=fallback,
    )
