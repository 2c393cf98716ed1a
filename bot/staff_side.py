"""The core's ports on Telegram: :class:`TelegramStaff` (the staff side) and :class:`TelegramUsers` (the
user side). Each is a thin face over the pieces that do the work: cards and threads
(:mod:`bot.cards`), relay (:mod:`bot.relay`), the outbox (:mod:`bot.outbox`), burst pacing
(:mod:`bot.pacing`) and recovery (:mod:`bot.recovery`). Telegram's refusals become
:class:`helpdesk.ports.DeliveryError` where the core decides what follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager

from aiogram.exceptions import TelegramAPIError

from bot import keyboards
from bot.cards import Cards
from bot.delivery import Gateway
from bot.inflight import InFlight
from bot.outbox import Outbox
from bot.recovery import Recovery
from bot.relay import Relay
from bot.staff_chat import StaffChat
from helpdesk.ports import Button, DeliveryError, Destination, Inbound
from helpdesk.texts import Texts
from storage.tickets import Ticket, TicketMessage
from storage.users import User

log = logging.getLogger(__name__)


class TelegramStaff:
    """The staff side: the staff group, the management's chats, the specialists' private chats."""

    def __init__(
        self,
        *,
        gateway: Gateway,
        staff_chat: StaffChat,
        cards: Cards,
        relay: Relay,
        recovery: Recovery,
        outbox: Outbox,
        in_flight: InFlight,
    ) -> None:
        self.gateway = gateway
        self.staff_chat = staff_chat
        self.cards = cards
        self.relay = relay
        self.recovery = recovery
        self.outbox = outbox
        self.in_flight = in_flight
        self._watcher: asyncio.Task[None] | None = None

    @property
    def chat_id(self) -> int:
        return self.staff_chat.id

    def hold(
        self, *, ticket_id: int | None = None, row_id: int | None = None
    ) -> AbstractContextManager[None]:
        return self.in_flight.hold(ticket_id=ticket_id, row_id=row_id)

    async def post_ticket(self, user: User, ticket: Ticket) -> Ticket:
        try:
            return await self.recovery.submit(user, ticket)
        except TelegramAPIError as exc:
            raise DeliveryError(str(exc)) from exc

    async def relay_in(self, row: TicketMessage, ticket: Ticket, user: User) -> None:
        # Through the recovery: a flood is merged and paced there, so that it cannot hold up others.
        await self.recovery.follow_up(row, ticket, user)

    async def refresh_card(self, ticket: Ticket) -> None:
        await self.cards.refresh(ticket)

    async def say(
        self, where: Destination, html_text: str, buttons: Sequence[Button] = (), *, quiet: bool = False
    ) -> int:
        try:
            markup = keyboards.buttons(buttons) if buttons else None
            return await self.gateway.send(where, html_text, markup=markup, disable_notification=quiet or None)
        except TelegramAPIError as exc:
            raise DeliveryError(str(exc)) from exc

    async def say_long(self, where: Destination, header_html: str, body_plain: str) -> list[int]:
        try:
            return await self.gateway.send_long(where, header_html, body_plain)
        except TelegramAPIError as exc:
            raise DeliveryError(str(exc)) from exc

    def thread_of(self, ticket: Ticket) -> Destination:
        return self.cards.dest(ticket)

    def reply_place(self, inbound: Inbound, ticket: Ticket) -> Destination:
        if inbound.chat_id != self.chat_id:
            return self.cards.dest(ticket)  # written in the group's former chat, handled after the move
        return Destination(inbound.chat_id, inbound.thread_id, inbound.message_id)

    def card_url(self, ticket: Ticket) -> str | None:
        return self.cards.url(ticket)

    def kick(self) -> None:
        """The outbox: send what is queued (the core's :class:`helpdesk.ports.Notices`)."""
        self.outbox.kick()

    # ---- running ----------------------------------------------------------------------------------

    async def resume(self) -> None:
        """At start and on every tick: deliver what waits, edit the cards whose edit failed, send what is
        queued."""
        await self.recovery.resume()
        await self.cards.refresh_stale()
        self.outbox.kick()

    def start(self) -> None:
        """Follow the staff group's moves: post the open tickets' cards in the new group, send what is
        queued for it."""

        async def watch() -> None:
            while True:
                await self.staff_chat.moved.wait()
                self.staff_chat.moved.clear()
                self.recovery.staff_moved()
                self.outbox.kick()

        if self._watcher is None:
            self._watcher = asyncio.create_task(watch())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.recovery.finish()
        await self.outbox.finish()


class TelegramUsers:
    """The user side on Telegram: private chats with the bot."""

    def __init__(self, *, gateway: Gateway, relay: Relay, texts: Texts) -> None:
        self.gateway = gateway
        self.relay = relay
        self.texts = texts

    async def relay_out(
        self, row: TicketMessage, ticket: Ticket, user: User, *, body_html: str | None = None
    ) -> None:
        await self.relay.to_user(row, ticket, user, body_html=body_html)

    async def ticket_opened(self, user: User, ticket: Ticket, html_text: str) -> int | None:
        tr = self.texts.of(user)
        return await self.gateway.send(
            Destination(user.chat_id), html_text, markup=keyboards.user_ticket(tr, ticket.id)
        )

    async def ticket_closed(self, user: User, ticket: Ticket) -> None:
        if ticket.confirm_message_id is None:
            return
        try:
            await self.gateway.drop_keyboard(user.chat_id, ticket.confirm_message_id)
        except TelegramAPIError as exc:
            # The notice that the ticket is closed has gone anyway; a press on the old button is answered.
            log.info("ticket %s: close button not removed: %s", ticket.id, exc)

    async def ticket_reopened(self, user: User, ticket: Ticket) -> None:
        if ticket.confirm_message_id is None:
            return
        markup = keyboards.user_ticket(self.texts.of(user), ticket.id)
        try:
            await self.gateway.bot.edit_message_reply_markup(
                chat_id=user.chat_id, message_id=ticket.confirm_message_id, reply_markup=markup
            )
        except TelegramAPIError as exc:
            # Too old to edit (48 hours): the user can still write, and staff can close it.
            log.info("ticket %s: close button not restored: %s", ticket.id, exc)

    async def tell(self, user: User, html_text: str) -> None:
        try:
            await self.gateway.send(Destination(user.chat_id), html_text)
        except TelegramAPIError as exc:
            raise DeliveryError(str(exc)) from exc

    async def send_article(self, user: User, ticket_id: int, article_id: str, html_text: str) -> None:
        """A specialist's article, with «помогло / нет» naming the ticket (see ArticleAnswers)."""
        markup = keyboards.kb_article(self.texts.of(user), article_id, ticket_id)
        try:
            await self.gateway.send(Destination(user.chat_id), html_text, markup=markup)
        except TelegramAPIError as exc:
            raise DeliveryError(str(exc)) from exc
