"""The staff group: specialists' messages in ticket threads, and the card buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import CloseAction, CloseCb, StaffAction, StaffArticleCb, StaffCb
from bot.filters import (
    FromPerson,
    FromStaffGroup,
    HasText,
    InStaffChat,
    NotCommand,
    StaffAnswer,
    StaffMembership,
)
from bot.inbound import inbound
from bot.staff_chat import StaffChat
from bot.states import EscalateTicket
from helpdesk.kb_answers import ArticleAnswers, SendOutcome, Suggestions
from helpdesk.texts import Tr
from helpdesk.tickets import ClaimOutcome, CloseOutcome, Tickets, VendorOutcome
from storage.tickets import Ticket


def create_fast_router(staff: StaffChat) -> Router:
    """Placed near the top: a specialist's plain message in the staff group goes straight to its handler.

    Most messages in the group are just that (an answer in a ticket's topic, or staff talk). The routers
    it would otherwise pass take commands, dialog states, buttons, private chats or the group's move to a
    supergroup, none of which such a message is (see :class:`bot.filters.StaffAnswer`).
    """
    router = Router(name=f"{__name__}.fast")
    router.message.register(staff_message, StaffAnswer(staff))
    return router


def create_router(staff: StaffChat, membership: StaffMembership) -> Router:
    router = Router(name=__name__)
    # Answers written in the group just before it became a supergroup may be handled after the move.
    router.message.filter(InStaffChat(staff, former=True))
    # A specialist who pressed "to the deputy director" writes the comment next.
    router.message.register(escalation_skipped, StateFilter(EscalateTicket.comment), Command("skip"))
    router.message.register(escalation_cancelled, StateFilter(EscalateTicket.comment), Command("cancel"))
    router.message.register(escalation_comment, StateFilter(EscalateTicket.comment), HasText(), NotCommand())
    router.message.register(article_command, Command("article"), FromPerson())
    router.message.register(staff_message, FromPerson(), NotCommand())
    router.callback_query.register(
        card_claimed, StaffCb.filter(F.action == StaffAction.CLAIM), FromStaffGroup(membership)
    )
    router.callback_query.register(
        card_closed, StaffCb.filter(F.action == StaffAction.CLOSE), FromStaffGroup(membership)
    )
    router.callback_query.register(
        card_escalate, StaffCb.filter(F.action == StaffAction.ESCALATE), FromStaffGroup(membership)
    )
    router.callback_query.register(
        card_vendor, StaffCb.filter(F.action == StaffAction.VENDOR), FromStaffGroup(membership)
    )
    router.callback_query.register(
        card_article, StaffCb.filter(F.action == StaffAction.ARTICLE), FromStaffGroup(membership)
    )
    router.callback_query.register(article_chosen, StaffArticleCb.filter(), FromStaffGroup(membership))
    router.callback_query.register(stranger_pressed, StaffArticleCb.filter())
    router.callback_query.register(
        close_confirmed, CloseCb.filter(F.action == CloseAction.YES), FromStaffGroup(membership)
    )
    router.callback_query.register(
        close_kept, CloseCb.filter(F.action == CloseAction.NO), FromStaffGroup(membership)
    )
    # Anyone else pressing (or forging) a staff button is refused and nothing changes.
    router.callback_query.register(stranger_pressed, StaffCb.filter())
    router.callback_query.register(stranger_pressed, CloseCb.filter())
    return router


async def staff_message(message: Message, tickets: Tickets, staff_chat: StaffChat) -> None:
    """A specialist's message: to the user of the ticket it belongs to (the outcome needs no answer here)."""
    await tickets.answer(inbound(message, forum=staff_chat.forum, with_html=True))


async def card_claimed(callback: CallbackQuery, callback_data: StaffCb, tickets: Tickets, tr: Tr) -> None:
    async def ack(outcome: ClaimOutcome, ticket: Ticket | None) -> None:
        if outcome is ClaimOutcome.NOT_FOUND or ticket is None:
            await callback.answer(tr("staff.not_found"), show_alert=True)
        elif outcome is ClaimOutcome.ALREADY_CLAIMED:
            await callback.answer(
                tr("staff.already_claimed", name=ticket.claimed_by_name or "—"), show_alert=True
            )
        elif outcome is ClaimOutcome.CLOSED:
            await callback.answer(tr("ticket.already_closed"), show_alert=True)
        else:
            await callback.answer(tr("staff.claimed_ok", number=ticket.id))

    who = callback.from_user
    await tickets.claim(callback_data.ticket, staff_id=who.id, staff_name=who.first_name, ack=ack)


async def card_closed(callback: CallbackQuery, callback_data: StaffCb, tickets: Tickets, tr: Tr) -> None:
    async def ack(outcome: CloseOutcome, ticket: Ticket | None) -> None:
        if outcome is CloseOutcome.NOT_FOUND or ticket is None:
            await callback.answer(tr("staff.not_found"), show_alert=True)
        elif outcome is CloseOutcome.ALREADY_CLOSED:
            await callback.answer(tr("ticket.already_closed"))
        else:
            await callback.answer(tr("staff.closed_ok", number=ticket.id))

    async def confirm(ticket: Ticket, upto: int) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.reply(
                tr("routing.close_confirm", number=ticket.id),
                reply_markup=keyboards.close_confirm(tr, ticket.id, upto),
            )

    who = callback.from_user
    await tickets.close_by_staff(
        callback_data.ticket, staff_name=who.first_name, staff_id=who.id, ack=ack, confirm=confirm
    )


async def close_confirmed(callback: CallbackQuery, callback_data: CloseCb, tickets: Tickets, tr: Tr) -> None:
    """«Да, закрыть» under the question "the user's last message has no answer: close anyway?"."""

    async def ack(outcome: CloseOutcome, ticket: Ticket | None) -> None:
        if outcome is CloseOutcome.NOT_FOUND or ticket is None:
            await callback.answer(tr("staff.not_found"), show_alert=True)
            await settle(callback, tr("staff.not_found"))
        elif outcome is CloseOutcome.ALREADY_CLOSED:
            await callback.answer(tr("ticket.already_closed"))
            await settle(callback, tr("ticket.already_closed"))
        else:
            await callback.answer(tr("staff.closed_ok", number=ticket.id))
            await settle(callback, tr("staff.closed_ok", number=ticket.id))

    async def again(ticket: Ticket, upto: int) -> None:
        # The user wrote again after the question was asked: the specialist reads it first.
        await callback.answer(tr("routing.close_stale"), show_alert=True)
        await settle(callback, tr("routing.close_stale"))

    who = callback.from_user
    await tickets.close_by_staff(
        callback_data.ticket,
        staff_name=who.first_name,
        staff_id=who.id,
        ack=ack,
        confirm=again,
        confirmed_upto=callback_data.upto,
    )


async def close_kept(callback: CallbackQuery, callback_data: CloseCb, tr: Tr) -> None:
    await callback.answer()
    await settle(callback, tr("routing.close_kept", number=callback_data.ticket))


async def settle(callback: CallbackQuery, text: str) -> None:
    """A question with buttons becomes the record of what was decided, without buttons."""
    if isinstance(callback.message, Message):
        try:
            await callback.message.edit_text(text, reply_markup=None)
        except TelegramAPIError:
            pass  # too old to edit, or already settled by a colleague's press


async def stranger_pressed(callback: CallbackQuery, tr: Tr) -> None:
    await callback.answer(tr("staff.only"), show_alert=True)


async def card_escalate(
    callback: CallbackQuery, callback_data: StaffCb, tickets: Tickets, state: FSMContext, tr: Tr
) -> None:
    ticket = await tickets.get(callback_data.ticket)
    if ticket is None:
        await callback.answer(tr("staff.not_found"), show_alert=True)
        return
    await state.set_state(EscalateTicket.comment)
    await state.update_data(ticket=ticket.id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.reply(tr("duty.escalate_ask", number=ticket.id))


async def _escalate(message: Message, state: FSMContext, tickets: Tickets, tr: Tr, comment: str) -> None:
    data = await state.get_data()
    await state.clear()
    who = message.from_user.first_name if message.from_user else "—"
    who_id = message.from_user.id if message.from_user else None
    ticket = await tickets.escalate(int(data.get("ticket", 0)), who=who, comment=comment, who_id=who_id)
    if ticket is None:
        await message.reply(tr("staff.not_found"))
        return
    await message.reply(tr("duty.escalate_done", number=ticket.id))


async def escalation_comment(message: Message, state: FSMContext, tickets: Tickets, tr: Tr) -> None:
    await _escalate(message, state, tickets, tr, message.text or "")


async def escalation_skipped(message: Message, state: FSMContext, tickets: Tickets, tr: Tr) -> None:
    await _escalate(message, state, tickets, tr, "")


async def escalation_cancelled(message: Message, state: FSMContext, tr: Tr) -> None:
    await state.clear()
    await message.reply(tr("duty.escalate_cancelled"))


async def card_vendor(callback: CallbackQuery, callback_data: StaffCb, tickets: Tickets, tr: Tr) -> None:
    async def ack(outcome: VendorOutcome, ticket: Ticket | None) -> None:
        if outcome is VendorOutcome.HANDED:
            await callback.answer()
        elif outcome is VendorOutcome.CLOSED:
            await callback.answer(tr("ticket.already_closed"), show_alert=True)
        else:
            await callback.answer(tr("staff.not_found"), show_alert=True)

    who = callback.from_user
    outcome, ticket = await tickets.hand_to_vendor(
        callback_data.ticket, actor_id=who.id, actor_name=who.first_name, ack=ack
    )
    if outcome is VendorOutcome.HANDED and ticket is not None and isinstance(callback.message, Message):
        await callback.message.reply(tr("duty.vendor_done", number=ticket.id))


# ---- answering with a reference article -------------------------------------------------------------


async def _offer_articles(target: Message, tr: Tr, found: Suggestions | None) -> None:
    if found is None:
        await target.reply(tr("staff.not_found"))
    elif not found.articles:
        await target.reply(tr("kb.staff_none", number=found.ticket.id))
    else:
        await target.reply(
            tr("kb.staff_pick", number=found.ticket.id),
            reply_markup=keyboards.staff_articles(found.ticket.id, found.articles),
        )


async def card_article(
    callback: CallbackQuery, callback_data: StaffCb, article_answers: ArticleAnswers, tr: Tr
) -> None:
    """The card's «Статья» button: articles matching the ticket's question, to pick one for the user."""
    await callback.answer()
    if isinstance(callback.message, Message):
        await _offer_articles(callback.message, tr, await article_answers.suggest(callback_data.ticket))


async def article_command(
    message: Message, tickets: Tickets, article_answers: ArticleAnswers, staff_chat: StaffChat, tr: Tr
) -> None:
    """``/article <words>`` in a ticket's thread: articles matching the words (or the ticket's question)."""
    found = await tickets.find(inbound(message, forum=staff_chat.forum))
    if found is None:
        await message.reply(tr("kb.staff_where"))
        return
    _, ticket = found
    words = (message.text or "").partition(" ")[2]
    await _offer_articles(message, tr, await article_answers.suggest(ticket.id, words))


async def article_chosen(
    callback: CallbackQuery, callback_data: StaffArticleCb, article_answers: ArticleAnswers, tr: Tr
) -> None:
    who = callback.from_user
    outcome, ticket, _ = await article_answers.send(
        callback_data.ticket, callback_data.article, staff_id=who.id, staff_name=who.first_name
    )
    if outcome is SendOutcome.SENT:
        await callback.answer(tr("kb.staff_sent_ok"))
        if isinstance(callback.message, Message):
            try:
                await callback.message.edit_reply_markup(reply_markup=None)
            except TelegramBadRequest as exc:
                # Pressed twice before the first press took the buttons away: they are gone already.
                if "message is not modified" not in exc.message:
                    raise
    elif outcome is SendOutcome.CLOSED:
        await callback.answer(tr("ticket.already_closed"), show_alert=True)
    elif outcome is SendOutcome.ALREADY_SENT:
        await callback.answer(tr("kb.staff_already_sent"), show_alert=True)
    elif outcome is SendOutcome.UNDELIVERED:
        await callback.answer(tr("kb.staff_undelivered"), show_alert=True)
    else:
        await callback.answer(tr("staff.not_found" if ticket is None else "kb.not_found"), show_alert=True)
