"""Management's reports, in the staff group or the manager chat: ``/report [week|month|term|dates]`` (a few
lines and a chart) and ``/export [period]`` (a CSV of the period's tickets, no message texts). Anyone else
is refused politely."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message

from bot.filters import InStaffChat, IsCommand
from bot.roles import Allowed, Roles
from bot.staff_chat import StaffChat
from helpdesk.reports import Reports
from helpdesk.rules.roles import Action
from helpdesk.texts import Tr

COMMANDS = ("report", "export")


def create_router(staff: StaffChat, manager_chat_id: int | None, roles: Roles) -> Router:
    router = Router(name=__name__)
    router.message.filter(IsCommand(), InStaffChat(staff, manager_chat_id))
    router.message.register(report, Command("report"), Allowed(roles, Action.REPORT))
    router.message.register(export, Command("export"), Allowed(roles, Action.EXPORT))
    router.message.register(management_only, Command(*COMMANDS))
    return router


def create_refusal_router() -> Router:
    """The same commands typed anywhere else (a private chat with the bot, a foreign group)."""
    router = Router(name=f"{__name__}.refusal")
    router.message.filter(IsCommand())
    router.message.register(management_only, Command(*COMMANDS))
    return router


async def management_only(message: Message, tr: Tr) -> None:
    await message.reply(tr("roles.management_only"))


async def report(message: Message, command: CommandObject, reports: Reports, tr: Tr) -> None:
    period = reports.period(command.args or "")
    if period is None:
        await message.answer(tr("report.usage"))
        return
    built = await reports.build(period, management=True)
    await message.answer(built.text)
    if built.chart is not None:
        await message.answer_photo(
            BufferedInputFile(built.chart, filename=f"report-{period.first:%Y%m%d}-{period.last:%Y%m%d}.png"),
            caption=tr("report.chart_caption", period=period.label()),
        )


async def export(message: Message, command: CommandObject, reports: Reports, tr: Tr) -> None:
    period = reports.period(command.args or "")
    if period is None:
        await message.answer(tr("report.export_usage"))
        return
    data, count = await reports.export_csv(period)
    await message.answer_document(
        BufferedInputFile(data, filename=f"tickets-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"),
        caption=tr("report.export_caption", period=period.label(), count=count),
    )
