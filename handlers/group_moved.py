"""Telegram's notice that a group became a supergroup (with a new chat id).

It comes twice, as a service message in each group: ``migrate_to_chat_id`` in the old one,
``migrate_from_chat_id`` in the new one. For the staff group the bot moves to the new id
(:class:`bot.staff_chat.StaffChatMoves`); either way the notice is no one's message to relay.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import Message

from bot.filters import Is
from bot.staff_chat import StaffChatMoves

log = logging.getLogger(__name__)

SUPERGROUP_IDS = -(10**12)  # supergroups' ids are -100xxxxxxxxxx


def create_router() -> Router:
    router = Router(name=__name__)
    # Telegram's invariants: only a basic group is upgraded, to a supergroup. Anything else is not this.
    router.message.register(group_moved, Is(F.migrate_to_chat_id), Is(F.chat.type == ChatType.GROUP))
    router.message.register(group_moved, Is(F.migrate_from_chat_id), Is(F.chat.type == ChatType.SUPERGROUP))
    return router


async def group_moved(message: Message, bot: Bot, staff_moves: StaffChatMoves) -> None:
    if message.migrate_to_chat_id is not None:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    else:
        assert message.migrate_from_chat_id is not None
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    if new_id > SUPERGROUP_IDS:
        log.warning("group %s upgraded to %s, not a supergroup id: ignored", old_id, new_id)
        return
    if not await staff_moves.follow(bot, old_id, new_id):
        log.info("group %s became supergroup %s (not the staff group)", old_id, new_id)
