"""``python main.py doctor``: checks the configuration, the database and the staff group, and says how to fix."""

from __future__ import annotations

from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner

from bot.config import Settings
from bot.delivery import DeliveryMiddleware
from bot.factory import create_bot
from bot.session import RedirectLoop
from bot.startup import describe
from storage.chat_moves import ChatMovesRepo
from storage.db import Database, fetch_one, migrations


class Report:
    def __init__(self) -> None:
        self.problems = 0

    def ok(self, text: str) -> None:
        print(f"  ok    {text}")

    def bad(self, text: str, fix: str) -> None:
        self.problems += 1
        print(f"  FAIL  {text}\n        how to fix: {fix}")

    def info(self, text: str) -> None:
        print(f"  info  {text}")


async def run_doctor(settings: Settings) -> int:
    report = Report()
    print("Configuration")
    report.ok("BOT_TOKEN is set (not shown)")
    report.ok(f"STAFF_CHAT_ID = {settings.staff_chat_id}")
    for name, value in (
        ("MANAGER_CHAT_ID", settings.manager_chat_id),
        ("DIRECTOR_CHAT_ID", settings.director_chat_id),
    ):
        if value is None:
            report.info(f"{name} is not set: alerts for it will go to the staff group")
        else:
            report.ok(f"{name} = {value}")
    report.ok(f"TIMEZONE = {settings.timezone.key}, DEFAULT_LOCALE = {settings.default_locale}")
    report.info(f"Bot API server: {settings.telegram_api_base or 'Telegram (api.telegram.org)'}")

    print("Database")
    staff_chat_id = settings.staff_chat_id
    try:
        db = await Database.open(settings.database_path)
        row = await fetch_one(db.conn, "PRAGMA user_version")
        version = int(row[0]) if row else 0
        moves = await ChatMovesRepo(db.conn).resolve(settings.staff_chat_id)
        await db.close()
        report.ok(f"{settings.database_path}: schema version {version} of {len(migrations())}")
        if moves:
            staff_chat_id = moves[-1].new_chat_id
            report.info(
                f"the staff group {settings.staff_chat_id} became supergroup {staff_chat_id} "
                f"on {moves[-1].moved_at.date().isoformat()}: the bot uses {staff_chat_id} (stored override)\n"
                f"        how to fix: put STAFF_CHAT_ID={staff_chat_id} into .env"
            )
    except Exception as exc:  # the doctor reports every failure
        report.bad(
            f"cannot open {settings.database_path}: {exc}",
            "check DATABASE_PATH and that its folder is writable",
        )

    print("Telegram")
    bot = create_bot(settings, DeliveryMiddleware())
    try:
        me = await bot.get_me()
        report.ok(f"the token works: @{me.username} ({me.first_name})")
        if me.can_read_all_group_messages:
            report.info("privacy mode is off: the bot sees every message in groups")
        try:
            chat = await bot.get_chat(staff_chat_id)
        except TelegramMigrateToChat as exc:
            report.bad(
                f"the staff group {staff_chat_id} became supergroup {exc.migrate_to_chat_id}",
                f"put STAFF_CHAT_ID={exc.migrate_to_chat_id} into .env (the running bot follows it by itself)",
            )
        except TelegramAPIError as exc:
            report.bad(
                f"staff group {staff_chat_id} is not reachable: {exc.message}",
                "add the bot to the staff group and check STAFF_CHAT_ID (README, 'Staff group')",
            )
        else:
            report.ok(f"staff group: {chat.title!r} ({chat.type})")
            if chat.is_forum:
                report.ok("the group is a forum: each user gets a topic")
            else:
                report.info(
                    "the group is not a forum: staff answer by replying to cards (enable Topics to get a topic per user)"
                )
            member = await bot.get_chat_member(staff_chat_id, me.id)
            if member.status not in {ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR}:
                report.bad(
                    "the bot is not an administrator of the staff group",
                    "group settings → Administrators → add the bot (with 'Manage topics' for a forum)",
                )
            else:
                report.ok("the bot is an administrator of the staff group")
                can_topics = isinstance(member, ChatMemberOwner) or (
                    isinstance(member, ChatMemberAdministrator) and bool(member.can_manage_topics)
                )
                if chat.is_forum and not can_topics:
                    report.bad("the bot may not manage topics", "give the bot the 'Manage topics' right")
            if not me.can_read_all_group_messages and member.status not in {
                ChatMemberStatus.ADMINISTRATOR,
                ChatMemberStatus.CREATOR,
            }:
                report.bad(
                    "privacy mode is on and the bot is not an admin: it will not see staff answers",
                    "make the bot an admin, or @BotFather → /setprivacy → Disable",
                )
        for name, value in (
            ("MANAGER_CHAT_ID", settings.manager_chat_id),
            ("DIRECTOR_CHAT_ID", settings.director_chat_id),
        ):
            if value is None:
                continue
            try:
                await bot.get_chat(value)
                report.ok(f"{name} chat is reachable")
            except TelegramAPIError as exc:
                report.bad(
                    f"{name} chat {value} is not reachable: {exc.message}",
                    "that person must press Start in the bot first",
                )
    except TelegramUnauthorizedError:
        report.bad("Telegram refused the token", "copy the token again from @BotFather (/mybots → API Token)")
    except RedirectLoop:
        report.bad(
            "the Bot API address redirects in a loop",
            "check TELEGRAM_API_BASE (leave it empty for Telegram) and the proxy in front of it",
        )
    except TelegramNetworkError as exc:
        report.info(f"Telegram is not reachable from here ({exc.message}); the online checks were skipped")
    except (TelegramAPIError, ClientDecodeError) as exc:
        report.bad(
            f"the Bot API answered with an error: {describe(exc)}",
            "check TELEGRAM_API_BASE and the proxy in front of it; try again later for a 5xx",
        )
    finally:
        await bot.session.close()

    print("All checks passed." if report.problems == 0 else f"{report.problems} problem(s) found.")
    return 0 if report.problems == 0 else 1
