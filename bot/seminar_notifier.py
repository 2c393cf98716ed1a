"""The Telegram side of seminar notices: :class:`helpdesk.ports.UserChannel` over the delivery gateway.

What to send and when is :class:`helpdesk.seminars.SeminarService`'s; this only sends. Sending goes
through the bot's session (the delivery middleware waits out 429s); a short pause after each message keeps
a broadcast under about 20 messages a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError

from bot import keyboards
from bot.delivery import Gateway
from helpdesk.ports import Button, Delivery, Destination
from storage.users import User

log = logging.getLogger(__name__)

MESSAGES_PER_SECOND = 20.0


class BroadcastChannel:
    """Paced sending to users, for broadcasts. Implements :class:`helpdesk.ports.UserChannel`."""

    def __init__(self, gateway: Gateway, *, messages_per_second: float = MESSAGES_PER_SECOND) -> None:
        self.gateway = gateway
        self.pause = 1.0 / messages_per_second

    async def send(self, user: User, html: str, buttons: Sequence[Button] = ()) -> Delivery:
        """REFUSED if Telegram refused for this user (blocked, chat gone), DEFERRED if the failure is not
        about this user (try again later)."""
        try:
            await self.gateway.send(
                Destination(user.chat_id), html, markup=keyboards.buttons(buttons) if buttons else None
            )
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            log.info("seminar notice to user %s not delivered: %s", user.id, exc.message)
            return Delivery.REFUSED
        except TelegramAPIError as exc:
            log.warning("seminar notices paused: %s", exc)
            return Delivery.DEFERRED
        await asyncio.sleep(self.pause)
        return Delivery.SENT
