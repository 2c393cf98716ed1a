"""Staff commands in the staff group and the manager chat: duty, schedule, the vendor's ticket numbers
(any member of the staff group); inviting, unlinking and relinking specialists (management only, see
:mod:`helpdesk.rules.roles`). The same commands from anyone else are refused politely."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.filters import InStaffChat, IsCommand
from bot.roles import Allowed, Roles
from bot.staff_chat import StaffChat
from helpdesk.audit import AuditTrail
from helpdesk.duty import Duty
from helpdesk.formatting import escape
from helpdesk.rules.roles import Action
from helpdesk.rules.schedule import format_schedule
from helpdesk.school import SchoolProfile
from helpdesk.specialists import RelinkOutcome, Specialists
from helpdesk.texts import Tr
from helpdesk.tickets import Tickets

MANAGEMENT_COMMANDS = ("invite", "unlink", "relink", "audit")
STAFF_COMMANDS = ("duty", "specialists", "vendor", "ticket", *MANAGEMENT_COMMANDS)


def create_router(staff: StaffChat, manager_chat_id: int | None, roles: Roles) -> Router:
    router = Router(name=__name__)
    router.message.filter(IsCommand(), InStaffChat(staff, manager_chat_id))  # commands only: others skip
    router.message.register(duty_now, Command("duty"))
    router.message.register(schedule, Command("schedule"))
    router.message.register(invite, Command("invite"), Allowed(roles, Action.INVITE))
    router.message.register(list_specialists, Command("specialists"))
    router.message.register(unlink, Command("unlink"), Allowed(roles, Action.UNLINK))
    router.message.register(relink, Command("relink"), Allowed(roles, Action.CONFIRM_LINK))
    router.message.register(vendor_ref, Command("vendor"))
    router.message.register(audit, Command("audit"), Allowed(roles, Action.AUDIT))
    router.message.register(ticket_history, Command("ticket"), Allowed(roles, Action.TICKET_HISTORY))
    router.message.register(management_only, Command(*MANAGEMENT_COMMANDS))
    router.message.register(refuse, Command("ticket"))
    return router


async def management_only(message: Message, tr: Tr) -> None:
    """A management command from someone the profile does not name as management."""
    await message.reply(tr("roles.management_only"))


def create_refusal_router() -> Router:
    """Staff commands typed anywhere else (a private chat with the bot, a foreign group)."""
    router = Router(name=f"{__name__}.refusal")
    router.message.filter(IsCommand())
    router.message.register(refuse, Command(*STAFF_COMMANDS))
    return router


async def refuse(message: Message, tr: Tr) -> None:
    await message.answer(tr("duty.staff_only"))


async def duty_now(message: Message, duty: Duty, tr: Tr) -> None:
    await message.answer(await duty.board(tr))


async def schedule(message: Message, school: SchoolProfile, specialists: Specialists, tr: Tr) -> None:
    await message.answer(format_schedule(school, specialists.now().date(), tr))


def _keys(school: SchoolProfile) -> str:
    return ", ".join(s.key for s in school.specialists)


async def invite(message: Message, command: CommandObject, bot: Bot, specialists: Specialists, tr: Tr) -> None:
    key = (command.args or "").strip()
    if not key:
        await message.answer(tr("duty.invite_usage", keys=_keys(specialists.school)))
        return
    spec = specialists.school.find_specialist(key)
    if spec is None:
        await message.answer(tr("duty.invite_unknown", key=escape(key), keys=_keys(specialists.school)))
        return
    me = await bot.me()
    who = message.from_user
    link = await specialists.invite(
        spec.key, who.id if who else None, me.username, created_by_name=who.full_name if who else ""
    )
    await message.answer(
        tr("duty.invite_link", name=specialists.label(spec, mention=False), link=link)
        + "\n"
        + tr("duty.invite_expires", hours=specialists.school.management.invite_hours)
    )


async def list_specialists(message: Message, specialists: Specialists, tr: Tr) -> None:
    lines = []
    for spec in specialists.school.specialists:
        name = specialists.label(spec, mention=False)
        if spec.key in specialists.links:
            lines.append(tr("duty.specialist_linked", name=name))
        else:
            lines.append(tr("duty.specialist_unlinked", name=name, key=spec.key))
    await message.answer(tr("duty.specialists_list", items="\n".join(lines)))


async def unlink(message: Message, command: CommandObject, specialists: Specialists, tr: Tr) -> None:
    key = (command.args or "").strip()
    if not key:
        await message.answer(tr("duty.unlink_usage"))
        return
    spec = specialists.school.find_specialist(key)
    who = message.from_user
    if spec is None or not await specialists.unlink(
        spec.key, actor_id=who.id if who else None, actor_name=who.full_name if who else ""
    ):
        await message.answer(tr("duty.unlink_unknown", key=escape(key)))
        return
    await message.answer(tr("duty.unlinked", name=specialists.label(spec, mention=False)))


async def relink(message: Message, command: CommandObject, specialists: Specialists, tr: Tr) -> None:
    arg = (command.args or "").strip().lstrip("№#")
    if not arg.isdigit():
        await message.answer(tr("duty.relink_usage"))
        return
    who = message.from_user
    result = await specialists.relink(int(arg), who.id if who else None, who.full_name if who else "")
    if result.outcome is RelinkOutcome.UNKNOWN or result.specialist is None:
        await message.answer(tr("duty.relink_unknown", number=arg))
        return
    await message.answer(
        tr("duty.relinked", name=specialists.label(result.specialist, mention=False), who=escape(result.tg_name))
    )


async def audit(message: Message, audit_trail: AuditTrail, tr: Tr) -> None:
    entries = await audit_trail.recent()
    if not entries:
        await message.answer(tr("audit.empty"))
        return
    lines = [audit_trail.line(tr, e) for e in entries]
    await message.answer(tr("audit.title", count=len(entries)) + "\n" + "\n".join(lines))


async def ticket_history(message: Message, command: CommandObject, audit_trail: AuditTrail, tr: Tr) -> None:
    arg = (command.args or "").strip().lstrip("№#")
    if not arg.isdigit():
        await message.answer(tr("audit.ticket_usage"))
        return
    history = await audit_trail.ticket_history(int(arg))
    if history is None:
        await message.answer(tr("staff.not_found"))
        return
    ticket = history.ticket
    lines = [audit_trail.line(tr, e) for e in history.entries] or [tr("audit.ticket_nothing")]
    head = tr(
        "audit.ticket_title",
        number=ticket.id,
        status=tr(f"audit.status.{ticket.status.value}"),
        opened=ticket.created_at.astimezone(audit_trail.school.tz).strftime("%d.%m %H:%M"),
    )
    await message.answer(head + "\n" + "\n".join(lines))


async def vendor_ref(message: Message, command: CommandObject, tickets: Tickets, tr: Tr) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) != 2 or not parts[0].lstrip("№#").isdigit():
        await message.answer(tr("duty.vendor_usage"))
        return
    ticket = await tickets.set_vendor_ref(int(parts[0].lstrip("№#")), parts[1].strip())
    if ticket is None:
        await message.answer(tr("staff.not_found"))
        return
    await message.answer(tr("duty.vendor_ref_saved", number=ticket.id, ref=escape(ticket.vendor_ref or "")))
