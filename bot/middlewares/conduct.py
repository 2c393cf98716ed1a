"""The conduct policy on Telegram: checks before any handler runs.

Two outer middlewares on messages, registered after the user context (they need ``user``):

* :class:`UserConductMiddleware` — private chats. A restricted user (cooldown or block) gets a reminder
  instead of the handler; otherwise the text or caption is classified and a violation never reaches a
  handler: nothing is stored or forwarded, the session ends (:meth:`ConductDesk.user_violation`).
* :class:`StaffConductMiddleware` — the staff group. A specialist's message in a ticket thread that breaks
  the rules is not delivered (:meth:`ConductDesk.staff_violation`).

The dialog handlers know nothing of this; what follows a violation is the core's
:class:`helpdesk.conduct_desk.ConductDesk`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject

from bot.inbound import inbound
from bot.staff_chat import StaffChat
from bot.states import ComplaintDialog
from helpdesk.conduct_desk import ConductDesk
from helpdesk.rules.profanity import classify
from storage.users import User

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Commands a restricted user may still use: they ask nothing of the staff.
FREE_COMMANDS = frozenset({"help", "contacts", "language", "complaint", "cancel"})
COMPLAINT_STATES = frozenset(s.state for s in ComplaintDialog.__all_states__)


def command_of(text: str | None) -> str | None:
    """``"/help@school_bot x"`` → ``"help"``; None for anything that is not a command."""
    if not text or not text.startswith("/") or text.startswith("//"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


class UserConductMiddleware(BaseMiddleware):
    """Private chats: restricted users are reminded, violations end the session. Runs before handlers."""

    def __init__(self, conduct: ConductDesk) -> None:
        self.conduct = conduct

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or event.chat.type != "private":
            return await handler(event, data)
        user = data.get("user")
        if not isinstance(user, User) or data.get("raw_state") in COMPLAINT_STATES:
            # A complaint goes to the director only, in the user's own words.
            return await handler(event, data)
        if command_of(event.text) in FREE_COMMANDS:
            return await handler(event, data)
        current = await self.conduct.standing(user)
        if current.restricted:
            # Not counted as another violation whatever it says: it reaches nobody.
            await self.conduct.remind(user, current)
            return None
        text = event.text or event.caption or ""
        verdict = classify(text)
        if not verdict.violation:
            return await handler(event, data)
        state = data.get("state")
        if isinstance(state, FSMContext):
            await state.clear()  # the session ends: the dialog too (a complaint went past this check)
        await self.conduct.user_violation(user, text, verdict)
        return None


class StaffConductMiddleware(BaseMiddleware):
    """The staff group: a specialist's message to a user that breaks the rules is not delivered."""

    def __init__(self, conduct: ConductDesk, staff_chat: StaffChat) -> None:
        self.conduct = conduct
        self.staff_chat = staff_chat

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or not self.staff_chat.knows(event.chat.id):
            return await handler(event, data)
        author = event.from_user
        if author is None or author.is_bot or data.get("raw_state") is not None:
            # A specialist inside a dialog (an escalation comment) is not writing to the user.
            return await handler(event, data)
        if (event.text or "").startswith("/"):
            return await handler(event, data)
        if await self.conduct.staff_violation(inbound(event, forum=self.staff_chat.forum)):
            return None  # withheld
        return await handler(event, data)
