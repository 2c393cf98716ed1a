"""The school's specialists and the accounts they linked: who they are, how they are named on cards and
how their answers are signed; linking an account with a one-time invite, and unlinking it. No aiogram."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from helpdesk.clock import Clock
from helpdesk.domain import RouteReason, TicketStatus
from helpdesk.formatting import escape, user_link
from helpdesk.ports import Destination
from helpdesk.rules.roles import ANONYMOUS_ADMIN_ID
from helpdesk.rules.schedule import promise
from helpdesk.school import SchoolProfile, Specialist
from helpdesk.store import Store
from helpdesk.texts import Tr
from storage.duty import SpecialistLink
from storage.tickets import Ticket


def plain_label(spec: Specialist, tr: Tr) -> str:
    """``Иванов И. И. (технический специалист)`` — the name and the kind of helper, plain text (not escaped).
    The same words name a helper to the user (the promise) and to staff (the card)."""
    return tr("duty.label", name=spec.short_name, kind=tr(f"duty.kind.{spec.kind.value}"))


class InviteOutcome(StrEnum):
    LINKED = "linked"
    INVALID = "invalid"  # unknown, or used already (one time only)
    EXPIRED = "expired"
    PENDING = "pending"  # the specialist is linked to another account: management confirms the change


@dataclass(frozen=True)
class InviteResult:
    outcome: InviteOutcome
    specialist: Specialist | None = None


class RelinkOutcome(StrEnum):
    LINKED = "linked"
    UNKNOWN = "unknown"  # no such request, or decided already


@dataclass(frozen=True)
class RelinkResult:
    outcome: RelinkOutcome
    specialist: Specialist | None = None
    tg_name: str = ""


class Specialists:
    """The school's specialists and the accounts they linked: who they are, how they are named and how
    their answers are signed.

    One object shared by the duty (which links and unlinks accounts) and the staff side (which names the
    specialists on cards and signs their answers), so that a new link shows everywhere at once.
    """

    def __init__(self, *, school: SchoolProfile, store: Store, clock: Clock, tr: Tr) -> None:
        self.school = school
        self.store = store
        self.clock = clock
        self.tr = tr
        self.links: dict[str, SpecialistLink] = {}

    async def load(self) -> None:
        self.links = {link.specialist_key: link for link in await self.store.duty.links()}

    def now(self) -> datetime:
        return self.clock().astimezone(self.school.tz)

    def label(self, spec: Specialist, *, mention: bool = True) -> str:
        """``Иванов И. И. (технический специалист)``; a mention when the specialist is linked."""
        text = plain_label(spec, self.tr)
        link = self.links.get(spec.key)
        if mention and link is not None:
            return user_link(link.tg_user_id, text)
        return escape(text)

    def specialist_of(self, tg_user_id: int) -> Specialist | None:
        for key, link in self.links.items():
            if link.tg_user_id == tg_user_id:
                return self.school.find_specialist(key)
        return None

    def signature(self, tg_user_id: int, first_name: str, tr: Tr) -> str:
        """How an answer is signed: the specialist's name and kind of helper when linked; an administrator
        posting anonymously by their custom title, or as «специалист школы»."""
        if tg_user_id == ANONYMOUS_ADMIN_ID:
            title = first_name.strip() if first_name.strip() not in ("", "—") else ""
            return tr("answer.header", name=escape(title)) if title else tr("answer.anonymous")
        spec = self.specialist_of(tg_user_id)
        if spec is None:
            return tr("answer.header", name=escape(first_name))
        return tr("duty.answer_header", name=escape(spec.short_name), kind=tr(f"duty.kind.{spec.kind.value}"))

    def card_lines(self, ticket: Ticket) -> list[str]:
        """What the card says of the schedule, following the ticket's state: while open, who takes it and
        when (the routing decision as stored: the assignee first, the time promised to the user); once taken,
        since when; once closed, when; and the vendor's hand-off."""
        tr = self.tr
        tz = self.school.tz
        lines: list[str] = []
        specs = [s for s in (self.school.find_specialist(k) for k in ticket.routed_to) if s is not None]
        if ticket.status is TicketStatus.CLOSED:
            # A question the conduct policy ended has its own line (bot/cards.py): not said twice.
            if ticket.closed_at is not None and ticket.conduct_ended_at is None:
                lines.append(tr("routing.card_closed", when=_stamp(ticket.closed_at.astimezone(tz))))
        elif ticket.status is TicketStatus.CLAIMED:
            if ticket.claimed_at is not None:
                lines.append(tr("routing.card_taken", when=_stamp(ticket.claimed_at.astimezone(tz))))
        elif ticket.queued and ticket.take_up_at is not None and ticket.assignee_key is not None:
            when = promise(self.now(), ticket.take_up_at.astimezone(tz), tr)
            who = self.label(specs[0]) if specs else "—"
            key = "routing.card_not_theirs" if ticket.route_reason is RouteReason.NOT_THEIRS else "duty.card_queued"
            lines.append(tr(key, when=when, name=who))
        elif ticket.queued and specs:
            lines.append(tr("routing.card_no_slot", names=", ".join(self.label(s) for s in specs[:3])))
        elif specs:
            lines.append(tr("duty.card_assigned", names=", ".join(self.label(s) for s in specs[:3])))
        if ticket.vendor_at is not None:
            ref = escape(ticket.vendor_ref) if ticket.vendor_ref else "—"
            lines.append(
                tr(
                    "duty.card_vendor",
                    date=ticket.vendor_at.astimezone(tz).strftime("%d.%m"),
                    ref=ref,
                )
            )
        return lines

    async def invite(
        self, key: str, created_by: int | None, bot_username: str | None, *, created_by_name: str = ""
    ) -> str:
        token = secrets.token_urlsafe(12)
        async with self.store.transaction():
            await self.store.duty.create_invite(token, key, created_by, self.now())
            await self.store.audit_action("invite", created_by, created_by_name, detail=key)
        return f"https://t.me/{bot_username}?start=inv_{token}"

    async def accept_invite(
        self, token: str, tg_user_id: int, tg_name: str, *, management: Destination | None = None
    ) -> InviteResult:
        """Open a one-time invite. An expired one is refused; one that would replace the account already
        linked to the specialist waits for management's ``/relink`` in their chat (``management``: where
        the request is queued as a notice; the caller kicks the outbox)."""
        now = self.now()
        valid_for = timedelta(hours=self.school.management.invite_hours)
        async with self.store.transaction():
            invite = await self.store.duty.invite(token)
            spec = self.school.find_specialist(invite.specialist_key) if invite else None
            if invite is None or spec is None or invite.used_at is not None:
                return InviteResult(InviteOutcome.INVALID)
            if now - invite.created_at > valid_for:
                return InviteResult(InviteOutcome.EXPIRED, spec)
            if await self.store.duty.use_invite(token, tg_user_id, now) is None:
                return InviteResult(InviteOutcome.INVALID)  # opened twice at once: the other one won
            current = await self.store.duty.link_of(spec.key)
            if current is not None and current.tg_user_id != tg_user_id:
                request = await self.store.duty.request_link(spec.key, tg_user_id, tg_name, now)
                await self.store.audit_action(
                    "link_request", tg_user_id, tg_name, detail=f"{spec.key} №{request.id}"
                )
                if management is not None:
                    await self.store.notice(
                        management,
                        self.tr(
                            "duty.relink_ask",
                            name=self.label(spec, mention=False),
                            current=user_link(current.tg_user_id, current.tg_name or "—"),
                            new=user_link(tg_user_id, tg_name or "—"),
                            number=request.id,
                        ),
                    )
                return InviteResult(InviteOutcome.PENDING, spec)
            await self.store.duty.link(spec.key, tg_user_id, tg_name, now)
            await self.store.audit_action("link", tg_user_id, tg_name, detail=spec.key)
        await self.load()
        return InviteResult(InviteOutcome.LINKED, spec)

    async def relink(self, request_id: int, decided_by: int | None, decided_by_name: str = "") -> RelinkResult:
        """Management confirms a pending link: the new account replaces the old one."""
        now = self.now()
        async with self.store.transaction():
            request = await self.store.duty.decide_link(request_id, decided_by, now)
            spec = self.school.find_specialist(request.specialist_key) if request else None
            if request is None or spec is None:
                return RelinkResult(RelinkOutcome.UNKNOWN)
            await self.store.duty.link(spec.key, request.tg_user_id, request.tg_name, now)
            await self.store.audit_action(
                "relink", decided_by, decided_by_name, detail=f"{spec.key}: {request.tg_name} ({request.tg_user_id})"
            )
        await self.load()
        return RelinkResult(RelinkOutcome.LINKED, spec, request.tg_name)

    async def unlink(self, key: str, *, actor_id: int | None = None, actor_name: str = "") -> bool:
        async with self.store.transaction():
            removed = await self.store.duty.unlink(key)
            if removed:
                await self.store.audit_action("unlink", actor_id, actor_name, detail=key)
        await self.load()
        return removed


def _stamp(moment: datetime) -> str:
    """``08.09 15:10``: when a card's state changed (the school's local time)."""
    return moment.strftime("%d.%m %H:%M")
