"""Commands in the user's private chat: /start, /help, /contacts, /language, /role, /cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import LangCb
from bot.delivery import Gateway
from bot.filters import IsCommand, PlainStart
from bot.states import AskQuestion
from handlers.private.faq import contacts_text
from helpdesk.clock import Clock
from helpdesk.conduct_desk import ConductDesk
from helpdesk.domain import default_topic
from helpdesk.formatting import escape
from helpdesk.ports import Destination
from helpdesk.school import SchoolProfile
from helpdesk.store import Store
from helpdesk.texts import Texts, Tr
from helpdesk.tickets import Tickets
from storage.users import User


def create_fast_router() -> Router:
    """Placed first: a plain /start goes straight to its handler (see ``PlainStart``)."""
    router = Router(name=f"{__name__}.fast")
    router.message.register(start, PlainStart())
    return router


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsCommand())  # only commands here: anything else skips the router
    router.message.register(start, CommandStart())
    router.message.register(show_help, Command("help"))
    router.message.register(contacts, Command("contacts"))
    router.message.register(choose_language, Command("language"))
    router.callback_query.register(language_chosen, LangCb.filter(F.locale.in_({"ru", "en"})))
    router.message.register(change_role, Command("role"))
    router.message.register(cancel, Command("cancel"))
    return router


async def start(message: Message, state: FSMContext, tr: Tr, user: User, gateway: Gateway) -> None:
    # One message: the greeting carries the next question (Telegram paces a chat at about a message a
    # second, and a wave of /start from a class chat shares its 30 a second). Sent by the gateway, which
    # reads only the new message's id from Telegram's answer.
    await state.set_data({})
    greeting = tr("start.greeting", name=escape(user.first_name))
    here = Destination(message.chat.id)
    if user.role is None:
        await state.set_state(AskQuestion.role)
        await gateway.send(here, f"{greeting}\n\n{tr('role.ask')}", markup=keyboards.roles(tr))
        return
    await state.set_state(AskQuestion.topic)
    saved = tr("role.saved", role=tr(f"role.{user.role.value}")) + " /role"
    await gateway.send(
        here, f"{greeting}\n\n{saved}\n{tr('topic.ask')}", markup=keyboards.topics(tr, default_topic(user.role))
    )


async def show_help(message: Message, tr: Tr, user: User, conduct: ConductDesk) -> None:
    # During a pause what the user writes reaches nobody: /help says so, and until when, instead of
    # promising that a specialist reads it.
    note = await conduct.pause_note(user)
    await message.answer(f"{tr('help.text')}\n\n{note or tr('help.while_open')}")


async def contacts(message: Message, tr: Tr, school: SchoolProfile, clock: Clock) -> None:
    await message.answer(contacts_text(tr, school, clock().astimezone(school.tz).date()))


async def choose_language(message: Message, tr: Tr) -> None:
    await message.answer(tr("language.ask"), reply_markup=keyboards.languages(tr))


async def language_chosen(
    callback: CallbackQuery, callback_data: LangCb, user: User, store: Store, texts: Texts
) -> None:
    await store.set_locale(user, callback_data.locale)
    tr = texts(callback_data.locale)
    await callback.answer()
    if callback.message is not None:
        await callback.message.answer(tr("language.saved"))


async def change_role(message: Message, state: FSMContext, tr: Tr) -> None:
    # The draft (if any) survives a role change; the rest of the dialog starts over.
    draft = (await state.get_data()).get("draft")
    await state.set_data({"draft": draft} if draft else {})
    await state.set_state(AskQuestion.role)
    await message.answer(tr("role.ask"), reply_markup=keyboards.roles(tr))


async def cancel(message: Message, state: FSMContext, tr: Tr, user: User, tickets: Tickets) -> None:
    if await state.get_state() is not None:
        await state.clear()
        await message.answer(tr("cancel.dialog"))
        return
    ticket = await tickets.open_for(user)
    if ticket is not None:
        await message.answer(
            tr("cancel.open_ticket", number=ticket.id), reply_markup=keyboards.user_ticket(tr, ticket.id)
        )
        return
    await message.answer(tr("cancel.nothing"))
