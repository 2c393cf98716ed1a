"""Relay both ways: a user's message to the ticket's thread, a specialist's answer to the user.

Both deliver a message that is already stored (``messages``), so the same code resumes what a crash or an
outage left undelivered. ``copyMessage`` is the Telegram form of relaying media.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramMigrateToChat

from bot.cards import Cards
from bot.delivery import Gateway
from bot.keyboards import complaint
from helpdesk.formatting import TEXT_LIMIT, escape, utf16_len, visible_len
from helpdesk.ports import Destination
from helpdesk.specialists import Specialists
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from storage.tickets import Ticket, TicketMessage
from storage.users import User


class Relay:
    def __init__(self, *, gateway: Gateway, cards: Cards, store: Store, specialists: Specialists, texts: Texts) -> None:
        self.gateway = gateway
        self.cards = cards
        self.store = store
        self.specialists = specialists
        self.texts = texts

    @property
    def staff_tr(self) -> Tr:
        return self.texts.staff

    def user_tr(self, user: User) -> Tr:
        return self.texts.of(user)

    async def attachments(self, ticket: Ticket, rows: list[TicketMessage]) -> None:
        """The question's photos and documents under its card."""
        tr = self.staff_tr
        for row in rows:
            if row.user_message_id is None or row.user_chat_id is None:
                continue
            caption = tr("staff.attachment_caption", number=ticket.id)
            if row.text:
                caption = f"{caption}:\n{escape(row.text)}"
            staff_id = await self.gateway.relay(
                row.user_chat_id, row.user_message_id, self.cards.dest(ticket), caption_html=caption
            )
            await self.store.delivered(row, staff_chat_id=self.cards.chat_id, staff_message_id=staff_id)

    # ---- to staff -------------------------------------------------------------------------------

    async def to_staff(self, row: TicketMessage, ticket: Ticket, user: User) -> None:
        """Deliver a stored user message to the ticket's thread (also used to resume after a crash)."""
        ticket = await self.cards.here(user, ticket)
        try:
            await self._to_staff(row, ticket, user)
        except TelegramMigrateToChat as exc:
            if exc.migrate_to_chat_id != self.cards.chat_id:
                raise
            # The group became a supergroup just now (this call told us): the card first, then the message.
            await self._to_staff(row, await self.cards.here(user, ticket), user)

    async def _to_staff(self, row: TicketMessage, ticket: Ticket, user: User) -> None:
        tr = self.staff_tr
        dest = self.cards.dest(ticket)
        assert row.user_chat_id is not None and row.user_message_id is not None
        header = tr("staff.followup_caption", name=escape(user.first_name), number=ticket.id)
        if row.kind == "text":
            ids = await self.gateway.send_long(dest, header + "\n", row.text)
            for extra in ids[1:]:
                await self.store.map_staff_message(ticket, self.cards.chat_id, extra)
            staff_id = ids[0]
        else:
            caption = f"{header}\n{escape(row.text)}" if row.text else header
            staff_id = await self.gateway.relay(
                row.user_chat_id, row.user_message_id, dest, caption_html=caption
            )
        await self.store.delivered(row, staff_chat_id=self.cards.chat_id, staff_message_id=staff_id)

    async def to_staff_merged(self, rows: list[TicketMessage], ticket: Ticket, user: User) -> None:
        """Several stored text messages of one user, in order, as one staff message (a flood merged: one
        send of the group's budget instead of many). Each row maps to it, so a reply to it finds the
        ticket."""
        if len(rows) == 1:
            await self.to_staff(rows[0], ticket, user)
            return
        ticket = await self.cards.here(user, ticket)
        tr = self.staff_tr
        header = tr("staff.followups_caption", name=escape(user.first_name), number=ticket.id, count=len(rows))
        body = "\n\n".join(row.text for row in rows)
        ids = await self.gateway.send_long(self.cards.dest(ticket), header + "\n", body)
        for extra in ids[1:]:
            await self.store.map_staff_message(ticket, self.cards.chat_id, extra)
        for row in rows:
            await self.store.delivered(row, staff_chat_id=self.cards.chat_id, staff_message_id=ids[0])

    # ---- to the user ----------------------------------------------------------------------------

    def reply_place(self, staff_chat_id: int, staff_message_id: int, ticket: Ticket) -> Destination:
        """Where to tell staff about a specialist's message: a reply to it, in its topic."""
        if staff_chat_id != self.cards.chat_id:
            return self.cards.dest(ticket)  # written in the group's former chat (now a supergroup)
        thread = ticket.staff_thread_id if self.cards.staff_chat.forum else None
        return Destination(staff_chat_id, thread, staff_message_id)

    async def to_user(
        self, row: TicketMessage, ticket: Ticket, user: User, *, body_html: str | None = None
    ) -> None:
        """Deliver a stored specialist message to the user (also used to resume after a crash).

        ``body_html`` keeps the specialist's formatting when we have the original message; on resume only
        the stored plain text is left.
        """
        assert row.staff_chat_id is not None and row.staff_message_id is not None
        utr = self.user_tr(user)
        name = row.author_name or "—"
        if row.author_id is not None:
            header = self.specialists.signature(row.author_id, name, utr)
        else:
            header = utr("answer.header", name=escape(name))
        reply_here = self.reply_place(row.staff_chat_id, row.staff_message_id, ticket)
        text = row.text
        try:
            if row.kind == "text":
                # The user may complain about an answer to the director (the conduct policy).
                markup = complaint(utr, ticket.id)
                if body_html is not None and visible_len(header) + 1 + utf16_len(text) <= TEXT_LIMIT:
                    ids = [
                        await self.gateway.send(
                            Destination(user.chat_id), f"{header}\n{body_html}", markup=markup
                        )
                    ]
                else:
                    ids = await self.gateway.send_long(
                        Destination(user.chat_id), header + "\n", text, markup=markup
                    )
                delivered_id = ids[0]
            else:
                body = body_html if body_html is not None else escape(text)
                caption = header + (f"\n{body}" if text else "")
                delivered_id = await self.gateway.relay(
                    row.staff_chat_id, row.staff_message_id, Destination(user.chat_id), caption_html=caption
                )
        except TelegramForbiddenError as exc:
            await self.store.failed(row, exc.message)
            await self.gateway.send(reply_here, self.staff_tr("staff.delivered_blocked", number=ticket.id))
            return
        except (TelegramBadRequest, TelegramMigrateToChat) as exc:
            # (a media answer from the group's former chat can no longer be copied: staff send it again)
            await self.store.failed(row, exc.message)
            await self.gateway.send(
                reply_here,
                self.staff_tr("staff.delivery_failed", number=ticket.id, reason=escape(exc.message)),
            )
            return
        await self.store.delivered(row, user_message_id=delivered_id)
