"""The ticket's use cases: each is the single owner of one thing that happens to a ticket.

Open a ticket (routing decided in the same transaction), a user's follow-up, a specialist's answer (which
reopens a closed ticket), claim, close (by staff or by the user), escalate to the deputy director, hand to
the vendor. Each takes plain values, stores what happened in one transaction, then says it through the
ports: the staff side (:class:`helpdesk.ports.StaffSide`), the user side (:class:`helpdesk.ports.UserSide`)
and the outbox. Handlers call one of these and render the outcome. No aiogram.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from helpdesk.domain import Category, Role, Topic
from helpdesk.duty import Duty
from helpdesk.escalations import Escalations
from helpdesk.formatting import escape
from helpdesk.ports import RELAYABLE_KINDS, DeliveryError, Destination, Inbound, Notices, StaffSide, UserSide
from helpdesk.rules.routing import RouteDecision
from helpdesk.store import ClaimOutcome, Draft, Store
from helpdesk.texts import Texts, Tr
from helpdesk.vendor import Vendor
from storage.tickets import Ticket
from storage.users import User

log = logging.getLogger(__name__)

__all__ = [
    "Ack",
    "AnswerOutcome",
    "ClaimOutcome",
    "CloseOutcome",
    "FollowUp",
    "Opened",
    "Tickets",
    "VendorOutcome",
]


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    decision: RouteDecision
    created: bool  # False: the same confirmation handled again (a replay), the ticket existed


class FollowUp(StrEnum):
    NO_TICKET = "no_ticket"  # no open ticket: the message starts a new question
    STORED = "stored"  # stored; delivered under the card once it is posted
    RELAYED = "relayed"
    DUPLICATE = "duplicate"  # the same message handled again (after a crash): stored already


class AnswerOutcome(StrEnum):
    OUTSIDE = "outside"  # not in any ticket's thread: staff talk among themselves
    DUPLICATE = "duplicate"
    UNSUPPORTED = "unsupported"
    NOTE = "note"
    ANSWERED = "answered"


class CloseOutcome(StrEnum):
    CLOSED = "closed"
    ALREADY_CLOSED = "already_closed"
    NOT_FOUND = "not_found"
    UNANSWERED = "unanswered"  # the user's last message has no answer: the specialist is asked to confirm


class VendorOutcome(StrEnum):
    HANDED = "handed"
    CLOSED = "closed"
    NOT_FOUND = "not_found"


OutcomeT = TypeVar("OutcomeT", bound=StrEnum)
Ack = Callable[[OutcomeT, Ticket | None], Awaitable[None]]
"""Tells the person who acted what the outcome is, before its effects are carried out (the card's edit may
wait for the staff group's budget; a button press is answered at once)."""
Confirm = Callable[[Ticket, int], Awaitable[None]]
"""Asks the specialist to confirm closing ``ticket`` although the user's message (the stored message's id) has
no answer; the confirmation carries that id back, so that a later message from the user asks again."""


class Tickets:
    def __init__(
        self,
        *,
        store: Store,
        duty: Duty,
        escalations: Escalations,
        vendor: Vendor,
        staff: StaffSide,
        users: UserSide,
        notices: Notices,
        texts: Texts,
    ) -> None:
        self.store = store
        self.duty = duty
        self.escalations = escalations
        self.vendor = vendor
        self.staff = staff
        self.users = users
        self.notices = notices
        self.texts = texts

    @property
    def staff_tr(self) -> Tr:
        return self.texts.staff

    def user_tr(self, user: User) -> Tr:
        return self.texts.of(user)

    # ---- reading ----------------------------------------------------------------------------------

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self.store.tickets.get(ticket_id)

    async def open_for(self, user: User) -> Ticket | None:
        return await self.store.tickets.open_for_user(user.id)

    async def latest_for(self, user: User) -> Ticket | None:
        return await self.store.tickets.latest_for_user(user.id)

    async def find(self, inbound: Inbound) -> tuple[User, Ticket] | None:
        """The ticket a staff group message belongs to: the message it replies to, else its topic."""
        if inbound.reply_to is not None and not inbound.reply_to_topic_start:
            ticket = await self.store.ticket_for_staff_message(inbound.chat_id, inbound.reply_to)
            if ticket is not None:
                user = await self.store.users.get(ticket.user_id)
                assert user is not None
                return user, ticket
        if inbound.thread_id is None:
            return None
        return await self.store.ticket_for_thread(inbound.thread_id)

    async def _find_answer(self, inbound: Inbound) -> tuple[User, Ticket, bool] | None:
        """:meth:`find`, and whether this message is stored already (the same update handled again after a
        crash). A message in a topic that replies to no particular message, the usual answer, asks all of
        it in one query."""
        if inbound.thread_id is not None and (inbound.reply_to is None or inbound.reply_to_topic_start):
            return await self.store.answer_in_thread(inbound.thread_id, inbound.chat_id, inbound.message_id)
        found = await self.find(inbound)
        if found is None:
            return None
        seen = await self.store.messages.by_staff_message(inbound.chat_id, inbound.message_id)
        return (*found, seen is not None and seen.direction in {"out", "note"})

    # ---- the user's side --------------------------------------------------------------------------

    async def open(
        self,
        user: User,
        *,
        role: Role,
        topic: Topic,
        category: Category,
        draft: Draft,
        offered_articles: tuple[str, ...] = (),
        origin: str | None = None,
    ) -> Opened:
        """Store the question as a ticket, routed by the schedule, in one transaction; confirm it to the
        user with an honest promise; post it to staff; tell the specialists on duty.

        A crash at any point after the transaction loses nothing: the card is posted by the recovery.
        """
        decision = self.duty.decide_new(role, topic, category)
        ticket, created = await self.store.open_ticket(
            user,
            role=role,
            topic=topic,
            category=category,
            draft=draft,
            offered_articles=offered_articles,
            origin=origin,
            routing=decision,
        )
        # Held from the moment it is stored, so that a scheduler tick does not post it a second time.
        with self.staff.hold(ticket_id=ticket.id):
            tr = self.user_tr(user)
            confirmation = (
                tr("ticket.created", number=ticket.id)
                + "\n\n"
                + self.duty.user_promise(decision, tr, category)
            )
            confirmation_id = await self.users.ticket_opened(user, ticket, confirmation)
            if confirmation_id is not None:
                ticket = await self.store.set_confirmation(ticket, confirmation_id)
            try:
                ticket = await self.staff.post_ticket(user, ticket)
            except DeliveryError as exc:
                # Stored and promised: the recovery posts the card as soon as the staff group answers.
                log.warning("ticket %s: card not posted yet (%s)", ticket.id, exc)
                return Opened(ticket, decision, created)
        await self.duty.notify_assigned(ticket, decision)
        return Opened(ticket, decision, created)

    async def follow_up(self, user: User, inbound: Inbound) -> FollowUp:
        """A user's message while their ticket is open joins the ticket on the staff side."""
        ticket = await self.store.tickets.open_for_user(user.id)
        if ticket is None:
            return FollowUp.NO_TICKET
        row = await self.store.record_in(
            ticket,
            user,
            kind=inbound.kind,
            text=inbound.text,
            file_id=inbound.file_id,
            message_id=inbound.message_id,
        )
        if row is None:
            return FollowUp.DUPLICATE  # stored already: the recovery delivers it
        if ticket.card_message_id is None:
            return FollowUp.STORED  # delivered under the card once it is posted (see the recovery)
        with self.staff.hold(row_id=row.id):
            await self.staff.relay_in(row, ticket, user)
        return FollowUp.RELAYED

    async def close_by_user(self, user: User, ticket_id: int) -> tuple[CloseOutcome, Ticket | None]:
        """The user closes their ticket. Closed by the user already (the same press handled again): CLOSED,
        with nothing done twice."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None or ticket.user_id != user.id:
            return CloseOutcome.NOT_FOUND, None
        by_user = self.staff_tr("staff.closed_by_user_name")
        changed, closed = await self.store.close(ticket_id, closed_by=by_user)
        closed = closed or ticket
        if not changed:
            outcome = CloseOutcome.CLOSED if closed.closed_by == by_user else CloseOutcome.ALREADY_CLOSED
            return outcome, closed
        await self.staff.refresh_card(closed)
        await self.staff.say(self.staff.thread_of(closed), self.staff_tr("staff.user_closed", number=closed.id))
        return CloseOutcome.CLOSED, closed

    # ---- the staff side ---------------------------------------------------------------------------

    async def answer(self, inbound: Inbound) -> AnswerOutcome:
        """A specialist's message in the staff group: to the user of the ticket it belongs to (a note
        ``// ...`` stays with the ticket). An answer to a closed ticket reopens it."""
        found = await self._find_answer(inbound)
        if found is None:
            return AnswerOutcome.OUTSIDE
        user, ticket, seen = found
        if seen:
            return AnswerOutcome.DUPLICATE  # stored already: the recovery delivers it
        reply_here = self.staff.reply_place(inbound, ticket)
        note = inbound.is_note
        if not note and inbound.kind not in RELAYABLE_KINDS:
            await self.staff.say(reply_here, self.staff_tr("staff.unsupported_kind"))
            return AnswerOutcome.UNSUPPORTED
        row, ticket, reopened = await self.store.record_out(
            ticket,
            kind=inbound.kind,
            text=inbound.text,
            file_id=inbound.file_id,
            staff_id=inbound.author_id,
            staff_name=inbound.author_name,
            staff_chat_id=inbound.chat_id,
            staff_message_id=inbound.message_id,
            note=note,
        )
        if note:
            return AnswerOutcome.NOTE
        with self.staff.hold(row_id=row.id):
            await self.users.relay_out(row, ticket, user, body_html=inbound.html if inbound.text else None)
        if reopened:
            await self.users.ticket_reopened(user, ticket)
            await self.staff.refresh_card(ticket)
            await self.staff.say(reply_here, self.staff_tr("staff.reopened", number=ticket.id))
        return AnswerOutcome.ANSWERED

    async def claim(
        self, ticket_id: int, *, staff_id: int, staff_name: str, ack: Ack[ClaimOutcome] | None = None
    ) -> tuple[ClaimOutcome, Ticket | None]:
        """A specialist takes the ticket: the card shows who, the user is told."""
        outcome, ticket = await self.store.claim(ticket_id, staff_id=staff_id, staff_name=staff_name)
        if ack is not None:
            await ack(outcome, ticket)
        if outcome is ClaimOutcome.CLAIMED and ticket is not None:
            await self.staff.refresh_card(ticket)
            await self._tell_user(ticket, "ticket.claimed", name=ticket.claimed_by_name or "")
        return outcome, ticket

    async def close_by_staff(
        self,
        ticket_id: int,
        *,
        staff_name: str,
        staff_id: int | None = None,
        ack: Ack[CloseOutcome] | None = None,
        confirm: Confirm | None = None,
        confirmed_upto: int | None = None,
    ) -> tuple[CloseOutcome, Ticket | None]:
        """A specialist closes the ticket: the card shows it, the user is told and their close button goes.

        With ``confirm``, a ticket whose last message is the user's unanswered follow-up is not closed: the
        specialist is asked to confirm (``UNANSWERED``). ``confirmed_upto``: they confirmed up to that
        message; a newer unanswered one asks again.
        """
        if confirm is not None:
            ticket = await self.store.tickets.get(ticket_id)
            if ticket is not None and ticket.is_open:
                waiting = await self.store.unanswered_follow_up(ticket)
                if waiting is not None and (confirmed_upto is None or waiting > confirmed_upto):
                    await confirm(ticket, waiting)
                    return CloseOutcome.UNANSWERED, ticket
        changed, ticket = await self.store.close(ticket_id, closed_by=staff_name, actor_id=staff_id)
        if ticket is None:
            outcome = CloseOutcome.NOT_FOUND
        else:
            outcome = CloseOutcome.CLOSED if changed else CloseOutcome.ALREADY_CLOSED
        if ack is not None:
            await ack(outcome, ticket)
        if outcome is not CloseOutcome.CLOSED or ticket is None:
            return outcome, ticket
        await self.staff.refresh_card(ticket)
        await self._tell_user(ticket, "ticket.closed_by_staff")
        user = await self.store.users.get(ticket.user_id)
        if user is not None:
            await self.users.ticket_closed(user, ticket)
        return CloseOutcome.CLOSED, ticket

    async def escalate(
        self, ticket_id: int, *, who: str, comment: str, who_id: int | None = None
    ) -> Ticket | None:
        """A specialist asks the deputy director to step in (with a comment, or none)."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is not None:
            async with self.store.transaction():
                await self.store.audit_action("escalate", who_id, who, ticket_id=ticket.id, detail=comment[:200])
            await self.escalations.escalate_by_specialist(ticket, who, comment)
        return ticket

    async def hand_to_vendor(
        self,
        ticket_id: int,
        *,
        actor_id: int | None = None,
        actor_name: str = "",
        ack: Ack[VendorOutcome] | None = None,
    ) -> tuple[VendorOutcome, Ticket | None]:
        """To the e-journal vendor's support: the user gets its contacts and what to prepare."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None:
            outcome = VendorOutcome.NOT_FOUND
        else:
            outcome = VendorOutcome.HANDED if ticket.is_open else VendorOutcome.CLOSED
        if ack is not None:
            await ack(outcome, ticket)
        if outcome is not VendorOutcome.HANDED or ticket is None:
            return outcome, ticket
        return outcome, await self.vendor.hand_to_vendor(ticket, actor_id=actor_id, actor_name=actor_name)

    async def set_vendor_ref(self, ticket_id: int, ref: str) -> Ticket | None:
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None:
            return None
        return await self.vendor.set_vendor_ref(ticket, ref)

    async def _tell_user(self, ticket: Ticket, key: str, **params: str) -> None:
        """A notice to the ticket's user, through the outbox (survives a crash)."""
        user = await self.store.users.get(ticket.user_id)
        assert user is not None
        text = self.user_tr(user)(key, number=ticket.id, **{k: escape(v) for k, v in params.items()})
        async with self.store.transaction():
            await self.store.notice(Destination(user.chat_id), text)
        self.notices.kick()
