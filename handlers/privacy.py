"""Management answers a person's request by phone or e-mail: ``/mydata_of`` (what is stored about them, as a
file in the requester's private chat: never in the staff group) and ``/forget_of`` (erase it, after a
confirmation). Both are recorded in the audit trail. Anyone else is refused. The person is named by a
ticket number (``№12``), a Telegram id or ``@username``."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot import keyboards
from bot.callbacks import ForgetAction, ForgetCb
from bot.filters import IsCommand
from bot.fsm_storage import SQLiteStorage
from bot.roles import Allowed, Roles
from helpdesk.clock import Clock
from helpdesk.formatting import escape
from helpdesk.privacy import PersonalData
from helpdesk.rules.roles import Action
from helpdesk.school import SchoolProfile
from helpdesk.texts import Tr

COMMANDS = ("mydata_of", "forget_of")


def create_router(roles: Roles) -> Router:
    router = Router(name=__name__)
    router.message.filter(IsCommand())
    allowed = Allowed(roles, Action.PERSONAL_DATA)
    router.message.register(data_of, Command("mydata_of"), allowed)
    router.message.register(forget_of, Command("forget_of"), allowed)
    router.message.register(management_only, Command(*COMMANDS))
    router.callback_query.register(forget_of_confirmed, ForgetCb.filter(F.user > 0), allowed)
    router.callback_query.register(management_only_press, ForgetCb.filter(F.user > 0))
    return router


async def management_only(message: Message, tr: Tr) -> None:
    await message.answer(tr("roles.management_only"))


async def management_only_press(callback: CallbackQuery, tr: Tr) -> None:
    await callback.answer(tr("roles.management_only"), show_alert=True)


async def data_of(
    message: Message,
    command: CommandObject,
    bot: Bot,
    tr: Tr,
    personal_data: PersonalData,
    school: SchoolProfile,
    clock: Clock,
) -> None:
    who = message.from_user
    assert who is not None
    person = await personal_data.find(command.args or "")
    if person is None:
        await message.answer(tr("privacy.of_usage"))
        return
    text = await personal_data.export(person, actor_id=who.id, actor_name=who.full_name)
    if text is None:
        await message.answer(tr("privacy.of_usage"))
        return
    day = clock().astimezone(school.tz).strftime("%Y-%m-%d")
    try:
        await bot.send_document(
            who.id,
            BufferedInputFile(text.encode("utf-8"), filename=f"data-{person.id}-{day}.txt"),
            caption=tr("privacy.of_caption", user=person.id),
        )
    except TelegramAPIError:
        await message.answer(tr("privacy.of_private_first"))
        return
    if message.chat.id != who.id:
        await message.answer(tr("privacy.of_sent_privately"))


async def forget_of(message: Message, command: CommandObject, tr: Tr, personal_data: PersonalData) -> None:
    person = await personal_data.find(command.args or "")
    if person is None or person.chat_id == 0:
        await message.answer(tr("privacy.of_usage"))
        return
    role = tr(f"role.{person.role.value}") if person.role else "—"
    await message.answer(
        tr("privacy.of_forget_ask", name=escape(person.first_name or "—"), role=role, user=person.id),
        reply_markup=keyboards.forget_confirm(tr, person.id),
    )


async def forget_of_confirmed(
    callback: CallbackQuery, callback_data: ForgetCb, tr: Tr, personal_data: PersonalData, dispatcher: Dispatcher
) -> None:
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    if callback_data.action is not ForgetAction.YES:
        return
    person = await personal_data.person(callback_data.user)
    if person is None or person.chat_id == 0:
        if isinstance(callback.message, Message):
            await callback.message.answer(tr("privacy.of_already"))
        return
    who = callback.from_user
    done = await personal_data.forget(person, actor_id=who.id, actor_name=who.full_name)
    if isinstance(dispatcher.storage, SQLiteStorage) and person.external_id.isdigit():
        # A dialog the person was in (a draft) must not come back from memory.
        dispatcher.storage.evict(person.chat_id, int(person.external_id))
    if isinstance(callback.message, Message):
        await callback.message.answer(tr("privacy.of_forgotten", user=person.id, tickets=done.tickets))
