"""The knowledge base for management (in the manager chat or the staff group; the person must be management,
see :mod:`helpdesk.rules.roles`, action ``kb_stats``):

* ``/kbstats``: per article, how often it was offered, opened, helped and declined;
* ``/kbgaps``: the week's questions that no article answers, grouped by subject (the articles to write), and
  the example questions the base learned from answered tickets (``/kbforget <number>`` takes one back);
  the same report goes to management on Mondays at the daily summary's time;
* ``/kbreload``: read ``knowledge/`` again now (it is also read again within a minute of a file's change).

Anyone else is refused; in a private chat the commands say they are for staff.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.filters import InStaffChat, IsCommand, PrivateChat
from bot.roles import Allowed, Roles
from bot.staff_chat import StaffChat
from helpdesk.formatting import escape, shorten
from helpdesk.kb_answers import ArticleAnswers, gaps_text
from helpdesk.kb_feedback import KbFeedback
from helpdesk.knowledge import KnowledgeLibrary, ReloadOutcome
from helpdesk.rules.kb import KnowledgeBase
from helpdesk.rules.roles import Action
from helpdesk.texts import Tr

COMMANDS = ("kbstats", "kbgaps", "kbreload", "kbforget")


def create_router(staff: StaffChat, manager_chat_id: int | None, roles: Roles) -> Router:
    router = Router(name=__name__)
    users = Router(name=f"{__name__}.users")
    users.message.filter(PrivateChat(), IsCommand())
    users.message.register(staff_only, Command(*COMMANDS))
    admin = Router(name=f"{__name__}.admin")
    admin.message.filter(InStaffChat(staff, manager_chat_id))
    allowed = Allowed(roles, Action.KB_STATS)
    admin.message.register(kb_stats, Command("kbstats"), allowed)
    admin.message.register(kb_gaps, Command("kbgaps"), allowed)
    admin.message.register(kb_reload, Command("kbreload"), allowed)
    admin.message.register(kb_forget, Command("kbforget"), allowed)
    admin.message.register(management_only, Command(*COMMANDS))
    router.include_routers(users, admin)
    return router


async def staff_only(message: Message, tr: Tr) -> None:
    await message.answer(tr("seminar.staff_only"))


async def management_only(message: Message, tr: Tr) -> None:
    await message.reply(tr("roles.management_only"))


async def kb_stats(message: Message, tr: Tr, kb_feedback: KbFeedback, kb: KnowledgeBase) -> None:
    summary = await kb_feedback.summary()
    if summary is None:
        await message.answer(tr("kb.stats_empty"))
        return
    lines = [
        tr(
            "kb.stats_title",
            offered=summary.offered,
            opened=summary.opened,
            helped=summary.helped,
            not_helped=summary.not_helped,
        )
    ]
    for s in summary.articles:
        article = kb.article(s.article_id, tr.locale)
        title = escape(shorten(article.title if article else s.article_id, 60))
        lines.append(
            tr(
                "kb.stats_line",
                title=title,
                offered=s.offered,
                opened=s.opened,
                helped=s.helped,
                not_helped=s.not_helped,
            )
        )
    await message.answer("\n".join(lines))


async def kb_gaps(message: Message, tr: Tr, article_answers: ArticleAnswers, kb: KnowledgeBase) -> None:
    await message.answer(gaps_text(await article_answers.report(), tr, kb))


async def kb_reload(message: Message, tr: Tr, library: KnowledgeLibrary) -> None:
    result = await library.reload()
    if result.outcome is ReloadOutcome.BROKEN:
        await message.answer(tr("kb.reload_broken", error=escape(shorten(result.error, 500))))
    else:
        await message.answer(tr("kb.reload_done", count=result.articles))


async def kb_forget(
    message: Message, command: CommandObject, tr: Tr, article_answers: ArticleAnswers
) -> None:
    args = (command.args or "").strip().lstrip("#")
    if not args.isdigit():
        await message.answer(tr("kb.forget_help"))
        return
    who = message.from_user
    example = await article_answers.forget(
        int(args), actor_id=who.id if who else None, actor_name=who.first_name if who else ""
    )
    if example is None:
        await message.answer(tr("kb.forget_unknown", id=int(args)))
    else:
        await message.answer(tr("kb.forget_done", id=example.id, question=escape(shorten(example.question, 90))))
