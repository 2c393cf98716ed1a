"""Training seminars.

Users (private chats): ``/seminars`` lists the upcoming ones; "Записаться" / "Отменить запись" buttons
on that list, on the announcement and on the reminders.

Management (in the manager chat or the staff group; the person must be management, see
:mod:`helpdesk.rules.roles`): ``/seminar <when>; <title>; <place or link>; <for whom>`` shows a preview
with every link's domain and "Объявить" / "Не объявлять"; "Объявить" tells the users of those roles.
``/signups`` lists who signed up (``/kbstats`` and the knowledge base's other commands: see
:mod:`handlers.knowledge`). Anyone else is refused, commands and buttons alike.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.callbacks import SeminarAdminAction, SeminarAdminCb, SeminarCb
from bot.filters import InStaffChat, IsCommand, PrivateChat
from bot.roles import Allowed, Roles
from bot.staff_chat import StaffChat
from helpdesk.formatting import TEXT_LIMIT, escape, user_link, visible_len
from helpdesk.rules.roles import Action
from helpdesk.rules.seminars import link_domains
from helpdesk.seminars import Choice, Roster, SeminarService, Unreadable
from helpdesk.texts import Tr
from storage.users import User

ADMIN_COMMANDS = ("seminar", "signups")


def create_router(staff: StaffChat, manager_chat_id: int | None, roles: Roles) -> Router:
    router = Router(name=__name__)

    users = Router(name=f"{__name__}.users")
    users.message.filter(PrivateChat())
    users.callback_query.filter(PrivateChat())
    users.message.filter(IsCommand())  # only commands here: anything else skips the router
    users.message.register(list_seminars, Command("seminars"))
    users.callback_query.register(signup_pressed, SeminarCb.filter())
    users.message.register(staff_only, Command(*ADMIN_COMMANDS))

    admin = Router(name=f"{__name__}.admin")
    admin.message.filter(InStaffChat(staff, manager_chat_id))
    admin.callback_query.filter(InStaffChat(staff, manager_chat_id))
    admin.message.register(announce, Command("seminar"), Allowed(roles, Action.ANNOUNCE))
    admin.message.register(show_signups, Command("signups"), Allowed(roles, Action.SIGNUPS))
    admin.message.register(management_only, Command(*ADMIN_COMMANDS))
    admin.callback_query.register(
        draft_published,
        SeminarAdminCb.filter(F.action == SeminarAdminAction.PUBLISH),
        Allowed(roles, Action.ANNOUNCE),
    )
    admin.callback_query.register(
        draft_discarded,
        SeminarAdminCb.filter(F.action == SeminarAdminAction.DISCARD),
        Allowed(roles, Action.ANNOUNCE),
    )
    admin.callback_query.register(
        list_pressed, SeminarAdminCb.filter(F.action == SeminarAdminAction.LIST), Allowed(roles, Action.SIGNUPS)
    )
    # Anyone else pressing (or forging) an admin button: refused, nothing changes.
    admin.callback_query.register(management_pressed, SeminarAdminCb.filter())

    router.include_routers(users, admin)
    return router


async def _set_buttons(message: Message, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        # Pressed twice before the first press changed the buttons: they are already right.
        if "message is not modified" not in exc.message:
            raise


# ---- users -----------------------------------------------------------------------------------------


async def list_seminars(message: Message, tr: Tr, user: User, seminars: SeminarService) -> None:
    offers = await seminars.upcoming_for(user.id)
    if not offers:
        await message.answer(tr("seminars.none"))
        return
    await message.answer(tr("seminars.title"))
    for offer in offers:
        text = seminars.card(tr, offer.seminar)
        if offer.signed_up:
            text += "\n" + tr("seminar.signed_mark")
        await message.answer(
            text, reply_markup=keyboards.seminar(tr, offer.seminar.id, signed_up=offer.signed_up)
        )


async def staff_only(message: Message, tr: Tr) -> None:
    await message.answer(tr("seminar.staff_only"))


async def signup_pressed(
    callback: CallbackQuery, callback_data: SeminarCb, tr: Tr, user: User, seminars: SeminarService
) -> None:
    choice = await seminars.choose(callback_data.seminar, user.id, callback_data.action)
    message = callback.message if isinstance(callback.message, Message) else None
    if choice is Choice.GONE:
        await callback.answer(tr("seminar.gone"), show_alert=True)
        if message is not None:
            await _set_buttons(message, None)
        return
    signed = choice is Choice.SIGNED_UP
    await callback.answer(tr("seminar.signed_ok" if signed else "seminar.cancelled_ok"))
    if message is not None:
        await _set_buttons(message, keyboards.seminar(tr, callback_data.seminar, signed_up=signed))


# ---- management ------------------------------------------------------------------------------------


async def management_only(message: Message, tr: Tr) -> None:
    await message.reply(tr("roles.management_only"))


async def management_pressed(callback: CallbackQuery, tr: Tr) -> None:
    await callback.answer(tr("roles.management_only"), show_alert=True)


def _author(message: Message) -> tuple[int | None, str]:
    who = message.from_user
    if who is None:
        return None, ""
    return who.id, " ".join(p for p in (who.first_name, who.last_name) if p)


async def announce(message: Message, command: CommandObject, tr: Tr, seminars: SeminarService) -> None:
    args = (command.args or "").strip()
    if not args:
        await message.answer(tr("seminar.help"))
        return
    author_id, author_name = _author(message)
    outcome = await seminars.announce(args, author_id=author_id, author_name=author_name)
    if isinstance(outcome, Unreadable):
        await message.answer(
            tr(f"seminar.error.{outcome.code}", value=escape(outcome.value)) + "\n\n" + tr("seminar.help")
        )
        return
    seminar = outcome.seminar
    domains = link_domains(" ".join((seminar.title, seminar.place)))
    links = tr("seminar.preview_links", domains=escape(", ".join(domains))) if domains else tr(
        "seminar.preview_no_links"
    )
    await message.answer(
        tr("seminar.preview", card=seminars.card(tr, seminar), count=outcome.audience) + "\n\n" + links,
        reply_markup=keyboards.seminar_draft(tr, seminar.id),
    )


async def draft_published(
    callback: CallbackQuery, callback_data: SeminarAdminCb, tr: Tr, seminars: SeminarService
) -> None:
    seminar = await seminars.publish(
        callback_data.seminar, actor_id=callback.from_user.id, actor_name=callback.from_user.full_name
    )
    if seminar is None:
        await callback.answer(tr("seminar.not_draft"), show_alert=True)
        return
    await callback.answer()
    assert isinstance(callback.message, Message)
    who = escape(callback.from_user.first_name)
    await callback.message.edit_text(
        tr("seminar.published", card=seminars.card(tr, seminar), name=who),
        reply_markup=keyboards.seminar_published(tr, seminar.id),
    )
    # The broadcast is its own use case (the scheduler's check finishes it if this one is cut short).
    sent = await seminars.broadcast(seminar)
    await callback.message.answer(tr("seminar.sent", title=escape(seminar.title), count=sent))


async def draft_discarded(
    callback: CallbackQuery, callback_data: SeminarAdminCb, tr: Tr, seminars: SeminarService
) -> None:
    if not await seminars.discard(callback_data.seminar):
        await callback.answer(tr("seminar.not_draft"), show_alert=True)
        return
    await callback.answer()
    assert isinstance(callback.message, Message)
    await callback.message.edit_text(tr("seminar.discarded"), reply_markup=None)


async def _send_rosters(message: Message, tr: Tr, seminars: SeminarService, rosters: list[Roster]) -> None:
    for roster in rosters:
        header = tr(
            "seminar.list_title",
            title=escape(roster.seminar.title),
            when=seminars.when(tr, roster.seminar),
            count=len(roster.signups),
        )
        lines = [
            tr(
                "seminar.list_line",
                number=i,
                user=user_link(s.user.external_id, s.user.display_name),
                role=tr(f"role.{s.user.role.value}") if s.user.role else "—",
            )
            for i, s in enumerate(roster.signups, 1)
        ] or [tr("seminar.list_empty")]
        # One message per seminar; a very long list continues in the next message.
        chunk = header
        for line in lines:
            if visible_len(chunk) + visible_len(line) + 1 > TEXT_LIMIT - 100:
                await message.answer(chunk)
                chunk = ""
            chunk = f"{chunk}\n{line}" if chunk else line
        await message.answer(chunk)


async def show_signups(message: Message, tr: Tr, seminars: SeminarService) -> None:
    rosters = await seminars.rosters()
    if not rosters:
        await message.answer(tr("seminar.list_none"))
        return
    await _send_rosters(message, tr, seminars, rosters)


async def list_pressed(
    callback: CallbackQuery, callback_data: SeminarAdminCb, tr: Tr, seminars: SeminarService
) -> None:
    roster = await seminars.roster(callback_data.seminar)
    if roster is None or not isinstance(callback.message, Message):
        await callback.answer(tr("seminar.not_draft"), show_alert=True)
        return
    await callback.answer()
    await _send_rosters(callback.message, tr, seminars, [roster])
