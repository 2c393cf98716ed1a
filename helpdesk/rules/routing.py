"""Who takes a ticket, and when: routing by the user's role, the topic and the category.

Pure: :func:`route` looks at the school profile and ``now`` only. Its :class:`RouteDecision` is the one
answer to "who, when and why": the promise to the user, the staff card and the specialist's private notice
are all rendered from it (the card from what the ticket stored of it), so they cannot disagree.

Rules
-----
1. **Kinds of helper.** The profile's ``[routing]`` says, per category (and optionally per topic), which
   kinds of helper may take a question, best first (``login = ["tech"]``). For a category it does not name,
   the defaults (:func:`helpdesk.school.default_preference`): technical categories — technical specialist,
   deputy, teacher; journal — deputy, teacher, technical specialist; diary — teacher, deputy, technical
   specialist.
2. **Qualified helpers** (``candidates``) are the specialists of those kinds whose own profile entry
   accepts the question (:meth:`helpdesk.school.Specialist.handles`: ``topics``, ``roles``,
   ``categories``). When ``[routing]`` does not name the category, a specialist who says nothing of
   ``categories`` gets the defaults by kind (the technical specialist: login and the mobile app; deputies and
   teachers: the rest); when it does, the routing line decides. Order: by kind as in rule 1, then by order in
   the file.
3. **Fallback**: if nobody is qualified, every deputy director is a candidate (the deputies run the
   journal); with no deputies in the profile, every specialist is.
4. **Now**: the question goes to the first qualified helper holding a consultation at ``now`` (a substitute
   counts for the one they replace: they take over the slot and its tickets) — reason ``ON_DUTY``.
5. **Later**: otherwise it is **queued** for the earliest consultation of a qualified helper (its start is
   ``take_up_at``, its helper the ``assignee``): reason ``NEXT_SLOT`` when nobody consults now,
   ``NOT_THEIRS`` when someone does who is not qualified (``consulting_now`` names them, so the user is
   told the truth: a consultation is on, but not for this question). ``NO_SLOT`` when no qualified helper
   has a consultation within the look-ahead horizon (``assignee`` and ``take_up_at`` are None).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from helpdesk.domain import Category, Role, RouteReason, Topic, categories_for
from helpdesk.rules.schedule import (
    DEFAULT_HORIZON_DAYS,
    DutyWindow,
    Predicate,
    duty_windows,
    format_schedule,
    on_duty,
    on_duty_windows,
    promise,
)
from helpdesk.school import SchoolProfile, Specialist, SpecialistKind

if TYPE_CHECKING:
    from helpdesk.texts import Tr

__all__ = [
    "RouteDecision",
    "RouteReason",
    "candidates_for",
    "format_user_schedule",
    "help_areas",
    "preference",
    "route",
    "suitable",
]


@dataclass(frozen=True)
class RouteDecision:
    """Where a ticket goes, when, and why.

    * ``candidates`` — the qualified helpers, best first;
    * ``on_duty_now`` — those of them (or their substitutes) holding a consultation now, best first;
    * ``queued`` — nobody qualified is on duty: the ticket waits;
    * ``take_up_at`` — when it will be taken up: ``now`` if someone is on duty, else the start
      of the next qualified consultation, ``None`` if none is scheduled;
    * ``assignee`` — who takes it up then (``on_duty_now[0]`` when someone is on duty);
    * ``reason`` — why (:class:`helpdesk.domain.RouteReason`);
    * ``consulting_now`` — everyone holding a consultation now, qualified or not;
    * ``fallback`` — nobody is qualified for this kind of ticket, so it went to the deputies;
    * ``decided_at`` — the ``now`` it was decided at: the promise and the notice say "завтра" from then.
    """

    candidates: tuple[Specialist, ...]
    on_duty_now: tuple[Specialist, ...]
    queued: bool
    take_up_at: datetime | None
    assignee: Specialist | None
    fallback: bool = False
    reason: RouteReason = RouteReason.ON_DUTY
    consulting_now: tuple[Specialist, ...] = ()
    decided_at: datetime | None = None

    @property
    def specialist_for_promise(self) -> Specialist | None:
        return self.assignee

    @property
    def routed_to(self) -> tuple[str, ...]:
        """What the ticket stores: the assignee first, then the other qualified helpers on duty; the
        candidates when nobody is named (``NO_SLOT``)."""
        if self.assignee is None:
            return tuple(s.key for s in self.candidates)
        others = [s.key for s in self.on_duty_now if s.key != self.assignee.key]
        return (self.assignee.key, *others)

    def matches(self, specialist: Specialist) -> bool:
        """The predicate "suitable for this ticket", for schedule and escalation functions."""
        return any(c.key == specialist.key for c in self.candidates)

    def promise(self, now: datetime, tr: Tr) -> str | None:
        """``"в понедельник после 14:00"`` for a queued ticket; ``None`` if not queued or unknown."""
        if not self.queued or self.take_up_at is None:
            return None
        return promise(now, self.take_up_at, tr)


def preference(profile: SchoolProfile, topic: Topic, category: Category) -> tuple[SpecialistKind, ...]:
    """Kinds of specialist who may take a ticket, in order of preference (rule 1)."""
    return profile.kinds_for(topic, category)[0]


def candidates_for(
    profile: SchoolProfile, role: Role, topic: Topic, category: Category
) -> tuple[tuple[Specialist, ...], bool]:
    """``(candidates best first, fallback used)`` — see the module's rules 1–3."""
    kinds, routed = profile.kinds_for(topic, category)
    matching = [
        s for s in profile.specialists if s.kind in kinds and s.handles(role, topic, category, routed=routed)
    ]
    fallback = not matching
    if fallback:
        matching = [s for s in profile.specialists if s.kind is SpecialistKind.DEPUTY] or list(
            profile.specialists
        )
    order = {kind: i for i, kind in enumerate(kinds)}
    position = {s.key: i for i, s in enumerate(profile.specialists)}
    matching.sort(key=lambda s: (order.get(s.kind, len(order)), position[s.key]))
    return tuple(matching), fallback


def suitable(profile: SchoolProfile, role: Role, topic: Topic, category: Category) -> Predicate:
    """A predicate for :mod:`helpdesk.rules.schedule` / escalation: is a specialist a candidate."""
    keys = frozenset(s.key for s in candidates_for(profile, role, topic, category)[0])
    return lambda s: s.key in keys


def _earliest(
    profile: SchoolProfile, now: datetime, matches: Predicate, rank: dict[str, int], horizon_days: int
) -> DutyWindow | None:
    """The earliest consultation of a qualified helper from ``now``; of several starting together, the one
    whose helper (or the one they replace) ranks best."""
    best: DutyWindow | None = None
    best_rank = len(rank)
    for w in duty_windows(profile, now, now + timedelta(days=horizon_days), matches):
        start = max(w.start, now)
        if best is not None and start > best.start:
            break
        r = rank.get(w.specialist.key, rank.get(w.replaces.key if w.replaces else "", len(rank)))
        if best is None or r < best_rank:
            best, best_rank = replace(w, start=start), r
    return best


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
    consulting = tuple(on_duty(profile, now))
    if on_duty_now:
        return RouteDecision(
            candidates, on_duty_now, False, now, on_duty_now[0], fallback, RouteReason.ON_DUTY, consulting, now
        )
    window = _earliest(profile, now, matches, rank, horizon_days) if candidates else None
    if window is None:
        reason = RouteReason.NO_SLOT
    else:
        reason = RouteReason.NOT_THEIRS if consulting else RouteReason.NEXT_SLOT
    return RouteDecision(
        candidates=candidates,
        on_duty_now=(),
        queued=True,
        take_up_at=window.start if window else None,
        assignee=window.specialist if window else None,
        fallback=fallback,
        reason=reason,
        consulting_now=consulting,
        decided_at=now,
    )


# --------------------------------------------------------------------------------------------
# What each helper helps with, in the words of the users (/schedule, /contacts)


def help_areas(profile: SchoolProfile, spec: Specialist, tr: Tr) -> str:
    """``"вход и пароли, мобильное приложение"``; ``"оценки, домашние задания, расписание и другие вопросы
    (дневник)"``: the questions the routing gives the specialist (for any role), as a parent would name them.
    Empty when the routing gives them none (they only stand in as the deputies' fallback)."""
    taken: dict[Topic, set[Category]] = {}
    offered: dict[Topic, set[Category]] = {}
    for topic in Topic:
        for role in Role:
            for category in categories_for(role, topic):
                offered.setdefault(topic, set()).add(category)
                candidates, fallback = candidates_for(profile, role, topic, category)
                if not fallback and any(s.key == spec.key for s in candidates):
                    taken.setdefault(topic, set()).add(category)
    if not taken:
        return ""
    categories = set().union(*taken.values())
    general = {c for t in taken for c in offered[t] if not c.is_technical}
    parts = [tr(f"routing.help.{c.value}") for c in Category if c.is_technical and c in categories]
    if general and general <= categories:
        parts.append(tr("routing.help.general"))
    else:
        parts.extend(tr(f"routing.help.{c.value}") for c in Category if not c.is_technical and c in categories)
    text = ", ".join(parts)
    if len(taken) == 1:
        (topic,) = taken
        text = tr(f"routing.help.only_{topic.value}", help=text)
    return text


def format_user_schedule(profile: SchoolProfile, today: date, tr: Tr) -> str:
    """The schedule for users: each consultation says what it helps with and the kind of helper."""
    return format_schedule(profile, today, tr, areas=lambda spec: help_areas(profile, spec, tr))
