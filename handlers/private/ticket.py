"""Messages outside the dialog: they join the open ticket, or start a new question."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import UserTicketCb
from bot.filters import PlainPrivateMessage
from bot.inbound import inbound, message_kind
from bot.states import AskQuestion
from handlers.private.question import add_to_draft
from helpdesk.domain import default_topic
from helpdesk.ports import USER_KINDS
from helpdesk.store import Draft
from helpdesk.texts import Tr
from helpdesk.tickets import CloseOutcome, FollowUp, Tickets
from storage.tickets import Ticket
from storage.users import User


def create_fast_router() -> Router:
    """Placed first: a private message in no dialog and not a command goes straight to its handler.

    Most messages are just that (a follow-up to an open ticket, or the first words of a new question). No
    other router has a handler for such a message (the others take commands, dialog states, buttons or
    group chats), so this changes nothing but the dozen routers it would otherwise pass on the way.
    """
    router = Router(name=f"{__name__}.fast")
    router.message.register(message_without_dialog, PlainPrivateMessage())
    return router


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(user_closed_ticket, UserTicketCb.filter())
    router.message.register(message_without_dialog, StateFilter(None))
    return router


async def message_without_dialog(
    message: Message, state: FSMContext, tr: Tr, user: User, tickets: Tickets
) -> None:
    if message_kind(message) not in USER_KINDS:
        await message.answer(tr("input.unsupported"))
        return
    if await tickets.follow_up(user, inbound(message)) is not FollowUp.NO_TICKET:
        return
    # No open question: this message starts a new one. Keep it as the draft and ask what it is about.
    draft = add_to_draft(Draft("", ()), message)
    assert draft is not None
    # An album's first part starts the question; its other parts join the draft without a word.
    album = message.media_group_id
    await state.set_data({"draft": draft.to_json(), **({"album": album} if album else {})})
    # One message: the note that the message is kept carries the next question.
    if user.role is None:
        await state.set_state(AskQuestion.role)
        await message.answer(f"{tr('new_question.start')}\n\n{tr('role.ask')}", reply_markup=keyboards.roles(tr))
        return
    await state.set_state(AskQuestion.topic)
    await message.answer(
        f"{tr('new_question.start')}\n\n{tr('topic.ask')}",
        reply_markup=keyboards.topics(tr, default_topic(user.role)),
    )


async def user_closed_ticket(
    callback: CallbackQuery, callback_data: UserTicketCb, tr: Tr, user: User, tickets: Tickets
) -> None:
    async def ack(outcome: CloseOutcome, ticket: Ticket | None) -> None:
        if outcome is CloseOutcome.NOT_FOUND or ticket is None:
            await callback.answer(tr("menu.outdated"), show_alert=True)
            return
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(reply_markup=None)
            if outcome is CloseOutcome.CLOSED:
                await callback.message.answer(tr("ticket.closed_by_user", number=ticket.id))
            else:
                await callback.message.answer(tr("ticket.already_closed"))

    await tickets.close_by_user(user, callback_data.ticket, ack=ack)
