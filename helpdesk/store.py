"""The one way into storage: the repositories, and the core's storage operations, one transaction each.

The use cases (:mod:`helpdesk.tickets`, :mod:`helpdesk.duty`, :mod:`helpdesk.conduct`) and the adapters'
queries go through :class:`Store`; nothing else builds a repository. All repositories share the database's
connection, so they take part in whatever transaction is open on it (``async with store.transaction()``).
Users are keyed by (channel, external id); message ids on either side are plain integers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from helpdesk.clock import Clock
from helpdesk.domain import Category, Role, TicketStatus, Topic
from helpdesk.ports import Destination
from helpdesk.rules.routing import RouteDecision
from storage.audit import AuditRepo
from storage.chat_moves import ChatMovesRepo
from storage.db import Database
from storage.duty import DutyRepo
from storage.kb_feedback import KbFeedbackRepo
from storage.outbox import OutboxRepo
from storage.privacy import PrivacyRepo
from storage.ratings import RatingRepo
from storage.reports import ReportRepo, reading
from storage.tickets import MessageRepo, Ticket, TicketMessage, TicketRepo
from storage.users import User, UserRepo


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"
    ALREADY_CLAIMED = "already"
    CLOSED = "closed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Attachment:
    kind: str
    chat_id: int
    message_id: int
    file_id: str | None
    caption: str


@dataclass(frozen=True)
class Draft:
    """A question the user is composing (kept in FSM data as plain JSON)."""

    text: str
    attachments: tuple[Attachment, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "attachments": [a.__dict__ for a in self.attachments],
        }

    @classmethod
    def from_json(cls, data: object) -> Draft:
        if not isinstance(data, dict):
            return cls("", ())
        raw = data.get("attachments") or []
        attachments = tuple(Attachment(**a) for a in raw if isinstance(a, dict))
        return cls(str(data.get("text") or ""), attachments)

    def add(self, text: str, attachment: Attachment | None) -> Draft:
        joined = "\n\n".join(p for p in (self.text, text) if p)
        extra = (attachment,) if attachment else ()
        return Draft(joined, self.attachments + extra)

    @property
    def empty(self) -> bool:
        return not self.text and not self.attachments


class Store:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.users = UserRepo(db.conn)
        # The user row as last written, by (channel, external id): an unchanged user costs no write.
        self._user_cache: dict[tuple[str, str], tuple[tuple[object, ...], User]] = {}
        self.tickets = TicketRepo(db.conn)
        self.messages = MessageRepo(db.conn)
        self.outbox = OutboxRepo(db.conn)
        self.chat_moves = ChatMovesRepo(db.conn)
        self.duty = DutyRepo(db.conn)
        self.audit = AuditRepo(db.conn)
        self.ratings = RatingRepo(db.conn)
        self.privacy = PrivacyRepo(db.conn)
        self.kb = KbFeedbackRepo(db.conn)

    def now(self) -> datetime:
        return self.clock()

    @asynccontextmanager
    async def reports(self) -> AsyncIterator[ReportRepo]:
        """The report queries, on a read-only connection of their own (their temporary tables private, no
        lock that the bot's writers wait for)."""
        async with reading(self.db.conn, self.db.path) as conn:
            yield ReportRepo(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One unit of work: every repository call inside it commits together, or none does."""
        async with self.db.transaction():
            yield

    async def audit_action(
        self,
        action: str,
        actor_id: int | None,
        actor_name: str,
        *,
        ticket_id: int | None = None,
        detail: str = "",
    ) -> None:
        """Record a staff or management action in the audit trail, inside the caller's transaction."""
        await self.audit.record(
            action, at=self.now(), actor_id=actor_id, actor_name=actor_name, ticket_id=ticket_id, detail=detail
        )

    async def notice(
        self, dest: Destination, html_text: str, *, dedupe: str | None = None, photo: bytes | None = None
    ) -> bool:
        """Queue a notice in the outbox, inside the caller's transaction (the change it reports); with a
        ``photo`` (PNG bytes), the picture goes with the text as its caption."""
        return await self.outbox.add(
            chat_id=dest.chat_id,
            thread_id=dest.thread_id,
            reply_to=dest.reply_to,
            text=html_text,
            markup=None,
            dedupe_key=dedupe,
            now=self.now(),
            photo=photo,
        )

    async def touch_user(
        self,
        *,
        channel: str,
        external_id: str,
        chat_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        client_language: str | None,
    ) -> User:
        key = (channel, external_id)
        fields = (chat_id, first_name, last_name, username, client_language)
        cached = self._user_cache.get(key)
        if cached is not None and cached[0] == fields and not cached[1].unreachable:
            return cached[1]
        # One statement, atomic on its own: no transaction to open and commit around it (three trips to the
        # database thread instead of one, for every new user of a /start wave).
        async with self.db.autocommit() as conn:
            user = await UserRepo(conn).upsert(
                channel=channel,
                external_id=external_id,
                chat_id=chat_id,
                first_name=first_name,
                last_name=last_name,
                username=username,
                client_language=client_language,
                now=self.now(),
            )
        self._user_cache[key] = (fields, user)
        return user

    def _forget(self, user: User) -> None:
        self._user_cache.pop((user.channel, user.external_id), None)

    def uncache(self, user: User) -> None:
        """Drop the user row kept in memory: it is about to change (consent, erasure)."""
        self._forget(user)

    async def set_role(self, user: User, role: Role) -> None:
        self._forget(user)
        async with self.db.transaction():
            await self.users.set_role(user.id, role)

    async def set_locale(self, user: User, locale: str) -> None:
        self._forget(user)
        async with self.db.transaction():
            await self.users.set_locale(user.id, locale)

    async def open_ticket(
        self,
        user: User,
        *,
        role: Role,
        topic: Topic,
        category: Category,
        draft: Draft,
        offered_articles: tuple[str, ...] = (),
        origin: str | None = None,
        routing: RouteDecision,
    ) -> tuple[Ticket, bool]:
        """Create the ticket, routed as decided, and record the user's messages that make up the question:
        one transaction, so that no ticket is ever stored without its routing. Returns the ticket and
        whether it was created (False: the same confirmation handled again, the ticket existed).

        ``offered_articles``: reference articles the user saw before asking, noted so staff don't repeat them.
        """
        now = self.now()
        async with self.db.transaction():
            if origin is not None:
                existing = await self.tickets.by_origin(origin)
                if existing is not None:
                    return existing, False  # the same confirmation pressed again (a replay): no second ticket
            created = await self.tickets.create(
                user_id=user.id,
                role=role,
                topic=topic,
                category=category,
                question=draft.text,
                now=now,
                offered_articles=offered_articles,
                origin=origin,
            )
            assert created is not None
            await self.tickets.set_routing(
                created.id,
                routed_to=routing.routed_to,
                take_up_at=routing.take_up_at,
                queued=routing.queued,
                reason=routing.reason,
            )
            for a in draft.attachments:
                await self.messages.add(
                    ticket_id=created.id,
                    direction="in",
                    kind=a.kind,
                    text=a.caption,
                    file_id=a.file_id,
                    user_chat_id=a.chat_id,
                    user_message_id=a.message_id,
                    author_id=user.id,
                    author_name=user.first_name,
                    now=now,
                )
            ticket = await self.tickets.get(created.id)
        assert ticket is not None
        return ticket, True

    async def record_in(
        self, ticket: Ticket, user: User, *, kind: str, text: str, file_id: str | None, message_id: int
    ) -> TicketMessage | None:
        """Store a user's message to their ticket; None when it is stored already (handled again)."""
        async with self.db.autocommit() as conn:
            return await MessageRepo(conn).add_from_user(
                ticket_id=ticket.id,
                kind=kind,
                text=text,
                file_id=file_id,
                user_chat_id=user.chat_id,
                user_message_id=message_id,
                author_id=user.id,
                author_name=user.first_name,
                now=self.now(),
            )

    async def record_out(
        self,
        ticket: Ticket,
        *,
        kind: str,
        text: str,
        file_id: str | None,
        staff_id: int,
        staff_name: str,
        staff_chat_id: int,
        staff_message_id: int,
        note: bool = False,
    ) -> tuple[TicketMessage, Ticket, bool]:
        """Record a specialist's message. A real answer reopens a closed ticket.

        Returns the message row, the ticket as it is now, and whether it was reopened.
        """
        now = self.now()
        reopened = False
        # Two single statements, the ticket first: if the process dies in between, the update is handled
        # again at the next start (it was not marked processed), and both statements are idempotent.
        # A ticket read for this very update as answered before and not closed has nothing to change (the
        # first answer's time is kept): the usual case of a conversation, one trip to the database saved.
        # Should a «Закрыть» land between that read and now, the answer counts as given just before it.
        if not note and (ticket.answered_at is None or ticket.status is TicketStatus.CLOSED):
            async with self.db.autocommit() as conn:
                ticket, reopened = await TicketRepo(conn).answered(ticket.id, now)
                if reopened:
                    await AuditRepo(conn).record(
                        "reopen", at=now, actor_id=staff_id, actor_name=staff_name or "", ticket_id=ticket.id
                    )
        async with self.db.autocommit() as conn:
            row = await MessageRepo(conn).add(
                ticket_id=ticket.id,
                direction="note" if note else "out",
                kind=kind,
                text=text,
                file_id=file_id,
                author_id=staff_id,
                author_name=staff_name,
                staff_chat_id=staff_chat_id,
                staff_message_id=staff_message_id,
                delivery="delivered" if note else "pending",
                now=now,
            )
        return row, ticket, reopened

    async def delivered(
        self,
        row: TicketMessage,
        *,
        user_message_id: int | None = None,
        staff_chat_id: int | None = None,
        staff_message_id: int | None = None,
    ) -> None:
        async with self.db.autocommit() as conn:
            await MessageRepo(conn).delivered(
                row.id,
                user_message_id=user_message_id,
                staff_chat_id=staff_chat_id,
                staff_message_id=staff_message_id,
            )

    async def failed(self, row: TicketMessage, error: str) -> None:
        async with self.db.autocommit() as conn:
            await MessageRepo(conn).failed(row.id, error)

    async def map_staff_message(self, ticket: Ticket, staff_chat_id: int, staff_message_id: int) -> None:
        """Remember a bot message in the staff chat (a card part) so replies to it find the ticket."""
        async with self.db.autocommit() as conn:
            await MessageRepo(conn).add(
                ticket_id=ticket.id,
                direction="card",
                kind="text",
                text="",
                staff_chat_id=staff_chat_id,
                staff_message_id=staff_message_id,
                delivery="delivered",
                now=self.now(),
            )

    async def set_card(
        self, ticket: Ticket, *, staff_chat_id: int, thread_id: int | None, card_id: int
    ) -> Ticket:
        async with self.db.transaction():
            await self.tickets.set_card(
                ticket.id, staff_chat_id=staff_chat_id, thread_id=thread_id, card_message_id=card_id
            )
            fresh = await self.tickets.get(ticket.id)
        assert fresh is not None
        return fresh

    async def set_confirmation(self, ticket: Ticket, message_id: int) -> Ticket:
        """The user's confirmation of the ticket (the message with the close button) was delivered."""
        async with self.db.transaction():
            await self.tickets.set_confirmation(ticket.id, message_id)
            fresh = await self.tickets.get(ticket.id)
        assert fresh is not None
        return fresh

    async def unanswered_follow_up(self, ticket: Ticket) -> int | None:
        """The id of the user's last message in the ticket when it is a follow-up with no answer after it;
        None otherwise. A follow-up is a message the user wrote after the ticket's confirmation (their
        private chat numbers its messages in order); the question's own attachments are not follow-ups.
        Without a known confirmation, a message after an answer is one."""
        return await self.tickets.unanswered_follow_up(ticket.id, ticket.confirm_message_id)

    async def set_staff_thread(self, user: User, thread_id: int | None) -> None:
        self._forget(user)
        async with self.db.transaction():
            await self.users.set_staff_thread(user.id, thread_id)

    async def claim(
        self, ticket_id: int, *, staff_id: int, staff_name: str
    ) -> tuple[ClaimOutcome, Ticket | None]:
        async with self.db.transaction():
            ticket = await self.tickets.get(ticket_id)
            if ticket is None:
                return ClaimOutcome.NOT_FOUND, None
            if ticket.status is TicketStatus.CLOSED:
                return ClaimOutcome.CLOSED, ticket
            if ticket.status is TicketStatus.CLAIMED:
                return ClaimOutcome.ALREADY_CLAIMED, ticket
            await self.tickets.claim(ticket_id, staff_id=staff_id, staff_name=staff_name, now=self.now())
            await self.audit_action("claim", staff_id, staff_name, ticket_id=ticket_id)
            fresh = await self.tickets.get(ticket_id)
        return ClaimOutcome.CLAIMED, fresh

    async def close(
        self,
        ticket_id: int,
        *,
        closed_by: str,
        actor_id: int | None = None,
        actor_name: str | None = None,
        action: str = "close",
        conduct: bool = False,
    ) -> tuple[bool, Ticket | None]:
        """Close a ticket (recorded in the audit trail as ``action`` by the actor). Returns (changed,
        ticket). ``conduct``: the conduct policy ended the session; the card says so."""
        async with self.db.transaction():
            ticket = await self.tickets.get(ticket_id)
            if ticket is None or ticket.status is TicketStatus.CLOSED:
                return False, ticket
            await self.tickets.close(ticket_id, closed_by=closed_by, now=self.now(), conduct=conduct)
            await self.audit_action(
                action, actor_id, actor_name if actor_name is not None else closed_by, ticket_id=ticket_id
            )
            fresh = await self.tickets.get(ticket_id)
        return True, fresh

    async def ticket_for_staff_message(self, staff_chat_id: int, message_id: int) -> Ticket | None:
        mapped = await self.messages.by_staff_message(staff_chat_id, message_id)
        if mapped is not None:
            return await self.tickets.get(mapped.ticket_id)
        return await self.tickets.by_card(staff_chat_id, message_id)

    async def ticket_for_thread(self, thread_id: int) -> tuple[User, Ticket] | None:
        return await self.tickets.latest_in_thread(thread_id)

    async def answer_in_thread(
        self, thread_id: int, staff_chat_id: int, message_id: int
    ) -> tuple[User, Ticket, bool] | None:
        """The topic's user and latest ticket, and whether this specialist's message is stored already."""
        return await self.tickets.answer_in_thread(thread_id, (staff_chat_id, message_id))

    async def mark_unreachable(self, channel: str, chat_id: int) -> None:
        self._user_cache = {k: v for k, v in self._user_cache.items() if v[1].chat_id != chat_id}
        async with self.db.transaction():
            await self.users.mark_unreachable(channel, chat_id)
