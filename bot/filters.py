"""Filters shared by handlers."""

from __future__ import annotations

import time

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from magic_filter import MagicFilter

from bot.staff_chat import StaffChat
from helpdesk.rules.roles import ANONYMOUS_ADMIN_ID


class Is(Filter):
    """A magic filter (``Is(F.chat.type == "private")``) checked in the event loop.

    aiogram runs a plain, non-async filter in a worker thread on every check, and a bare ``F...`` given to
    ``register``/``filter`` is such a filter: a thread round trip for a comparison of microseconds, several
    times per update. Wrapped, it is resolved in place. ``tests/unit/test_filters.py`` keeps the routers
    free of non-async filters and handlers.
    """

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))


class InStaffChat(Filter):
    """A message (or a button pressed on a message) in the staff group, or in one of ``also`` chats.

    Reads the group's id at every check: it changes when the group becomes a supergroup. With ``former``
    its former ids count too (what was written there just before the move may be handled after it).
    """

    def __init__(self, staff: StaffChat, *also: int | None, former: bool = False) -> None:
        self.staff = staff
        self.also = frozenset(c for c in also if c is not None)
        self.former = former

    async def __call__(self, event: TelegramObject) -> bool:
        if isinstance(event, CallbackQuery):
            chat_id = event.message.chat.id if event.message is not None else None
        elif isinstance(event, Message):
            chat_id = event.chat.id
        else:
            return False
        if chat_id is None or chat_id in self.also:
            return chat_id is not None
        return self.staff.knows(chat_id) if self.former else chat_id == self.staff.id


# The filters every message passes through, written out: a magic filter is resolved step by step (a
# few microseconds per step), and these run several times for each update.


class PrivateChat(Filter):
    """A message in, or a button under a message in, a private chat."""

    async def __call__(self, event: TelegramObject) -> bool:
        if isinstance(event, CallbackQuery):
            return event.message is not None and event.message.chat.type == "private"
        return isinstance(event, Message) and event.chat.type == "private"


class NotCommand(Filter):
    """Anything but a ``/command`` (a message without text counts as not a command)."""

    async def __call__(self, message: Message) -> bool:
        return not (message.text or "").startswith("/")


class IsCommand(Filter):
    """A ``/command`` (in the text or a caption, as aiogram's Command filter reads it): put on a router of
    command handlers, so other messages skip it in one check."""

    async def __call__(self, message: Message) -> bool:
        return (message.text or message.caption or "").startswith("/")


class PlainStart(Filter):
    """``/start`` (no deep link) in a private chat, in no dialog or in the question dialog: what a wave of new
    users sends (a link posted in a class chat). Its handler is placed first, so it skips the dozen routers
    on the way; those routers do nothing with it either (their dialogs are not the question dialog)."""

    async def __call__(self, message: Message, raw_state: str | None = None) -> bool:
        return (
            message.text == "/start"
            and message.chat.type == "private"
            and (raw_state is None or raw_state.startswith("AskQuestion:"))
        )


class HasText(Filter):
    async def __call__(self, message: Message) -> bool:
        return bool(message.text)


def by_person_or_anonymous_admin(message: Message) -> bool:
    """Written by a person (not a bot), or by an administrator of this very group posting anonymously:
    Telegram then names GroupAnonymousBot as the author and the group itself as ``sender_chat``."""
    author = message.from_user
    if author is not None and author.id == ANONYMOUS_ADMIN_ID:
        return message.sender_chat is not None and message.sender_chat.id == message.chat.id
    return author is not None and not author.is_bot


class FromPerson(Filter):
    """Written by a person, not by a bot (an anonymous administrator of the group counts as a person)."""

    async def __call__(self, message: Message) -> bool:
        return by_person_or_anonymous_admin(message)


class PlainPrivateMessage(Filter):
    """A message in a private chat, in no dialog, that is not a ``/command`` (in its text or caption): the
    common case, checked in one go (a private chat, no command, ``StateFilter(None)``)."""

    async def __call__(self, message: Message, raw_state: str | None = None) -> bool:
        return (
            raw_state is None
            and message.chat.type == "private"
            and not (message.text or message.caption or "").startswith("/")
        )


class StaffAnswer(Filter):
    """A specialist's plain message in the staff group, in no dialog: the common case, checked in one go.

    Written by a person (not a bot; an administrator posting anonymously counts), not a ``/command``, not
    the service message of the group's move to a supergroup, and its author is in no dialog with the bot
    (``raw_state`` is None).
    """

    def __init__(self, staff: StaffChat) -> None:
        self.staff = staff

    async def __call__(self, message: Message, raw_state: str | None = None) -> bool:
        return (
            raw_state is None
            and by_person_or_anonymous_admin(message)
            and self.staff.knows(message.chat.id)
            and not (message.text or "").startswith("/")
            and message.migrate_to_chat_id is None
            and message.migrate_from_chat_id is None
        )


STAFF_STATUSES = {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}


class StaffMembership:
    """Is this Telegram user a member of the staff group? Cached for a few minutes."""

    def __init__(self, staff: StaffChat, ttl: float = 300.0) -> None:
        self.staff = staff
        self.ttl = ttl
        self._cache: dict[tuple[int, int], tuple[float, bool]] = {}

    @property
    def staff_chat_id(self) -> int:
        return self.staff.id

    async def check(self, bot: Bot, user_id: int) -> bool:
        key = (self.staff.id, user_id)  # a group that moved to a new id is asked again
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        try:
            member = await bot.get_chat_member(key[0], user_id)
            ok = member.status in STAFF_STATUSES
        except TelegramAPIError:
            ok = False
        self._cache[key] = (time.monotonic() + self.ttl, ok)
        return ok


class FromStaffGroup(Filter):
    """A button pressed on a message in the staff group, by a member of that group."""

    def __init__(self, membership: StaffMembership) -> None:
        self.membership = membership

    async def __call__(self, callback: CallbackQuery, bot: Bot) -> bool:
        message = callback.message
        if message is None or message.chat.id != self.membership.staff_chat_id:
            return False
        return await self.membership.check(bot, callback.from_user.id)
