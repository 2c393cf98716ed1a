"""Posting new tickets to staff under the group's budget, and delivering what a crash or an outage left.

:meth:`Recovery.submit` posts a new ticket's card (or leaves it to the digest when the budget is spent);
:meth:`Recovery.resume` runs at start, on every scheduler tick and from the digest task: it posts the cards
never posted, lists what waits, and delivers the messages never delivered. What a user or a specialist
wrote is in the database before anything is sent, so a crash, a kill or an outage delays it, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram.exceptions import TelegramAPIError

from bot.cards import Cards
from bot.inflight import InFlight
from bot.pacing import Pacing
from bot.relay import Relay
from bot.staff_chat import StaffChat
from helpdesk.formatting import TEXT_LIMIT
from helpdesk.store import Store
from storage.tickets import Ticket, TicketMessage
from storage.users import User

log = logging.getLogger(__name__)


class Recovery:
    def __init__(
        self,
        *,
        store: Store,
        cards: Cards,
        relay: Relay,
        pacing: Pacing,
        in_flight: InFlight,
        staff_chat: StaffChat,
        digest_pause: float = 1.0,
    ) -> None:
        self.store = store
        self.cards = cards
        self.relay = relay
        self.pacing = pacing
        self.in_flight = in_flight
        self.staff_chat = staff_chat
        # A short pause that gathers a burst into one digest.
        self.digest_pause = digest_pause
        self._lock = asyncio.Lock()
        # Cards are posted one at a time (each checks the budget it needs); while cards wait for the
        # budget, the digest task keeps posting them, oldest first, as it allows.
        self._card_lock = asyncio.Lock()
        self._digest_task: asyncio.Task[None] | None = None
        # Cards of open tickets may be in the staff group's former chat (it became a supergroup): checked
        # at start and after a move, see move_cards.
        self._cards_elsewhere = True
        # Fairness. Tickets whose follow-ups wait (merged later, see _follow_ups): a new follow-up of such a
        # ticket waits too, so the order is kept. And when each ticket was last given a staff message: the
        # one served longest ago goes first, so one user's flood takes turns with everybody else.
        self.backlog: set[int] = set()
        self._served: dict[int, float] = {}

    # ---- a user's follow-up ---------------------------------------------------------------------

    # A follow-up is sent at once only while the group's minute keeps room for a new ticket's card (its
    # topic, parts, attachments: up to 4 sends) beyond the digest's reserve.
    card_room = 4
    # A merged staff message holds the texts of this many characters at most (one message, not split).
    merge_chars = TEXT_LIMIT - 500

    async def follow_up(self, row: TicketMessage, ticket: Ticket, user: User) -> None:
        """A user's message while their ticket is open: to its thread now when the group has room, else
        kept (it is stored) and sent merged with the ticket's next ones, in turn with other tickets."""
        if ticket.id in self.backlog or self.pacing.busy(self.card_room):
            self.backlog.add(ticket.id)
            self.pacing.deferred = True
            self.kick_digest()
            return
        await self.relay.to_staff(row, ticket, user)
        self._served[ticket.id] = self.pacing.monotonic()

    # ---- a new ticket ---------------------------------------------------------------------------

    async def submit(self, user: User, ticket: Ticket) -> Ticket:
        """Post the new ticket to staff: the card, then the question's attachments under it."""
        with self.in_flight.hold(ticket_id=ticket.id):
            fresh = await self.store.tickets.get(ticket.id)
            if fresh is not None and fresh.card_message_id is not None:
                return fresh  # posted already (the same confirmation handled again after a crash)
            rows = [
                r
                for r in await self.store.messages.for_ticket(ticket.id)
                if r.direction == "in" and r.user_message_id is not None and r.user_chat_id is not None
            ]
            # What the card costs in the group's budget: a topic (a new one), its parts, the attachments.
            new_topic = self.cards.staff_chat.forum and not user.staff_thread_id
            cost = min(4, int(new_topic) + len(self.cards.parts(ticket, user)) + len(rows))
            listed = ticket.id in self.pacing.listed
            short = self.pacing.busy(cost, listed=listed)
            if short or self._card_lock.locked():
                # Too many at once for the group's budget: the digest lists it now, the card comes later
                # (or another card is being posted: the digest task posts this one next, in turn).
                self.pacing.deferred = True
                if short and not listed:
                    self.pacing.burst_started()
                self.kick_digest()
                return ticket
            async with self._card_lock:
                return await self._post(user, ticket, rows)

    async def _post(self, user: User, ticket: Ticket, rows: list[TicketMessage]) -> Ticket:
        ticket = await self.cards.post(user, ticket)
        await self.relay.attachments(ticket, rows)
        return ticket

    # ---- the digest task ------------------------------------------------------------------------

    def kick_digest(self) -> None:
        """Soon (after a short pause that gathers a burst into one digest), list what waits and post cards;
        then, while cards wait for the group's budget, list newcomers and post cards as it allows."""
        if self._digest_task is not None and not self._digest_task.done():
            return

        async def later() -> None:
            await asyncio.sleep(self.digest_pause)
            while True:
                self.pacing.deferred = False
                try:
                    await self.resume()
                except TelegramAPIError as exc:
                    log.warning("waiting tickets not listed yet: %s", exc)
                    return  # the scheduler's tick tries again
                if not self.pacing.deferred:
                    return  # all posted (or a failure: the scheduler's tick tries again)
                await asyncio.sleep(self.digest_pause)

        self._digest_task = asyncio.create_task(later())

    async def finish(self) -> None:
        if self._digest_task is not None and not self._digest_task.done():
            self._digest_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._digest_task

    # ---- the staff group moved ------------------------------------------------------------------

    def staff_moved(self) -> None:
        """The staff group has a new id: post the open tickets' cards there (soon)."""
        self._cards_elsewhere = True
        self.kick_digest()

    async def move_cards(self) -> bool:
        """Post again, in the staff group as it is now, the cards of open tickets left in its former chat.
        True when none is left there."""
        done = True
        for ticket in await self.store.tickets.open_tickets():
            if ticket.card_message_id is None or ticket.staff_chat_id == self.staff_chat.id:
                continue
            if self.in_flight.busy(ticket_id=ticket.id) or self.pacing.busy():
                done = False  # being handled, or the group's budget is spent: the next round
                continue
            user = await self.store.users.get(ticket.user_id)
            assert user is not None
            try:
                await self.cards.here(user, ticket)
            except TelegramAPIError as exc:
                log.warning("ticket %s: card not posted again yet: %s", ticket.id, exc)
                return False
        return done

    # ---- after a crash or an outage -------------------------------------------------------------

    async def resume(self) -> int:
        """Deliver what was stored but not delivered: cards never posted, messages never relayed.
        Returns how many deliveries it made."""
        done = 0
        async with self._lock:
            if self._cards_elsewhere:
                self._cards_elsewhere = False
                if not await self.move_cards():
                    self._cards_elsewhere = True  # some wait for the next round
            # Only committed tickets: a ticket being opened is marked as held by its use case right after its
            # transaction commits, and must not be taken for one left without a card.
            async with self.store.db.settled():
                waiting = await self.store.tickets.without_card()
            left: list[Ticket] = []  # still without a card when the budget (or the group) says stop
            failed = False
            started = self.pacing.monotonic()
            for i, ticket in enumerate(waiting):
                if self.in_flight.busy(ticket_id=ticket.id):
                    continue
                slow = self.pacing.monotonic() - started > 2.0 and self.pacing.digest_due(waiting[i:])
                if slow or self.pacing.busy(listed=ticket.id in self.pacing.listed):
                    # Out of budget, or the cards go slowly and a digest is due: list the rest first.
                    self.pacing.deferred = True
                    left = waiting[i:]
                    break
                user = await self.store.users.get(ticket.user_id)
                assert user is not None
                try:
                    posted = await self.submit(user, ticket)
                except TelegramAPIError as exc:
                    log.warning("ticket %s still not posted to staff: %s", ticket.id, exc)
                    left, failed = waiting[i:], True
                    break
                if posted.card_message_id is None:
                    left = waiting[i:]  # deferred: the group's budget is spent for now
                    break
                done += 1
            try:
                await self.pacing.post_digest(left)
            except TelegramAPIError as exc:
                log.warning("waiting tickets not listed to staff yet: %s", exc)
                return done
            if failed:
                return done
            follow_ups: dict[int, list[TicketMessage]] = {}
            for row in await self.store.messages.pending():
                if self.in_flight.busy(row_id=row.id):
                    continue
                if row.direction == "in":
                    follow_ups.setdefault(row.ticket_id, []).append(row)
                    continue
                owner = await self.store.tickets.get(row.ticket_id)
                if (
                    owner is None
                    or owner.card_message_id is None
                    or self.in_flight.busy(ticket_id=owner.id)
                ):
                    continue
                ticket = owner
                user = await self.store.users.get(ticket.user_id)
                assert user is not None
                try:
                    with self.in_flight.hold(row_id=row.id):
                        await self.relay.to_user(row, ticket, user)
                    done += 1
                except TelegramAPIError as exc:
                    log.warning("message %s still not delivered: %s", row.id, exc)
            done += await self._follow_ups(follow_ups)
        return done

    async def _follow_ups(self, follow_ups: dict[int, list[TicketMessage]]) -> int:
        """Users' messages waiting for the staff group, one round: each ticket in turn (the one served
        longest ago first) gets one staff message, its waiting texts merged, while the group's minute
        keeps room for a new ticket's card. What is left goes in the next round (the digest task)."""
        done = 0
        order = sorted(follow_ups, key=lambda t: (self._served.get(t, 0.0), follow_ups[t][0].id))
        for ticket_id in order:
            rows = follow_ups[ticket_id]
            if self.pacing.busy(self.card_room):
                self.pacing.deferred = True  # the budget is spent for now: the next round
                break
            owner = await self.store.tickets.get(ticket_id)
            if owner is None or owner.card_message_id is None or self.in_flight.busy(ticket_id=owner.id):
                continue
            user = await self.store.users.get(owner.user_id)
            assert user is not None
            batch = self._batch(rows)
            try:
                with self.in_flight.hold(ticket_id=owner.id):
                    await self.relay.to_staff_merged(batch, owner, user)
                done += len(batch)
            except TelegramAPIError as exc:
                log.warning("ticket %s: messages still not delivered: %s", ticket_id, exc)
                continue
            self._served[ticket_id] = self.pacing.monotonic()
            if len(batch) < len(rows):
                self.pacing.deferred = True
            else:
                self.backlog.discard(ticket_id)
        return done

    def _batch(self, rows: list[TicketMessage]) -> list[TicketMessage]:
        """The oldest waiting rows that go as one staff message: a media message alone, or texts in a row
        up to ``merge_chars``."""
        if rows[0].kind != "text":
            return rows[:1]
        batch: list[TicketMessage] = []
        size = 0
        for row in rows:
            if row.kind != "text" or (batch and size + len(row.text) + 2 > self.merge_chars):
                break
            batch.append(row)
            size += len(row.text) + 2
        return batch
