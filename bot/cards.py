"""Cards and ticket threads in the staff group.

The staff group is either a forum (one topic per user, reused for their later tickets) or a plain group (a
card per ticket, answers as replies). Both are a "ticket thread" to the rest of the code.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramMigrateToChat

from bot.delivery import Gateway
from bot.inflight import InFlight
from bot.keyboards import staff_card
from bot.staff_chat import StaffChat
from helpdesk.domain import TicketStatus
from helpdesk.formatting import TEXT_LIMIT, compose, escape
from helpdesk.ports import Destination
from helpdesk.privacy import staff_label
from helpdesk.rules.kb import KnowledgeBase
from helpdesk.rules.privacy import DEFAULT_PRIVACY, PrivacySettings
from helpdesk.specialists import Specialists
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from storage.tickets import Ticket
from storage.users import User

log = logging.getLogger(__name__)


def message_link(chat_id: int, message_id: int | None, thread_id: int | None = None) -> str | None:
    """A t.me link to a message in a supergroup (``-100...`` ids), for the deputy director's alerts."""
    text = str(chat_id)
    if message_id is None or not text.startswith("-100"):
        return None
    internal = text[4:]
    if thread_id:
        return f"https://t.me/c/{internal}/{thread_id}/{message_id}"
    return f"https://t.me/c/{internal}/{message_id}"


class Cards:
    def __init__(
        self,
        *,
        gateway: Gateway,
        staff_chat: StaffChat,
        store: Store,
        specialists: Specialists,
        kb: KnowledgeBase | None,
        texts: Texts,
        in_flight: InFlight,
        privacy: PrivacySettings = DEFAULT_PRIVACY,
    ) -> None:
        self.gateway = gateway
        self.privacy = privacy
        self.staff_chat = staff_chat
        self.store = store
        self.specialists = specialists
        self.kb = kb
        self.texts = texts
        self.in_flight = in_flight
        self._move_lock = asyncio.Lock()
        # Tickets whose card edit failed on Telegram's side (5xx, network, an HTML page from a proxy, after
        # the gateway's retries): the card shows an old status, so it is edited again on the next tick
        # (TelegramStaff.resume). Kept in memory: a restart shows the card's status at the next change.
        self.stale: set[int] = set()

    @property
    def chat_id(self) -> int:
        """The staff group's id now: it changes when Telegram upgrades the group to a supergroup."""
        return self.staff_chat.id

    @property
    def tr(self) -> Tr:
        return self.texts.staff

    # ---- the card -------------------------------------------------------------------------------

    def parts(self, ticket: Ticket, user: User) -> list[str]:
        tr = self.tr
        if ticket.status is TicketStatus.OPEN:
            status = tr("staff.status.open")
        elif ticket.status is TicketStatus.CLAIMED:
            status = tr("staff.status.claimed", name=escape(ticket.claimed_by_name or "—"))
        else:
            status = tr("staff.status.closed", name=escape(ticket.closed_by or "—"))
        header = tr(
            "staff.card",
            number=ticket.id,
            topic=tr(f"topic.short.{ticket.topic.value}"),
            category=tr(f"category.{ticket.category.value}"),
            role=tr(f"role.{ticket.role.value}"),
            user=staff_label(user, self.privacy),  # the minimum: the first name, unless the school says more
            status=status,
            question="",
        )
        hint = tr("staff.card_hint_forum" if self.staff_chat.forum else "staff.card_hint_plain")
        extra = "".join(f"{line}\n" for line in self.lines(ticket))
        question = ticket.question or tr("confirm.no_text")
        return compose(f"{header.rstrip()}\n{extra}{hint}\n\n", question, TEXT_LIMIT)

    def lines(self, ticket: Ticket) -> list[str]:
        """Extra facts on the card: what the user has already been shown, who should take it."""
        tr = self.tr
        lines: list[str] = []
        if ticket.offered_articles:
            titles = []
            for article_id in ticket.offered_articles:
                article = self.kb.article(article_id, tr.locale) if self.kb else None
                titles.append(f"«{escape(article.title if article else article_id)}»")
            lines.append(tr("staff.card_articles", titles=", ".join(titles)))
        lines.extend(self.specialists.card_lines(ticket))
        if ticket.conduct_ended_at is not None:
            # The question stays visible, marked; the words that ended it are only in the deputy's alert.
            when = ticket.conduct_ended_at.astimezone(self.specialists.school.tz).strftime("%d.%m %H:%M")
            lines.append(tr("staff.card_conduct_ended", when=when))
        if ticket.rating is not None:
            lines.append(tr("staff.card_rating", stars="★" * ticket.rating + "☆" * (5 - ticket.rating), score=ticket.rating))
        return lines

    def url(self, ticket: Ticket) -> str | None:
        return message_link(self.chat_id, ticket.card_message_id, ticket.staff_thread_id)

    async def refresh(self, ticket: Ticket) -> None:
        if ticket.card_message_id is None or ticket.staff_chat_id is None:
            return
        if ticket.staff_chat_id != self.chat_id:
            return  # in the group's former chat, out of reach: the card posted again shows the status then
        user = await self.store.users.get(ticket.user_id)
        assert user is not None
        first = self.parts(ticket, user)[0]
        try:
            await self.gateway.edit(
                ticket.staff_chat_id,
                ticket.card_message_id,
                first,
                markup=staff_card(self.tr, ticket.id, ticket.status, vendor=ticket.vendor_at is not None),
            )
        except (TelegramBadRequest, TelegramMigrateToChat) as exc:
            self.stale.discard(ticket.id)
            log.warning("card of ticket %s not updated: %s", ticket.id, exc.message)
        except TelegramAPIError as exc:
            self.stale.add(ticket.id)
            log.warning("card of ticket %s not updated yet (%s): tried again on the next tick", ticket.id, exc)
        else:
            self.stale.discard(ticket.id)

    async def refresh_stale(self) -> None:
        """Edit again the cards whose last edit failed on Telegram's side; stop at the first that still fails
        (Telegram is still out: the next tick tries again)."""
        for ticket_id in sorted(self.stale):
            ticket = await self.store.tickets.get(ticket_id)
            if ticket is None:
                self.stale.discard(ticket_id)
                continue
            await self.refresh(ticket)
            if ticket_id in self.stale:
                return

    # ---- threads --------------------------------------------------------------------------------

    async def thread_for(self, user: User, ticket: Ticket, *, force_new: bool = False) -> int | None:
        if not self.staff_chat.forum:
            return None
        title = self.tr("staff.topic_title", name=user.first_name[:60] or "—", number=ticket.id)
        if user.staff_thread_id and not force_new:
            try:
                await self.gateway.bot.edit_forum_topic(
                    chat_id=self.chat_id, message_thread_id=user.staff_thread_id, name=title
                )
            except TelegramBadRequest as exc:
                if "thread not found" not in exc.message and "TOPIC_ID_INVALID" not in exc.message:
                    log.debug("topic title unchanged: %s", exc.message)
                    return user.staff_thread_id
            else:
                return user.staff_thread_id
        topic = await self.gateway.bot.create_forum_topic(chat_id=self.chat_id, name=title)
        await self.store.set_staff_thread(user, topic.message_thread_id)
        return topic.message_thread_id

    def dest(self, ticket: Ticket) -> Destination:
        """The ticket's thread as it is now."""
        if ticket.staff_chat_id != self.chat_id:
            return Destination(self.chat_id)  # its card is in the group's former chat (see `here`)
        return Destination(self.chat_id, ticket.staff_thread_id, ticket.card_message_id)

    async def post(self, user: User, ticket: Ticket) -> Ticket:
        thread_id = await self.thread_for(user, ticket)
        for attempt in (1, 2):
            try:
                return await self._send(user, ticket, thread_id)
            except TelegramMigrateToChat as exc:
                # The group became a supergroup just now; the failed call moved us there (StaffChatMoves),
                # and the new group may be a forum.
                if attempt == 2 or exc.migrate_to_chat_id != self.chat_id:
                    raise
                thread_id = await self.thread_for(user, ticket)
            except TelegramBadRequest as exc:
                # The user's topic was deleted by someone: open a fresh one and post there.
                if attempt == 2 or "thread not found" not in exc.message or not self.staff_chat.forum:
                    raise
                fresh_user = await self.store.users.get(user.id)
                assert fresh_user is not None
                thread_id = await self.thread_for(fresh_user, ticket, force_new=True)
        raise AssertionError("unreachable")

    async def _send(self, user: User, ticket: Ticket, thread_id: int | None) -> Ticket:
        parts = self.parts(ticket, user)
        dest = Destination(self.chat_id, thread_id)
        card_id = await self.gateway.send(
            dest,
            parts[0],
            markup=staff_card(self.tr, ticket.id, ticket.status, vendor=ticket.vendor_at is not None),
        )
        ticket = await self.store.set_card(
            ticket, staff_chat_id=self.chat_id, thread_id=thread_id, card_id=card_id
        )
        for part in parts[1:]:
            part_id = await self.gateway.send(Destination(self.chat_id, thread_id, card_id), part)
            await self.store.map_staff_message(ticket, self.chat_id, part_id)
        return ticket

    async def here(self, user: User, ticket: Ticket) -> Ticket:
        """The ticket with its card in the staff group as it is now.

        When Telegram upgrades the group to a supergroup the group gets a new id and the old card is out of
        reach (no reply to it, no edit): the card is posted again in the new group, once, so that staff
        keep answering there.
        """
        if ticket.card_message_id is None or ticket.staff_chat_id == self.chat_id:
            return ticket
        async with self._move_lock:
            fresh = await self.store.tickets.get(ticket.id)
            assert fresh is not None
            if fresh.card_message_id is None or fresh.staff_chat_id in (None, self.chat_id):
                return fresh
            assert fresh.staff_chat_id is not None
            owner = await self.store.users.get(fresh.user_id)
            assert owner is not None
            # A reply to the old card written before the upgrade, handled after it, still finds the ticket.
            await self.store.map_staff_message(fresh, fresh.staff_chat_id, fresh.card_message_id)
            with self.in_flight.hold(ticket_id=fresh.id):
                moved = await self.post(owner, fresh)
            log.info("ticket %s: card posted again in the staff group %s", moved.id, self.chat_id)
            return moved
