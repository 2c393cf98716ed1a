"""The conduct policy's commands and buttons.

* staff group: «Завершить: нарушение регламента» on the card (with a confirmation);
* management (in the manager chat or the staff group; see :mod:`helpdesk.rules.roles`):
  ``/unblock <ticket | id…>``, and the buttons under a violation alert: «Снять ограничение»,
  «Заблокировать», «Вернуть вопрос в работу» (anyone else pressing them is refused politely);
* private chats: ``/complaint`` and «Пожаловаться директору» under answers — a one-message dialog.

The checks themselves run in :mod:`bot.middlewares.conduct`, before any handler.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.callbacks import ComplaintCb, ConductAlertCb, ConductEndAction, ConductEndCb
from bot.config import Settings
from bot.delivery import Gateway
from bot.filters import (
    FromStaffGroup,
    HasText,
    InStaffChat,
    IsCommand,
    NotCommand,
    PrivateChat,
    StaffMembership,
)
from bot.middlewares.conduct import COMPLAINT_STATES
from bot.roles import Allowed, Roles
from bot.staff_chat import StaffChat
from bot.states import ComplaintDialog
from helpdesk.conduct import unblock_target
from helpdesk.conduct_desk import AlertAction, ConductDesk, Decided, Decision, Ended, EndOutcome
from helpdesk.formatting import escape, user_link
from helpdesk.ports import Destination
from helpdesk.rules.roles import Action
from helpdesk.texts import Tr
from helpdesk.tickets import Tickets
from storage.users import User

ADMIN_STATUSES = {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR}

# Who may press which button under a violation alert (all of them: management; helpdesk.rules.roles).
ALERT_ACTIONS = {
    AlertAction.LIFT: Action.UNBLOCK,
    AlertAction.BLOCK: Action.BLOCK,
    AlertAction.REOPEN: Action.REOPEN_ENDED,
}


def create_router(settings: Settings, membership: StaffMembership, roles: Roles) -> Router:
    router = Router(name=__name__)

    staff = Router(name=f"{__name__}.staff")
    staff.callback_query.register(
        end_asked, ConductEndCb.filter(F.action == ConductEndAction.ASK), FromStaffGroup(membership)
    )
    staff.callback_query.register(
        end_confirmed, ConductEndCb.filter(F.action == ConductEndAction.YES), FromStaffGroup(membership)
    )
    staff.callback_query.register(
        end_cancelled, ConductEndCb.filter(F.action == ConductEndAction.NO), FromStaffGroup(membership)
    )
    staff.callback_query.register(stranger_pressed, ConductEndCb.filter())

    management = Router(name=f"{__name__}.management")
    management.message.filter(IsCommand(), InStaffChat(membership.staff, settings.manager_chat_id))
    management.message.register(unblock, Command("unblock"), Allowed(roles, Action.UNBLOCK))
    management.message.register(unblock_refused, Command("unblock"))

    # The buttons under a violation alert: in the manager chat or the staff group, by management only.
    alerts = Router(name=f"{__name__}.alerts")
    where = InStaffChat(membership.staff, settings.manager_chat_id)
    for action, allowed in ALERT_ACTIONS.items():
        alerts.callback_query.register(
            alert_decided, ConductAlertCb.filter(F.action == action), where, Allowed(roles, allowed)
        )
    alerts.callback_query.register(alert_refused, ConductAlertCb.filter())

    private = Router(name=f"{__name__}.private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.message.register(complaint_command, Command("complaint"))
    private.callback_query.register(complaint_button, ComplaintCb.filter())
    private.message.register(complaint_received, StateFilter(ComplaintDialog.text), HasText(), NotCommand())
    # Anything else but a command (which works as usual: /cancel ends the dialog).
    private.message.register(complaint_not_text, StateFilter(ComplaintDialog.text), NotCommand())

    router.include_routers(staff, management, alerts, private)
    return router


# ---- the specialist's button ---------------------------------------------------------------------------


async def end_asked(
    callback: CallbackQuery, callback_data: ConductEndCb, gateway: Gateway, staff_chat: StaffChat, tr: Tr
) -> None:
    card = callback.message
    await callback.answer()
    if not isinstance(card, Message):
        return
    thread = card.message_thread_id if staff_chat.forum else None
    await gateway.send(
        Destination(card.chat.id, thread, card.message_id),
        tr("conduct.end_confirm", number=callback_data.ticket),
        markup=keyboards.conduct_end_confirm(tr, callback_data.ticket),
    )


async def end_confirmed(
    callback: CallbackQuery,
    callback_data: ConductEndCb,
    bot: Bot,
    fsm_storage: BaseStorage,
    conduct: ConductDesk,
    tr: Tr,
) -> None:
    async def ack(ended: Ended) -> None:
        if ended.outcome is EndOutcome.NOT_FOUND or ended.ticket is None or ended.user is None:
            await callback.answer(tr("staff.not_found"), show_alert=True)
            return
        number = ended.ticket.id
        if ended.outcome is EndOutcome.CLOSED:
            await _settle(callback, tr("conduct.end_closed", number=number))
            await callback.answer(tr("conduct.end_closed", number=number), show_alert=True)
            return
        done = tr("conduct.end_done", number=number)
        await _settle(callback, done)
        await callback.answer(done)
        # The user's own dialog (a draft, say) ends with the session; a complaint being written goes on.
        user = ended.user
        state = FSMContext(
            storage=fsm_storage,
            key=StorageKey(bot_id=bot.id, chat_id=user.chat_id, user_id=int(user.external_id)),
        )
        if await state.get_state() not in COMPLAINT_STATES:
            await state.clear()

    who = callback.from_user
    await conduct.manual_end(callback_data.ticket, staff_id=who.id, staff_name=who.first_name, ack=ack)


async def end_cancelled(callback: CallbackQuery, callback_data: ConductEndCb, tr: Tr) -> None:
    await _settle(callback, tr("conduct.end_cancelled", number=callback_data.ticket))
    await callback.answer()


async def _settle(callback: CallbackQuery, text: str) -> None:
    """The confirmation message becomes the record of what was decided, without buttons."""
    if isinstance(callback.message, Message):
        try:
            await callback.message.edit_text(text, reply_markup=None)
        except TelegramAPIError:
            pass  # too old to edit, or already settled by a colleague's press


async def stranger_pressed(callback: CallbackQuery, tr: Tr) -> None:
    await callback.answer(tr("staff.only"), show_alert=True)


# ---- /unblock ------------------------------------------------------------------------------------------


async def unblock_refused(message: Message, tr: Tr) -> None:
    await message.reply(tr("conduct.unblock_only_admins"))


async def unblock(message: Message, command: CommandObject, conduct: ConductDesk, tr: Tr) -> None:
    who = message.from_user
    if who is None:
        return
    target = unblock_target(command.args)
    if target is None:
        await message.reply(tr("conduct.unblock_usage"))
        return
    lifted, user = await conduct.unblock(target, actor_id=who.id, actor_name=who.first_name)
    if user is None:
        await message.reply(tr("conduct.unblock_not_found"))
        return
    if lifted:
        await message.reply(tr("conduct.unblock_done", user=user_link(user.external_id, user.display_name)))
    else:
        await message.reply(
            tr("conduct.unblock_nothing", user=user_link(user.external_id, user.display_name))
        )


# ---- the management's buttons under a violation alert ----------------------------------------------------


async def alert_decided(
    callback: CallbackQuery, callback_data: ConductAlertCb, conduct: ConductDesk, gateway: Gateway, tr: Tr
) -> None:
    who = callback.from_user
    name = " ".join(p for p in (who.first_name, who.last_name) if p)

    async def ack(decided: Decided) -> None:
        if decided.decision is Decision.NOT_FOUND:
            await callback.answer(tr("conduct.alert_not_found"), show_alert=True)
        elif decided.decision is Decision.NOTHING:
            await callback.answer(tr(f"conduct.alert_nothing_{decided.action.value}"), show_alert=True)
        else:
            await callback.answer(tr(f"conduct.alert_done_{decided.action.value}"))

    decided = await conduct.decide(
        callback_data.action,
        callback_data.user,
        callback_data.ticket or None,
        actor_id=who.id,
        actor_name=name,
        ack=ack,
    )
    alert = callback.message
    if decided.decision is not Decision.DONE or not isinstance(alert, Message):
        return
    # The alert becomes the record of who decided what; the buttons stay (a decision may be changed).
    try:
        await gateway.edit(
            alert.chat.id,
            alert.message_id,
            f"{alert.html_text}\n{conduct.decided_line(decided, name)}",
            markup=alert.reply_markup,
        )
    except TelegramAPIError:
        pass  # too old to edit: the audit trail has the decision anyway


async def alert_refused(callback: CallbackQuery, tr: Tr) -> None:
    await callback.answer(tr("conduct.alert_only_management"), show_alert=True)


# ---- complaints ----------------------------------------------------------------------------------------


async def _ask_complaint(message: Message, state: FSMContext, tr: Tr, ticket_id: int | None) -> None:
    await state.set_state(ComplaintDialog.text)
    await state.set_data({"ticket": ticket_id})
    about = tr("conduct.complaint_about", number=ticket_id) if ticket_id else ""
    await message.answer(tr("conduct.complaint_ask", about=about))


async def complaint_command(
    message: Message, state: FSMContext, tr: Tr, user: User, tickets: Tickets
) -> None:
    latest = await tickets.latest_for(user)
    await _ask_complaint(message, state, tr, latest.id if latest else None)


async def complaint_button(
    callback: CallbackQuery,
    callback_data: ComplaintCb,
    state: FSMContext,
    tr: Tr,
    user: User,
    tickets: Tickets,
) -> None:
    ticket = await tickets.get(callback_data.ticket)
    if ticket is None or ticket.user_id != user.id or not isinstance(callback.message, Message):
        await callback.answer(tr("menu.outdated"), show_alert=True)
        return
    await callback.answer()
    await _ask_complaint(callback.message, state, tr, ticket.id)


async def complaint_received(
    message: Message, state: FSMContext, tr: Tr, user: User, conduct: ConductDesk
) -> None:
    data = await state.get_data()
    await state.clear()
    ticket_id = data.get("ticket")
    complaint, delivered = await conduct.complain(
        user, ticket_id if isinstance(ticket_id, int) else None, message.text or ""
    )
    if delivered:
        await message.answer(tr("conduct.complaint_thanks", number=complaint.id))
    else:
        school = conduct.school
        await message.answer(
            tr(
                "conduct.complaint_saved",
                number=complaint.id,
                phone=escape(school.phone),
                email=escape(school.email),
            )
        )


async def complaint_not_text(message: Message, tr: Tr) -> None:
    await message.answer(tr("conduct.complaint_text_only"))
