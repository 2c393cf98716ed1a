"""Training seminars: the use cases, one owner each, channel-neutral.

The deputy director drafts a seminar (:meth:`SeminarService.announce`, which shows how many users it would
reach), then publishes it (:meth:`~SeminarService.publish`) or discards it (:meth:`~SeminarService.discard`);
a published seminar is broadcast to the users of its roles (:meth:`~SeminarService.broadcast`). Users list
the upcoming ones (:meth:`~SeminarService.upcoming_for`) and sign up or cancel
(:meth:`~SeminarService.choose`); the deputy director reads who signed up (:meth:`~SeminarService.rosters`,
:meth:`~SeminarService.roster`). The scheduler's check (:meth:`~SeminarService.check`) finishes unfinished
announcements and sends the reminders that are due.

Every notice is recorded per (seminar, user, kind) before the next one is sent, so a restart or a failure in
the middle of a broadcast neither repeats nor loses anyone: the next check goes on where it stopped. That is
why a broadcast is one transaction per notice, and why publishing and broadcasting are two calls: a crash
between them leaves a published seminar that the next check announces. The announcement also reaches those
who start using the bot (or take a matching role) after it was made, until the seminar begins.

Texts are rendered here, in each recipient's language; sending goes through :class:`~helpdesk.ports.UserChannel`.
No aiogram.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from helpdesk.clock import Clock
from helpdesk.domain import Role
from helpdesk.formatting import escape
from helpdesk.ports import Button, Delivery, UserChannel
from helpdesk.rules.seminars import (
    NoticeKind,
    SeminarFormatError,
    due_reminder,
    format_when,
    parse_announcement,
)
from helpdesk.texts import Texts, Tr
from storage.audit import AuditRepo
from storage.db import Database
from storage.seminars import Seminar, SeminarRepo, Signup
from storage.users import User

MAX_LISTED = 10  # seminars shown by /seminars and /signups
BATCH = 200  # recipients read at a time during a broadcast

# The payload of the sign-up button: ``sm:<action>:<seminar id>``, the format of ``bot.callbacks.SeminarCb``.
SEMINAR_PREFIX = "sm"


class SeminarAction(StrEnum):
    SIGN_UP = "in"
    CANCEL = "out"


# ---- presentation ------------------------------------------------------------------------------------


def roles_text(tr: Tr, roles: tuple[Role, ...]) -> str:
    if set(roles) == set(Role):
        return tr("seminar.roles_all")
    return ", ".join(tr(f"role.{r.value}") for r in roles)


def seminar_card(tr: Tr, seminar: Seminar, tz: tzinfo) -> str:
    """The seminar as HTML, in ``tr``'s language."""
    return tr(
        "seminar.card",
        title=escape(seminar.title),
        when=format_when(seminar.starts_at, tz, tr),
        place=escape(seminar.place),
        roles=roles_text(tr, seminar.roles),
    )


def signup_button(tr: Tr, seminar_id: int, signed_up: bool) -> Button:
    """The user's button under a seminar: "Записаться", or "Отменить запись" once signed up."""
    action = SeminarAction.CANCEL if signed_up else SeminarAction.SIGN_UP
    label = tr("btn.seminar.cancel" if signed_up else "btn.seminar.sign_up")
    return Button(label, f"{SEMINAR_PREFIX}:{action.value}:{seminar_id}")


# ---- outcomes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drafted:
    """A draft was stored; ``audience``: how many reachable users of its roles would get it now."""

    seminar: Seminar
    audience: int


@dataclass(frozen=True)
class Unreadable:
    """The announcement cannot be read: ``code`` names the problem (``seminar.error.<code>``), ``value``
    is the bad part."""

    code: str
    value: str


class Choice(StrEnum):
    SIGNED_UP = "signed_up"  # also when already signed up (a second press)
    CANCELLED = "cancelled"  # also when not signed up
    GONE = "gone"  # no such seminar, cancelled, or already begun


@dataclass(frozen=True)
class Offer:
    """An upcoming seminar as one user sees it."""

    seminar: Seminar
    signed_up: bool


@dataclass(frozen=True)
class Roster:
    """Who signed up for a seminar, in the order they did."""

    seminar: Seminar
    signups: tuple[Signup, ...]


# ---- the use cases -----------------------------------------------------------------------------------


class SeminarService:
    def __init__(self, *, db: Database, clock: Clock, channel: UserChannel, texts: Texts, tz: tzinfo) -> None:
        self.db = db
        self.clock = clock
        self.channel = channel
        self.texts = texts
        self.tz = tz
        # A broadcast from the publishing handler and the scheduler's check must not send a notice twice.
        self._sending = asyncio.Lock()

    def card(self, tr: Tr, seminar: Seminar) -> str:
        return seminar_card(tr, seminar, self.tz)

    def when(self, tr: Tr, seminar: Seminar) -> str:
        return format_when(seminar.starts_at, self.tz, tr)

    # ---- the deputy director

    async def announce(self, text: str, *, author_id: int | None, author_name: str) -> Drafted | Unreadable:
        """Store the announcement ``/seminar <when>; <title>; <place>; <for whom>`` as a draft."""
        now = self.clock()
        try:
            draft = parse_announcement(text, now, self.tz)
        except SeminarFormatError as exc:
            return Unreadable(exc.code, exc.value)
        async with self.db.transaction() as conn:
            repo = SeminarRepo(conn)
            seminar = await repo.create(
                title=draft.title,
                starts_at=draft.starts_at,
                place=draft.place,
                roles=draft.roles,
                created_by_id=author_id,
                created_by_name=author_name,
                now=now,
            )
            audience = await repo.audience_size(seminar.roles)
        return Drafted(seminar, audience)

    async def publish(self, seminar_id: int, *, actor_id: int | None = None, actor_name: str = "") -> Seminar | None:
        """Publish a draft. None if it is not one any more (a second press, discarded) or has begun.

        The broadcast is the caller's next step (:meth:`broadcast`), or else the next :meth:`check`'s.
        """
        now = self.clock()
        async with self.db.transaction() as conn:
            repo = SeminarRepo(conn)
            published = await repo.mark_announced(seminar_id, now)
            seminar = await repo.get(seminar_id)
            if published and seminar is not None:
                await AuditRepo(conn).record(
                    "broadcast", at=now, actor_id=actor_id, actor_name=actor_name, detail=seminar.title[:200]
                )
        if not published or seminar is None or not seminar.upcoming(now):
            return None
        return seminar

    async def discard(self, seminar_id: int) -> bool:
        """Drop a draft. False if there is no such draft (published, or discarded before)."""
        async with self.db.transaction() as conn:
            repo = SeminarRepo(conn)
            seminar = await repo.get(seminar_id)
            return (
                seminar is not None
                and seminar.announced_at is None
                and await repo.cancel(seminar.id, self.clock())
            )

    async def rosters(self) -> list[Roster]:
        """Who signed up for each of the next seminars (at most :data:`MAX_LISTED`)."""
        repo = SeminarRepo(self.db.conn)
        upcoming = (await repo.upcoming(self.clock()))[:MAX_LISTED]
        return [Roster(s, tuple(await repo.signups(s.id))) for s in upcoming]

    async def roster(self, seminar_id: int) -> Roster | None:
        """Who signed up for this seminar (upcoming or not). None if there is no such seminar."""
        repo = SeminarRepo(self.db.conn)
        seminar = await repo.get(seminar_id)
        if seminar is None:
            return None
        return Roster(seminar, tuple(await repo.signups(seminar.id)))

    # ---- users

    async def upcoming_for(self, user_id: int) -> list[Offer]:
        """The next seminars (at most :data:`MAX_LISTED`), each with whether this user signed up."""
        repo = SeminarRepo(self.db.conn)
        upcoming = (await repo.upcoming(self.clock()))[:MAX_LISTED]
        if not upcoming:
            return []
        mine = await repo.signed_up_to(user_id)
        return [Offer(s, s.id in mine) for s in upcoming]

    async def choose(self, seminar_id: int, user_id: int, action: SeminarAction) -> Choice:
        """Sign up for an upcoming seminar, or cancel the sign-up. Pressing twice changes nothing."""
        now = self.clock()
        async with self.db.transaction() as conn:
            repo = SeminarRepo(conn)
            seminar = await repo.get(seminar_id)
            if seminar is None or not seminar.upcoming(now):
                return Choice.GONE
            if action is SeminarAction.SIGN_UP:
                await repo.sign_up(seminar.id, user_id, now)
                return Choice.SIGNED_UP
            await repo.cancel_signup(seminar.id, user_id)
            return Choice.CANCELLED

    # ---- notices

    async def broadcast(self, seminar: Seminar) -> int:
        """Tell every user of the seminar's roles who has not been told yet. Returns how many got it."""
        async with self._sending:
            return await self._announce(seminar, self.clock())

    async def check(self, now: datetime) -> None:
        """The scheduler's check: unfinished announcements, then the reminders that are due."""
        async with self._sending:
            for seminar in await SeminarRepo(self.db.conn).upcoming(now):
                await self._announce(seminar, now)
                await self._remind(seminar, now)

    def _tr(self, user: User) -> Tr:
        return self.texts.of(user)

    async def _announce(self, seminar: Seminar, now: datetime) -> int:
        if not seminar.upcoming(now):
            return 0
        repo = SeminarRepo(self.db.conn)
        sent = 0
        while True:
            batch = await repo.announce_recipients(seminar, limit=BATCH)
            if not batch:
                return sent
            for user in batch:
                tr = self._tr(user)
                text = tr("seminar.invite", card=seminar_card(tr, seminar, self.tz))
                delivery = await self.channel.send(user, text, [signup_button(tr, seminar.id, False)])
                if delivery is Delivery.DEFERRED:
                    return sent  # the channel is unwell: the next check goes on from here
                await self._record(seminar, user, NoticeKind.ANNOUNCE, now, delivery)
                sent += delivery is Delivery.SENT

    async def _remind(self, seminar: Seminar, now: datetime) -> None:
        repo = SeminarRepo(self.db.conn)
        for kind in (NoticeKind.DAY, NoticeKind.HOUR):
            for signup in await repo.signups_without(seminar.id, kind.value):
                if due_reminder(seminar.starts_at, signup.signed_at, now) is not kind:
                    continue
                tr = self._tr(signup.user)
                key = "seminar.remind_day" if kind is NoticeKind.DAY else "seminar.remind_hour"
                text = tr(key, card=seminar_card(tr, seminar, self.tz))
                delivery = await self.channel.send(signup.user, text, [signup_button(tr, seminar.id, True)])
                if delivery is Delivery.DEFERRED:
                    return
                await self._record(seminar, signup.user, kind, now, delivery)

    async def _record(
        self, seminar: Seminar, user: User, kind: NoticeKind, now: datetime, delivery: Delivery
    ) -> None:
        async with self.db.transaction() as conn:
            await SeminarRepo(conn).record_notice(
                seminar.id, user.id, kind.value, now, delivery is Delivery.SENT
            )
