"""/schedule for users, and the specialists' invite deep link (/start inv_...)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.filters import IsCommand
from helpdesk.duty import Duty
from helpdesk.rules.routing import format_user_schedule
from helpdesk.school import SchoolProfile
from helpdesk.specialists import InviteOutcome, Specialists
from helpdesk.texts import Tr


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsCommand())  # only commands here: anything else skips the router
    router.message.register(invite_opened, CommandStart(deep_link=True, magic=F.args.startswith("inv_")))
    router.message.register(schedule, Command("schedule"))
    return router


async def schedule(message: Message, school: SchoolProfile, specialists: Specialists, tr: Tr) -> None:
    await message.answer(format_user_schedule(school, specialists.now().date(), tr))


async def invite_opened(
    message: Message,
    command: CommandObject,
    duty: Duty,
    specialists: Specialists,
    state: FSMContext,
    tr: Tr,
) -> None:
    token = (command.args or "")[4:]
    who = message.from_user
    assert who is not None
    result = await duty.accept_invite(token, who.id, who.full_name)
    spec = result.specialist
    if result.outcome is InviteOutcome.EXPIRED:
        await message.answer(tr("duty.invite_expired"))
        return
    if spec is None or result.outcome is InviteOutcome.INVALID:
        await message.answer(tr("duty.invite_invalid"))
        return
    await state.clear()
    if result.outcome is InviteOutcome.PENDING:
        await message.answer(tr("duty.link_pending", name=specialists.label(spec, mention=False)))
        return
    await message.answer(tr("duty.linked", name=specialists.label(spec, mention=False)))
