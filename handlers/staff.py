"""The staff group: specialists' messages in ticket threads, and the card buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import StaffAction, StaffCb
from bot.desk import Desk
from bot.duty import Duty
from bot.filters import (
    FromPerson,
    FromStaffGroup,
    HasText,
    InStaffChat,
    NotCommand,
    StaffAnswer,
    StaffMembership,
)
from bot.staff_chat import StaffChat
from bot.states import EscalateTicket
from helpdesk.texts import Tr
from helpdesk.tickets import ClaimOutcome, TicketService


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
    # Anyone else pressing (or forging) a staff button is refused and nothing changes.
    router.callback_query.register(stranger_pressed, StaffCb.filter())
    return router


async def staff_message(message: Message, desk: Desk) -> None:
    await desk.staff_message(message)


async def card_claimed(
    callback: CallbackQuery, callback_data: StaffCb, service: TicketService, desk: Desk, tr: Tr
) -> None:
    who = callback.from_user
    outcome, ticket = await service.claim(callback_data.ticket, staff_id=who.id, staff_name=who.first_name)
    if outcome is ClaimOutcome.NOT_FOUND or ticket is None:
        await callback.answer(tr("staff.not_found"), show_alert=True)
        return
    if outcome is ClaimOutcome.ALREADY_CLAIMED:
        await callback.answer(
            tr("staff.already_claimed", name=ticket.claimed_by_name or "—"), show_alert=True
        )
        return
    if outcome is ClaimOutcome.CLOSED:
        await callback.answer(tr("ticket.already_closed"), show_alert=True)
        return
    await callback.answer(tr("staff.claimed_ok", number=ticket.id))
    await desk.claim(ticket)


async def card_closed(
    callback: CallbackQuery, callback_data: StaffCb, service: TicketService, desk: Desk, tr: Tr
) -> None:
    changed, ticket = await service.close(callback_data.ticket, closed_by=callback.from_user.first_name)
    if ticket is None:
        await callback.answer(tr("staff.not_found"), show_alert=True)
        return
    if not changed:
        await callback.answer(tr("ticket.already_closed"))
        return
    await callback.answer(tr("staff.closed_ok", number=ticket.id))
    await desk.closed_by_staff(ticket)


async def stranger_pressed(callback: CallbackQuery, tr: Tr) -> None:
    await callback.answer(tr("staff.only"), show_alert=True)


async def card_escalate(
    callback: CallbackQuery, callback_data: StaffCb, service: TicketService, state: FSMContext, tr: Tr
) -> None:
    ticket = await service.tickets.get(callback_data.ticket)
    if ticket is None:
        await callback.answer(tr("staff.not_found"), show_alert=True)
        return
    await state.set_state(EscalateTicket.comment)
    await state.update_data(ticket=ticket.id)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.reply(tr("duty.escalate_ask", number=ticket.id))


async def _escalate(
    message: Message, state: FSMContext, service: TicketService, duty: Duty, tr: Tr, comment: str
) -> None:
    data = await state.get_data()
    await state.clear()
    ticket = await service.tickets.get(int(data.get("ticket", 0)))
    if ticket is None:
        await message.reply(tr("staff.not_found"))
        return
    who = message.from_user.first_name if message.from_user else "—"
    await duty.escalate_by_specialist(ticket, who, comment)
    await message.reply(tr("duty.escalate_done", number=ticket.id))


async def escalation_comment(
    message: Message, state: FSMContext, service: TicketService, duty: Duty, tr: Tr
) -> None:
    await _escalate(message, state, service, duty, tr, message.text or "")


async def escalation_skipped(
    message: Message, state: FSMContext, service: TicketService, duty: Duty, tr: Tr
) -> None:
    await _escalate(message, state, service, duty, tr, "")


async def escalation_cancelled(message: Message, state: FSMContext, tr: Tr) -> None:
    await state.clear()
    await message.reply(tr("duty.escalate_cancelled"))


async def card_vendor(
    callback: CallbackQuery, callback_data: StaffCb, service: TicketService, duty: Duty, tr: Tr
) -> None:
    ticket = await service.tickets.get(callback_data.ticket)
    if ticket is None or not ticket.is_open:
        await callback.answer(
            tr("ticket.already_closed") if ticket else tr("staff.not_found"), show_alert=True
        )
        return
    await callback.answer()
    ticket = await duty.hand_to_vendor(ticket)
    if isinstance(callback.message, Message):
        await callback.message.reply(tr("duty.vendor_done", number=ticket.id))
