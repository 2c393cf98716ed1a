"""The conduct policy: who may ask now, when a violation blocks, how a complaint's transcript reads.

The regulation: communication must be polite; insults and obscene language are not allowed. A user who
breaks it loses the current session and may ask again after a cooldown; repeated violations within a
window block the user until the deputy director lifts the block. Rules here are pure (they take the
history and ``now``); :class:`ConductService` stores the record, one transaction per call. No aiogram.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from helpdesk.clock import Clock
from storage.audit import AuditRepo
from storage.conduct import Actor, Complaint, ConductEvent, ConductRepo, EventKind
from storage.db import Database
from storage.tickets import Ticket, TicketMessage, TicketRepo

MANUAL = "manual"  # the category of a violation marked by a specialist rather than the filter


@dataclass(frozen=True)
class Policy:
    cooldown: timedelta = timedelta(minutes=60)
    block_after: int = 3  # violations within the window that block; 0 = never block
    block_window: timedelta = timedelta(days=30)
    # A restricted user's messages get a short reply: always the first one after the session ended (the
    # notice at the end answered the violation, not what the user says next, often an apology), then at
    # most one per ``remind_every``. Ten minutes: a burst of retorts gets one answer, not one each (the
    # per-chat send limit), and nobody waits longer than that for the bot to say where they stand.
    remind_every: timedelta = timedelta(minutes=10)


class Mark(Protocol):
    @property
    def kind(self) -> EventKind: ...

    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True)
class Standing:
    blocked: bool = False
    cooldown_until: datetime | None = None
    recent: int = 0  # violations that count toward a block right now
    since: datetime | None = None  # when the restriction in force began: the last violation or block

    @property
    def restricted(self) -> bool:
        return self.blocked or self.cooldown_until is not None


def standing(history: Sequence[Mark], now: datetime, policy: Policy) -> Standing:
    """Where a user stands at ``now``, given their conduct record.

    An unblock wipes the slate: violations before it neither block again nor keep a cooldown running.
    """
    unblocks = [m.at for m in history if m.kind is EventKind.UNBLOCK and m.at <= now]
    since = max(unblocks) if unblocks else None

    def after_unblock(m: Mark) -> bool:
        return since is None or m.at > since

    blocks = [m.at for m in history if m.kind is EventKind.BLOCK and m.at <= now and after_unblock(m)]
    violations = [m.at for m in history if m.kind is EventKind.VIOLATION and m.at <= now and after_unblock(m)]
    window_start = now - policy.block_window
    recent = sum(1 for at in violations if at > window_start)
    cooldown_until = None
    if violations and policy.cooldown > timedelta(0):
        until = max(violations) + policy.cooldown
        if until > now:
            cooldown_until = until
    blocked = bool(blocks)
    since = max(blocks + violations) if blocked or cooldown_until is not None else None
    return Standing(blocked=blocked, cooldown_until=cooldown_until, recent=recent, since=since)


def should_block(current: Standing, policy: Policy) -> bool:
    """After a violation has been recorded: does it cross the line?"""
    return not current.blocked and policy.block_after > 0 and current.recent >= policy.block_after


def reply_due(since: datetime | None, last_notice: datetime | None, now: datetime, policy: Policy) -> bool:
    """Does a restricted user's message get the short reply now?

    ``since`` is when the restriction began (:attr:`Standing.since`), ``last_notice`` when a message of the
    user's last got this reply. The notice at the session's end answered the violation, not what the user
    says next: the first message after it always gets a reply. After that, one reply per
    ``policy.remind_every`` at most.
    """
    if last_notice is None or (since is not None and last_notice < since):
        return True
    return now - last_notice >= policy.remind_every


def same_local_day(a: datetime, b: datetime, tz: tzinfo) -> bool:
    return a.astimezone(tz).date() == b.astimezone(tz).date()


@dataclass(frozen=True)
class UnblockTarget:
    ticket_id: int | None = None
    telegram_id: str | None = None


_TICKET_RE = re.compile(r"^[№#]?\s*(\d{1,9})$")
_TG_RE = re.compile(r"^id\s*(\d{1,20})$", re.IGNORECASE)


def unblock_target(argument: str | None) -> UnblockTarget | None:
    """``/unblock 12`` or ``/unblock №12`` (a ticket), ``/unblock id123456789`` (a Telegram user id)."""
    arg = (argument or "").strip()
    if match := _TICKET_RE.match(arg):
        return UnblockTarget(ticket_id=int(match.group(1)))
    if match := _TG_RE.match(arg):
        return UnblockTarget(telegram_id=match.group(1))
    return None


def transcript(
    rows: Sequence[TicketMessage],
    tz: tzinfo,
    labels: Mapping[str, str],
    attachment: str,
    *,
    question: tuple[datetime, str, str] | None = None,
) -> str:
    """A ticket's conversation as plain text: ``01.09 14:03 Анна (user): text``, oldest first.

    ``question`` is the ticket's question (asked at, by whom, text): it is kept on the ticket, not among
    the messages. ``labels`` names the sides by direction ("in", "out"); notes and card parts are
    staff-internal and left out. ``attachment`` is the mark for a file ("[{kind}]").
    """
    lines: list[str] = []
    if question is not None and question[2].strip() and "in" in labels:
        at, who, text = question
        lines.append(
            f"{at.astimezone(tz).strftime('%d.%m %H:%M')} {who or '—'} ({labels['in']}): {text.strip()}"
        )
    for row in rows:
        label = labels.get(row.direction)
        if label is None:
            continue
        stamp = row.created_at.astimezone(tz).strftime("%d.%m %H:%M")
        body = row.text.strip()
        if row.kind != "text":
            mark = attachment.format(kind=row.kind)
            body = f"{mark} {body}".strip()
        lines.append(f"{stamp} {row.author_name or '—'} ({label}): {body}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Outcome:
    """What a violation led to."""

    standing: Standing
    blocked_now: bool


class ConductService:
    def __init__(self, db: Database, clock: Clock, policy: Policy) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.repo = ConductRepo(db.conn)
        # Every message asks for its author's standing, and almost everyone's history is empty. This
        # service is the only writer of that history, so it keeps it in memory; each write bumps the
        # version, and a read that raced a write is not kept.
        self._histories: dict[int, list[ConductEvent]] = {}
        self._version = 0

    def now(self) -> datetime:
        return self.clock()

    async def _history(self, user_id: int) -> list[ConductEvent]:
        cached = self._histories.get(user_id)
        if cached is not None:
            return cached
        version = self._version
        history = await self.repo.for_user(user_id)
        if version == self._version:
            if len(self._histories) >= 50_000:
                self._histories.clear()
            self._histories[user_id] = history
        return history

    def _changed(self, user_id: int | None) -> None:
        self._version += 1
        if user_id is not None:
            self._histories.pop(user_id, None)

    async def standing(self, user_id: int) -> Standing:
        return standing(await self._history(user_id), self.now(), self.policy)

    async def record_violation(
        self,
        *,
        user_id: int,
        ticket_id: int | None,
        actor: Actor,
        actor_id: int | None = None,
        actor_name: str | None = None,
        category: str,
        matches: tuple[str, ...] = (),
        text: str = "",
    ) -> Outcome:
        """The violation, the end of the session, and a block if it was one too many."""
        now = self.now()

        async def add(kind: EventKind, **extra: str | tuple[str, ...]) -> None:
            await self.repo.add(
                kind=kind,
                now=now,
                actor=actor,
                user_id=user_id,
                ticket_id=ticket_id,
                actor_id=actor_id,
                actor_name=actor_name,
                **extra,  # type: ignore[arg-type]
            )

        try:
            async with self.db.transaction():
                await add(EventKind.VIOLATION, category=category, matches=matches, text=text)
                await add(EventKind.SESSION_END)
                current = standing(await self.repo.for_user(user_id), now, self.policy)
                blocked_now = should_block(current, self.policy)
                if blocked_now:
                    await add(EventKind.BLOCK)
                    current = replace(current, blocked=True)
        finally:
            self._changed(user_id)
        return Outcome(current, blocked_now)

    async def lift(
        self,
        user_id: int,
        *,
        actor_id: int | None,
        actor_name: str | None,
        ticket_id: int | None = None,
    ) -> bool:
        """Lift a block (or a running cooldown). False if the user was not restricted."""
        now = self.now()
        try:
            async with self.db.transaction():
                return await self._lift(user_id, now, actor_id, actor_name, ticket_id)
        finally:
            self._changed(user_id)

    async def _lift(
        self, user_id: int, now: datetime, actor_id: int | None, actor_name: str | None, ticket_id: int | None
    ) -> bool:
        """Inside the caller's transaction."""
        current = standing(await self.repo.for_user(user_id), now, self.policy)
        if not current.restricted:
            return False
        await self._record_decision("unblock", EventKind.UNBLOCK, user_id, now, actor_id, actor_name, ticket_id)
        return True

    async def _record_decision(
        self,
        action: str,
        kind: EventKind,
        user_id: int,
        now: datetime,
        actor_id: int | None,
        actor_name: str | None,
        ticket_id: int | None,
    ) -> None:
        """Management's decision about a user: in the audit trail and among the conduct events (the caller's
        transaction)."""
        await AuditRepo(self.db.conn).record(
            action,
            at=now,
            actor_id=actor_id,
            actor_name=actor_name or "",
            ticket_id=ticket_id,
            detail=f"user {user_id}",
        )
        await self.repo.add(
            kind=kind,
            now=now,
            actor=Actor.DEPUTY,
            user_id=user_id,
            ticket_id=ticket_id,
            actor_id=actor_id,
            actor_name=actor_name,
        )

    async def block(
        self, user_id: int, *, actor_id: int | None, actor_name: str | None, ticket_id: int | None = None
    ) -> bool:
        """The management blocks the user. False if blocked already."""
        now = self.now()
        try:
            async with self.db.transaction():
                if standing(await self.repo.for_user(user_id), now, self.policy).blocked:
                    return False
                await self._record_decision(
                    "conduct_block", EventKind.BLOCK, user_id, now, actor_id, actor_name, ticket_id
                )
        finally:
            self._changed(user_id)
        return True

    async def reopen(
        self, ticket_id: int, user_id: int, *, actor_id: int | None, actor_name: str | None
    ) -> Ticket | None:
        """The management returns a question the conduct policy ended to work, and lifts the user's
        restriction with it (an answer the user could not reply to would help nobody): one transaction.
        None when the question is not such a question (open already, or closed for another reason)."""
        now = self.now()
        try:
            async with self.db.transaction():
                reopened = await TicketRepo(self.db.conn).reopen_after_conduct(ticket_id)
                if reopened is None:
                    return None
                await AuditRepo(self.db.conn).record(
                    "conduct_reopen",
                    at=now,
                    actor_id=actor_id,
                    actor_name=actor_name or "",
                    ticket_id=ticket_id,
                    detail=f"user {user_id}",
                )
                await self._lift(user_id, now, actor_id, actor_name, ticket_id)
        finally:
            self._changed(user_id)
        return reopened

    async def take_reminder(self, user_id: int, since: datetime | None) -> bool:
        """Whether a restricted user's message gets the short reply now (and if so, note that it did).
        ``since``: when the restriction began (:func:`reply_due`)."""
        now = self.now()
        async with self.db.transaction():
            if not reply_due(since, await self.repo.last_notice(user_id), now, self.policy):
                return False
            await self.repo.set_notice(user_id, now)
        return True

    async def record_staff_violation(
        self,
        *,
        user_id: int,
        ticket_id: int,
        staff_id: int,
        staff_name: str,
        category: str,
        matches: tuple[str, ...],
        text: str,
    ) -> ConductEvent:
        try:
            async with self.db.transaction():
                return await self.repo.add(
                    kind=EventKind.STAFF_VIOLATION,
                    now=self.now(),
                    actor=Actor.SPECIALIST,
                    user_id=user_id,
                    ticket_id=ticket_id,
                    actor_id=staff_id,
                    actor_name=staff_name,
                    category=category,
                    matches=matches,
                    text=text,
                )
        finally:
            self._changed(user_id)

    async def add_complaint(
        self,
        *,
        user_id: int,
        ticket_id: int | None,
        specialist_id: int | None,
        specialist_name: str | None,
        text: str,
    ) -> Complaint:
        async with self.db.transaction():
            return await self.repo.add_complaint(
                now=self.now(),
                user_id=user_id,
                ticket_id=ticket_id,
                specialist_id=specialist_id,
                specialist_name=specialist_name,
                text=text,
            )

    async def complaint_sent(self, complaint: Complaint, chat_id: int) -> None:
        async with self.db.transaction():
            await self.repo.complaint_sent(complaint.id, chat_id)
