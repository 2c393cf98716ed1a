"""Training seminars.

Users (private chats): ``/seminars`` lists the upcoming ones; "Записаться" / "Отменить запись" buttons
on that list, on the announcement and on the reminders.

The deputy director (the manager chat, or the staff group, by its members): ``/seminar <when>; <title>;
<place or link>; <for whom>`` shows a preview with "Объявить" / "Не объявлять"; "Объявить" tells the
users of those roles. ``/signups`` lists who signed up; ``/kbstats`` shows which reference articles
helped.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.callbacks import SeminarAction, SeminarAdminAction, SeminarAdminCb, SeminarCb
from bot.filters import InStaffChat, IsCommand, PrivateChat
from bot.seminar_notifier import SeminarNotifier, seminar_card
from bot.staff_chat import StaffChat
from helpdesk.clock import Clock
from helpdesk.formatting import TEXT_LIMIT, escape, user_link, visible_len
from helpdesk.rules.kb import KnowledgeBase
from helpdesk.rules.seminars import SeminarFormatError, format_when, parse_announcement
from helpdesk.texts import Tr
from storage.db import Database
from storage.kb_feedback import KbFeedbackRepo
from storage.seminars import Seminar, SeminarRepo
from storage.users import User

MAX_LISTED = 10
ADMIN_COMMANDS = ("seminar", "signups", "kbstats")


def create_router(staff: StaffChat, manager_chat_id: int | None) -> Router:
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
    admin.message.register(announce, Command("seminar"))
    admin.message.register(show_signups, Command("signups"))
    admin.message.register(kb_stats, Command("kbstats"))
    admin.callback_query.register(
        draft_published, SeminarAdminCb.filter(F.action == SeminarAdminAction.PUBLISH)
    )
    admin.callback_query.register(
        draft_discarded, SeminarAdminCb.filter(F.action == SeminarAdminAction.DISCARD)
    )
    admin.callback_query.register(list_pressed, SeminarAdminCb.filter(F.action == SeminarAdminAction.LIST))

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


async def list_seminars(
    message: Message, tr: Tr, user: User, db: Database, clock: Clock, seminars: SeminarNotifier
) -> None:
    repo = SeminarRepo(db.conn)
    upcoming = (await repo.upcoming(clock()))[:MAX_LISTED]
    if not upcoming:
        await message.answer(tr("seminars.none"))
        return
    mine = await repo.signed_up_to(user.id)
    await message.answer(tr("seminars.title"))
    for seminar in upcoming:
        signed = seminar.id in mine
        text = seminar_card(tr, seminar, seminars.tz)
        if signed:
            text += "\n" + tr("seminar.signed_mark")
        await message.answer(text, reply_markup=keyboards.seminar(tr, seminar.id, signed_up=signed))


async def staff_only(message: Message, tr: Tr) -> None:
    await message.answer(tr("seminar.staff_only"))


async def signup_pressed(
    callback: CallbackQuery,
    callback_data: SeminarCb,
    tr: Tr,
    user: User,
    db: Database,
    clock: Clock,
) -> None:
    now = clock()
    async with db.transaction() as conn:
        repo = SeminarRepo(conn)
        seminar = await repo.get(callback_data.seminar)
        if seminar is None or not seminar.upcoming(now):
            changed = None
        elif callback_data.action is SeminarAction.SIGN_UP:
            changed = await repo.sign_up(seminar.id, user.id, now)
        else:
            changed = await repo.cancel_signup(seminar.id, user.id)
    message = callback.message if isinstance(callback.message, Message) else None
    if seminar is None or changed is None:
        await callback.answer(tr("seminar.gone"), show_alert=True)
        if message is not None:
            await _set_buttons(message, None)
        return
    signed = callback_data.action is SeminarAction.SIGN_UP
    await callback.answer(tr("seminar.signed_ok" if signed else "seminar.cancelled_ok"))
    if message is not None:
        await _set_buttons(message, keyboards.seminar(tr, seminar.id, signed_up=signed))


# ---- the deputy director ---------------------------------------------------------------------------


def _author(message: Message) -> tuple[int | None, str]:
    who = message.from_user
    if who is None:
        return None, ""
    return who.id, " ".join(p for p in (who.first_name, who.last_name) if p)


async def announce(
    message: Message,
    command: CommandObject,
    tr: Tr,
    db: Database,
    clock: Clock,
    seminars: SeminarNotifier,
) -> None:
    args = (command.args or "").strip()
    if not args:
        await message.answer(tr("seminar.help"))
        return
    now = clock()
    try:
        draft = parse_announcement(args, now, seminars.tz)
    except SeminarFormatError as exc:
        await message.answer(
            tr(f"seminar.error.{exc.code}", value=escape(exc.value)) + "\n\n" + tr("seminar.help")
        )
        return
    author_id, author_name = _author(message)
    async with db.transaction() as conn:
        seminar = await SeminarRepo(conn).create(
            title=draft.title,
            starts_at=draft.starts_at,
            place=draft.place,
            roles=draft.roles,
            created_by_id=author_id,
            created_by_name=author_name,
            now=now,
        )
    count = await SeminarRepo(db.conn).audience_size(seminar.roles)
    await message.answer(
        tr("seminar.preview", card=seminar_card(tr, seminar, seminars.tz), count=count),
        reply_markup=keyboards.seminar_draft(tr, seminar.id),
    )


async def draft_published(
    callback: CallbackQuery,
    callback_data: SeminarAdminCb,
    tr: Tr,
    db: Database,
    clock: Clock,
    seminars: SeminarNotifier,
) -> None:
    now = clock()
    async with db.transaction() as conn:
        repo = SeminarRepo(conn)
        published = await repo.mark_announced(callback_data.seminar, now)
        seminar = await repo.get(callback_data.seminar)
    if not published or seminar is None or not seminar.upcoming(now):
        await callback.answer(tr("seminar.not_draft"), show_alert=True)
        return
    await callback.answer()
    assert isinstance(callback.message, Message)
    who = escape(callback.from_user.first_name)
    await callback.message.edit_text(
        tr("seminar.published", card=seminar_card(tr, seminar, seminars.tz), name=who),
        reply_markup=keyboards.seminar_published(tr, seminar.id),
    )
    sent = await seminars.announce(seminar, now)
    await callback.message.answer(tr("seminar.sent", title=escape(seminar.title), count=sent))


async def draft_discarded(
    callback: CallbackQuery, callback_data: SeminarAdminCb, tr: Tr, db: Database, clock: Clock
) -> None:
    async with db.transaction() as conn:
        repo = SeminarRepo(conn)
        seminar = await repo.get(callback_data.seminar)
        ok = seminar is not None and seminar.announced_at is None and await repo.cancel(seminar.id, clock())
    if not ok:
        await callback.answer(tr("seminar.not_draft"), show_alert=True)
        return
    await callback.answer()
    assert isinstance(callback.message, Message)
    await callback.message.edit_text(tr("seminar.discarded"), reply_markup=None)


async def _send_list(
    message: Message, tr: Tr, db: Database, seminars: SeminarNotifier, chosen: list[Seminar]
) -> None:
    repo = SeminarRepo(db.conn)
    for seminar in chosen:
        signups = await repo.signups(seminar.id)
        header = tr(
            "seminar.list_title",
            title=escape(seminar.title),
            when=format_when(seminar.starts_at, seminars.tz, tr),
            count=len(signups),
        )
        lines = [
            tr(
                "seminar.list_line",
                number=i,
                user=user_link(s.user.external_id, s.user.display_name),
                role=tr(f"role.{s.user.role.value}") if s.user.role else "—",
            )
            for i, s in enumerate(signups, 1)
        ] or [tr("seminar.list_empty")]
        # One message per seminar; a very long list continues in the next message.
        chunk = header
        for line in lines:
            if visible_len(chunk) + visible_len(line) + 1 > TEXT_LIMIT - 100:
                await message.answer(chunk)
                chunk = ""
            chunk = f"{chunk}\n{line}" if chunk else line
        await message.answer(chunk)


async def show_signups(
    message: Message, tr: Tr, db: Database, clock: Clock, seminars: SeminarNotifier
) -> None:
    upcoming = await SeminarRepo(db.conn).upcoming(clock())
    if not upcoming:
        await message.answer(tr("seminar.list_none"))
        return
    await _send_list(message, tr, db, seminars, upcoming[:MAX_LISTED])


async def list_pressed(
    callback: CallbackQuery, callback_data: SeminarAdminCb, tr: Tr, db: Database, seminars: SeminarNotifier
) -> None:
    seminar = await SeminarRepo(db.conn).get(callback_data.seminar)
    if seminar is None or not isinstance(callback.message, Message):
        await callback.answer(tr("seminar.not_draft"), show_alert=True)
        return
    await callback.answer()
    await _send_list(callback.message, tr, db, seminars, [seminar])


async def kb_stats(message: Message, tr: Tr, db: Database, kb: KnowledgeBase) -> None:
    stats = await KbFeedbackRepo(db.conn).stats()
    if not stats:
        await message.answer(tr("kb.stats_empty"))
        return
    helped = sum(s.helped for s in stats)
    not_helped = sum(s.not_helped for s in stats)
    lines = [tr("kb.stats_title", helped=helped, not_helped=not_helped)]
    for s in stats[:30]:
        article = kb.article(s.article_id, tr.locale)
        title = escape(article.title if article else s.article_id)
        lines.append(tr("kb.stats_line", title=title, helped=s.helped, not_helped=s.not_helped))
    await message.answer("\n".join(lines))
