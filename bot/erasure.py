"""A person's traces in the staff group deleted when their data is erased (the core's
:class:`helpdesk.ports.StaffEraser` on Telegram).

``deleteForumTopic`` takes a topic with all its messages and has no time limit; ``deleteMessages`` deletes
up to 100 messages at once but, for messages of others in a group, only within 48 hours (and a message
that cannot be deleted is skipped silently by Telegram). So in a plain group each message is tried on its
own, and those Telegram refuses are returned for staff to delete by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot.cards import message_link
from bot.delivery import Gateway
from bot.staff_chat import StaffChat

log = logging.getLogger(__name__)


class TelegramEraser:
    def __init__(self, *, gateway: Gateway, staff_chat: StaffChat) -> None:
        self.gateway = gateway
        self.staff_chat = staff_chat

    @property
    def forum(self) -> bool:
        return self.staff_chat.forum

    async def delete_thread(self, thread_id: int) -> bool:
        try:
            await self.gateway.bot.delete_forum_topic(chat_id=self.staff_chat.id, message_thread_id=thread_id)
        except TelegramBadRequest as exc:
            # Deleted already (by someone, or by an earlier try): nothing left to delete.
            if "thread not found" in exc.message or "TOPIC_ID_INVALID" in exc.message:
                return True
            log.warning("forum topic %s not deleted: %s", thread_id, exc.message)
            return False
        except TelegramAPIError as exc:
            log.warning("forum topic %s not deleted: %s", thread_id, exc)
            return False
        return True

    async def delete_messages(self, messages: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        left: list[tuple[int, int]] = []
        for chat_id, message_id in messages:
            try:
                await self.gateway.bot.delete_message(chat_id=chat_id, message_id=message_id)
            except TelegramBadRequest as exc:
                if "not found" in exc.message:
                    continue  # gone already
                left.append((chat_id, message_id))
            except TelegramAPIError:
                left.append((chat_id, message_id))
        return left

    def message_url(self, chat_id: int, message_id: int) -> str | None:
        return message_link(chat_id, message_id)
