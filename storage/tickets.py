"""Tickets and the messages that belong to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from helpdesk.domain import Category, Role, RouteReason, TicketStatus, Topic
from storage.db import fetch_all, fetch_one
from storage.users import User, _user, user_columns


@dataclass(frozen=True)
class Ticket:
    id: int
    user_id: int
    role: Role
    topic: Topic
    category: Category
    status: TicketStatus
    question: str
    staff_chat_id: int | None
    staff_thread_id: int | None
    card_message_id: int | None
    claimed_by_id: int | None
    claimed_by_name: str | None
    closed_by: str | None
    created_at: datetime
    claimed_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    routed_to: tuple[str, ...] = ()
    take_up_at: datetime | None = None
    queued: bool = False
    vendor_at: datetime | None = None
    vendor_ref: str | None = None
    vendor_reminded_at: datetime | None = None
    offered_articles: tuple[str, ...] = ()
    conduct_ended_at: datetime | None = None  # the conduct policy ended the session (the card says so)
    route_reason: RouteReason | None = None
    confirm_message_id: int | None = None

    @property
    def assignee_key(self) -> str | None:
        """Who the routing decision named (``routed_to`` holds them first); None when it named nobody."""
        if self.route_reason is RouteReason.NO_SLOT or not self.routed_to:
            return None
        return self.routed_to[0]

    @property
    def is_open(self) -> bool:
        return self.status is not TicketStatus.CLOSED


@dataclass(frozen=True)
class TicketMessage:
    id: int
    ticket_id: int
    direction: str  # in | out | note
    kind: str
    author_id: int | None
    author_name: str | None
    text: str
    file_id: str | None
    user_chat_id: int | None
    user_message_id: int | None
    staff_chat_id: int | None
    staff_message_id: int | None
    delivery: str  # pending | delivered | failed
    delivery_error: str | None
    created_at: datetime


_THREAD_USER = user_columns("u", "u_")


_INSERT = """INSERT INTO messages (ticket_id, direction, kind, author_id, author_name, text, file_id,
                 user_chat_id, user_message_id, staff_chat_id, staff_message_id, delivery, created_at)
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"""


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _ticket(row: aiosqlite.Row) -> Ticket:
    created = _dt(row["created_at"])
    assert created is not None
    return Ticket(
        id=row["id"],
        user_id=row["user_id"],
        role=Role(row["role"]),
        topic=Topic(row["topic"]),
        category=Category(row["category"]),
        status=TicketStatus(row["status"]),
        question=row["question"],
        staff_chat_id=row["staff_chat_id"],
        staff_thread_id=row["staff_thread_id"],
        card_message_id=row["card_message_id"],
        claimed_by_id=row["claimed_by_id"],
        claimed_by_name=row["claimed_by_name"],
        closed_by=row["closed_by"],
        created_at=created,
        claimed_at=_dt(row["claimed_at"]),
        answered_at=_dt(row["answered_at"]),
        closed_at=_dt(row["closed_at"]),
        routed_to=tuple(k for k in row["routed_to"].split(",") if k),
        take_up_at=_dt(row["take_up_at"]),
        queued=bool(row["queued"]),
        vendor_at=_dt(row["vendor_at"]),
        vendor_ref=row["vendor_ref"],
        vendor_reminded_at=_dt(row["vendor_reminded_at"]),
        offered_articles=tuple(k for k in row["offered_articles"].split(",") if k),
        route_reason=RouteReason(row["route_reason"]) if row["route_reason"] else None,
        confirm_message_id=row["confirm_message_id"],
        conduct_ended_at=_dt(row["conduct_ended_at"]),
    )


def _message(row: aiosqlite.Row) -> TicketMessage:
    created = _dt(row["created_at"])
    assert created is not None
    return TicketMessage(
        id=row["id"],
        ticket_id=row["ticket_id"],
        direction=row["direction"],
        kind=row["kind"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        text=row["text"],
        file_id=row["file_id"],
        user_chat_id=row["user_chat_id"],
        user_message_id=row["user_message_id"],
        staff_chat_id=row["staff_chat_id"],
        staff_message_id=row["staff_message_id"],
        delivery=row["delivery"],
        delivery_error=row["delivery_error"],
        created_at=created,
    )


class TicketRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def create(
        self,
        *,
        user_id: int,
        role: Role,
        topic: Topic,
        category: Category,
        question: str,
        now: datetime,
        offered_articles: tuple[str, ...] = (),
        origin: str | None = None,
    ) -> Ticket | None:
        """A new ticket, or None when a ticket with this ``origin`` exists already."""
        row = await fetch_one(
            self.conn,
            """INSERT INTO tickets (user_id, role, topic, category, question, created_at, offered_articles, origin)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING RETURNING *""",
            (
                user_id,
                role.value,
                topic.value,
                category.value,
                question,
                now.isoformat(),
                ",".join(offered_articles),
                origin,
            ),
        )
        return _ticket(row) if row else None

    async def by_origin(self, origin: str) -> Ticket | None:
        row = await fetch_one(self.conn, "SELECT * FROM tickets WHERE origin = ?", (origin,))
        return _ticket(row) if row else None

    async def get(self, ticket_id: int) -> Ticket | None:
        row = await fetch_one(self.conn, "SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return _ticket(row) if row else None

    async def open_for_user(self, user_id: int) -> Ticket | None:
        row = await fetch_one(
            self.conn,
            "SELECT * FROM tickets WHERE user_id = ? AND status != 'closed' ORDER BY id DESC LIMIT 1",
            (user_id,),
        )
        return _ticket(row) if row else None

    async def latest_in_thread(self, thread_id: int) -> tuple[User, Ticket] | None:
        """The user whose staff topic this is, with their latest ticket (one query)."""
        found = await self.answer_in_thread(thread_id, None)
        return (found[0], found[1]) if found else None

    async def answer_in_thread(
        self, thread_id: int, staff_message: tuple[int, int] | None
    ) -> tuple[User, Ticket, bool] | None:
        """For a specialist's message in a topic: the topic's user, their latest ticket, and whether the
        message (chat id, message id) is stored already as an answer or a note — one query for all three,
        as every answer in a topic asks them."""
        chat_id, message_id = staff_message or (None, None)
        row = await fetch_one(
            self.conn,
            f"SELECT t.*, {_THREAD_USER}, EXISTS (SELECT 1 FROM messages m WHERE m.staff_chat_id = ? "
            "AND m.staff_message_id = ? AND m.direction IN ('out', 'note')) AS seen "
            "FROM users u JOIN tickets t ON t.user_id = u.id "
            "WHERE u.staff_thread_id = ? ORDER BY t.id DESC LIMIT 1",
            (chat_id, message_id, thread_id),
        )
        return (_user(row, "u_"), _ticket(row), bool(row["seen"])) if row else None

    async def latest_for_user(self, user_id: int) -> Ticket | None:
        row = await fetch_one(
            self.conn, "SELECT * FROM tickets WHERE user_id = ? ORDER BY id DESC LIMIT 1", (user_id,)
        )
        return _ticket(row) if row else None

    async def by_card(self, staff_chat_id: int, card_message_id: int) -> Ticket | None:
        row = await fetch_one(
            self.conn,
            "SELECT * FROM tickets WHERE staff_chat_id = ? AND card_message_id = ?",
            (staff_chat_id, card_message_id),
        )
        return _ticket(row) if row else None

    async def set_card(
        self, ticket_id: int, *, staff_chat_id: int, thread_id: int | None, card_message_id: int
    ) -> None:
        await self.conn.execute(
            "UPDATE tickets SET staff_chat_id = ?, staff_thread_id = ?, card_message_id = ? WHERE id = ?",
            (staff_chat_id, thread_id, card_message_id, ticket_id),
        )

    async def claim(self, ticket_id: int, *, staff_id: int, staff_name: str, now: datetime) -> None:
        await self.conn.execute(
            """UPDATE tickets SET status = 'claimed', claimed_by_id = ?, claimed_by_name = ?,
                   claimed_at = ?, closed_at = NULL, closed_by = NULL
               WHERE id = ?""",
            (staff_id, staff_name, now.isoformat(), ticket_id),
        )

    async def answered(self, ticket_id: int, now: datetime) -> tuple[Ticket, bool]:
        """A specialist answered: the first answer's time is kept, a closed ticket reopens.

        Returns the ticket as it is now and whether it was reopened. One statement when the ticket is
        open (the usual case), two when it was closed.
        """
        row = await fetch_one(
            self.conn,
            """UPDATE tickets SET answered_at = COALESCE(answered_at, ?)
               WHERE id = ? AND status != 'closed' RETURNING *""",
            (now.isoformat(), ticket_id),
        )
        if row is not None:
            return _ticket(row), False
        row = await fetch_one(
            self.conn,
            """UPDATE tickets SET answered_at = COALESCE(answered_at, ?),
                   status = CASE WHEN claimed_by_id IS NULL THEN 'open' ELSE 'claimed' END,
                   closed_at = NULL, closed_by = NULL, conduct_ended_at = NULL
               WHERE id = ? RETURNING *""",
            (now.isoformat(), ticket_id),
        )
        assert row is not None, f"ticket {ticket_id} vanished"
        return _ticket(row), True

    async def close(self, ticket_id: int, *, closed_by: str, now: datetime, conduct: bool = False) -> None:
        """Close the ticket; ``conduct``: the conduct policy ended its session (the card is marked)."""
        await self.conn.execute(
            """UPDATE tickets SET status = 'closed', closed_by = ?, closed_at = ?, conduct_ended_at = ?
               WHERE id = ?""",
            (closed_by, now.isoformat(), now.isoformat() if conduct else None, ticket_id),
        )

    async def reopen_after_conduct(self, ticket_id: int) -> Ticket | None:
        """A question the conduct policy ended goes back to work (to whoever had taken it); None when it is
        not such a question (open already, or closed for another reason)."""
        row = await fetch_one(
            self.conn,
            """UPDATE tickets SET status = CASE WHEN claimed_by_id IS NULL THEN 'open' ELSE 'claimed' END,
                   closed_at = NULL, closed_by = NULL, conduct_ended_at = NULL
               WHERE id = ? AND status = 'closed' AND conduct_ended_at IS NOT NULL RETURNING *""",
            (ticket_id,),
        )
        return _ticket(row) if row is not None else None

    async def set_routing(
        self,
        ticket_id: int,
        *,
        routed_to: tuple[str, ...],
        take_up_at: datetime | None,
        queued: bool,
        reason: RouteReason | None = None,
    ) -> None:
        """``routed_to``: the assignee first (see :attr:`Ticket.assignee_key`); ``reason``: None keeps the
        stored one."""
        await self.conn.execute(
            "UPDATE tickets SET routed_to = ?, take_up_at = ?, queued = ?, "
            "route_reason = COALESCE(?, route_reason) WHERE id = ?",
            (
                ",".join(routed_to),
                take_up_at.isoformat() if take_up_at else None,
                int(queued),
                reason.value if reason else None,
                ticket_id,
            ),
        )

    async def unanswered_follow_up(self, ticket_id: int, confirm_message_id: int | None) -> int | None:
        """See :meth:`helpdesk.store.Store.unanswered_follow_up`."""
        row = await fetch_one(
            self.conn,
            """SELECT id, direction, user_message_id,
                      EXISTS (SELECT 1 FROM messages WHERE ticket_id = ? AND direction = 'out') AS answered
               FROM messages WHERE ticket_id = ? AND direction IN ('in', 'out')
               ORDER BY id DESC LIMIT 1""",
            (ticket_id, ticket_id),
        )
        if row is None or row["direction"] != "in":
            return None
        if confirm_message_id is not None:
            follow_up = row["user_message_id"] is not None and row["user_message_id"] > confirm_message_id
        else:
            follow_up = bool(row["answered"])
        return int(row["id"]) if follow_up else None

    async def set_confirmation(self, ticket_id: int, message_id: int) -> None:
        await self.conn.execute(
            "UPDATE tickets SET confirm_message_id = ? WHERE id = ?", (message_id, ticket_id)
        )

    async def without_card(self) -> list[Ticket]:
        """Open tickets whose card never reached the staff group (a crash or an outage in between)."""
        return [
            _ticket(r)
            for r in await fetch_all(
                self.conn,
                "SELECT * FROM tickets WHERE card_message_id IS NULL AND status != 'closed' ORDER BY id",
            )
        ]

    async def open_tickets(self) -> list[Ticket]:
        return [
            _ticket(r)
            for r in await fetch_all(self.conn, "SELECT * FROM tickets WHERE status != 'closed' ORDER BY id")
        ]

    async def created_since(self, since: datetime) -> list[Ticket]:
        return [
            _ticket(r)
            for r in await fetch_all(
                self.conn, "SELECT * FROM tickets WHERE created_at >= ? ORDER BY id", (since.isoformat(),)
            )
        ]

    async def set_vendor(self, ticket_id: int, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE tickets SET vendor_at = COALESCE(vendor_at, ?) WHERE id = ?", (now.isoformat(), ticket_id)
        )

    async def set_vendor_ref(self, ticket_id: int, ref: str) -> None:
        await self.conn.execute("UPDATE tickets SET vendor_ref = ? WHERE id = ?", (ref, ticket_id))

    async def set_vendor_reminded(self, ticket_id: int, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE tickets SET vendor_reminded_at = ? WHERE id = ?", (now.isoformat(), ticket_id)
        )


class MessageRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def add(
        self,
        *,
        ticket_id: int,
        direction: str,
        kind: str,
        text: str,
        now: datetime,
        author_id: int | None = None,
        author_name: str | None = None,
        file_id: str | None = None,
        user_chat_id: int | None = None,
        user_message_id: int | None = None,
        staff_chat_id: int | None = None,
        staff_message_id: int | None = None,
        delivery: str = "pending",
    ) -> TicketMessage:
        row = await self._insert(
            (ticket_id, direction, kind, author_id, author_name, text, file_id, user_chat_id, user_message_id,
             staff_chat_id, staff_message_id, delivery, now.isoformat()),
        )  # fmt: skip
        assert row is not None
        return row

    async def add_from_user(
        self,
        *,
        ticket_id: int,
        kind: str,
        text: str,
        now: datetime,
        author_id: int,
        author_name: str,
        file_id: str | None,
        user_chat_id: int,
        user_message_id: int,
    ) -> TicketMessage | None:
        """Store a user's message unless it is stored already (the same update handled again): then None.

        The check and the insert are one statement: one trip to the database for every follow-up.
        """
        return await self._insert(
            (ticket_id, "in", kind, author_id, author_name, text, file_id, user_chat_id, user_message_id,
             None, None, "pending", now.isoformat()),
            unless_seen=(user_chat_id, user_message_id),
        )  # fmt: skip

    async def _insert(
        self, values: tuple[object, ...], *, unless_seen: tuple[int, int] | None = None
    ) -> TicketMessage | None:
        """One row, in the order of ``_INSERT``'s columns; with ``unless_seen`` (a user's chat and message
        id) nothing is stored when that message is stored already."""
        guard = ""
        if unless_seen is not None:
            guard = (
                "WHERE NOT EXISTS (SELECT 1 FROM messages WHERE user_chat_id = ? AND user_message_id = ?) "
            )
            values = (*values, *unless_seen)
        row = await fetch_one(self.conn, f"{_INSERT} {guard}RETURNING *", values)
        return _message(row) if row else None

    async def delivered(
        self,
        message_id: int,
        *,
        user_message_id: int | None = None,
        staff_chat_id: int | None = None,
        staff_message_id: int | None = None,
    ) -> None:
        await self.conn.execute(
            """UPDATE messages SET delivery = 'delivered', delivery_error = NULL,
                   user_message_id = COALESCE(?, user_message_id),
                   staff_chat_id = COALESCE(?, staff_chat_id),
                   staff_message_id = COALESCE(?, staff_message_id)
               WHERE id = ?""",
            (user_message_id, staff_chat_id, staff_message_id, message_id),
        )

    async def failed(self, message_id: int, error: str) -> None:
        await self.conn.execute(
            "UPDATE messages SET delivery = 'failed', delivery_error = ? WHERE id = ?", (error, message_id)
        )

    async def by_staff_message(self, staff_chat_id: int, staff_message_id: int) -> TicketMessage | None:
        row = await fetch_one(
            self.conn,
            "SELECT * FROM messages WHERE staff_chat_id = ? AND staff_message_id = ? ORDER BY id DESC LIMIT 1",
            (staff_chat_id, staff_message_id),
        )
        return _message(row) if row else None

    async def for_ticket(self, ticket_id: int) -> list[TicketMessage]:
        rows = await fetch_all(
            self.conn, "SELECT * FROM messages WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [_message(r) for r in rows]

    async def pending(self) -> list[TicketMessage]:
        rows = await fetch_all(
            self.conn,
            "SELECT * FROM messages WHERE delivery = 'pending' AND direction IN ('in', 'out') ORDER BY id",
        )
        return [_message(r) for r in rows]
