"""What the core asks of the outside world: small ports, implemented by the Telegram adapter (``bot/``).

The core decides and stores; the ports carry it out. The staff side is the staff group (Telegram); the user
side is wherever the user writes from (Telegram today, MAX later): nothing here names a messenger.

A port call that the other side refuses or cannot take now raises :class:`DeliveryError`; what was stored
before it stays stored, and the adapter's recovery delivers it later.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from storage.tickets import Ticket, TicketMessage
from storage.users import User

NOTE_MARKER = "//"
RELAYABLE_KINDS = frozenset({"text", "photo", "document", "video", "audio", "voice", "animation"})
USER_KINDS = frozenset({"text", "photo", "document"})


class DeliveryError(Exception):
    """The other side did not take a message now (refused, unreachable, or an outage)."""


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a chat, optionally a thread (a forum topic), optionally as a reply."""

    chat_id: int
    thread_id: int | None = None
    reply_to: int | None = None


@dataclass(frozen=True)
class Inbound:
    """A message someone wrote, as the core sees it: plain values, whatever the messenger.

    ``html`` is the text or caption with its formatting, escaped; None when there is no text. ``thread_id``
    is the staff group's topic it was written in (forum mode only); ``reply_to`` the message it answers and
    ``reply_to_topic_start`` whether that is only the topic's opening message (not an answer to anything).
    """

    kind: str
    text: str
    chat_id: int
    message_id: int
    author_id: int
    author_name: str
    html: str | None = None
    file_id: str | None = None
    thread_id: int | None = None
    reply_to: int | None = None
    reply_to_topic_start: bool = False

    @property
    def is_note(self) -> bool:
        """A specialist's internal note (``// ...``): stored with the ticket, never sent to the user."""
        return self.text.lstrip().startswith(NOTE_MARKER)


class StaffSide(Protocol):
    """The staff's messenger (Telegram): the staff group with its cards and ticket threads, the management's
    chats, the specialists' private chats."""

    @property
    def chat_id(self) -> int: ...

    def hold(self, *, ticket_id: int | None = None, row_id: int | None = None) -> AbstractContextManager[None]:
        """Mark a ticket's or a message's delivery as in progress, so that the recovery (which delivers
        what a crash or an outage left undelivered) does not start it a second time."""
        ...

    async def post_ticket(self, user: User, ticket: Ticket) -> Ticket:
        """Post the new ticket's card and its attachments (or list it for later when the budget is spent)."""
        ...

    async def relay_in(self, row: TicketMessage, ticket: Ticket, user: User) -> None:
        """Deliver a stored user message to the ticket's thread."""
        ...

    async def refresh_card(self, ticket: Ticket) -> None: ...

    async def say(
        self, where: Destination, html_text: str, buttons: Sequence[Button] = (), *, quiet: bool = False
    ) -> int:
        """A message to staff now (a ticket's thread, a reply to a specialist, an alert), with ``buttons``
        (one per row); its message id. ``quiet``: delivered without a sound (news that needs no action now)."""
        ...

    async def say_long(self, where: Destination, header_html: str, body_plain: str) -> list[int]:
        """A header and a long plain text, in as many messages as needed."""
        ...

    def thread_of(self, ticket: Ticket) -> Destination:
        """The ticket's thread as it is now (a topic, or replies to its card)."""
        ...

    def reply_place(self, inbound: Inbound, ticket: Ticket) -> Destination:
        """Where to answer a specialist about their message."""
        ...

    def card_url(self, ticket: Ticket) -> str | None:
        """A link to the ticket's card for alerts, when the group has links."""
        ...


class StaffEraser(Protocol):
    """Deleting a person's traces in the staff group (their data erased): a forum topic with everything in
    it, or single messages (a bot may delete others' messages in a group only within 48 hours)."""

    @property
    def forum(self) -> bool: ...

    async def delete_thread(self, thread_id: int) -> bool:
        """Delete a forum topic with its messages; False when it could not be deleted."""
        ...

    async def delete_messages(self, messages: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Delete (chat id, message id) messages; returns those that could not be deleted."""
        ...

    def message_url(self, chat_id: int, message_id: int) -> str | None: ...


class UserSide(Protocol):
    """The users' messenger."""

    async def relay_out(
        self, row: TicketMessage, ticket: Ticket, user: User, *, body_html: str | None = None
    ) -> None:
        """Deliver a stored specialist message to the user (signed; with the complaint button)."""
        ...

    async def ticket_opened(self, user: User, ticket: Ticket, html_text: str) -> int | None:
        """Confirm a new ticket to the user (with the button that closes it); the confirmation's message id
        when the messenger has one."""
        ...

    async def ticket_closed(self, user: User, ticket: Ticket) -> None:
        """Staff closed the ticket: the confirmation's close button goes (the user is told by a notice)."""
        ...

    async def ticket_reopened(self, user: User, ticket: Ticket) -> None:
        """A specialist's answer reopened the ticket: the confirmation's close button comes back."""
        ...

    async def tell(self, user: User, html_text: str) -> None:
        """A notice to the user now (not queued): raises :class:`DeliveryError` when it is not taken."""
        ...

    async def ask_rating(self, user: User, ticket: Ticket, html_text: str) -> None:
        """Queue the question "rate the help" with the buttons 1-5 (after the close notice)."""
        ...


class Notices(Protocol):
    """The bot's own notices and alerts, written to the outbox in the transaction of the change they
    report (:meth:`helpdesk.store.Unit.notice`): the sender is asked to send what is queued."""

    def kick(self) -> None: ...


@dataclass(frozen=True)
class Button:
    """A callback button: the label shown and the payload a press sends back.

    Payloads are compact ASCII (Telegram allows 64 bytes) and carry ids, never text.
    """

    label: str
    payload: str


class Delivery(StrEnum):
    SENT = "sent"
    REFUSED = "refused"  # this user cannot get it (blocked the bot, chat gone): do not try again
    DEFERRED = "deferred"  # the channel failed, not the user: try again later


class UserChannel(Protocol):
    """Broadcasts: sends a message to a user in the user's own channel, paced for many recipients."""

    async def send(self, user: User, html: str, buttons: Sequence[Button] = ()) -> Delivery:
        """Send ``html`` (the small HTML subset, known to fit) with ``buttons`` (one per row)."""
        ...
