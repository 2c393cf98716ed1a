"""The help desk on Telegram: turns ticket operations into messages on both sides.

Users write in private chats; staff work in one staff group, either a forum (one topic per user, reused
for their later tickets) or a plain group (a card per ticket, answers as replies). Both are a "ticket
thread" to the rest of the code. All sending goes through :class:`bot.delivery.Gateway`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import aiosqlite
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
)
from aiogram.types import InlineKeyboardMarkup, Message

from bot.delivery import Destination, Gateway
from bot.keyboards import complaint, staff_card
from bot.staff_chat import StaffChat
from helpdesk.domain import TicketStatus
from helpdesk.formatting import (
    TEXT_LIMIT,
    compose,
    escape,
    plain_text,
    shorten,
    user_link,
    utf16_len,
    visible_len,
)
from helpdesk.rules.kb import KnowledgeBase
from helpdesk.texts import Texts, Tr
from helpdesk.tickets import TicketService
from storage.outbox import OutboxItem, OutboxRepo
from storage.tickets import Ticket, TicketMessage
from storage.users import TELEGRAM, User

log = logging.getLogger(__name__)

NOTE_MARKER = "//"
RELAYABLE_KINDS = {"text", "photo", "document", "video", "audio", "voice", "animation"}
USER_KINDS = {"text", "photo", "document"}


def html_of(message: Message) -> str:
    """A message's text or caption as HTML, its formatting kept (aiogram's ``html_text``, which takes a
    while to find out that a plain message has no formatting)."""
    if message.entities or message.caption_entities:
        return message.html_text
    return escape(message.text or message.caption or "")


def message_kind(message: Message) -> str:
    if message.text is not None:
        return "text"
    for kind in ("photo", "document", "video", "audio", "voice", "animation", "sticker", "video_note"):
        if getattr(message, kind, None):
            return kind
    if message.location or message.venue:
        return "location"
    if message.contact:
        return "contact"
    return "other"


def file_id_of(message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id
    for kind in ("document", "video", "audio", "voice", "animation"):
        media = getattr(message, kind, None)
        if media is not None:
            return str(media.file_id)
    return None


def staff_name(message: Message) -> str:
    who = message.from_user
    return who.first_name if who else "—"


@dataclass
class StaffMode:
    forum: bool = False


class Desk:
    def __init__(
        self,
        *,
        service: TicketService,
        gateway: Gateway,
        texts: Texts,
        staff_chat: StaffChat,
        kb: KnowledgeBase | None = None,
    ) -> None:
        self.service = service
        self.gateway = gateway
        self.texts = texts
        self.staff_chat = staff_chat
        self.kb = kb
        self.mode = StaffMode()
        # Hooks set by the schedule feature: extra card lines, and how answers are signed.
        self.card_extra: Callable[[Ticket], list[str]] | None = None
        self._in_flight: dict[tuple[str, int | None], int] = {}
        self._resume_lock = asyncio.Lock()
        self._outbox_kicked = asyncio.Event()
        # Burst shaping: when the staff group's message budget is spent, new tickets wait without a card and
        # are listed in a digest instead, so staff see every waiting question quickly.
        self.group_room: Callable[[int], int] = lambda chat_id: 20
        # Cards stop while fewer than this many sends are left in the group's minute, so that a digest
        # can always go out at once; digests go out at most once per interval, so the reserve lasts the
        # minute (5 x 12 s). Once a burst is over, listed tickets' cards may use all but one send.
        self.digest_reserve = 5
        self.digest_interval = 12.0
        self._digest_at = -self.digest_interval
        self._burst_until = 0.0
        self._listed: set[int] = set()
        self._digest_task: asyncio.Task[None] | None = None
        # Cards are posted one at a time (each checks the budget it needs); while cards wait for the
        # budget, the digest task keeps posting them, oldest first, as it allows.
        self._card_lock = asyncio.Lock()
        self._cards_deferred = False
        self._outbox_task: asyncio.Task[int] | None = None
        self.signature: Callable[[int, str, Tr], str] | None = None
        # Cards of open tickets may be in the staff group's former chat (it became a supergroup): checked
        # at start and after a move, see move_cards.
        self._cards_elsewhere = True
        self._move_lock = asyncio.Lock()

    @property
    def staff_chat_id(self) -> int:
        """The staff group's id now: it changes when Telegram upgrades the group to a supergroup."""
        return self.staff_chat.id

    @property
    def staff_tr(self) -> Tr:
        return self.texts(self.texts.default_locale)

    def user_tr(self, user: User) -> Tr:
        return self.texts(user.effective_locale(self.texts.default_locale))

    async def detect_staff_mode(self) -> None:
        try:
            chat = await self.gateway.bot.get_chat(self.staff_chat_id)
        except TelegramMigrateToChat as exc:
            if exc.migrate_to_chat_id != self.staff_chat_id:
                raise
            return  # the group became a supergroup: followed, and its mode detected there (StaffChatMoves)
        except TelegramBadRequest as exc:
            log.error(
                "staff chat %s is not reachable: %s (run `python main.py doctor`)", self.staff_chat_id, exc
            )
            return
        self.mode.forum = bool(chat.is_forum)
        log.info("staff chat %s: %s mode", self.staff_chat_id, "forum" if self.mode.forum else "reply")

    # ---- the card -------------------------------------------------------------------------------

    def card_parts(self, ticket: Ticket, user: User) -> list[str]:
        tr = self.staff_tr
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
            user=user_link(user.external_id, user.display_name),
            status=status,
            question="",
        )
        hint = tr("staff.card_hint_forum" if self.mode.forum else "staff.card_hint_plain")
        extra = "".join(f"{line}\n" for line in self.card_lines(ticket))
        question = ticket.question or tr("confirm.no_text")
        return compose(f"{header.rstrip()}\n{extra}{hint}\n\n", question, TEXT_LIMIT)

    def card_lines(self, ticket: Ticket) -> list[str]:
        """Extra facts on the card: what the user has already been shown, who should take it."""
        tr = self.staff_tr
        lines: list[str] = []
        if ticket.offered_articles:
            titles = []
            for article_id in ticket.offered_articles:
                article = self.kb.article(article_id, tr.locale) if self.kb else None
                titles.append(f"«{escape(article.title if article else article_id)}»")
            lines.append(tr("staff.card_articles", titles=", ".join(titles)))
        if self.card_extra is not None:
            lines.extend(self.card_extra(ticket))
        return lines

    async def refresh_card(self, ticket: Ticket) -> None:
        if ticket.card_message_id is None or ticket.staff_chat_id is None:
            return
        if ticket.staff_chat_id != self.staff_chat_id:
            return  # in the group's former chat, out of reach: the card posted again shows the status then
        user = await self.service.users.get(ticket.user_id)
        assert user is not None
        first = self.card_parts(ticket, user)[0]
        try:
            await self.gateway.edit(
                ticket.staff_chat_id,
                ticket.card_message_id,
                first,
                markup=staff_card(
                    self.staff_tr, ticket.id, ticket.status, vendor=ticket.vendor_at is not None
                ),
            )
        except (TelegramBadRequest, TelegramMigrateToChat) as exc:
            log.warning("card of ticket %s not updated: %s", ticket.id, exc.message)

    # ---- staff threads --------------------------------------------------------------------------

    async def _thread_for(self, user: User, ticket: Ticket, *, force_new: bool = False) -> int | None:
        if not self.mode.forum:
            return None
        title = self.staff_tr("staff.topic_title", name=user.first_name[:60] or "—", number=ticket.id)
        if user.staff_thread_id and not force_new:
            try:
                await self.gateway.bot.edit_forum_topic(
                    chat_id=self.staff_chat_id, message_thread_id=user.staff_thread_id, name=title
                )
            except TelegramBadRequest as exc:
                if "thread not found" not in exc.message and "TOPIC_ID_INVALID" not in exc.message:
                    log.debug("topic title unchanged: %s", exc.message)
                    return user.staff_thread_id
            else:
                return user.staff_thread_id
        topic = await self.gateway.bot.create_forum_topic(chat_id=self.staff_chat_id, name=title)
        await self.service.set_staff_thread(user, topic.message_thread_id)
        return topic.message_thread_id

    async def _post_card(self, user: User, ticket: Ticket) -> Ticket:
        thread_id = await self._thread_for(user, ticket)
        for attempt in (1, 2):
            try:
                return await self._send_card(user, ticket, thread_id)
            except TelegramMigrateToChat as exc:
                # The group became a supergroup just now; the failed call moved us there (StaffChatMoves),
                # and the new group may be a forum.
                if attempt == 2 or exc.migrate_to_chat_id != self.staff_chat_id:
                    raise
                thread_id = await self._thread_for(user, ticket)
            except TelegramBadRequest as exc:
                # The user's topic was deleted by someone: open a fresh one and post there.
                if attempt == 2 or "thread not found" not in exc.message or not self.mode.forum:
                    raise
                fresh_user = await self.service.users.get(user.id)
                assert fresh_user is not None
                thread_id = await self._thread_for(fresh_user, ticket, force_new=True)
        raise AssertionError("unreachable")

    async def _send_card(self, user: User, ticket: Ticket, thread_id: int | None) -> Ticket:
        parts = self.card_parts(ticket, user)
        dest = Destination(self.staff_chat_id, thread_id)
        card_id = await self.gateway.send(
            dest,
            parts[0],
            markup=staff_card(self.staff_tr, ticket.id, ticket.status, vendor=ticket.vendor_at is not None),
        )
        ticket = await self.service.set_card(
            ticket, staff_chat_id=self.staff_chat_id, thread_id=thread_id, card_id=card_id
        )
        for part in parts[1:]:
            part_id = await self.gateway.send(Destination(self.staff_chat_id, thread_id, card_id), part)
            await self.service.map_staff_message(ticket, self.staff_chat_id, part_id)
        return ticket

    def staff_dest(self, ticket: Ticket) -> Destination:
        if ticket.staff_chat_id != self.staff_chat_id:
            return Destination(self.staff_chat_id)  # its card is in the group's former chat (see card_here)
        return Destination(self.staff_chat_id, ticket.staff_thread_id, ticket.card_message_id)

    async def card_here(self, user: User, ticket: Ticket) -> Ticket:
        """The ticket with its card in the staff group as it is now.

        When Telegram upgrades the group to a supergroup the group gets a new id and the old card is out of
        reach (no reply to it, no edit): the card is posted again in the new group, once, so that staff
        keep answering there.
        """
        if ticket.card_message_id is None or ticket.staff_chat_id == self.staff_chat_id:
            return ticket
        async with self._move_lock:
            fresh = await self.service.tickets.get(ticket.id)
            assert fresh is not None
            if fresh.card_message_id is None or fresh.staff_chat_id in (None, self.staff_chat_id):
                return fresh
            assert fresh.staff_chat_id is not None
            owner = await self.service.users.get(fresh.user_id)
            assert owner is not None
            # A reply to the old card written before the upgrade, handled after it, still finds the ticket.
            await self.service.map_staff_message(fresh, fresh.staff_chat_id, fresh.card_message_id)
            with self.working(ticket_id=fresh.id):
                moved = await self._post_card(owner, fresh)
            log.info("ticket %s: card posted again in the staff group %s", moved.id, self.staff_chat_id)
            return moved

    def staff_moved(self) -> None:
        """The staff group has a new id: post the open tickets' cards there (soon), send what is queued."""
        self._cards_elsewhere = True
        self._kick_digest()
        self.kick_outbox()

    async def move_cards(self) -> bool:
        """Post again, in the staff group as it is now, the cards of open tickets left in its former chat.
        True when none is left there."""
        done = True
        for ticket in await self.service.tickets.open_tickets():
            if ticket.card_message_id is None or ticket.staff_chat_id == self.staff_chat_id:
                continue
            if self.busy(ticket_id=ticket.id) or self.staff_group_busy():
                done = False  # being handled, or the group's budget is spent: the next round
                continue
            user = await self.service.users.get(ticket.user_id)
            assert user is not None
            try:
                await self.card_here(user, ticket)
            except TelegramAPIError as exc:
                log.warning("ticket %s: card not posted again yet: %s", ticket.id, exc)
                return False
        return done

    # ---- user side ------------------------------------------------------------------------------

    async def submit(self, user: User, ticket: Ticket) -> Ticket:
        """Post the new ticket to staff: the card, then the question's attachments under it."""
        with self.working(ticket_id=ticket.id):
            return await self._submit(user, ticket)

    def staff_group_busy(self, cost: int = 0, *, listed: bool = False) -> bool:
        """Would ``cost`` more sends eat into the reserve kept for digests? A card of a ticket the staff
        have already seen listed may use all but one send of it once the burst is over."""
        reserve = self.digest_reserve
        if listed and time.monotonic() > self._burst_until:
            reserve = 1
        return self.group_room(self.staff_chat_id) - cost < reserve

    async def _submit(self, user: User, ticket: Ticket) -> Ticket:
        fresh = await self.service.tickets.get(ticket.id)
        if fresh is not None and fresh.card_message_id is not None:
            return fresh  # posted already (the same confirmation handled again after a crash)
        rows = await self.service.messages.for_ticket(ticket.id)
        rows = [
            r
            for r in rows
            if r.direction == "in" and r.user_message_id is not None and r.user_chat_id is not None
        ]
        # What the card costs in the group's budget: a topic (a new one), its parts, the attachments.
        new_topic = self.mode.forum and not user.staff_thread_id
        cost = min(4, int(new_topic) + len(self.card_parts(ticket, user)) + len(rows))
        listed = ticket.id in self._listed
        short = self.staff_group_busy(cost, listed=listed)
        if short or self._card_lock.locked():
            # Too many at once for the group's budget: the digest lists it now, the card comes later
            # (or another card is being posted: the digest task posts this one next, in turn).
            self._cards_deferred = True
            if short and not listed:
                self._burst_until = time.monotonic() + self.digest_interval * self.digest_reserve
            self._kick_digest()
            return ticket
        async with self._card_lock:
            return await self._post_card_and_attachments(user, ticket, rows)

    async def _post_card_and_attachments(
        self, user: User, ticket: Ticket, rows: list[TicketMessage]
    ) -> Ticket:
        ticket = await self._post_card(user, ticket)
        tr = self.staff_tr
        for row in rows:
            if row.user_message_id is None or row.user_chat_id is None:
                continue
            caption = tr("staff.attachment_caption", number=ticket.id)
            if row.text:
                caption = f"{caption}:\n{escape(row.text)}"
            staff_id = await self.gateway.relay(
                row.user_chat_id, row.user_message_id, self.staff_dest(ticket), caption_html=caption
            )
            await self.service.delivered(row, staff_chat_id=self.staff_chat_id, staff_message_id=staff_id)
        return ticket

    async def user_followup(self, user: User, ticket: Ticket, message: Message) -> None:
        """A user's message while their ticket is open: it joins the ticket on the staff side."""
        row = await self.service.record_in(
            ticket,
            user,
            kind=message_kind(message),
            text=message.text or message.caption or "",
            file_id=file_id_of(message),
            message_id=message.message_id,
        )
        if row is None:
            return  # the same update handled again (after a crash): stored already, resume delivers it
        if ticket.card_message_id is None:
            return  # stored; delivered under the card once it is posted (see resume)
        with self.working(row_id=row.id):
            await self.deliver_in(row, ticket, user)

    async def deliver_in(self, row: TicketMessage, ticket: Ticket, user: User) -> None:
        """Deliver a stored user message to the ticket's thread (also used to resume after a crash)."""
        ticket = await self.card_here(user, ticket)
        try:
            await self._deliver_in(row, ticket, user)
        except TelegramMigrateToChat as exc:
            if exc.migrate_to_chat_id != self.staff_chat_id:
                raise
            # The group became a supergroup just now (this call told us): the card first, then the message.
            await self._deliver_in(row, await self.card_here(user, ticket), user)

    async def _deliver_in(self, row: TicketMessage, ticket: Ticket, user: User) -> None:
        tr = self.staff_tr
        dest = self.staff_dest(ticket)
        assert row.user_chat_id is not None and row.user_message_id is not None
        header = tr("staff.followup_caption", name=escape(user.first_name), number=ticket.id)
        if row.kind == "text":
            ids = await self.gateway.send_long(dest, header + "\n", row.text)
            for extra in ids[1:]:
                await self.service.map_staff_message(ticket, self.staff_chat_id, extra)
            staff_id = ids[0]
        else:
            caption = f"{header}\n{escape(row.text)}" if row.text else header
            staff_id = await self.gateway.relay(
                row.user_chat_id, row.user_message_id, dest, caption_html=caption
            )
        await self.service.delivered(row, staff_chat_id=self.staff_chat_id, staff_message_id=staff_id)

    async def user_closed(self, user: User, ticket_id: int) -> Ticket | None:
        ticket = await self.service.tickets.get(ticket_id)
        if ticket is None or ticket.user_id != user.id:
            return None
        changed, ticket = await self.service.close(
            ticket_id, closed_by=self.staff_tr("staff.closed_by_user_name")
        )
        if changed and ticket is not None:
            await self.refresh_card(ticket)
            await self.gateway.send(
                self.staff_dest(ticket), self.staff_tr("staff.user_closed", number=ticket.id)
            )
        return ticket

    # ---- staff side -----------------------------------------------------------------------------

    async def find_ticket(self, message: Message) -> tuple[User, Ticket] | None:
        reply = message.reply_to_message
        if reply is not None and reply.forum_topic_created is None:
            ticket = await self.service.ticket_for_staff_message(message.chat.id, reply.message_id)
            if ticket is not None:
                user = await self.service.users.get(ticket.user_id)
                assert user is not None
                return user, ticket
        thread = self._topic_thread(message)
        return await self.service.ticket_for_thread(thread) if thread is not None else None

    def _topic_thread(self, message: Message) -> int | None:
        """The forum topic a message is written in (None outside a topic, or in a plain group)."""
        if self.mode.forum and message.message_thread_id and message.is_topic_message:
            return message.message_thread_id
        return None

    async def find_answer(self, message: Message) -> tuple[User, Ticket, bool] | None:
        """:meth:`find_ticket`, and whether this specialist's message is stored already (the same update
        handled again after a crash). A message in a topic that replies to no particular message, the usual
        answer, asks all of it in one query."""
        reply = message.reply_to_message
        thread = self._topic_thread(message)
        if thread is not None and (reply is None or reply.forum_topic_created is not None):
            return await self.service.answer_in_thread(thread, message.chat.id, message.message_id)
        found = await self.find_ticket(message)
        if found is None:
            return None
        seen = await self.service.messages.by_staff_message(message.chat.id, message.message_id)
        return (*found, seen is not None and seen.direction in {"out", "note"})

    async def staff_message(self, message: Message) -> None:
        found = await self.find_answer(message)
        if found is None:
            return  # outside any ticket: staff talk among themselves
        user, ticket, seen = found
        kind = message_kind(message)
        text = message.text or message.caption or ""
        author = message.from_user
        assert author is not None
        is_note = text.lstrip().startswith(NOTE_MARKER)
        reply_here = Destination(
            message.chat.id, message.message_thread_id if self.mode.forum else None, message.message_id
        )
        if message.chat.id != self.staff_chat_id:
            reply_here = self.staff_dest(ticket)  # written in the group's former chat, handled after the move
        if seen:
            return  # the same update handled again (after a crash): stored already, resume delivers it
        if not is_note and kind not in RELAYABLE_KINDS:
            await self.gateway.send(reply_here, self.staff_tr("staff.unsupported_kind"))
            return
        row, ticket, reopened = await self.service.record_out(
            ticket,
            kind=kind,
            text=text,
            file_id=file_id_of(message),
            staff_id=author.id,
            staff_name=author.first_name,
            staff_chat_id=message.chat.id,
            staff_message_id=message.message_id,
            note=is_note,
        )
        if is_note:
            return
        with self.working(row_id=row.id):
            await self.deliver_out(row, ticket, user, body_html=html_of(message) if text else None)
        if reopened:
            await self.refresh_card(ticket)
            await self.gateway.send(reply_here, self.staff_tr("staff.reopened", number=ticket.id))

    async def deliver_out(
        self, row: TicketMessage, ticket: Ticket, user: User, *, body_html: str | None = None
    ) -> None:
        """Deliver a stored specialist message to the user (also used to resume after a crash).

        ``body_html`` keeps the specialist's formatting when we have the original message; on resume only
        the stored plain text is left.
        """
        assert row.staff_chat_id is not None and row.staff_message_id is not None
        utr = self.user_tr(user)
        name = row.author_name or "—"
        if self.signature is not None and row.author_id is not None:
            header = self.signature(row.author_id, name, utr)
        else:
            header = utr("answer.header", name=escape(name))
        reply_here = Destination(
            row.staff_chat_id, ticket.staff_thread_id if self.mode.forum else None, row.staff_message_id
        )
        if row.staff_chat_id != self.staff_chat_id:
            reply_here = self.staff_dest(ticket)  # written in the group's former chat (now a supergroup)
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
            await self.service.failed(row, exc.message)
            await self.gateway.send(reply_here, self.staff_tr("staff.delivered_blocked", number=ticket.id))
            return
        except (TelegramBadRequest, TelegramMigrateToChat) as exc:
            # (a media answer from the group's former chat can no longer be copied: staff send it again)
            await self.service.failed(row, exc.message)
            await self.gateway.send(
                reply_here,
                self.staff_tr("staff.delivery_failed", number=ticket.id, reason=escape(exc.message)),
            )
            return
        await self.service.delivered(row, user_message_id=delivered_id)

    # ---- the outbox: the bot's own notices -------------------------------------------------------

    async def enqueue_in(
        self,
        conn: aiosqlite.Connection,
        dest: Destination,
        html_text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        dedupe: str | None = None,
    ) -> None:
        """Queue a notice inside the caller's transaction (the one that made the change it reports)."""
        await OutboxRepo(conn).add(
            chat_id=dest.chat_id,
            thread_id=dest.thread_id,
            reply_to=dest.reply_to,
            text=html_text,
            markup=markup.model_dump_json(exclude_none=True) if markup else None,
            dedupe_key=dedupe,
            now=self.service.now(),
        )
        self._outbox_kicked.set()

    async def enqueue(
        self,
        dest: Destination,
        html_text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        dedupe: str | None = None,
    ) -> None:
        async with self.service.db.transaction() as conn:
            await self.enqueue_in(conn, dest, html_text, markup=markup, dedupe=dedupe)
        self.kick_outbox()

    def kick_outbox(self) -> None:
        """Start draining now (in the background) if nobody is draining already."""
        if self._outbox_task is None or self._outbox_task.done():
            self._outbox_task = asyncio.create_task(self.drain_outbox())

    async def finish_outbox(self, grace: float = 10.0) -> None:
        """On shutdown: let a running drain finish (what is left stays queued for the next start)."""
        if self._digest_task is not None and not self._digest_task.done():
            self._digest_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._digest_task
        task = self._outbox_task
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=grace)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def drain_outbox(self) -> int:
        """Send what the outbox holds: chats in parallel, each chat in order. Returns how many were sent."""
        sent = 0
        while True:
            self._outbox_kicked.clear()
            items = await OutboxRepo(self.service.db.conn).pending()
            if not items:
                return sent
            by_chat: dict[int, list[OutboxItem]] = {}
            for item in items:
                by_chat.setdefault(item.chat_id, []).append(item)
            results = await asyncio.gather(*(self._drain_chat(chat_items) for chat_items in by_chat.values()))
            sent += sum(results)
            if not self._outbox_kicked.is_set() and sum(results) == 0:
                return sent  # what is left waits for the next tick (the chat is unreachable for now)

    async def _drain_chat(self, items: list[OutboxItem]) -> int:
        sent = 0
        for item in items:
            markup = InlineKeyboardMarkup.model_validate_json(item.markup) if item.markup else None
            try:
                message_id = await self.gateway.send(
                    Destination(item.chat_id, item.thread_id, item.reply_to), item.text, markup=markup
                )
            except (TelegramForbiddenError, TelegramBadRequest) as exc:
                # Blocked by the user, or refused for good: recorded with the reason, not retried for ever.
                async with self.service.db.transaction() as conn:
                    await OutboxRepo(conn).failed(item.id, exc.message)
                    if isinstance(exc, TelegramBadRequest) and item.chat_id != self.staff_chat_id:
                        # Staff see what did not reach whom, and why. (A blocked user is reported by the
                        # gateway; a refusal in the staff group itself can only be logged.)
                        preview = shorten(plain_text(item.text).replace("\n", " "), 200)
                        notice = self.staff_tr(
                            "staff.notice_failed",
                            chat=item.chat_id,
                            reason=escape(exc.message),
                            text=escape(preview),
                        )
                        await self.enqueue_in(conn, Destination(self.staff_chat_id), notice)
                        self._outbox_kicked.set()
                log.warning("notice %s to %s not delivered: %s", item.id, item.chat_id, exc.message)
                continue
            except TelegramAPIError as exc:
                async with self.service.db.transaction() as conn:
                    await OutboxRepo(conn).retry_later(item.id, str(exc))
                return sent  # keep this chat's order: the rest waits for the next round
            async with self.service.db.transaction() as conn:
                await OutboxRepo(conn).sent(item.id, message_id, self.service.now())
            sent += 1
        return sent

    def _kick_digest(self) -> None:
        """Soon (after a short pause that gathers a burst into one digest), list what waits and post cards;
        then, while cards wait for the group's budget, list newcomers and post cards as it allows."""
        if self._digest_task is not None and not self._digest_task.done():
            return

        async def later() -> None:
            await asyncio.sleep(1.0)
            while True:
                self._cards_deferred = False
                try:
                    await self.resume()
                except TelegramAPIError as exc:
                    log.warning("waiting tickets not listed yet: %s", exc)
                    return  # the scheduler's tick tries again
                if not self._cards_deferred:
                    return  # all posted (or a failure: the scheduler's tick tries again)
                await asyncio.sleep(1.0)

        self._digest_task = asyncio.create_task(later())

    def _digest_due(self, waiting: list[Ticket]) -> bool:
        return time.monotonic() - self._digest_at >= self.digest_interval and any(
            t.id not in self._listed and not self.busy(ticket_id=t.id) for t in waiting
        )

    async def _post_digest(self, waiting: list[Ticket]) -> None:
        """List the tickets that wait for a card (number, topic, first line), in as few messages as fit:
        at most once per ``digest_interval``, so that the reserve kept for digests lasts the minute."""
        new = [t for t in waiting if t.id not in self._listed and not self.busy(ticket_id=t.id)]
        if not new:
            return
        if time.monotonic() - self._digest_at < self.digest_interval:
            self._cards_deferred = True  # listed at the next one (the digest task comes back)
            return
        self._digest_at = time.monotonic()
        tr = self.staff_tr
        lines = []
        for ticket in new:
            first = (ticket.question.splitlines() or [""])[0][:70]
            lines.append(
                tr(
                    "staff.digest_line",
                    number=ticket.id,
                    topic=tr(f"topic.short.{ticket.topic.value}"),
                    category=tr(f"category.{ticket.category.value}"),
                    text=escape(first),
                )
            )
        header = tr("staff.digest", count=len(new))
        parts: list[str] = []
        current = header
        for line in lines:
            if visible_len(current) + visible_len(line) + 1 > TEXT_LIMIT - 50:
                parts.append(current)
                current = header
            current += "\n" + line
        parts.append(current)
        for part in parts:
            await self.gateway.send(Destination(self.staff_chat_id), part)
        self._listed.update(t.id for t in new)

    # ---- after a crash or an outage -------------------------------------------------------------

    @contextlib.contextmanager
    def working(self, *, row_id: int | None = None, ticket_id: int | None = None) -> Iterator[None]:
        """Mark a delivery as in progress, so that :meth:`resume` does not start it a second time.

        Nested use is fine (counted). Entering it has no ``await``, so a handler that enters it right after
        storing a ticket leaves no moment in which a scheduler tick could pick the ticket up too.
        """
        keys = [k for k in (("row", row_id), ("ticket", ticket_id)) if k[1] is not None]
        for key in keys:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            for key in keys:
                left = self._in_flight.get(key, 1) - 1
                if left:
                    self._in_flight[key] = left
                else:
                    self._in_flight.pop(key, None)

    def busy(self, *, row_id: int | None = None, ticket_id: int | None = None) -> bool:
        return ("row", row_id) in self._in_flight or ("ticket", ticket_id) in self._in_flight

    async def resume(self) -> int:
        """Deliver what was stored but not delivered: cards never posted, messages never relayed.

        Runs at start and on every scheduler tick. What a user or a specialist wrote is in the database
        before anything is sent, so a crash, a kill or a long outage delays it but never loses it.
        Returns how many deliveries it made.
        """
        done = 0
        async with self._resume_lock:
            if self._cards_elsewhere:
                self._cards_elsewhere = False
                if not await self.move_cards():
                    self._cards_elsewhere = True  # some wait for the next round
            waiting = await self.service.tickets.without_card()
            left: list[Ticket] = []  # still without a card when the budget (or the group) says stop
            failed = False
            started = time.monotonic()
            for i, ticket in enumerate(waiting):
                if self.busy(ticket_id=ticket.id):
                    continue
                slow = time.monotonic() - started > 2.0 and self._digest_due(waiting[i:])
                if slow or self.staff_group_busy(listed=ticket.id in self._listed):
                    # Out of budget, or the cards go slowly and a digest is due: list the rest first.
                    self._cards_deferred = True
                    left = waiting[i:]
                    break
                user = await self.service.users.get(ticket.user_id)
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
                await self._post_digest(left)
            except TelegramAPIError as exc:
                log.warning("waiting tickets not listed to staff yet: %s", exc)
                return done
            if failed:
                return done
            for row in await self.service.messages.pending():
                if self.busy(row_id=row.id):
                    continue
                owner = await self.service.tickets.get(row.ticket_id)
                if owner is None or owner.card_message_id is None or self.busy(ticket_id=owner.id):
                    continue
                ticket = owner
                user = await self.service.users.get(ticket.user_id)
                assert user is not None
                try:
                    with self.working(row_id=row.id):
                        if row.direction == "in":
                            await self.deliver_in(row, ticket, user)
                        else:
                            await self.deliver_out(row, ticket, user)
                    done += 1
                except TelegramAPIError as exc:
                    log.warning("message %s still not delivered: %s", row.id, exc)
        return done

    async def claim(self, ticket: Ticket) -> None:
        await self.refresh_card(ticket)
        user = await self.service.users.get(ticket.user_id)
        assert user is not None
        await self.notify_user(
            user,
            self.user_tr(user)("ticket.claimed", number=ticket.id, name=escape(ticket.claimed_by_name or "")),
        )

    async def closed_by_staff(self, ticket: Ticket) -> None:
        await self.refresh_card(ticket)
        user = await self.service.users.get(ticket.user_id)
        assert user is not None
        await self.notify_user(user, self.user_tr(user)("ticket.closed_by_staff", number=ticket.id))

    async def notify_user(self, user: User, html_text: str) -> None:
        """A notice to the user, through the outbox (survives a crash; a blocked user is recorded)."""
        await self.enqueue(Destination(user.chat_id), html_text)

    async def on_blocked(self, chat_id: int) -> None:
        await self.service.mark_unreachable(TELEGRAM, chat_id)
