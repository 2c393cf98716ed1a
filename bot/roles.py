"""Roles on the Telegram side: maps the person who sent a message or pressed a button to the core's
rule (:func:`helpdesk.rules.roles.decide`), as a filter on handlers. The rule looks at the person, never
only at the chat."""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.types import User as TgUser

from bot.filters import StaffMembership
from helpdesk.rules.roles import MANAGEMENT_ACTIONS, Action, Person, Verdict, decide
from helpdesk.school import Management


class Roles:
    """The school's management (from the profile), the manager chat and the staff group's members."""

    def __init__(self, management: Management, manager_chat_id: int | None, membership: StaffMembership) -> None:
        self.management = management
        self.manager_chat_id = manager_chat_id
        self.membership = membership

    async def verdict(self, bot: Bot, user: TgUser, action: Action) -> Verdict:
        # Membership costs a call to Telegram (cached): asked only where the rule needs it.
        member = action not in MANAGEMENT_ACTIONS and await self.membership.check(bot, user.id)
        person = Person(user_id=user.id, username=user.username, staff_member=member)
        return decide(person, action, self.management, self.manager_chat_id)


class Allowed(Filter):
    """The author of the message, or the presser of the button, may do ``action``."""

    def __init__(self, roles: Roles, action: Action) -> None:
        self.roles = roles
        self.action = action

    async def __call__(self, event: TelegramObject, bot: Bot) -> bool:
        if isinstance(event, (Message, CallbackQuery)) and event.from_user is not None:
            return await self.roles.verdict(bot, event.from_user, self.action) is Verdict.ALLOWED
        return False
