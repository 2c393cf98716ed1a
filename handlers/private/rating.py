"""The user rates the help after a ticket is closed: a press on 1-5, then an optional comment.

The comment is the next message within :data:`COMMENT_WINDOW`; a message written later (the user moved on
without commenting) is what it looks like: a follow-up or a new question."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import RateCb
from bot.filters import NotCommand
from bot.states import RateTicket
from handlers.private.ticket import message_without_dialog
from helpdesk.clock import Clock
from helpdesk.ratings import RateOutcome, Ratings
from helpdesk.texts import Tr
from helpdesk.tickets import Tickets
from storage.users import User

COMMENT_WINDOW = timedelta(hours=1)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(rating_pressed, RateCb.filter())
    # /cancel is the general one (handlers.private.commands): it ends this state like any other.
    router.message.register(comment_written, StateFilter(RateTicket.comment), NotCommand())
    return router


async def rating_pressed(
    callback: CallbackQuery,
    callback_data: RateCb,
    state: FSMContext,
    tr: Tr,
    user: User,
    ratings: Ratings,
    clock: Clock,
) -> None:
    if callback_data.score == 0:  # «Без комментария»
        await state.clear()
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(reply_markup=None)
            await callback.message.answer(tr("rating.skipped"))
        return
    outcome, ticket = await ratings.rate(user.id, callback_data.ticket, callback_data.score)
    if outcome is RateOutcome.NOT_FOUND or ticket is None:
        await callback.answer(tr("rating.not_found"), show_alert=True)
        return
    if outcome is RateOutcome.ALREADY:
        await callback.answer(tr("rating.already"))
        return
    await callback.answer()
    await state.set_state(RateTicket.comment)
    await state.set_data({"ticket": ticket.id, "at": clock().isoformat()})
    if isinstance(callback.message, Message):
        await callback.message.edit_text(
            tr("rating.ask", number=ticket.id) + "\n\n" + tr("rating.thanks", score=callback_data.score)
        )
        await callback.message.answer(tr("rating.comment_ask"), reply_markup=keyboards.rating_comment(tr, ticket.id))


async def comment_written(
    message: Message, state: FSMContext, tr: Tr, user: User, ratings: Ratings, tickets: Tickets, clock: Clock
) -> None:
    data = await state.get_data()
    await state.clear()
    at = data.get("at")
    if not isinstance(at, str) or clock() - datetime.fromisoformat(at) > COMMENT_WINDOW:
        await message_without_dialog(message, state, tr, user, tickets)
        return
    ticket_id = data.get("ticket")
    text = message.text or message.caption or ""
    if isinstance(ticket_id, int) and text.strip():
        await ratings.comment(user.id, ticket_id, text)
        await message.answer(tr("rating.comment_thanks"))
    else:
        await message.answer(tr("rating.skipped"))
